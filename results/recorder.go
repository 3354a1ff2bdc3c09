package results

import (
	"errors"
	"fmt"
	"io"
	"time"
)

// Recorder receives everything a run produces, whichever engine produces it
// (the simulator in virtual time, the replayer against the twin, a gateway
// or a host): many producers, one sink. Nothing after the recorder knows
// which engine ran.
//
// Times are seconds on the run clock: 0 is the origin given to Start, and a
// second is a second of model time on the simulator and the twin (however
// fast the twin ran) and of wall time on a gateway or host. Request records
// keep their own times relative to their phase's start (Request).
//
// An engine calls Start first and nothing after the run ends; between them
// the methods may be called from several goroutines. An error from any
// method means the run cannot be recorded (a full disk, say): the engine
// stops the run and returns it.
type Recorder interface {
	// Start starts the run clock at origin (wall time of t = 0).
	Start(origin time.Time) error
	// PhaseStart says a phase starts at atS with scheduled requests.
	PhaseStart(phase string, atS float64, scheduled int) error
	// Request records one request that ended: ok, failed or abandoned.
	Request(r *Request) error
	// Retry records an attempt that failed and will be retried (attempt
	// is its 0-based index), for upstream's test.log.
	Retry(phase, function string, atS float64, attempt int, msg string) error
	// PhaseEnd says a phase ended at atS.
	PhaseEnd(phase string, atS float64) error
	// Memory records a sample of the functions' resident memory.
	Memory(atS float64, bytes int64) error
	// CPU records a sample of the host's CPU utilisation over the second
	// before atS, 0 to 1 (all cores busy).
	CPU(atS float64, utilization float64) error
	// Metrics records faasd's /system/metrics text at the end of a phase,
	// byte for byte as served.
	Metrics(phase string, raw []byte) error
	// MetricsFailed records that a control-plane call on faasd's metrics
	// failed for good (after its retries): the snapshot of a phase is
	// missing (MetricsSnapshot), or the reset after the warmup failed
	// (MetricsReset), which leaves the test phase's server-side counters
	// mixed with the warmup's.
	MetricsFailed(phase string, op MetricsOp, err error) error
	// Attach copies r into the run directory as name (a daemon's log).
	Attach(name string, r io.Reader) error
}

// MetricsOp names a control-plane call on faasd's /system/metrics.
type MetricsOp string

// The metrics calls a run makes.
const (
	// MetricsSnapshot is GET /system/metrics at the end of a phase.
	MetricsSnapshot MetricsOp = "snapshot"
	// MetricsReset is DELETE /system/metrics after the warmup.
	MetricsReset MetricsOp = "reset"
)

// PhaseSpan is one phase of a run as manifest.json records it, on the run
// clock (the clock of memory.csv and cpu.csv).
type PhaseSpan struct {
	Name string `json:"name"`
	// StartS and EndS are seconds on the run clock; EndS is absent while
	// the phase runs, and stays absent if the run stopped during it.
	StartS float64  `json:"start_s"`
	EndS   *float64 `json:"end_s,omitempty"`
	// Scheduled is the number of requests the phase scheduled.
	Scheduled int `json:"scheduled"`
}

// MetricsHealth says whether a run's server-side metrics can be used.
type MetricsHealth struct {
	// ResetError is why DELETE /system/metrics failed after the warmup;
	// then the test phase's metrics include the warmup's, and report and
	// plots do not use them.
	ResetError string `json:"reset_error,omitempty"`
	// Missing lists the phases whose snapshot could not be taken, with why
	// ("test: GET /system/metrics: 503 …").
	Missing []string `json:"missing,omitempty"`
}

// Usable reports whether the test phase's server-side metrics stand for the
// test phase alone and were taken.
func (h MetricsHealth) Usable() bool {
	if h.ResetError != "" {
		return false
	}
	for _, m := range h.Missing {
		if len(m) >= len(PhaseTest) && m[:len(PhaseTest)] == PhaseTest {
			return false
		}
	}
	return true
}

// ErrNotStarted is returned by a Recorder's methods called before Start.
var ErrNotStarted = errors.New("results: recorder used before Start")

// checkPhase returns an error wrapping ErrBadValue unless phase is one of
// the two phases.
func checkPhase(phase string) error {
	if phase != PhaseWarmup && phase != PhaseTest {
		return fmt.Errorf("%w: phase %s, want %q or %q", ErrBadValue, quoteCell(phase), PhaseWarmup, PhaseTest)
	}
	return nil
}

// Discard is a Recorder that keeps nothing, for benchmarks; embed it to
// record only some events.
type Discard struct{}

var _ Recorder = Discard{}

func (Discard) Start(time.Time) error                            { return nil }
func (Discard) PhaseStart(string, float64, int) error            { return nil }
func (Discard) Request(*Request) error                           { return nil }
func (Discard) Retry(string, string, float64, int, string) error { return nil }
func (Discard) PhaseEnd(string, float64) error                   { return nil }
func (Discard) Memory(float64, int64) error                      { return nil }
func (Discard) CPU(float64, float64) error                       { return nil }
func (Discard) Metrics(string, []byte) error                     { return nil }
func (Discard) MetricsFailed(string, MetricsOp, error) error     { return nil }
func (Discard) Attach(string, io.Reader) error                   { return nil }
