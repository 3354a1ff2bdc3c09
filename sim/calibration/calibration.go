// Package calibration holds the platform model's cost model: start-up and
// execution time distributions, resident memory per instance, the CXL vs
// RDMA difference and the slowdown of concurrent starts, per start method
// and benchmark function. Every number names its source.
//
// The default model (default.yaml) is embedded; Load reads a user's file,
// e.g. one fitted from a real host run by `trenv-bench sim calibrate`.
//
// The costs compose as follows. A request that starts a new instance with
// method M (a TrEnv repurpose is M = trenv-cxl or trenv-rdma) takes
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
// number of other starts in progress. The instance holds ResidentMB[M]
// while it lives.
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
	// (1 + value × others).
	ConcurrentStartSlowdown map[string]Number `yaml:"concurrent_start_slowdown"`
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
	// busy instance started that way, in MB (10^6 bytes), as the function
	// cgroup's memory.current would count it.
	ResidentMB map[string]Number `yaml:"resident_mb"`
}

// Variant scales a copy's execution time relative to its base.
type Variant struct {
	ExecFactor Number `yaml:"exec_factor"`
}
