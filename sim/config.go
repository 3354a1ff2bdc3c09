package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
)

// Start methods (results' names, for the platform's callers).
const (
	MethodTrEnv   = results.MethodTrEnv
	MethodCold    = results.MethodCold
	MethodCRIU    = results.MethodCRIU
	MethodLazy    = results.MethodLazy
	MethodFaaSnap = results.MethodFaaSnap
	MethodREAP    = results.MethodREAP
)

// Methods lists the start methods, TrEnv first.
var Methods = []string{MethodTrEnv, MethodCold, MethodCRIU, MethodLazy, MethodFaaSnap, MethodREAP}

// Memory pools of TrEnv's mm-templates.
const (
	PoolCXL  = "cxl"
	PoolRDMA = "rdma"
)

// Platform defaults, as upstream test.sh and faasd set them.
const (
	// DefaultMemGB is test.sh's --mem: the bound on the sum of declared
	// memory limits of live instances, in GiB.
	DefaultMemGB = 64
	// DefaultGCMinutes is test.sh's --gc: baseline keep-alive, minutes.
	DefaultGCMinutes = 10
	// DefaultIdleNum is faasd's --idle-num: generic sandboxes TrEnv seeds.
	DefaultIdleNum = 70
)

// Bounds of Config, checked by Validate.
const (
	// MaxMemBytes bounds MemBytes (exclusive): faasd refuses --mem of 256
	// GiB or more.
	MaxMemBytes = 256 << 30
	// MaxIdleNum bounds IdleNum: 10,000 generic sandboxes. Each is charged
	// SeedChargeBytes, so the largest --mem holds at most 1,073 of them;
	// the model keeps one instance per seed, so an unbounded --idle-num
	// (2^31 − 1) would exhaust memory before the run starts.
	MaxIdleNum = 10_000
	// MaxGC bounds GC: a week. A keep-alive longer than a run (at most two
	// phases of workloads.MaxSeconds) never expires anyway; without a
	// bound, --gc minutes × 1 min overflows a Duration past 153,722
	// minutes.
	MaxGC = 7 * 24 * time.Hour
)

// Fixed behaviour of the faasd fork (spec/trenv-stack.md §2.7, §2.8).
const (
	// StartWorkers is the number of start workers (cold, criu, lazy, and
	// TrEnv's cold starts); SnapshotStartWorkers for faasnap and reap.
	StartWorkers         = 10
	SnapshotStartWorkers = 6
	// StartQueueSlots is the capacity of the channel that feeds the start
	// workers: a start is refused when no worker is free and it is full.
	StartQueueSlots = 2
	// StartRetry is how long a refused start waits before the whole
	// decision is made again.
	StartRetry = 50 * time.Millisecond
	// ServerDeadline bounds a request's start-slot wait.
	ServerDeadline = 55 * time.Second
	// GCInterval is how often the baseline keep-alive task scans.
	GCInterval = 5 * time.Second
	// SeedChargeBytes is what each generic h-hello-world sandbox of TrEnv's
	// idle pool is charged against --mem (256M, the idle-pool task's spec).
	SeedChargeBytes = 256_000_000
	// SeedFunction is the function the idle pool's sandboxes run.
	SeedFunction = "h-hello-world"
	// ThrottleBase and the maxima are the FaaSnap/REAP start workers'
	// adaptive back-off: ThrottleBase × 2^stage, at most the maximum.
	ThrottleBase       = 100 * time.Millisecond
	FaaSnapThrottleMax = 800 * time.Millisecond
	REAPThrottleMax    = 3200 * time.Millisecond
)

// Config is the platform's configuration: faasd provider's flags as
// test.sh passes them.
type Config struct {
	// Method is one of Methods.
	Method string
	// Pool is PoolCXL or PoolRDMA; TrEnv only ("" = cxl).
	Pool string
	// MemBytes is the --mem bound in bytes (GiB × 2^30), more than 0 and
	// less than MaxMemBytes.
	MemBytes int64
	// GC is the baseline keep-alive: idle instances older than this are
	// killed by the scan every GCInterval. 0 disables it; at most MaxGC.
	// Ignored by TrEnv.
	GC time.Duration
	// IdleNum is the number of generic sandboxes TrEnv seeds (without
	// NoBgTask), 0 to MaxIdleNum.
	IdleNum int
	// NoReuse never reuses an idle instance of the same function.
	NoReuse bool
	// NoBgTask disables the background tasks: keep-alive GC (baseline) and
	// the idle-pool seeding (TrEnv).
	NoBgTask bool
	// Seed seeds the cost model's random draws.
	Seed uint64
}

// DefaultConfig returns the configuration of test.sh's defaults for method.
func DefaultConfig(method string) Config {
	return ConfigFor(method, PoolCXL, DefaultFlags(), 0)
}

// DefaultFlags returns test.sh's and faasd's defaults of the provider
// flags: --mem DefaultMemGB, --gc DefaultGCMinutes, --idle-num
// DefaultIdleNum, reuse and background tasks on.
func DefaultFlags() results.PlatformFlags {
	return results.PlatformFlags{MemGB: DefaultMemGB, GCMin: DefaultGCMinutes, IdleNum: DefaultIdleNum}
}

// ConfigFor is the one conversion from a run's provider settings, as run
// and sim serve take them as flags and an experiment matrix gives them, to
// the platform's configuration: start method, TrEnv's pool ("" = cxl),
// the flags in test.sh's units (--mem GiB, --gc minutes) and the cost
// model's seed. It checks nothing; Validate does. Callers that take the
// flags from a user check their ranges first, naming the flag: a --mem or
// --gc beyond the bounds does not fit a Config's integer fields.
func ConfigFor(method, pool string, f results.PlatformFlags, seed uint64) Config {
	return Config{
		Method:   method,
		Pool:     pool,
		MemBytes: int64(f.MemGB * (1 << 30)),
		GC:       time.Duration(f.GCMin * float64(time.Minute)),
		IdleNum:  f.IdleNum,
		NoReuse:  f.NoReuse,
		NoBgTask: f.NoBgTask,
		Seed:     seed,
	}
}

// ErrConfig is wrapped by every configuration error.
var ErrConfig = errors.New("sim: bad configuration")

// Validate checks the configuration and fills an empty Pool.
func (c *Config) Validate() error {
	if !slices.Contains(Methods, c.Method) {
		return fmt.Errorf("%w: method %q: expected one of %s", ErrConfig, c.Method, strings.Join(Methods, ", "))
	}
	if c.Pool == "" {
		c.Pool = PoolCXL
	}
	if c.Pool != PoolCXL && c.Pool != PoolRDMA {
		return fmt.Errorf("%w: pool %q: expected cxl or rdma", ErrConfig, c.Pool)
	}
	if c.MemBytes <= 0 || c.MemBytes >= MaxMemBytes {
		return fmt.Errorf("%w: memory bound %d bytes: expected more than 0 and less than 256 GiB (faasd refuses larger)", ErrConfig, c.MemBytes)
	}
	if c.GC < 0 || c.GC > MaxGC {
		return fmt.Errorf("%w: keep-alive (--gc) %v: expected 0 to %v", ErrConfig, c.GC, MaxGC)
	}
	if c.IdleNum < 0 || c.IdleNum > MaxIdleNum {
		return fmt.Errorf("%w: idle pool (--idle-num) %d: expected 0 to %d", ErrConfig, c.IdleNum, MaxIdleNum)
	}
	return nil
}

// trenv reports whether the platform runs TrEnv's policy.
func (c *Config) trenv() bool { return c.Method == MethodTrEnv }

// startCost is the cost-model key of a new instance's start: the baseline's
// method, or a cold start in TrEnv mode.
func (c *Config) startCost() string {
	if c.trenv() {
		return calibration.MethodCold
	}
	return c.Method
}

// switchCost is the cost-model key of TrEnv's repurposing on the pool.
func (c *Config) switchCost() string {
	if c.Pool == PoolRDMA {
		return calibration.MethodTrEnvRDMA
	}
	return calibration.MethodTrEnvCXL
}

// startWorkers returns the start concurrency and the throttle maximum.
func (c *Config) startWorkers() (int, time.Duration) {
	switch c.Method {
	case MethodFaaSnap:
		return SnapshotStartWorkers, FaaSnapThrottleMax
	case MethodREAP:
		return SnapshotStartWorkers, REAPThrottleMax
	}
	return StartWorkers, 0
}
