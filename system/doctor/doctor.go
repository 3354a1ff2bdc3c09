// Package doctor checks whether a host can run the TrEnv stack for a
// benchmark: the kernel and its pseudo_mm device, the memory pool (a
// device-DAX or an RXE link with the RDMA server), cgroup v2, the CRIU
// variants, the pinned binaries of stack.yaml, faasd's state directory, the
// checkpoints and their marker, memory, the CPU, and the settings that add
// noise to measurements.
//
// Every check reads the host through Host: a root directory (for /proc,
// /sys, /dev, /var/lib/faasd, /run, …) and a command runner, so the same
// checks run on a real host (os.DirFS("/"), system.ExecRunner) and on
// fixture trees in tests. Doctor only reads; the one exception is CRIU's
// own kernel-feature cache, which `criu check` refreshes (/run/criu.kdat),
// as the upstream scripts' check does.
//
// # Output
//
// Run returns a Report; its JSON form (`trenv-bench system doctor --json`)
// is for scripts and keeps these field names:
//
//	{
//	  "format": 1,                  // Format
//	  "ok": false,                  // no check has status "fail"
//	  "scope": {"methods": ["trenv"], "pool": "cxl", "mem_gib": 64,
//	            "dax_device": "/dev/dax0.0"},
//	  "counts": {"pass": 20, "fail": 3, "warn": 2, "skip": 1},
//	  "checks": [
//	    {"id": "kernel.release", "title": "TrEnv kernel",
//	     "status": "fail", "required": true,
//	     "detail": "running 6.18.44; TrEnv needs 6.1.0-rc8",
//	     "remedy": "…"}
//	  ]
//	}
//
// A check's status is "pass", "fail" (a requirement of the scope is not
// met: the command exits non-zero), "warn" (something differs from the
// paper's setup but does not stop a run: noise settings, a VM, an
// unverifiable version) or "skip" (it cannot be checked here, or does not
// apply). "required" says whether the check can fail for this scope.
// "remedy" is set for fail and warn. Check ids are stable: see Checks.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"trenv-bench/system"
)

// Format is the version of the Report's JSON form.
const Format = 1

// Start methods, as runs name them (results' vocabulary; a test keeps
// them in step).
const (
	MethodTrEnv   = "trenv"
	MethodCold    = "cold"
	MethodCRIU    = "criu"
	MethodLazy    = "lazy"
	MethodFaaSnap = "faasnap"
	MethodREAP    = "reap"
)

// Methods returns the start methods doctor knows, in results' order (a
// new slice each call).
func Methods() []string {
	return []string{MethodTrEnv, MethodCold, MethodCRIU, MethodLazy, MethodFaaSnap, MethodREAP}
}

// Defaults of a Scope and a Host.
const (
	// DefaultPool is TrEnv's pool when none is named (T-CXL).
	DefaultPool = system.PoolCXL
	// DefaultDAXDevice is the device-DAX that holds the mm-templates, as
	// upstream's machine-prepare.sh passes it to faasd checkpoint.
	DefaultDAXDevice = "/dev/dax0.0"
	// DefaultCommandTimeout bounds each command doctor runs: CRIU's first
	// `criu check` on a host probes the kernel for over two minutes.
	DefaultCommandTimeout = 4 * time.Minute
)

// PageSize is the alignment a device-DAX needs: pseudo_mm's SETUP_PT
// refuses a device whose alignment is not the page size ("dax alignment
// != PAGE_SIZE"), 4 KiB on x86-64.
const PageSize = 4096

// Status is a check's outcome.
type Status string

// Check outcomes.
const (
	Pass Status = "pass"
	Fail Status = "fail"
	Warn Status = "warn"
	Skip Status = "skip"
)

// Scope is what the host is checked for.
type Scope struct {
	// Methods are the start methods the host should run; empty means all
	// of Methods().
	Methods []string `json:"methods"`
	// Pool is TrEnv's memory pool, system.PoolCXL or system.PoolRDMA;
	// "" means DefaultPool. It matters only when trenv is in Methods.
	Pool string `json:"pool"`
	// MemGiB is faasd's memory bound (--mem), GiB; the host's available
	// memory must hold it. 0 skips the check.
	MemGiB int `json:"mem_gib"`
	// DAXDevice is the device-DAX of the cxl pool; "" means
	// DefaultDAXDevice.
	DAXDevice string `json:"dax_device"`
}

// ErrScope is wrapped by the error for a scope doctor cannot check.
var ErrScope = errors.New("doctor: bad scope")

// normalize fills defaults and checks the scope.
func (s Scope) normalize() (Scope, error) {
	known := Methods()
	if len(s.Methods) == 0 {
		s.Methods = known
	}
	for _, m := range s.Methods {
		if !slices.Contains(known, m) {
			return s, fmt.Errorf("%w: method %q: expected one of %s", ErrScope, m, strings.Join(known, ", "))
		}
	}
	if s.Pool == "" {
		s.Pool = DefaultPool
	}
	if s.Pool != system.PoolCXL && s.Pool != system.PoolRDMA {
		return s, fmt.Errorf("%w: pool %q: expected %s or %s", ErrScope, s.Pool, system.PoolCXL, system.PoolRDMA)
	}
	if s.MemGiB < 0 {
		return s, fmt.Errorf("%w: mem %d GiB: expected >= 0", ErrScope, s.MemGiB)
	}
	if s.DAXDevice == "" {
		s.DAXDevice = DefaultDAXDevice
	}
	if !strings.HasPrefix(s.DAXDevice, "/dev/dax") {
		return s, fmt.Errorf("%w: dax device %q: expected /dev/daxX.Y", ErrScope, s.DAXDevice)
	}
	return s, nil
}

// Has reports whether the scope runs method.
func (s Scope) Has(method string) bool { return slices.Contains(s.Methods, method) }

// TrEnvPool reports whether the scope runs TrEnv on pool.
func (s Scope) TrEnvPool(pool string) bool { return s.Has(MethodTrEnv) && s.Pool == pool }

// HasAny reports whether the scope runs any of methods.
func (s Scope) HasAny(methods ...string) bool {
	return slices.ContainsFunc(methods, s.Has)
}

// Host is how doctor reads a host.
type Host struct {
	// Root is the host's root directory: os.DirFS("/") on a real host, a
	// fixture tree in tests. Paths are read as system.RootRel(path).
	Root fs.FS
	// Runner runs the host's programs (daxctl, rdma, criu, containerd …).
	Runner system.Runner
	// Path lists the directories searched for the criu that faasd and
	// runc would run (the PATH they inherit), in order; empty skips that
	// check.
	Path []string
	// CommandTimeout bounds each command; 0 means DefaultCommandTimeout.
	CommandTimeout time.Duration
}

// Check is one check's result.
type Check struct {
	// ID is stable, dotted: "kernel.release", "stack.faasd" (see Checks).
	ID string `json:"id"`
	// Title says what is checked, in a few words.
	Title string `json:"title"`
	// Status is the outcome.
	Status Status `json:"status"`
	// Required is whether the check can fail (block a run) in this scope.
	Required bool `json:"required"`
	// Detail says what was found.
	Detail string `json:"detail"`
	// Remedy says how to fix a fail or warn; "" otherwise.
	Remedy string `json:"remedy,omitempty"`
}

// Counts are how many checks ended in each status.
type Counts struct {
	Pass int `json:"pass"`
	Fail int `json:"fail"`
	Warn int `json:"warn"`
	Skip int `json:"skip"`
}

// Report is doctor's outcome.
type Report struct {
	// Format is Format.
	Format int `json:"format"`
	// OK is true when no check failed.
	OK bool `json:"ok"`
	// Scope is the scope checked, defaults filled.
	Scope Scope `json:"scope"`
	// Counts tally Checks by status.
	Counts Counts `json:"counts"`
	// Checks in the order of Checks' table.
	Checks []Check `json:"checks"`
}

// Check returns the result with the given id; false if it did not run.
func (r *Report) Check(id string) (Check, bool) {
	i := slices.IndexFunc(r.Checks, func(c Check) bool { return c.ID == id })
	if i < 0 {
		return Check{}, false
	}
	return r.Checks[i], true
}

// Failed returns the checks with status Fail.
func (r *Report) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status == Fail {
			out = append(out, c)
		}
	}
	return out
}

// Run checks the host for the scope against the stack and returns the
// report. It returns an error only for a bad scope or when ctx ends; what
// the host lacks is in the report.
func Run(ctx context.Context, h Host, st *system.Stack, sc Scope) (*Report, error) {
	sc, err := sc.normalize()
	if err != nil {
		return nil, err
	}
	if h.CommandTimeout <= 0 {
		h.CommandTimeout = DefaultCommandTimeout
	}
	e := &env{ctx: ctx, h: h, st: st, sc: sc, farNode: -1}
	rep := &Report{Format: Format, Scope: sc}
	for _, c := range checks() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, res := range c.run(e) {
			if res.Status != Pass && res.Status != Skip && res.Remedy == "" {
				res.Remedy = "see the detail"
			}
			if res.Status == Pass || res.Status == Skip {
				res.Remedy = ""
			}
			rep.Checks = append(rep.Checks, res)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, c := range rep.Checks {
		switch c.Status {
		case Pass:
			rep.Counts.Pass++
		case Fail:
			rep.Counts.Fail++
		case Warn:
			rep.Counts.Warn++
		case Skip:
			rep.Counts.Skip++
		}
	}
	rep.OK = rep.Counts.Fail == 0
	return rep, nil
}

// env is one doctor run: the host, the stack, the scope, and what earlier
// checks learnt that later ones use.
type env struct {
	ctx context.Context
	h   Host
	st  *system.Stack
	sc  Scope

	// farNode is the NUMA node of the far memory (the DAX device's target
	// node), -1 when unknown; set by the DAX check.
	farNode int
}

// run runs a host program with the per-command timeout.
func (e *env) run(name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(e.ctx, e.h.CommandTimeout)
	defer cancel()
	return e.h.Runner.Run(ctx, name, args...)
}

// read returns the content of the absolute host path p.
func (e *env) read(p string) ([]byte, error) {
	return fs.ReadFile(e.h.Root, system.RootRel(p))
}

// readString returns p's content with surrounding space trimmed.
func (e *env) readString(p string) (string, error) {
	b, err := e.read(p)
	return strings.TrimSpace(string(b)), err
}

// exists reports whether p exists on the host (any type).
func (e *env) exists(p string) bool {
	_, err := fs.Stat(e.h.Root, system.RootRel(p))
	return err == nil
}

// isDir reports whether p is a directory on the host.
func (e *env) isDir(p string) bool {
	fi, err := fs.Stat(e.h.Root, system.RootRel(p))
	return err == nil && fi.IsDir()
}

// readDir lists p's entries.
func (e *env) readDir(p string) ([]fs.DirEntry, error) {
	return fs.ReadDir(e.h.Root, system.RootRel(p))
}

// release is the running kernel's release, "" if unreadable.
func (e *env) release() string {
	r, _ := e.readString("/proc/sys/kernel/osrelease")
	return r
}

// result starts a check result.
func result(id, title string, required bool) Check {
	return Check{ID: id, Title: title, Required: required}
}

// fail sets the result to Fail if required, else Warn.
func (c Check) fail(detail, remedy string) Check {
	c.Status = Fail
	if !c.Required {
		c.Status = Warn
	}
	c.Detail, c.Remedy = detail, remedy
	return c
}

func (c Check) warn(detail, remedy string) Check {
	c.Status, c.Detail, c.Remedy = Warn, detail, remedy
	return c
}

func (c Check) pass(detail string) Check {
	c.Status, c.Detail = Pass, detail
	return c
}

func (c Check) skip(detail string) Check {
	c.Status, c.Detail = Skip, detail
	return c
}
