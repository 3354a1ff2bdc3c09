package replay

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/influxdata/tdigest"

	"trenv-bench/internal/ctxsleep"
	"trenv-bench/results"
	"trenv-bench/workloads"
)

// How the dispatcher waits for a send time (cmd/loadbench measures it): on
// Linux it sleeps on an alarm (sleep_linux.go: a timerfd read through the
// network poller, so that it holds no processor while it waits, and wakes
// within microseconds) until the send time, and polls the clock (yielding
// its processor, runtime.Gosched) only for the last spinWindow. Elsewhere
// Go's timers wake up to ~1.3 ms late when the process is idle (the
// netpoller waits in whole milliseconds), so it sleeps on a timer only
// until timerWindow before the send time and polls the clock after that.
const (
	timerWindow = 2 * time.Millisecond
	spinWindow  = 10 * time.Microsecond
)

// Reasons a phase stops early; their text goes into the records.
var (
	errDeadline    = errors.New("phase deadline passed") // after PhaseDeadlineFactor × its length
	errInterrupted = errors.New("interrupted")
	errSinkFailed  = errors.New("run stopped: a record could not be written")
)

// Run replays the workload against cfg.Target, open loop, as upstream's
// driver does (spec/upstream-tooling.md §3), recording into cfg.Recorder:
//
//  1. the warmup phase, if it has any function;
//  2. GET /system/metrics → Recorder.Metrics("warmup", text);
//  3. DELETE /system/metrics;
//  4. the test phase;
//  5. GET /system/metrics → Recorder.Metrics("test", text).
//
// The metrics calls follow the control-plane policy (ControlTimeout,
// ControlTries). Unlike upstream, whose driver skips the test phase when
// the reset fails, a snapshot or reset that still fails is recorded
// (Recorder.MetricsFailed) and the run goes on: the requests are measured
// on the client, and the record says the server-side metrics cannot be
// used.
//
// Within a phase the send times come from workloads.NewSchedule with
// cfg.JitterSeed, computed a second at a time a little ahead of the
// dispatcher (plan), so memory does not grow with the phase; one scheduler
// goroutine starts each request at its time in a goroutine of its own,
// with no limit on how many are in flight. A request is retried as
// upstream does (AttemptTimeout, MaxRetries, Backoff). A phase ends when
// all its requests have ended, or at its deadline (PhaseDeadlineFactor),
// when those still unfinished are cancelled and recorded as abandoned.
// Every scheduled request of every phase yields exactly one record:
//
//   - sent_s is read just before the first attempt goes to the Target (in
//     the request's goroutine), so sent_s − scheduled_s is the dispatch
//     lateness;
//   - e2e_ms is the successful attempt's duration, send to full body read
//     (upstream's e2e_latency); total_ms is done_s − scheduled_s;
//   - func_ms is the answer's latency × 1000; start_kind its start_kind
//     when it is one results knows (cold, restore, switch, reuse), else
//     empty;
//   - error is the last failed attempt's message, kept even when a later
//     attempt succeeded (then attempts > 1 says why); for an abandoned
//     request, why it was abandoned, followed by "(last failure: …)" if an
//     attempt had failed.
//
// When ctx is cancelled Run stops dispatching at once, records the requests
// never sent as abandoned ("interrupted before sending"), lets those in
// flight finish for cfg.Grace, then cancels them (abandoned,
// "interrupted"); a phase that had not started has all its requests
// recorded as abandoned ("interrupted before the phase started"). It
// returns the Summary so far with an error wrapping ctx.Err().
//
// The configuration and the workload (Workload.Validate with the catalog)
// are checked before anything is sent; errors wrap ErrConfig.
func Run(ctx context.Context, cfg Config, w workloads.Workload) (Summary, error) {
	r, err := cfg.resolve(w)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{OpenFilesLimit: raiseOpenFiles()}
	run := &runner{resolved: r, origin: time.Now()}
	if err := r.Recorder.Start(run.origin); err != nil {
		return sum, err
	}
	owner := r.Owner()
	if owner {
		stopSampling := run.sample(ctx)
		defer stopSampling()
	}
	// With StartAt, each phase starts, and the owner takes its metrics, at
	// fixed times: the warmup at StartAt, its metrics at its deadline, the
	// test at StartAt + TestOffset, its metrics at its deadline.
	at := func(d time.Duration) time.Time { return r.StartAt.Add(r.wall(d)) }
	if err := run.waitUntil(ctx, r.StartAt); err != nil {
		return sum, errors.Join(fmt.Errorf("replay: interrupted waiting for --start-at: %w", err),
			run.abandonPhase(PhaseWarmup, w.Warmup, "interrupted before the phase started"),
			run.abandonPhase(PhaseTest, w.Test, "interrupted before the phase started"))
	}
	if len(w.Warmup) > 0 {
		if sum.Warmup, err = run.phase(ctx, PhaseWarmup, w.Warmup, r.StartAt); err != nil {
			if ctx.Err() != nil {
				err = errors.Join(err, run.abandonPhase(PhaseTest, w.Test, "interrupted before the phase started"))
			}
			return sum, err
		}
	}
	if owner {
		if err := run.waitUntil(ctx, at(phaseDeadline(w.Warmup.Seconds()))); err == nil {
			if err := run.metrics(ctx, PhaseWarmup); err != nil {
				return sum, err
			}
			if err := retryControl(ctx, r.Control, "resetting faasd's metrics after the warmup", r.Warn, func(ctx context.Context) error {
				return permanentOn4xx(r.Target.ResetMetrics(ctx))
			}); err != nil && ctx.Err() == nil {
				if err := r.Recorder.MetricsFailed(PhaseWarmup, results.MetricsReset, err); err != nil {
					return sum, err
				}
			}
		}
	}
	if err := run.waitUntil(ctx, at(TestOffset(w.Warmup))); err != nil || ctx.Err() != nil {
		return sum, errors.Join(fmt.Errorf("replay: interrupted before the test phase: %w", ctx.Err()),
			run.abandonPhase(PhaseTest, w.Test, "interrupted before the phase started"))
	}
	var testAt time.Time
	if !r.StartAt.IsZero() {
		testAt = at(TestOffset(w.Warmup))
	}
	if sum.Test, err = run.phase(ctx, PhaseTest, w.Test, testAt); err != nil {
		return sum, err
	}
	if owner {
		testStart := TestOffset(w.Warmup)
		if err := run.waitUntil(ctx, at(testStart+phaseDeadline(w.Test.Seconds()))); err != nil {
			return sum, fmt.Errorf("replay: interrupted after the test phase: %w", err)
		}
		if err := run.metrics(ctx, PhaseTest); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// waitUntil waits until t, when StartAt is set (zero t: no wait); it
// returns ctx's error if ctx ends first.
func (r *runner) waitUntil(ctx context.Context, t time.Time) error {
	if r.StartAt.IsZero() {
		return ctx.Err()
	}
	return ctxsleep.Sleep(ctx, time.Until(t))
}

// runner holds what the phases of one Run share.
type runner struct {
	resolved
	origin time.Time // the run clock's 0
}

// clock is a wall-clock instant on the run clock: model seconds since Run
// started.
func (r *runner) clock(t time.Time) float64 {
	return t.Sub(r.origin).Seconds() * r.Speed
}

// metrics takes faasd's metrics at the end of a phase, under the
// control-plane policy, and records them, or records that they are missing.
// Only an interruption or a recording error stops the run.
func (r *runner) metrics(ctx context.Context, phase string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("replay: interrupted after the %s phase: %w", phase, err)
	}
	var raw []byte
	err := retryControl(ctx, r.Control, "getting faasd's metrics after the "+phase+" phase", r.Warn, func(ctx context.Context) error {
		var err error
		raw, err = r.Target.Metrics(ctx)
		return permanentOn4xx(err)
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("replay: interrupted after the %s phase: %w", phase, ctx.Err())
		}
		return r.Recorder.MetricsFailed(phase, results.MetricsSnapshot, err)
	}
	if err := r.Recorder.Metrics(phase, raw); err != nil {
		return fmt.Errorf("replay: %s metrics: %w", phase, err)
	}
	return nil
}

// abandonPhase records every request of a phase that never started as
// abandoned, saying why.
func (r *runner) abandonPhase(name string, ph workloads.Phase, why string) error {
	sched := workloads.NewShardSchedule(ph, r.JitterSeed, r.Shard)
	nan := math.NaN()
	for arr, more := sched.Next(); more; arr, more = sched.Next() {
		for _, a := range arr {
			rec := results.Request{Phase: name, Function: ph[a.Function].Function, ScheduledS: a.At.Seconds(),
				SentS: nan, DoneS: nan, E2EMs: nan, TotalMs: nan, FuncMs: nan,
				Status: results.StatusAbandoned, Error: why}
			if err := r.Recorder.Request(&rec); err != nil {
				return err
			}
		}
	}
	return nil
}

// sample samples memory (once a second of model time) and CPU (once a
// second of wall time) into the recorder until the returned function is
// called. A sample that cannot be taken is skipped; one the recorder
// refuses stops the sampling (the next record will meet the same error).
func (r *runner) sample(ctx context.Context) (stop func()) {
	if r.Memory == nil && r.CPU == nil {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		next := 0.0 // run-clock second of the next memory sample
		for {
			if r.Memory != nil {
				now := r.clock(time.Now())
				if next <= now {
					b, ok := r.Memory(ctx)
					for ; next <= now; next++ {
						if ok && r.Recorder.Memory(next, b) != nil {
							return
						}
					}
				}
			}
			select {
			case <-ctx.Done():
				return
			case t := <-tick.C:
				if r.CPU != nil {
					if u, ok := r.CPU(); ok && r.Recorder.CPU(r.clock(t), u) != nil {
						return
					}
				}
			}
		}
	}()
	return func() { cancel(); <-done }
}

// note is what a request goroutine or the dispatcher records of a request
// that ended.
type note struct {
	rec results.Request
	// overhead is the wall time, seconds, the answered attempt spent
	// outside the target's own account of it (Response.Served), NaN when
	// it gave none.
	overhead float64
}

// phaseRun is one phase in progress.
type phaseRun struct {
	*runner
	name   string
	plan   *plan // read by the dispatcher only
	fns    []workloads.Function
	bodies [][]byte
	start  time.Time
	alarm  *alarm // nil where there is none: Go timers

	// ctx is cancelled (with one of the err* reasons as its cause) to
	// abandon the requests in flight.
	ctx    context.Context
	cancel context.CancelCauseFunc

	// Dispatching stops when stopping is set (by stop): the dispatcher
	// then records the requests not yet sent with stopReason.
	stopOnce   sync.Once
	stopping   atomic.Bool
	stopCh     chan struct{}
	stopReason string

	sent, completed, failed, inFlight, peak atomic.Int64

	// The tally: the goroutine that ends a request records it under mu
	// (record), in the Recorder and in the counts below, rather than
	// handing it to a collector goroutine: one wake-up less per request.
	mu                  sync.Mutex
	got                 int // requests recorded; collected closes at plan.n
	ok, nFailed, aband  int
	sinkErr             error            // the Recorder's first error: nothing more is written
	sinkFailed          chan struct{}    // closed at sinkErr
	collected           chan struct{}    // closed when every request is recorded
	lateness, overheads *tdigest.TDigest // first attempts' dispatch lateness; overheads outside the target (note.overhead), wall seconds
	nOverheads          int
}

// phase runs one phase and returns its summary. A non-zero at is when
// the phase was due to start (sharded runs): its send times count from
// there even when the phase began a little later, so every shard keeps
// the common schedule and lateness shows any delay.
func (r *runner) phase(ctx context.Context, name string, ph workloads.Phase, at time.Time) (PhaseSummary, error) {
	p := &phaseRun{runner: r, name: name, plan: newPlan(ph, r.JitterSeed, r.Shard),
		stopCh: make(chan struct{}), sinkFailed: make(chan struct{}), collected: make(chan struct{}),
		lateness: tdigest.New(), overheads: tdigest.New()}
	if p.plan.n == 0 {
		close(p.collected)
	}
	for _, s := range ph {
		fn, _ := r.Catalog.Lookup(s.Function) // resolve checked every name
		p.fns = append(p.fns, fn)
		var body []byte
		if fn.Payload != "" {
			body = []byte(fn.Payload)
		}
		p.bodies = append(p.bodies, body)
	}
	defer p.plan.stop() // the dispatcher reads it to the end; this is for safety
	p.ctx, p.cancel = context.WithCancelCause(context.Background())
	defer p.cancel(nil)

	sum := PhaseSummary{Ran: true, Scheduled: p.plan.n}
	dispatched := make(chan struct{})
	progressDone := make(chan struct{})
	progressStop := make(chan struct{})

	p.start = time.Now()
	if !at.IsZero() && at.Before(p.start) {
		// The same instant with a monotonic reading (at, parsed from a
		// flag, has none): send times are then measured on the
		// monotonic clock, as the alarm's are, whatever the wall clock
		// does meanwhile.
		p.start = p.start.Add(-p.start.Sub(at))
	}
	sum.Start = p.start
	if p.alarm = newAlarm(p.start); p.alarm != nil {
		defer p.alarm.close()
	}
	if err := r.Recorder.PhaseStart(name, r.clock(p.start), p.plan.n); err != nil {
		return sum, err
	}
	go func() {
		defer close(dispatched)
		p.dispatch()
	}()
	go func() {
		defer close(progressDone)
		p.reportProgress(progressStop)
	}()

	deadline := time.NewTimer(r.wall(phaseDeadline(ph.Seconds())))
	defer deadline.Stop()
	var graceC <-chan time.Time
	ctxDone := ctx.Done()
	sinkFailed := p.sinkFailed
	interrupted := false
wait:
	for {
		select {
		case <-p.collected:
			break wait
		case <-deadline.C:
			sum.DeadlineHit = true
			p.stop("phase deadline passed before sending")
			p.cancel(errDeadline)
		case <-ctxDone:
			ctxDone, interrupted = nil, true
			p.stop("interrupted before sending")
			grace := time.NewTimer(r.Grace)
			defer grace.Stop()
			graceC = grace.C
		case <-graceC:
			p.cancel(errInterrupted)
		case <-sinkFailed:
			sinkFailed = nil
			p.stop(errSinkFailed.Error())
			p.cancel(errSinkFailed)
		}
	}
	<-dispatched
	close(progressStop)
	<-progressDone
	p.progress()

	sum.Sent = int(p.sent.Load())
	sum.PeakInFlight = int(p.peak.Load())
	p.mu.Lock() // every request is recorded: this only orders the reads
	sum.OK, sum.Failed, sum.Abandoned = p.ok, p.nFailed, p.aband
	sum.LatenessP50 = seconds(p.lateness.Quantile(0.5))
	sum.LatenessP99 = seconds(p.lateness.Quantile(0.99))
	if p.nOverheads > 0 {
		sum.OverheadP50, sum.Overheads = seconds(p.overheads.Quantile(0.5)), p.nOverheads
	}
	sinkErr := p.sinkErr
	p.mu.Unlock()
	end := time.Now()
	sum.Wall = end.Sub(p.start)
	if sum.Abandoned == 0 {
		sum.DeadlineHit = false
	}
	if sinkErr == nil {
		sinkErr = r.Recorder.PhaseEnd(name, r.clock(end))
	}
	switch {
	case sinkErr != nil:
		return sum, fmt.Errorf("replay: %s phase: %w", name, sinkErr)
	case interrupted:
		return sum, fmt.Errorf("replay: %s phase interrupted: %w", name, ctx.Err())
	}
	return sum, nil
}

// stop stops dispatching; the requests not yet sent are recorded as
// abandoned with the reason's text. Only the first call counts.
func (p *phaseRun) stop(notSent string) {
	p.stopOnce.Do(func() {
		p.stopReason = notSent
		p.stopping.Store(true)
		close(p.stopCh)
		if p.alarm != nil {
			p.alarm.ring()
		}
	})
}

// wallAt is an intended send time (model time since the phase started) as
// wall time since the phase started.
func (p *phaseRun) wallAt(at time.Duration) time.Duration {
	if p.Speed == 1 {
		return at
	}
	return time.Duration(float64(at) / p.Speed)
}

// model is a wall-clock instant as model seconds since the phase started.
func (p *phaseRun) model(t time.Time) float64 {
	return t.Sub(p.start).Seconds() * p.Speed
}

// dispatch is the scheduler: it waits for each request's send time and
// starts it in a goroutine of its own, until all are started or stop.
func (p *phaseRun) dispatch() {
	tm := time.NewTimer(time.Hour)
	tm.Stop()
	var peak int64
	for {
		a, ok := p.plan.next()
		if !ok {
			return
		}
		if !p.waitUntil(p.wallAt(a.at), tm) {
			p.abandonFrom(a)
			return
		}
		if n := p.inFlight.Add(1); n > peak {
			peak = n
			p.peak.Store(n)
		}
		go p.do(a)
	}
}

// waitUntil waits until due (wall time since the phase started) as the
// constants above say. It returns false if the phase stops first.
func (p *phaseRun) waitUntil(due time.Duration, tm *time.Timer) bool {
	for {
		if p.stopping.Load() {
			return false
		}
		left := due - time.Since(p.start)
		switch {
		case left <= 0:
			return true
		case left <= spinWindow:
			runtime.Gosched()
		case p.alarm != nil:
			p.alarm.wait(due, &p.stopping)
		case left > timerWindow:
			tm.Reset(left - timerWindow)
			select {
			case <-tm.C:
			case <-p.stopCh:
				tm.Stop()
				return false
			}
		default:
			runtime.Gosched()
		}
	}
}

// abandonFrom records a and the requests the plan has left as never sent.
func (p *phaseRun) abandonFrom(a arrival) {
	for ok := true; ok; a, ok = p.plan.next() {
		rec := p.newRecord(a)
		rec.Status = results.StatusAbandoned
		rec.Error = p.stopReason
		p.record(note{rec: rec, overhead: math.NaN()})
	}
}

// newRecord returns a request's record before it is sent.
func (p *phaseRun) newRecord(a arrival) results.Request {
	nan := math.NaN()
	return results.Request{Phase: p.name, Function: p.fns[a.fn].Name, ScheduledS: a.at.Seconds(),
		SentS: nan, DoneS: nan, E2EMs: nan, TotalMs: nan, FuncMs: nan}
}

// do sends request a, retrying as upstream does, and records it.
func (p *phaseRun) do(a arrival) {
	fn := p.fns[a.fn]
	n := note{rec: p.newRecord(a), overhead: math.NaN()}
	rec := &n.rec
	for k := 0; ; k++ {
		t0 := time.Now()
		if k == 0 {
			rec.SentS = p.model(t0)
			p.sent.Add(1)
		}
		actx, cancel := context.WithTimeout(p.ctx, p.attemptWall)
		resp, err := p.Target.Invoke(actx, fn, p.bodies[a.fn])
		timedOut := err != nil && actx.Err() == context.DeadlineExceeded
		cancel()
		t1 := time.Now()
		rec.Attempts++
		if err == nil {
			rec.Status = results.StatusOK
			rec.DoneS = p.model(t1)
			rec.E2EMs = t1.Sub(t0).Seconds() * p.Speed * 1000
			if resp.Served {
				// The twin's account in model time replaces the wall
				// clock × speed, which would multiply the HTTP
				// overhead outside the model by the speed.
				n.overhead = t1.Sub(t0).Seconds() - resp.ServedWallS
				rec.DoneS = p.model(t0) + resp.ServedModelS
				rec.E2EMs = resp.ServedModelS * 1000
			}
			rec.TotalMs = (rec.DoneS - rec.ScheduledS) * 1000
			rec.FuncMs = resp.LatencyS * 1000
			if k := results.StartKind(resp.StartKind); k.Valid() {
				rec.StartKind = k
			}
			break
		}
		if cause := context.Cause(p.ctx); cause != nil {
			p.abandon(rec, cause)
			break
		}
		if timedOut {
			err = fmt.Errorf("attempt timed out after %v: %w", p.AttemptTimeout, err)
		}
		rec.Error = err.Error()
		if errors.Is(err, ErrNoLatency) {
			// Upstream fails a 200 without a latency at once and logs
			// nothing.
			p.fail(rec, t1)
			break
		}
		if k == MaxRetries {
			p.fail(rec, t1)
			break
		}
		p.retried(fn.Name, p.clock(t1), k, rec.Error)
		if ctxsleep.Sleep(p.ctx, p.wall(Backoff(k))) != nil {
			p.abandon(rec, context.Cause(p.ctx))
			break
		}
	}
	p.inFlight.Add(-1)
	p.record(n)
}

// fail marks a request failed at t.
func (p *phaseRun) fail(rec *results.Request, t time.Time) {
	rec.Status = results.StatusFailed
	rec.DoneS = p.model(t)
	rec.TotalMs = (rec.DoneS - rec.ScheduledS) * 1000
}

// abandon marks a request abandoned because the phase stopped (cause),
// keeping the last attempt's failure, if any, in the message.
func (p *phaseRun) abandon(rec *results.Request, cause error) {
	rec.Status = results.StatusAbandoned
	msg := cause.Error()
	if rec.Error != "" {
		msg += " (last failure: " + rec.Error + ")"
	}
	rec.Error = msg
}

// record records a request that ended, in the Recorder and in the
// phase's counts; the last one closes collected. After a recording error
// nothing more is written, but requests are still counted.
func (p *phaseRun) record(n note) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := n.rec.SentS - n.rec.ScheduledS; d == d { // sent
		p.lateness.Add(d/p.Speed, 1)
	}
	if n.overhead == n.overhead {
		p.overheads.Add(n.overhead, 1)
		p.nOverheads++
	}
	switch n.rec.Status {
	case results.StatusOK:
		p.ok++
	case results.StatusFailed:
		p.nFailed++
		p.failed.Add(1)
	default:
		p.aband++
		p.failed.Add(1)
	}
	p.completed.Add(1)
	if p.sinkErr == nil {
		p.sink(p.Recorder.Request(&n.rec))
	}
	if p.got++; p.got == p.plan.n {
		close(p.collected)
	}
}

// retried records an attempt that failed and is retried (for test.log).
func (p *phaseRun) retried(function string, atS float64, attempt int, msg string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sinkErr == nil {
		p.sink(p.Recorder.Retry(p.name, function, atS, attempt, msg))
	}
}

// sink keeps the Recorder's first error; p.mu is held.
func (p *phaseRun) sink(err error) {
	if err != nil && p.sinkErr == nil {
		p.sinkErr = err
		close(p.sinkFailed)
	}
}

// reportProgress calls Progress every ProgressInterval until stop closes.
func (p *phaseRun) reportProgress(stop <-chan struct{}) {
	if p.Progress == nil {
		return
	}
	t := time.NewTicker(ProgressInterval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			p.progress()
		}
	}
}

func (p *phaseRun) progress() {
	if p.Progress == nil {
		return
	}
	p.Progress(Progress{Phase: p.name, Scheduled: p.plan.n, Sent: int(p.sent.Load()),
		Completed: int(p.completed.Load()), Failed: int(p.failed.Load()),
		InFlight: int(p.inFlight.Load()), ElapsedS: p.model(time.Now())})
}

// seconds converts a quantile in seconds (NaN for no data) to a duration.
func seconds(s float64) time.Duration {
	if s != s {
		return 0
	}
	return time.Duration(s * float64(time.Second))
}
