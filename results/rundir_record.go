package results

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"trenv-bench/internal/atomicfile"
)

// RunDir is the Recorder every engine writes to.
var _ Recorder = (*RunDir)(nil)

// Start implements Recorder: t = 0 of the run clock is origin, and test.log
// stamps each line origin + its run-clock time.
func (d *RunDir) Start(origin time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return d.closeErr
	}
	d.origin = origin
	return nil
}

// wall is the wall-clock stamp of run-clock time tS (test.log's clock).
func (d *RunDir) wall(tS float64) time.Time {
	o := d.origin
	if o.IsZero() {
		o = d.started
	}
	if math.IsNaN(tS) || math.IsInf(tS, 0) {
		tS = d.lastS
	}
	return o.Add(time.Duration(tS * float64(time.Second)))
}

// seen advances the latest run-clock time seen.
func (d *RunDir) seen(tS float64) {
	if tS > d.lastS && !math.IsInf(tS, 1) {
		d.lastS = tS
	}
}

// ready returns the error to report instead of writing: the directory is
// closed, or Start was not called.
func (d *RunDir) ready() error {
	switch {
	case d.closed:
		if d.closeErr != nil {
			return d.closeErr
		}
		return fmt.Errorf("results: %s: %w", d.path, os.ErrClosed)
	case d.origin.IsZero():
		return ErrNotStarted
	}
	return nil
}

// PhaseStart implements Recorder: the phase goes into the manifest's phases
// and test.log gets upstream's START line.
func (d *RunDir) PhaseStart(phase string, atS float64, scheduled int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.ready(); err != nil {
		return err
	}
	if err := checkPhase(phase); err != nil {
		return fmt.Errorf("results: phase start: %w", err)
	}
	if scheduled < 0 || math.IsNaN(atS) || math.IsInf(atS, 0) {
		return fmt.Errorf("results: phase %s start: %w: at %v s with %d requests", phase, ErrBadValue, atS, scheduled)
	}
	d.phases = append(d.phases, PhaseSpan{Name: phase, StartS: atS, Scheduled: scheduled})
	d.seen(atS)
	if phase == PhaseWarmup {
		return d.lw.StartWarmup(d.wall(atS))
	}
	return d.lw.StartTest(d.wall(atS))
}

// PhaseEnd implements Recorder.
func (d *RunDir) PhaseEnd(phase string, atS float64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.ready(); err != nil {
		return err
	}
	sp := d.span(phase)
	if sp == nil {
		return fmt.Errorf("results: phase %s ended but never started: %w", quoteCell(phase), ErrBadValue)
	}
	end := atS
	sp.EndS = &end
	d.seen(atS)
	return nil
}

// span returns the phase's span, nil if it did not start.
func (d *RunDir) span(phase string) *PhaseSpan {
	for i := range d.phases {
		if d.phases[i].Name == phase {
			return &d.phases[i]
		}
	}
	return nil
}

// Request implements Recorder: a row of requests.csv and, for an ok or
// failed request, upstream's test.log line.
func (d *RunDir) Request(r *Request) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.ready(); err != nil {
		return err
	}
	if err := d.rw.Write(r); err != nil {
		return err
	}
	c := d.counts[r.Phase]
	var startS float64
	if sp := d.span(r.Phase); sp != nil {
		startS = sp.StartS
	}
	done := startS + r.DoneS
	d.seen(done)
	switch r.Status {
	case StatusOK:
		c[0]++
		return d.lw.Success(d.wall(done), r.Function, r.E2EMs/1000, r.FuncMs/1000, r.Attempts-1)
	case StatusFailed:
		c[1]++
		return d.lw.FinallyFailed(d.wall(done), r.Function, r.Error)
	}
	return nil
}

// Retry implements Recorder: upstream's WARNING line for a failed attempt
// that is retried.
func (d *RunDir) Retry(phase, function string, atS float64, attempt int, msg string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.ready(); err != nil {
		return err
	}
	d.seen(atS)
	return d.lw.AttemptFailed(d.wall(atS), function, attempt, msg)
}

// Memory implements Recorder: a row of memory.csv.
func (d *RunDir) Memory(atS float64, bytes int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.ready(); err != nil {
		return err
	}
	return d.mw.Write(atS, bytes)
}

// CPU implements Recorder: a row of cpu.csv.
func (d *RunDir) CPU(atS float64, utilization float64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.ready(); err != nil {
		return err
	}
	return d.cw.Write(atS, utilization)
}

// Metrics implements Recorder: the phase's metrics file, raw, and for the
// test phase metrics.json (see writeMetrics). Text that is not faasd's
// metrics (a proxy's error page, say) is kept as served and recorded as
// missing in the metrics health; it does not stop the run.
func (d *RunDir) Metrics(phase string, raw []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.ready(); err != nil {
		return err
	}
	err := d.writeMetrics(phase, raw)
	var pe *ParseError
	if errors.As(err, &pe) {
		d.health.Missing = append(d.health.Missing, phase+": the text served does not parse: "+oneLine(err.Error()))
		return d.lw.line(d.wall(d.lastS), LevelError, "the "+phase+" metrics served do not parse: "+oneLine(err.Error()))
	}
	return err
}

// MetricsFailed implements Recorder: the manifest's metrics health says what
// is missing or mixed, and test.log has an ERROR line.
func (d *RunDir) MetricsFailed(phase string, op MetricsOp, err error) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if rerr := d.ready(); rerr != nil {
		return rerr
	}
	msg := oneLine(err.Error())
	switch op {
	case MetricsReset:
		d.health.ResetError = msg
		return d.lw.line(d.wall(d.lastS), LevelError, "reset metrics failed, so the test phase's server-side metrics include the warmup's: "+msg)
	default:
		d.health.Missing = append(d.health.Missing, phase+": "+msg)
		return d.lw.line(d.wall(d.lastS), LevelError, "getting the "+phase+" metrics failed: "+msg)
	}
}

// Attach implements Recorder: r is copied into the directory as name,
// atomically. name must be a plain file name that is not one of the run's
// own files (RunFiles).
func (d *RunDir) Attach(name string, r io.Reader) error {
	if name == "" || name != filepath.Base(name) || strings.HasPrefix(name, ".") || slices.Contains(RunFiles(), name) {
		return fmt.Errorf("results: attachment %s: %w: want a plain file name other than the run's own files", quoteCell(name), ErrBadValue)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("results: attachment %s: %w", name, err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.ready(); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(d.file(name), b, 0o644); err != nil {
		return fmt.Errorf("results: attachment: %w", err)
	}
	if !slices.Contains(d.attached, name) {
		d.attached = append(d.attached, name)
	}
	return nil
}

// closingLines writes test.log's last lines for a run that ends with m's
// status: upstream's two final counts when it completed, else why it
// stopped. Write errors surface through Close.
func (d *RunDir) closingLines(m *Manifest) {
	t := d.wall(d.lastS)
	switch m.Status {
	case RunComplete:
		w, ts := d.counts[PhaseWarmup], d.counts[PhaseTest]
		d.lw.WarmupFinished(t, w[1], w[0])
		d.lw.TestFinished(t, ts[1], ts[0])
	case RunInterrupted:
		d.lw.line(t, LevelError, "run interrupted: "+nonEmpty(oneLine(m.Error), "stopped by the user"))
	default:
		d.lw.line(t, LevelError, "run failed: "+nonEmpty(oneLine(m.Error), "unknown error"))
	}
}

func nonEmpty(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// lockDir creates and locks path/LockFile without waiting; a directory a
// live run holds gives an error wrapping ErrRunDirLocked.
func lockDir(path string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(path, LockFile), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("results: run directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if err == syscall.EWOULDBLOCK {
			return nil, fmt.Errorf("%s: %w", path, ErrRunDirLocked)
		}
		return nil, fmt.Errorf("results: locking run directory %s: %w", path, err)
	}
	return f, nil
}

// unlockDir releases the lock. The file stays: removing it would let a run
// that opened it just before lock an inode no later run sees.
func unlockDir(f *os.File) {
	if f == nil {
		return
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	f.Close()
}
