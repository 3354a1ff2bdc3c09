// Package calibration holds the platform model's cost model: start-up and
// execution time distributions, resident memory per instance, the CXL vs
// RDMA difference, the slowdown of concurrent starts, and the resources
// that start-ups and executions share (the host's hardware threads, the
// devices memory is paged in from), per start method and benchmark
// function. Every number names its source.
//
// The default model (default.yaml) is embedded; Load reads a user's file,
// e.g. one fitted from a real host run by `trenv-bench sim calibrate`.
//
// The costs compose as follows. A request that starts a new instance with
// method M (a TrEnv repurpose is M = trenv-cxl or trenv-rdma), alone on the
// platform, takes
//
//	HTTPOverheadMs + Startup[M]·(1 + ConcurrentStartSlowdown[M]·others)
//	               + Exec·variant·FirstExecFactor[M]
//
// and a later request served by the same instance takes
//
//	HTTPOverheadMs + Reuse + Exec·variant·WarmExecFactor[M],
//
// where Startup, Exec and Reuse are drawn from their Dists, variant is the
// exec factor Cost returns for a copy (1 for a base) and others is the
// number of other starts in progress. These are the uncontended service
// times. Under load the platform model shares resources among them (see
// sim/README.md, "Contention"): the non-page-in part of a start-up runs as
// one thread, an execution as Threads threads (at most VMVCPUs at once in
// a FaaSnap/REAP guest, where a function of more threads then takes
// Threads/VMVCPUs times as long, even alone), all on HostThreads hardware
// threads by processor sharing; the page-in part (PageInMs[M] of the median, in the phase
// PageIn[M] names) runs as one stream of PageIn[M].StreamMBps on its
// device, whose DeviceMBps its streams share. The instance holds
// ResidentAtStart[M]·ResidentMB[M] (plus what a repurposed instance keeps
// of its predecessor, RepurposeCarry) from its start-up on, and ResidentMB[M]
// once its first execution has paged its memory in.
//
// It imports only the standard library and yaml.v3.
package calibration

// Method keys of the cost model: the five baseline start methods and
// TrEnv's repurposing ("switch") on each memory pool. A TrEnv cold start
// (no idle instance anywhere) costs what MethodCold does.
const (
	MethodCold      = "cold"
	MethodCRIU      = "criu"
	MethodLazy      = "lazy"
	MethodFaaSnap   = "faasnap"
	MethodREAP      = "reap"
	MethodTrEnvCXL  = "trenv-cxl"
	MethodTrEnvRDMA = "trenv-rdma"
)

// Methods lists every method key a function's cost entries must cover.
var Methods = []string{MethodCold, MethodCRIU, MethodLazy, MethodFaaSnap, MethodREAP, MethodTrEnvCXL, MethodTrEnvRDMA}

// Devices memory is paged in from (keys of Platform.DeviceMBps).
const (
	// DeviceCXLTmpfs is the CXL-backed tmpfs that holds the CRIU, FaaSnap+
	// and REAP+ images.
	DeviceCXLTmpfs = "cxl-tmpfs"
	// DeviceRDMA is the Soft-RoCE link to T-RDMA's memory pool.
	DeviceRDMA = "rdma"
)

// Phases a page-in happens in (PageIn.Phase).
const (
	// PhaseStartup: the start-up pages the memory in (a CRIU restore's
	// copy, REAP's working-set prefetch).
	PhaseStartup = "startup"
	// PhaseFirstExec: the first execution faults it in (lazy restores,
	// FaaSnap's loading set, T-RDMA).
	PhaseFirstExec = "first_exec"
)

// Number is one calibrated value and where it comes from. Source names a
// key of Model.Sources followed by where in it (e.g. "TrEnv Fig. 14a"), or
// starts with "estimate:" and says how it was estimated, or "fitted:" for a
// value fitted from a run.
type Number struct {
	Value  float64 `yaml:"value"`
	Source string  `yaml:"source"`
}

// Dist is a log-normal distribution of a duration: its median in
// milliseconds and Sigma, the standard deviation of its natural logarithm
// (0 = always the median). P99 = median × exp(2.326·Sigma).
type Dist struct {
	MedianMs float64 `yaml:"median_ms"`
	Sigma    float64 `yaml:"sigma"`
	Source   string  `yaml:"source"`
}

// Model is a whole cost model (default.yaml's layout).
type Model struct {
	// Version of the file format; 1.
	Version int `yaml:"version"`
	// Sources maps the citation keys used in Source fields to full
	// references.
	Sources map[string]string `yaml:"sources"`
	// Platform holds costs that do not depend on the function.
	Platform Platform `yaml:"platform"`
	// Functions maps a base function name (pyaes, h-hello-world, …) to its
	// costs. Copies (pyaes_1) use their base's costs scaled by Variants.
	Functions map[string]Function `yaml:"functions"`
	// Variants maps a copy's name (pyaes_1) to the factor its different
	// input scales its base's execution time by.
	Variants map[string]Variant `yaml:"variants"`

	// file is the name Parse was given, and lines the line of each YAML
	// path in it, for Validate's errors.
	file  string
	lines lineIndex
}

// Platform holds function-independent costs.
type Platform struct {
	// HTTPOverheadMs is added to every client-seen latency: the HTTP round
	// trip through faasd's proxy to the in-sandbox watchdog.
	HTTPOverheadMs Number `yaml:"http_overhead_ms"`
	// Reuse is the start-up cost of reusing an idle instance of the same
	// function (faasd's bookkeeping only).
	Reuse Dist `yaml:"reuse"`
	// ConcurrentStartSlowdown maps a method key to the fractional increase
	// of start-up time per other start running at the same time: startup ×
	// (1 + value × others). For a baseline's start (and a TrEnv cold
	// start) the others are the start workers busy when it begins; for a
	// TrEnv repurpose, the other repurposes in their start-up.
	ConcurrentStartSlowdown map[string]Number `yaml:"concurrent_start_slowdown"`
	// HostThreads is the number of hardware threads of the host: the CPU
	// capacity that start-ups and executions share (processor sharing; a
	// positive whole number).
	HostThreads Number `yaml:"host_threads"`
	// VMVCPUs is the number of vCPUs of a FaaSnap+/REAP+ guest: at most
	// that many of a function's threads run in it at once, so a function
	// of more threads runs Threads/VMVCPUs times as long in a guest (a
	// positive whole number).
	VMVCPUs Number `yaml:"vm_vcpus"`
	// DeviceMBps maps a device memory is paged in from (DeviceCXLTmpfs,
	// DeviceRDMA) to its bandwidth in MB/s, which the page-in streams on it
	// share.
	DeviceMBps map[string]Number `yaml:"device_mb_s"`
	// PageIn maps a method key to how its instances page memory in from a
	// shared device. A method without an entry pages nothing in from one
	// (a cold start builds its memory; T-CXL reads the pool in place).
	PageIn map[string]PageIn `yaml:"page_in"`
	// ResidentAtStart maps every method key to the share, 0 to 1, of
	// ResidentMB an instance holds from its start-up on; the rest comes
	// local when its first execution has paged it in or written it.
	ResidentAtStart map[string]Number `yaml:"resident_at_start"`
	// RepurposeCarry is the share, 0 to less than 1, of a TrEnv instance's
	// resident memory that stays charged to its sandbox when it is
	// repurposed, which its successor then holds too.
	RepurposeCarry Number `yaml:"repurpose_carry"`
}

// PageIn says how a method's instances page memory in: from which device,
// in which phase, and how fast one instance's page-in runs alone.
type PageIn struct {
	// Device is a key of Platform.DeviceMBps.
	Device string `yaml:"device"`
	// Phase is PhaseStartup or PhaseFirstExec.
	Phase string `yaml:"phase"`
	// StreamMBps is the rate, MB/s, of one instance's page-in alone on
	// the device; Platform.DeviceMBps ÷ StreamMBps page-ins run at full
	// rate at once, and more share the device's bandwidth equally.
	StreamMBps Number `yaml:"stream_mb_s"`
}

// Function holds the costs of one benchmark function.
type Function struct {
	// Exec is the warm execution time on local DRAM (the function's own
	// work, as its reported latency measures it).
	Exec Dist `yaml:"exec"`
	// Startup maps a method key to the start-up time of a new instance
	// started that way (for switch: the repurposing).
	Startup map[string]Dist `yaml:"startup"`
	// FirstExecFactor maps a method key to the multiplier on Exec for the
	// first invocation of an instance started that way (page faults, lazy
	// loading, readiness waits counted as execution).
	FirstExecFactor map[string]Number `yaml:"first_exec_factor"`
	// WarmExecFactor maps a method key to the multiplier on Exec for later
	// invocations of such an instance (1 unless memory stays in a slower
	// tier, as with TrEnv on CXL).
	WarmExecFactor map[string]Number `yaml:"warm_exec_factor"`
	// ResidentMB maps a method key to the resident memory of one idle or
	// busy instance started that way once it has run, in MB (10^6 bytes),
	// as the function cgroup's memory.current would count it.
	ResidentMB map[string]Number `yaml:"resident_mb"`
	// Threads is how many threads the function's execution runs at once
	// (a positive whole number).
	Threads Number `yaml:"threads"`
	// PageInMs maps each method key of Platform.PageIn to the part, in ms,
	// of the median start-up (phase startup) or median first execution
	// (phase first_exec, Exec's median × FirstExecFactor) that pages
	// memory in from the device, run alone; 0 to that median. A copy's
	// scales with its execution like the rest of the phase.
	PageInMs map[string]Number `yaml:"page_in_ms"`
}

// Variant scales a copy's execution time relative to its base.
type Variant struct {
	ExecFactor Number `yaml:"exec_factor"`
}
