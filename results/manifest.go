package results

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"trenv-bench/internal/atomicfile"
)

// RunStatus is how a run ended, as manifest.json records it.
type RunStatus string

// The statuses of a run.
const (
	// RunComplete: every phase ran to its end and every file was written.
	RunComplete RunStatus = "complete"
	// RunInterrupted: the user stopped the run (a signal); the records up
	// to then are intact.
	RunInterrupted RunStatus = "interrupted"
	// RunFailed: the run stopped on an error (Manifest.Error says which), or
	// never finished: the manifest written when a run starts says failed,
	// with NoteInProgress, so a crash leaves an honest manifest.
	RunFailed RunStatus = "failed"
)

// Valid reports whether s is one of the statuses above.
func (s RunStatus) Valid() bool {
	switch s {
	case RunComplete, RunInterrupted, RunFailed:
		return true
	}
	return false
}

// Target is what a run measured.
type Target string

// The targets of a run (docs/architecture.md). Only sim and twin are
// simulated.
const (
	// TargetHost: a real faasd on a TrEnv host the harness manages, in
	// real time.
	TargetHost Target = "host"
	// TargetGateway: a faasd at a URL that someone else runs; whatever
	// answers there is measured.
	TargetGateway Target = "gateway"
	// TargetTwin: the platform model behind faasd's HTTP API, in real time
	// (or sped up, Manifest.Speed).
	TargetTwin Target = "twin"
	// TargetSim: the platform model in virtual time, no HTTP.
	TargetSim Target = "sim"
)

// Targets returns every target, in the order of the command line's help.
func Targets() []Target { return []Target{TargetSim, TargetTwin, TargetGateway, TargetHost} }

// Valid reports whether t is one of the targets above.
func (t Target) Valid() bool { return slices.Contains(Targets(), t) }

// Simulated reports whether t measures the platform model (sim or twin)
// rather than a real host.
func (t Target) Simulated() bool { return t == TargetSim || t == TargetTwin }

// SchemaVersion is the run-directory layout this version writes and reads:
// 2 added the phases, metrics health, effective configuration and cpu.csv.
// Manifests without it (version 0, before any was written) or of another
// version are refused with ErrOldSchema.
const SchemaVersion = 2

// ErrOldSchema is wrapped when a run directory was written by a version of
// trenv-bench whose layout this one does not read.
var ErrOldSchema = errors.New("written by another version of trenv-bench, whose run directory layout this one does not read: run it again")

// NoteInProgress is the Note of the manifest written when a run starts; it
// stays there if the run never finishes.
const NoteInProgress = "run in progress (if this stays, the run did not finish: it crashed or was killed)"

// DatasetBuiltInSample is WorkloadInfo.Dataset when the generator used its
// built-in sample dataset instead of a file.
const DatasetBuiltInSample = "built-in sample"

// Manifest is manifest.json: what a run was, where it ran, and how it
// ended. It has no field for a password or any other secret, and none may be
// added: a gateway URL is recorded without its user information.
//
//	{
//	  "tool_version": "v0.3.0 (rev 3ba4f20, go1.26.8)",
//	  "command_line": ["trenv-bench", "run", "--method", "trenv", "-w", "1", "--target", "sim"],
//	  "method": "trenv",
//	  "pool": "cxl",
//	  "target": "sim",
//	  "platform": {"mem_gb": 64, "gc_min": 10, "idle_num": 70, "no_reuse": false, "no_bgtask": false},
//	  "speed": 0,
//	  "speed_note": "the simulator runs in virtual time: every time in this directory is model time",
//	  "workload": {"name": "1", "workload_json_sha256": "…", "warmup_json_sha256": "…", "generator_seed": 2022310806},
//	  "seeds": {"jitter": 1, "model": 1},
//	  "calibration_sha256": "…",
//	  "host": {"os": "linux", "arch": "amd64", "kernel": "6.1.0-18-amd64", "cpu_model": "…", "cores": 2, "memory_bytes": 25769803776},
//	  "started_at": "2024-04-09T12:00:00+02:00",
//	  "ended_at": "2024-04-09T13:05:00+02:00",
//	  "status": "complete",
//	  "requests": {"scheduled": 4338, "ok": 4338, "failed": 0, "abandoned": 0},
//	  "peak_in_flight": 212,
//	  "files": ["manifest.json", "metrics.json", …]
//	}
//
// A trace workload's "workload" adds where its data came from: "dataset",
// "dataset_files" (path, sha256, bytes of each file read) and, when the
// data is invented, "dataset_synthetic": true.
type Manifest struct {
	// SchemaVersion is the layout of the run directory this manifest
	// describes (SchemaVersion); ReadManifest refuses others.
	SchemaVersion int `json:"schema_version"`
	// ToolVersion names the trenv-bench build (release, VCS revision, Go
	// version).
	ToolVersion string `json:"tool_version"`
	// CommandLine is the full command line, program name first, as given
	// (os.Args).
	CommandLine []string `json:"command_line"`

	// Method is the start method: trenv, cold, criu, lazy, faasnap, reap.
	Method string `json:"method"`
	// Pool is TrEnv's memory pool, cxl or rdma; "" when it does not apply.
	Pool string `json:"pool,omitempty"`
	// ModelVariant names the model variant of TrEnv's start path the run
	// measured (ModelVariants: Figure 14's steps, "reconfig" or "cgroup");
	// "" for a run of one of the paper's systems. Only sim and twin runs
	// have one: the variants exist on the platform model only.
	ModelVariant string `json:"model_variant,omitempty"`
	// Target is what was measured. Required.
	Target Target `json:"target"`
	// Gateway is faasd's gateway URL on host and twin runs, "" on sim
	// runs. User information in the URL is dropped when written.
	Gateway string `json:"gateway,omitempty"`
	// Platform holds the platform flags of the run, as typed.
	Platform PlatformFlags `json:"platform"`
	// Effective is the configuration that actually ran, as its engine
	// states it: the platform model's configuration on sim and twin, the
	// flags faasd was started with on a host; absent on a gateway run
	// (someone else's configuration). Its fields are the engine's.
	Effective json.RawMessage `json:"effective_config,omitempty"`

	// Speed is how many seconds of model time pass per second of wall time
	// on the twin (>1: sped up); 1 on a host (real time); 0 on the
	// simulator (virtual time, no wall clock).
	Speed float64 `json:"speed"`
	// SpeedNote says, on the simulator and on a twin whose Speed is not 1,
	// that every time recorded in the directory (requests.csv, test.log,
	// memory.csv, metrics) is model time, not wall time. When empty it is
	// filled from Target and Speed as the manifest is written.
	SpeedNote string `json:"speed_note,omitempty"`

	// Workload says what was replayed.
	Workload WorkloadInfo `json:"workload"`
	// Seeds are the seeds of the run's own randomness.
	Seeds Seeds `json:"seeds"`
	// CalibrationSHA256 is the hex SHA-256 digest of the platform model's
	// cost model as the run used it (its encoding/json form: fields in
	// order, map keys sorted), on sim and twin runs whose model ran in
	// this process; "" otherwise. Equal digests mean the same model, from
	// whatever file or formatting it came.
	CalibrationSHA256 string `json:"calibration_sha256,omitempty"`
	// Host describes the machine the harness ran on (HostFacts).
	Host HostInfo `json:"host"`

	// StartedAt is when the run started; EndedAt when it ended (zero, and
	// absent from the file, while it runs). RFC 3339 in the file, with
	// the local offset.
	StartedAt time.Time `json:"started_at,omitzero"`
	EndedAt   time.Time `json:"ended_at,omitzero"`

	// Status is how the run ended. Required.
	Status RunStatus `json:"status"`
	// Note is free text for the reader (NoteInProgress while running).
	Note string `json:"note,omitempty"`
	// Error is the error that ended a failed run, or that the run met
	// while writing its files; "" if none.
	Error string `json:"error,omitempty"`

	// Shard says the run is one slice of an experiment replayed by several
	// load generators; nil for an unsharded run. LoadRuns merges an
	// experiment's shards into one run.
	Shard *ShardInfo `json:"shard,omitempty"`

	// Phases are the phases that started, in order, on the run clock
	// (memory.csv's and cpu.csv's); a phase that did not end has no end_s.
	Phases []PhaseSpan `json:"phases"`
	// Metrics says whether faasd's metrics were all taken and stand for
	// their phase (MetricsHealth.Usable).
	Metrics MetricsHealth `json:"metrics"`

	// Requests counts the run's requests, all phases together.
	Requests RequestCounts `json:"requests"`
	// PeakInFlight is the largest number of requests in flight at once
	// (sent and not yet done), all phases together; 0 if not measured.
	PeakInFlight int `json:"peak_in_flight"`
	// Clock is how closely the replayer kept to the schedule in the test
	// phase (twin and gateway runs; absent on the simulator, which has
	// no wall clock).
	Clock *ClockInfo `json:"clock,omitempty"`
	// Harness is what the trenv-bench process itself used while the run
	// ran; nil where it could not be measured.
	Harness *HarnessInfo `json:"harness,omitempty"`

	// Files lists the run's files present in the directory when the
	// manifest was written, sorted by name (manifest.json included).
	Files []string `json:"files"`
}

// HarnessInfo is the trenv-bench process's own share of the machine
// during a run: on a single-node testbed the load generator competes with
// the system it measures, and this says by how much.
type HarnessInfo struct {
	// Procs is the processors the Go runtime ran on (GOMAXPROCS).
	Procs int `json:"procs"`
	// CPUSeconds is the process's CPU time (user + system) while the
	// engine ran, from the manifest's first write to the end of the last
	// phase: the replayer's alone on gateway and host runs (the
	// harness's own sampling included), the platform model's as well on
	// twin and sim runs.
	CPUSeconds float64 `json:"cpu_s"`
}

// PlatformFlags are the platform flags of a run, named as test.sh and faasd
// name them. Their upstream defaults are --mem 64, --gc 10, --idle-num 70.
type PlatformFlags struct {
	// MemGB is --mem: the bound on the sum of instances' declared memory,
	// in GB.
	MemGB float64 `json:"mem_gb"`
	// GCMin is --gc: the baseline keep-alive, in minutes.
	GCMin float64 `json:"gc_min"`
	// IdleNum is --idle-num: the generic sandboxes TrEnv keeps.
	IdleNum int `json:"idle_num"`
	// NoReuse is --no-reuse: never reuse an idle instance of the same
	// function.
	NoReuse bool `json:"no_reuse"`
	// NoBgTask is --no-bgtask: no background keep-alive task.
	NoBgTask bool `json:"no_bgtask"`
}

// WorkloadInfo identifies the workload a run replayed.
type WorkloadInfo struct {
	// Name is the generator's -w value ("1", "2", "func", "azure",
	// "huawei") or the directory given with --workload.
	Name string `json:"name"`
	// TestSHA256 and WarmupSHA256 are the hex SHA-256 digests of
	// workload.json and warmup.json in their upstream JSON encoding
	// (workloads.Phase.AppendJSON): equal digests mean equal workloads,
	// however they were produced. See SHA256Hex.
	TestSHA256   string `json:"workload_json_sha256"`
	WarmupSHA256 string `json:"warmup_json_sha256"`
	// GeneratorSeed is the seed the workload was generated with; nil when
	// the workload came from a directory.
	GeneratorSeed *uint64 `json:"generator_seed,omitempty"`
	// Dataset is the dataset path the generator read, DatasetBuiltInSample,
	// or "" when the workload needs none (or came from a directory).
	Dataset string `json:"dataset,omitempty"`
	// DatasetFiles are the files of the dataset the generator read, each
	// with its digest, in reading order; empty when it read none (the
	// built-in sample lives in memory).
	DatasetFiles []DatasetFile `json:"dataset_files,omitempty"`
	// Synthetic says the dataset's content is invented: the built-in
	// sample, or files that `traces synth` wrote (its marker file beside
	// them lists them; see DatasetFile.Synthetic). False for a real trace
	// and for workloads that read no dataset. Use SyntheticData, which also
	// tells the built-in sample of manifests written before this field.
	Synthetic bool `json:"dataset_synthetic,omitempty"`
}

// DatasetFile is one file of a trace dataset, as the generator read it.
type DatasetFile struct {
	// Path is the file as given or found (a day file, or the Azure
	// archive): relative paths stay relative.
	Path string `json:"path"`
	// SHA256 is the hex SHA-256 digest of the file's bytes as stored
	// (compressed, for .gz and archives); Bytes its size.
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	// Synthetic: a traces synth marker (SYNTHETIC-DATASET.json) beside
	// the file lists it, so its content is invented.
	Synthetic bool `json:"synthetic,omitempty"`
}

// SyntheticData reports whether the workload came from invented trace data:
// the built-in sample, or a dataset that traces synth wrote.
func (w *WorkloadInfo) SyntheticData() bool {
	return w.Synthetic || w.Dataset == DatasetBuiltInSample
}

// DigestPrefix is how many hex digits of a SHA-256 digest DataSource shows:
// enough to tell files apart, short enough for a figure's footer.
const DigestPrefix = 12

// SyntheticNote is how figures and reports mark invented trace data.
const SyntheticNote = "synthetic sample (invented content)"

// DataSource describes in one line where the workload came from, for a
// figure's footer or a report section, without absolute paths:
//
//	built-in synthetic sample (invented content), not the real trace; workload.json sha256 bf40d993ac3e
//	synthetic dataset written by traces synth (invented content): day_00.csv sha256 1a2b…, …; workload.json sha256 …
//	dataset azurefunctions-dataset2019.tar.xz sha256 0c4f…; workload.json sha256 …
//	generated as upstream gen_trace.py does, seed 2022310806; workload.json sha256 …
func (w *WorkloadInfo) DataSource() string {
	var parts []string
	files := make([]string, len(w.DatasetFiles))
	for i, f := range w.DatasetFiles {
		files[i] = filepath.Base(f.Path) + " sha256 " + shortDigest(f.SHA256)
		if f.Synthetic != w.Synthetic { // a synthetic file among real ones, or the reverse
			if f.Synthetic {
				files[i] += " (synthetic)"
			} else {
				files[i] += " (not synthetic)"
			}
		}
	}
	switch {
	case w.Dataset == DatasetBuiltInSample:
		parts = append(parts, "built-in synthetic sample (invented content), not the real trace")
	case w.Synthetic && len(files) > 0:
		parts = append(parts, "synthetic dataset written by traces synth (invented content): "+strings.Join(files, ", "))
	case len(files) > 0:
		parts = append(parts, "dataset "+strings.Join(files, ", "))
	case w.Dataset != "":
		parts = append(parts, "dataset "+filepath.Base(w.Dataset)+" (no digest recorded)")
	case w.GeneratorSeed != nil:
		parts = append(parts, "generated as upstream gen_trace.py does, seed "+strconv.FormatUint(*w.GeneratorSeed, 10))
	}
	if w.TestSHA256 != "" {
		parts = append(parts, "workload.json sha256 "+shortDigest(w.TestSHA256))
	}
	return strings.Join(parts, "; ")
}

// shortDigest is the first DigestPrefix hex digits of a digest.
func shortDigest(hex string) string {
	if len(hex) > DigestPrefix {
		return hex[:DigestPrefix]
	}
	return hex
}

// Seeds are the seeds of a run's randomness, so it can be repeated.
type Seeds struct {
	// Jitter seeds the U[0,1) send offset of every request.
	Jitter uint64 `json:"jitter"`
	// Model seeds the platform model's randomness on twin and sim; nil on
	// a host.
	Model *uint64 `json:"model,omitempty"`
}

// RequestCounts counts a run's requests by how they ended.
type RequestCounts struct {
	// Scheduled is the number of requests the run scheduled: the rows of
	// requests.csv, or more if the caller knew of requests that were never
	// recorded (the run stopped before they were due).
	Scheduled int `json:"scheduled"`
	OK        int `json:"ok"`
	Failed    int `json:"failed"`
	Abandoned int `json:"abandoned"`
}

// HostInfo describes the machine a run's harness ran on. Empty fields mean
// unknown.
type HostInfo struct {
	// OS and Arch are Go's GOOS and GOARCH.
	OS   string `json:"os"`
	Arch string `json:"arch"`
	// Kernel is the kernel release, as uname -r prints it.
	Kernel string `json:"kernel,omitempty"`
	// CPUModel is the first "model name" of /proc/cpuinfo.
	CPUModel string `json:"cpu_model,omitempty"`
	// Cores is the number of logical CPUs.
	Cores int `json:"cores,omitempty"`
	// MemoryBytes is the physical memory (MemTotal of /proc/meminfo), in
	// bytes.
	MemoryBytes int64 `json:"memory_bytes,omitempty"`
}

// SHA256Hex returns the lowercase hex SHA-256 digest of data; for a
// workload file pass its upstream encoding, phase.AppendJSON(nil).
func SHA256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// HostFacts describes this machine. On Linux it reads the kernel release
// from /proc/sys/kernel/osrelease (uname's source), the CPU model and count
// from /proc/cpuinfo and the memory from /proc/meminfo; elsewhere, or when a
// file cannot be read, the fields it would fill stay empty (Cores then falls
// back to runtime.NumCPU).
func HostFacts() HostInfo {
	return hostFactsFrom(os.DirFS("/proc"))
}

// hostFactsFrom reads host facts from a /proc file system.
func hostFactsFrom(proc fs.FS) HostInfo {
	h := HostInfo{OS: runtime.GOOS, Arch: runtime.GOARCH}
	if b, err := fs.ReadFile(proc, "sys/kernel/osrelease"); err == nil {
		h.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := fs.ReadFile(proc, "cpuinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			key, val, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			key, val = strings.TrimSpace(key), strings.TrimSpace(val)
			switch key {
			case "processor":
				h.Cores++
			case "model name":
				if h.CPUModel == "" {
					h.CPUModel = val
				}
			}
		}
	}
	if h.Cores == 0 {
		h.Cores = runtime.NumCPU()
	}
	if b, err := fs.ReadFile(proc, "meminfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			// "MemTotal:       24608124 kB"
			f := strings.Fields(sc.Text())
			if len(f) >= 2 && f[0] == "MemTotal:" {
				if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil && kb >= 0 {
					h.MemoryBytes = kb * 1024
				}
				break
			}
		}
	}
	return h
}

// speedNote returns the SpeedNote for a target and speed: "" on a host
// (real time) and on a twin at speed 1.
func speedNote(target Target, speed float64) string {
	switch {
	case target == TargetSim:
		return "the simulator runs in virtual time: every time in this directory is model time"
	case target == TargetTwin && speed != 1:
		return "the twin ran at " + strconv.FormatFloat(speed, 'g', -1, 64) +
			"x real time: every time in this directory (requests.csv, test.log, memory.csv, metrics) is model time, not wall time"
	}
	return ""
}

// check validates m before it is written.
func (m *Manifest) check() error {
	if !m.Status.Valid() {
		return fmt.Errorf("%w: status %s, want complete, interrupted or failed", ErrBadValue, quoteCell(string(m.Status)))
	}
	if m.Target != "" && !m.Target.Valid() {
		return fmt.Errorf("%w: target %s, want sim, twin, gateway or host", ErrBadValue, quoteCell(string(m.Target)))
	}
	if m.ModelVariant != "" {
		if _, ok := SystemOfVariant(m.Method, m.Pool, m.ModelVariant); !ok {
			return fmt.Errorf("%w: model_variant %s of method %s, pool %s: expected one of ModelVariants", ErrBadValue,
				quoteCell(m.ModelVariant), quoteCell(m.Method), quoteCell(m.Pool))
		}
		if m.Target == TargetHost || m.Target == TargetGateway {
			return fmt.Errorf("%w: model_variant %s on target %s: %w", ErrBadValue, m.ModelVariant, m.Target, ErrModelOnly)
		}
	}
	c := m.Requests
	if c.Scheduled < 0 || c.OK < 0 || c.Failed < 0 || c.Abandoned < 0 || m.PeakInFlight < 0 {
		return fmt.Errorf("%w: negative count", ErrBadValue)
	}
	return nil
}

// Marshal returns m as manifest.json holds it: indented JSON ending in a
// newline. It checks m first (a known status, a known target or none,
// no negative count; errors wrap ErrBadValue), fills SpeedNote, and strips
// any user information (a password) from Gateway.
func (m *Manifest) Marshal() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, fmt.Errorf("results: writing manifest: %w", err)
	}
	out := *m
	out.Gateway = RedactURL(m.Gateway)
	out.CommandLine = RedactArgs(m.CommandLine)
	if out.SpeedNote == "" {
		out.SpeedNote = speedNote(m.Target, m.Speed)
	}
	if out.CommandLine == nil {
		out.CommandLine = []string{}
	}
	if out.Files == nil {
		out.Files = []string{}
	}
	if out.Phases == nil {
		out.Phases = []PhaseSpan{}
	}
	out.SchemaVersion = SchemaVersion
	b, err := json.MarshalIndent(&out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("results: writing manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteFile writes m to path atomically (see Marshal): a reader sees the
// old manifest or the new one, never half of one.
func (m *Manifest) WriteFile(path string) error {
	b, err := m.Marshal()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// RedactURL drops the user information ("user:password@") of a URL; any
// other string is returned as it is. Every URL that reaches a manifest, a
// message or a log goes through it.
func RedactURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s
	}
	host, path := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host, path = rest[:i], rest[i:]
	}
	if i := strings.LastIndexByte(host, '@'); i >= 0 {
		host = host[i+1:]
	}
	return scheme + "://" + host + path
}

// RedactArgs returns a copy of a command line with RedactURL applied to
// every argument, and to the value of every --flag=value, so a password
// given in a URL never reaches a manifest.
func RedactArgs(args []string) []string {
	if args == nil {
		return nil
	}
	out := make([]string, len(args))
	for i, a := range args {
		if name, val, ok := strings.Cut(a, "="); ok && strings.HasPrefix(name, "-") {
			out[i] = name + "=" + RedactURL(val)
			continue
		}
		out[i] = RedactURL(a)
	}
	return out
}

// ReadManifest reads manifest.json. Unknown fields are ignored (a later
// version may add some); the status must be one of RunStatus's. Errors are
// *ParseError values naming path and line, wrapping ErrSyntax (not JSON),
// ErrBadValue (a field of the wrong type or an unknown status) or
// ErrMissing (no status); I/O errors are returned as they are.
func ReadManifest(path string) (*Manifest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		line := 0
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line = lineOf(data, se.Offset)
		case errors.As(err, &te):
			line = lineOf(data, te.Offset)
		}
		return nil, &ParseError{Path: path, Line: line, Err: jsonError(err)}
	}
	switch {
	case m.SchemaVersion != SchemaVersion:
		return nil, &ParseError{Path: path, Column: "schema_version",
			Err: fmt.Errorf("%w (schema %d; this version reads %d)", ErrOldSchema, m.SchemaVersion, SchemaVersion)}
	case m.Status == "":
		return nil, &ParseError{Path: path, Column: "status", Err: ErrMissing}
	case !m.Status.Valid():
		return nil, &ParseError{Path: path, Column: "status",
			Err: fmt.Errorf("%w: %s, want complete, interrupted or failed", ErrBadValue, quoteCell(string(m.Status)))}
	}
	return &m, nil
}

// IsComplete reports whether dir holds a finished run: its manifest.json
// reads and says complete.
func IsComplete(dir string) bool {
	m, err := ReadManifest(filepath.Join(dir, ManifestFile))
	return err == nil && m.Status == RunComplete
}

// ClockInfo is how closely a replayed phase kept to its schedule, in wall
// milliseconds, and what that means in model time on a twin.
type ClockInfo struct {
	// Phase is the phase measured (the test phase, or the warmup when the
	// test phase never ran).
	Phase string `json:"phase"`
	// LatenessP50Ms and LatenessP99Ms are the first attempts' dispatch
	// lateness (sent − scheduled), wall time.
	LatenessP50Ms float64 `json:"lateness_p50_ms"`
	LatenessP99Ms float64 `json:"lateness_p99_ms"`
	// OverheadP50Ms is the median wall time an answer spent outside the
	// twin's own account of it (client, kernel, HTTP); absent when the
	// target gives no account (a faasd).
	OverheadP50Ms *float64 `json:"overhead_p50_ms,omitempty"`
	// ModelShiftMs is (LatenessP50Ms + OverheadP50Ms) × speed: how much
	// later than scheduled, in model time, a typical request reached a
	// twin's model; absent on a gateway run.
	ModelShiftMs *float64 `json:"model_shift_ms,omitempty"`
}
