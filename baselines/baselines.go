// Package baselines describes each start method of the paper's evaluation
// as the artifact's test.sh runs it on a TrEnv host: the `faasd provider`
// flags and environment, the CRIU variant runc must find, the FaaSnap/REAP
// daemon, how to tell that faasd's background tasks have settled, and the
// cgroup whose memory the run samples. It is data plus the little code that
// turns a run's platform flags into a launch; the host engine carries it
// out.
//
// The launch follows test.sh (spec upstream-tooling §5.2–5.3) except for a
// short list of deliberate differences, each with its reason
// (Differences).
package baselines

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"trenv-bench/results"
)

// The CRIU variants, as system/stack.yaml names their components.
const (
	CRIUSwitch = "criu-switch" // TrEnv's fork: switch, convert, swrk
	CRIUMaster = "criu-master" // the fork's master: v3.18 + an xsave fix
	CRIULazy   = "criu-lazy"   // the lazy-pages branch
)

// FaasdDefaultIdleNum is faasd's own default of --idle-num. test.sh passes
// the flag only when it was given; a launch passes it only when it differs
// from this (the same configuration either way).
const FaasdDefaultIdleNum = 70

// MaxMemGB is the largest --mem faasd accepts (it refuses 256 and more).
const MaxMemGB = 255

// Method is one start method as a host run launches it.
type Method struct {
	// Name is the start method (TrEnv, Cold, …).
	Name string
	// Baseline is faasd's --baseline: every method but TrEnv, which runs
	// faasd's own policy (reuse, else repurpose, else cold start).
	Baseline bool
	// StartMethod is the --start-method value. TrEnv's is cold, the
	// default test.sh always passes (faasd ignores it without
	// --baseline).
	StartMethod string
	// CRIU is the stack component of the CRIU variant that must be first
	// on containerd's and faasd's PATH (runc and faasd run "criu" from
	// PATH): test.sh's choice, criu → raw (master), lazy → lazy,
	// everything else → switch.
	CRIU string
	// SnapshotMode is the FaaSnap daemon's mode ("faasnap" or "reap") for
	// the VM baselines, "" for the others.
	SnapshotMode string
	// Cgroup is the cgroup whose memory the run samples, relative to the
	// cgroup root: openfaas-fn (every function container) or, for the VM
	// baselines, the one test.sh moves the daemon and its Firecracker
	// children into after preparing snapshots.
	Cgroup string
	// UpstreamSettle is test.sh's fixed sleep between starting faasd and
	// sending load (20 s, 60 s for FaaSnap/REAP, 2 s with --no-bgtask).
	// A host run waits for Readiness instead; this is recorded for
	// comparison only.
	UpstreamSettle time.Duration
}

// methods is the table of start methods, in results.Systems order.
func methods() []Method {
	return []Method{
		{Name: results.MethodTrEnv, StartMethod: results.MethodCold, CRIU: CRIUSwitch, Cgroup: FunctionCgroup, UpstreamSettle: 20 * time.Second},
		{Name: results.MethodCold, Baseline: true, StartMethod: results.MethodCold, CRIU: CRIUSwitch, Cgroup: FunctionCgroup, UpstreamSettle: 20 * time.Second},
		{Name: results.MethodCRIU, Baseline: true, StartMethod: results.MethodCRIU, CRIU: CRIUMaster, Cgroup: FunctionCgroup, UpstreamSettle: 20 * time.Second},
		{Name: results.MethodLazy, Baseline: true, StartMethod: results.MethodLazy, CRIU: CRIULazy, Cgroup: FunctionCgroup, UpstreamSettle: 20 * time.Second},
		{Name: results.MethodFaaSnap, Baseline: true, StartMethod: results.MethodFaaSnap, CRIU: CRIUSwitch, SnapshotMode: results.MethodFaaSnap, Cgroup: results.MethodFaaSnap, UpstreamSettle: 60 * time.Second},
		{Name: results.MethodREAP, Baseline: true, StartMethod: results.MethodREAP, CRIU: CRIUSwitch, SnapshotMode: results.MethodREAP, Cgroup: results.MethodREAP, UpstreamSettle: 60 * time.Second},
	}
}

// FunctionCgroup is faasd's cgroup of the function containers, relative to
// the cgroup root (containerd's default spec puts each sandbox under it).
const FunctionCgroup = "openfaas-fn"

// Methods returns every start method, in results.Systems order.
func Methods() []Method { return methods() }

// Lookup returns the start method called name.
func Lookup(name string) (Method, error) {
	ms := methods()
	if i := slices.IndexFunc(ms, func(m Method) bool { return m.Name == name }); i >= 0 {
		return ms[i], nil
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.Name
	}
	return Method{}, fmt.Errorf("baselines: unknown start method %q: want one of %v", name, names)
}

// Flags are the faasd provider settings of a host run: test.sh's --mem,
// --gc, --idle-num, --no-reuse and --no-bgtask. faasd takes --mem and
// --gc as whole numbers.
type Flags struct {
	MemGB, GCMin int
	// IdleNum is TrEnv's number of seeded generic sandboxes.
	IdleNum           int
	NoReuse, NoBgTask bool
}

// FlagsFrom converts a run's platform flags for faasd, refusing what faasd
// cannot take: fractional --mem or --gc (its flags are integers), --mem
// outside 1–255 GiB, a negative --gc or --idle-num.
func FlagsFrom(p results.PlatformFlags) (Flags, error) {
	whole := func(flag string, v float64) (int, error) {
		if v != math.Trunc(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("baselines: --%s %v: faasd takes whole numbers on the host target", flag, v)
		}
		return int(v), nil
	}
	mem, err := whole("mem", p.MemGB)
	if err != nil {
		return Flags{}, err
	}
	gc, err := whole("gc", p.GCMin)
	if err != nil {
		return Flags{}, err
	}
	switch {
	case mem < 1 || mem > MaxMemGB:
		return Flags{}, fmt.Errorf("baselines: --mem %d: faasd takes 1 to %d GiB", mem, MaxMemGB)
	case gc < 0:
		return Flags{}, fmt.Errorf("baselines: --gc %d: want 0 or more minutes", gc)
	case p.IdleNum < 0:
		return Flags{}, fmt.Errorf("baselines: --idle-num %d: want 0 or more", p.IdleNum)
	}
	return Flags{MemGB: mem, GCMin: gc, IdleNum: p.IdleNum, NoReuse: p.NoReuse, NoBgTask: p.NoBgTask}, nil
}

// ProviderArgs returns the arguments of `faasd` for method m with flags f,
// in test.sh's order: provider --pull-policy no --mem M [--baseline]
// --start-method S [--no-bgtask] --gc G [--no-reuse] [--idle-num N].
func (m Method) ProviderArgs(f Flags) []string {
	args := []string{"provider", "--pull-policy", "no", "--mem", strconv.Itoa(f.MemGB)}
	if m.Baseline {
		args = append(args, "--baseline")
	}
	args = append(args, "--start-method", m.StartMethod)
	if f.NoBgTask {
		args = append(args, "--no-bgtask")
	}
	args = append(args, "--gc", strconv.Itoa(f.GCMin))
	if f.NoReuse {
		args = append(args, "--no-reuse")
	}
	if f.IdleNum > 0 && f.IdleNum != FaasdDefaultIdleNum {
		args = append(args, "--idle-num", strconv.Itoa(f.IdleNum))
	}
	return args
}

// Layout is where a host keeps what a launch refers to.
type Layout struct {
	// FaasdState is faasd's state directory (/var/lib/faasd): the
	// provider runs in it, and its secrets are in FaasdState/secrets.
	FaasdState string
	// CRIUDirs holds one directory per CRIU variant, named after its
	// component, each holding a "criu" that is that variant (the harness
	// links them there); the launch puts the method's first on PATH.
	CRIUDirs string
	// Path is the PATH after the CRIU directory.
	Path string
	// Port is faasd's port; 0 means its default, 8081 (not passed).
	Port int
}

// DefaultLayout is the layout of a host the artifact (or the Ansible
// playbook) provisioned.
func DefaultLayout() Layout {
	return Layout{FaasdState: "/var/lib/faasd", CRIUDirs: "/run/trenv-bench/criu",
		Path: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
}

// OpenFilesLimit is the RLIMIT_NOFILE a launch gives faasd (the artifact's
// machine-prepare.sh sets `ulimit -n 102400` in its own shell only).
const OpenFilesLimit = 102400

// Launch is how a host run starts `faasd provider`.
type Launch struct {
	// Args are faasd's arguments (ProviderArgs).
	Args []string
	// Env is the whole environment, NAME=value.
	Env []string
	// Dir is the working directory.
	Dir string
	// OpenFiles is the RLIMIT_NOFILE to set.
	OpenFiles uint64
	// CRIUDir is the directory first on PATH, holding the variant's
	// criu.
	CRIUDir string
}

// Provider returns the launch of `faasd provider` for method m with flags f
// on layout l.
func (m Method) Provider(f Flags, l Layout) Launch {
	criuDir := filepath.Join(l.CRIUDirs, m.CRIU)
	env := []string{
		"secret_mount_path=" + filepath.Join(l.FaasdState, "secrets"),
		"basic_auth=true",
		"PATH=" + criuDir + ":" + l.Path,
	}
	if l.Port != 0 {
		env = append(env, "port="+strconv.Itoa(l.Port))
	}
	return Launch{Args: m.ProviderArgs(f), Env: env, Dir: l.FaasdState, OpenFiles: OpenFilesLimit, CRIUDir: criuDir}
}

// Readiness is how a host run knows that faasd's background tasks have
// settled, from faasd's log (zerolog JSON lines on its stderr), after
// /healthz answers: Count lines containing Line, and none containing any
// of Failures. Count 0 means /healthz is enough.
type Readiness struct {
	Line     string
	Count    int
	Failures []string
	// Timeout bounds the wait (an estimate: each seed is one cold start,
	// a few seconds at most).
	Timeout time.Duration
}

// faasd's log messages (pkg/provider/background_task.go of the fork).
const (
	logSeedStarted  = "PopulateCtrBackgroundTask cold start succeed"
	logSeedFailed   = "PopulateCtrBackgroundTask cold start failed"
	logNetnsReady   = "FillFaasnapNetworkBackgroundTask precreate network ns"
	logNetnsFailed  = "FillFaasnapNetworkBackgroundTask get network err"
	logNetnsTimeout = "FillFaasnapNetworkBackgroundTask GetNetwork timeout"
)

// Readiness returns what to wait for after starting faasd for m with f:
// TrEnv seeds its idle pool one cold start after another (--idle-num,
// default 70), and the VM baselines pre-create their network namespaces;
// the other baselines, and any method with --no-bgtask, start nothing.
func (m Method) Readiness(f Flags) Readiness {
	if f.NoBgTask {
		return Readiness{}
	}
	switch {
	case m.Name == results.MethodTrEnv:
		n := f.IdleNum
		if n == 0 {
			n = FaasdDefaultIdleNum
		}
		return Readiness{Line: logSeedStarted, Count: n, Failures: []string{logSeedFailed},
			Timeout: time.Minute + time.Duration(n)*10*time.Second}
	case m.SnapshotMode != "":
		return Readiness{Line: logNetnsReady, Count: 1, Failures: []string{logNetnsFailed, logNetnsTimeout},
			Timeout: 5 * time.Minute}
	}
	return Readiness{}
}

// Difference is a deliberate difference from test.sh.
type Difference struct {
	What, Upstream, Here, Why string
}

// Differences lists how a host launch differs from test.sh, on purpose.
func Differences() []Difference {
	return []Difference{
		{"working directory", "the caller's", "/var/lib/faasd",
			"faasd writes hosts and resolv.conf into its working directory, and the containers bind-mount them from /var/lib/faasd (spec trenv-stack §2.4)"},
		{"open files", "the caller's limit (102400 only in machine-prepare.sh's shell)", "RLIMIT_NOFILE 102400",
			"a burst opens thousands of sockets and overlay files"},
		{"CRIU variant", "copied over /usr/local/sbin/criu before each run", "its directory first on PATH",
			"runc and faasd run criu from PATH; copying binaries over each other loses track of which one ran"},
		{"--idle-num", "passed when given", "passed when it differs from faasd's default 70", "the same configuration"},
		{"proxy", "https_proxy=http://127.0.0.1:7890 baked in", "none", "a lab's proxy is not ours to assume"},
		{"settling", "a fixed sleep (20 s, 60 s for FaaSnap/REAP, 2 s with --no-bgtask)", "/healthz, then faasd's log (Readiness)",
			"seeding 70 sandboxes can outlast 20 s; waiting for the signal neither cuts it short nor waits longer than needed"},
		{"FaaSnap daemon address", "--host=0.0.0.0", "--host=127.0.0.1", "the daemon has no authentication"},
	}
}

// Daemon is the FaaSnap/REAP daemon a VM baseline needs running, with its
// snapshots prepared, before faasd starts (spec trenv-stack §6).
type Daemon struct {
	// Binary and Args start it, in Dir; Config is the file it reads once
	// at start (a missing file or asset is fatal to it).
	Binary string
	Args   []string
	Dir    string
	Config string
	// URL is where faasd (and snapshot preparation) reach its REST API.
	URL string
	// SnapshotDir holds the snapshots and the snapshots_<mode>.json faasd
	// loads; it must be a tmpfs on the memory node.
	SnapshotDir string
	// PrepareTries bounds the attempts at preparing the snapshots, which
	// upstream says sometimes fails and is simply re-run.
	PrepareTries int
}

// Daemon returns the FaaSnap daemon m needs, and false for the methods
// that need none.
func (m Method) Daemon() (Daemon, bool) {
	if m.SnapshotMode == "" {
		return Daemon{}, false
	}
	return Daemon{
		Binary: "/root/faasnap/faasnap/main", Args: []string{"--host=127.0.0.1", "--port=8080"},
		Dir: "/root/faasnap/faasnap", Config: "/etc/faasnap.json", URL: "http://127.0.0.1:8080",
		SnapshotDir: "/mnt/cxl-tmp/faasnap/snapshot", PrepareTries: 3,
	}, true
}
