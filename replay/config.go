package replay

import (
	"context"
	"errors"
	"fmt"
	"time"

	"trenv-bench/results"
	"trenv-bench/workloads"
)

// Upstream's client policy (faasd-testdriver test_driver.py, config.yml;
// spec/upstream-tooling.md §3.3–3.6), in model time.
const (
	// AttemptTimeout bounds one attempt (upstream's timeout: 60, which
	// requests applies to connecting and to each read; here it bounds the
	// whole attempt, headers and body).
	AttemptTimeout = workloads.DriverAttemptTimeout
	// MaxRetries is how many times a failed attempt is retried (upstream's
	// max_retry: 3), so a request makes at most MaxRetries+1 attempts.
	MaxRetries = workloads.DriverMaxRetries
	// BackoffBase is the wait before retry k (k = 0, 1, 2):
	// BackoffBase × 2^k, i.e. 0.5, 1 and 2 s.
	BackoffBase = workloads.DriverBackoffBase
	// PhaseDeadlineFactor × the phase's length in seconds, truncated to
	// whole seconds, is when a phase stops waiting for its requests
	// (upstream's gevent.joinall(timeout=int(len × 1.2))); requests still
	// unfinished then are abandoned.
	PhaseDeadlineFactor = workloads.DriverPhaseDeadlineFactor
)

// Defaults of Config.
const (
	// DefaultSpeed replays in real time.
	DefaultSpeed = 1.0
	// MaxSpeed bounds Speed: 1,000, an hour-long phase in 3.6 s. Beyond
	// it the dispatcher's wake-up error (tens of µs, see spinWindow)
	// reads as tens of milliseconds of model time, more than most
	// latencies measured; and without a bound, model time (wall × Speed)
	// overflows a Duration (--speed 1e300, or +Inf).
	MaxSpeed = 1000.0
	// DefaultGrace is how long, in wall time, requests in flight may
	// still finish after the run's context is cancelled.
	DefaultGrace = 5 * time.Second
	// ProgressInterval is the least time between two Progress calls.
	ProgressInterval = 100 * time.Millisecond
)

// Phase names, as requests.csv writes them.
const (
	PhaseWarmup = results.PhaseWarmup
	PhaseTest   = results.PhaseTest
)

// ControlGap is, with StartAt, the model time between the warmup's
// deadline and the test phase's start, for the owner's metrics snapshot and
// reset (each bounded by the control-plane policy's timeouts).
const ControlGap = 10 * time.Second

// MaxStartLate is how long after StartAt a replay may still begin: a
// shard that starts later would send its requests off the common
// schedule, so Run refuses it.
const MaxStartLate = time.Second

// TestOffset is, with StartAt, when the test phase starts after the
// warmup's start, in model time: the warmup's deadline plus ControlGap.
func TestOffset(warmup workloads.Phase) time.Duration {
	return phaseDeadline(warmup.Seconds()) + ControlGap
}

// Owner reports whether the replayer owns the control plane.
func (c *Config) Owner() bool { return c.Shard.Whole() || c.Shard.Index == 1 }

// Backoff returns the wait before retry k (0-based), in model time.
func Backoff(k int) time.Duration { return BackoffBase << k }

// Config configures Run. Only Target is required.
//
// Time compression: with Speed X > 1 the replay runs X times faster than
// the workload says. Request i of a phase is sent at phase start +
// At/X (wall), the attempt timeout, the back-offs and the phase deadline
// are divided by X, and every time and latency recorded (scheduled_s,
// sent_s, done_s, e2e_ms, total_ms; the run clock) is measured on the wall
// clock and multiplied by X, so records stay in model time and read as if
// the replay had run at speed 1. The function's own reported latency
// (func_ms) is taken as is: a target that compresses
// time as well (the twin with the same speed) reports model time already.
// Dispatch lateness is magnified by X too: at X = 100, 1 ms late reads as
// 100 ms. One exception: when an answer gives the target's own account in
// model time (Response.Served: the twin's served_model_s), e2e_ms is that
// account and done_s is the attempt's send plus it, so the HTTP overhead
// outside the model is not multiplied by X; the summary measures that
// overhead instead (PhaseSummary.OverheadP50, ModelShift). Grace and
// Progress's rate are wall time and not compressed.
type Config struct {
	// Target receives the requests; required. Usually a *Gateway.
	Target Target
	// Catalog gives each function's payload; nil means
	// workloads.DefaultCatalog(). Every function of the workload must be
	// in it.
	Catalog *workloads.Catalog
	// JitterSeed seeds the U[0,1) send offsets within each second
	// (workloads.NewSchedule): the simulator and the replayer given the
	// same seed send at the same times.
	JitterSeed uint64
	// Speed compresses time (see above); 0 means DefaultSpeed. It must be
	// positive and at most MaxSpeed.
	Speed float64
	// AttemptTimeout bounds each attempt, in model time; 0 means
	// AttemptTimeout (60 s). It must not be negative.
	AttemptTimeout time.Duration
	// Grace is how long in-flight requests may still finish after ctx is
	// cancelled, in wall time, before they are cancelled and recorded as
	// abandoned; 0 means DefaultGrace, a negative value none.
	Grace time.Duration

	// Recorder receives everything the run produces (results.Recorder):
	// phases, one record per request, retried attempts, faasd's metrics
	// and their failures, memory and CPU samples. Its run clock is model
	// time since Run started (wall time × Speed); records' times are
	// seconds since their phase started, model time. An error from it stops
	// the run: dispatching stops, requests in flight are cancelled at once,
	// and Run returns the error. nil discards everything.
	Recorder results.Recorder
	// Memory, when not nil, is sampled once a second of model time for
	// memory.csv: the functions' resident bytes, and false when there is
	// no reading (it is then skipped). It must return within a second.
	Memory func(ctx context.Context) (bytes int64, ok bool)
	// CPU, when not nil, is sampled once a second of wall time for
	// cpu.csv: utilisation since the previous call, 0 to 1, false when
	// there is no reading.
	CPU func() (utilization float64, ok bool)
	// Control is the policy of the metrics snapshots and reset; zero
	// means DefaultControl.
	Control Control
	// Warn, when not nil, is told of each failed control-plane attempt
	// that is retried.
	Warn func(string)

	// Shard is the slice of each phase this replayer sends
	// (workloads.Shard: the same requests at the same times as the
	// unsharded schedule's); zero means the whole phase. Shard 1 (or an
	// unsharded replayer) owns the control plane — the metrics snapshots
	// and reset, the memory and CPU samples; the other shards only replay.
	Shard workloads.Shard
	// StartAt, when set, is the wall-clock time the warmup starts; the
	// test phase then starts at StartAt + TestOffset(warmup), and the
	// owner takes each phase's metrics at its deadline, when every shard's
	// requests of that phase are done or abandoned. These are times every
	// shard computes alike from the schedule, so shards need no barrier.
	StartAt time.Time
	// Progress, when not nil, is called about every ProgressInterval
	// while a phase runs, and once when it ends, from one goroutine.
	Progress func(Progress)
}

// Progress is a phase's state, for a progress bar.
type Progress struct {
	Phase string
	// Scheduled is the number of requests of the phase.
	Scheduled int
	// Sent is how many have had a first attempt sent.
	Sent int
	// Completed is how many have ended (ok, failed or abandoned), Failed
	// how many of them failed or were abandoned.
	Completed, Failed int
	// InFlight is how many are dispatched and not yet ended.
	InFlight int
	// ElapsedS is the phase's model time so far, seconds.
	ElapsedS float64
}

// PhaseSummary counts one phase's requests.
type PhaseSummary struct {
	// Ran reports whether the phase started.
	Ran bool
	// Scheduled = OK + Failed + Abandoned when the phase ran to its end.
	Scheduled, Sent, OK, Failed, Abandoned int
	// PeakInFlight is the most requests dispatched and not yet ended at
	// once.
	PeakInFlight int
	// Start is when the phase started (wall clock); Wall how long it took.
	Start time.Time
	Wall  time.Duration
	// DeadlineHit reports whether the phase ended at its deadline with
	// requests unfinished.
	DeadlineHit bool
	// LatenessP50 and LatenessP99 are the median and 99th percentile of
	// the first attempts' dispatch lateness (sent − scheduled), wall time.
	LatenessP50, LatenessP99 time.Duration
	// OverheadP50 is the median wall time an answered request spent
	// outside the target's own account of it (the client's end-to-end
	// time minus the twin's served_wall_s), over the Overheads answers
	// that gave one; 0 when none did (a faasd gives none).
	OverheadP50 time.Duration
	Overheads   int
}

// ModelShift is how far, in model time, a typical request of the phase
// reached the model after the time the schedule gives it: the median
// lateness and overhead, wall time, times speed. A twin's decisions follow
// the engine's while this is small against the workload's inter-arrival
// times (README, "The twin's clock").
func (s PhaseSummary) ModelShift(speed float64) time.Duration {
	return time.Duration(float64(s.LatenessP50+s.OverheadP50) * speed)
}

// Summary is what Run did.
type Summary struct {
	Warmup, Test PhaseSummary
	// OpenFilesLimit is the soft RLIMIT_NOFILE the run had after raising
	// it to the hard limit (0 where unknown).
	OpenFilesLimit uint64
}

// ErrConfig is wrapped by every configuration error Run reports before
// sending anything.
var ErrConfig = errors.New("replay: bad configuration")

// resolved is a validated Config with defaults filled in.
type resolved struct {
	Config
	attemptWall time.Duration // AttemptTimeout / Speed
}

func (c Config) resolve(w workloads.Workload) (resolved, error) {
	if c.Target == nil {
		return resolved{}, fmt.Errorf("%w: no target (a *Gateway)", ErrConfig)
	}
	if c.Catalog == nil {
		c.Catalog = workloads.DefaultCatalog()
	}
	if c.Recorder == nil {
		c.Recorder = results.Discard{}
	}
	if c.Speed == 0 {
		c.Speed = DefaultSpeed
	}
	if !(c.Speed > 0) || c.Speed > MaxSpeed {
		return resolved{}, fmt.Errorf("%w: speed %v: expected more than 0 and at most %v", ErrConfig, c.Speed, MaxSpeed)
	}
	if c.AttemptTimeout < 0 {
		return resolved{}, fmt.Errorf("%w: attempt timeout %v: expected ≥ 0", ErrConfig, c.AttemptTimeout)
	}
	if c.AttemptTimeout == 0 {
		c.AttemptTimeout = AttemptTimeout
	}
	if c.Grace == 0 {
		c.Grace = DefaultGrace
	}
	if c.Grace < 0 {
		c.Grace = 0
	}
	if err := w.Validate(c.Catalog); err != nil {
		return resolved{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := c.Shard.Validate(); err != nil {
		return resolved{}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if late := time.Since(c.StartAt); !c.StartAt.IsZero() && late > MaxStartLate {
		return resolved{}, fmt.Errorf("%w: start time %s passed %s ago: pick one far enough ahead for every shard to be ready",
			ErrConfig, c.StartAt.Format(time.RFC3339Nano), late.Round(time.Millisecond))
	}
	r := resolved{Config: c, attemptWall: c.wall(c.AttemptTimeout)}
	if r.attemptWall <= 0 {
		r.attemptWall = 1
	}
	return r, nil
}

// wall converts a model duration into wall time.
func (c Config) wall(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.Speed)
}
