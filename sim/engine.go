package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// Sinks receive what a run produces. Any may be nil.
type Sinks struct {
	// Request receives one record per request when it ends (ok, failed or
	// abandoned), in the order requests end.
	Request func(*results.Request) error
	// Memory receives 1 Hz samples of resident memory: seconds since the
	// run started, bytes.
	Memory func(tS float64, bytes int64) error
	// PhaseEnd receives faasd's metrics at the end of each phase (at:
	// virtual time since the run started), before the engine resets them
	// after the warmup (as the driver GETs and DELETEs /system/metrics).
	PhaseEnd func(phase string, at time.Duration, m *results.Metrics) error
}

// EngineConfig configures a simulated run.
type EngineConfig struct {
	Platform Config
	Model    *calibration.Model
	Catalog  *workloads.Catalog
	// JitterSeed seeds the schedule's U[0,1) offsets (workloads.Schedule).
	JitterSeed uint64
	// PhaseStart, if not nil, is told when each phase starts (virtual time
	// since the run started), before any of its records.
	PhaseStart func(phase string, at time.Duration)
}

// Summary counts a run's requests.
type Summary struct {
	Scheduled, OK, Failed, Abandoned int
	// PeakInFlight is the most requests sent and not yet ended at once, as
	// the replayer counts them (a retry's back-off counts as in flight).
	PeakInFlight int
	// End is the virtual time the run ended at.
	End time.Duration
}

type eventKind uint8

const (
	evArrive  eventKind = iota // a request's first attempt reaches faasd
	evAttempt                  // a retried attempt reaches faasd
	evDecide                   // a start-slot retry: decide again
	evRespond                  // a response reaches the client
	evFail                     // an attempt fails at the client
	evRelease                  // an invocation ends server-side
	evSecond                   // load the phase's next second of arrivals
	evGC                       // keep-alive scan
	evSample                   // memory sample
)

// event is kept small (32 bytes): the queue moves it around a lot.
type event struct {
	at   time.Duration
	seq  uint64
	req  int32 // index into engine.reqs, or into engine.grants for evRelease
	gen  int32 // the request's generation: stale events are dropped
	kind eventKind
}

// request is a request in flight.
type request struct {
	fn        int32
	gen       int32
	live      bool
	scheduled time.Duration // absolute
	attempt   time.Duration // current attempt's send time
	since     time.Duration // when the current attempt reached faasd
	attempts  int
	kind      StartKind
	exec      time.Duration
	lastErr   string
}

// engine runs the Platform in virtual time over one event queue.
type engine struct {
	cfg      EngineConfig
	p        *Platform
	sinks    Sinks
	q        eventQueue
	reqs     []request
	free     []int32
	grants   []Grant // invocations running server-side, by evRelease's req
	freeG    []int32
	names    []string
	handles  []Handle
	overhead time.Duration
	// current phase
	phase      string
	phaseStart time.Duration
	deadline   time.Duration
	inFlight   int
	sum        Summary
	rec        results.Request
}

// Run simulates the workload on the platform in virtual time: the warmup
// phase, a metrics snapshot and reset, then the test phase. Records go to
// sinks as they are produced; memory stays bounded by the requests in
// flight. The workload is validated first (Workload.Validate with the
// catalog, which checks its limits), so nothing runs for one over them.
func Run(ctx context.Context, cfg EngineConfig, w workloads.Workload, sinks Sinks) (Summary, error) {
	p, err := NewPlatform(cfg.Platform, cfg.Model)
	if err != nil {
		return Summary{}, err
	}
	if cfg.Catalog == nil {
		cfg.Catalog = workloads.DefaultCatalog()
	}
	if err := w.Validate(cfg.Catalog); err != nil {
		return Summary{}, fmt.Errorf("sim: %w", err)
	}
	for _, ph := range []workloads.Phase{w.Warmup, w.Test} {
		for _, s := range ph {
			fn, ok := cfg.Catalog.Lookup(s.Function)
			if !ok {
				return Summary{}, fmt.Errorf("sim: %w: %q", workloads.ErrUnknownFunc, s.Function)
			}
			charge, err := fn.MemoryBytes()
			if err == nil {
				err = p.Register(fn.Name, charge)
			}
			if err != nil {
				return Summary{}, fmt.Errorf("sim: register %s: %w", s.Function, err)
			}
		}
	}
	e := &engine{cfg: cfg, p: p, sinks: sinks,
		overhead: time.Duration(cfg.Model.Platform.HTTPOverheadMs.Value * float64(time.Millisecond))}
	if sinks.Memory != nil {
		e.push(event{at: 0, kind: evSample})
	}
	if !cfg.Platform.trenv() && !cfg.Platform.NoBgTask && cfg.Platform.GC > 0 {
		e.push(event{at: GCInterval, kind: evGC})
	}
	now := time.Duration(0)
	for i, ph := range []workloads.Phase{w.Warmup, w.Test} {
		name := []string{results.PhaseWarmup, results.PhaseTest}[i]
		if now, err = e.runPhase(ctx, name, ph, now); err != nil {
			return e.sum, err
		}
		if sinks.PhaseEnd != nil {
			if err := sinks.PhaseEnd(name, now, p.Metrics()); err != nil {
				return e.sum, err
			}
		}
		if name == results.PhaseWarmup {
			p.ResetMetrics()
		}
	}
	e.sum.End = now
	return e.sum, nil
}

// runPhase runs one phase from start and returns when it ended: when its
// last request ended, or at its deadline. Arrivals come straight from the
// schedule, a second at a time, merged with the event queue by time (an
// arrival goes first on a tie), so they never enter the queue.
func (e *engine) runPhase(ctx context.Context, name string, ph workloads.Phase, start time.Duration) (time.Duration, error) {
	e.phase, e.phaseStart = name, start
	if e.cfg.PhaseStart != nil {
		e.cfg.PhaseStart(name, start)
	}
	e.names, e.handles = e.names[:0], e.handles[:0]
	for _, s := range ph {
		h, _ := e.p.Handle(s.Function) // Run registered every function
		e.names = append(e.names, s.Function)
		e.handles = append(e.handles, h)
	}
	e.deadline = start + time.Duration(math.Floor(float64(ph.Seconds())*workloads.DriverPhaseDeadlineFactor))*time.Second
	sched := workloads.NewSchedule(ph, e.cfg.JitterSeed)
	var arr []workloads.Arrival
	more := true
	now := start
	for steps := 0; ; steps++ {
		if steps&0xffff == 0 && ctx.Err() != nil {
			return now, ctx.Err()
		}
		for len(arr) == 0 && more {
			arr, more = sched.Next()
		}
		if len(arr) == 0 && e.inFlight == 0 {
			return now, nil
		}
		if len(arr) > 0 && (len(e.q.h) == 0 || start+arr[0].At <= e.q.h[0].at) {
			a := arr[0]
			arr = arr[1:]
			now = start + a.At
			i := e.newRequest(int32(a.Function), now)
			r := &e.reqs[i]
			if err := e.client(event{at: now, kind: evArrive, req: i, gen: r.gen}, r); err != nil {
				return now, err
			}
			continue
		}
		ev := e.q.pop()
		if ev.at >= e.deadline && ev.kind != evRelease && ev.kind != evGC && ev.kind != evSample {
			// The deadline passes before anything more reaches the client.
			e.q.push(ev)
			return e.deadline, e.abandonAll(e.deadline)
		}
		now = ev.at
		if err := e.handle(ev); err != nil {
			return now, err
		}
	}
}

func (e *engine) handle(ev event) error {
	switch ev.kind {
	case evSample:
		if e.sinks.Memory != nil {
			if err := e.sinks.Memory(ev.at.Seconds(), e.p.ResidentBytes()); err != nil {
				return err
			}
		}
		e.push(event{at: ev.at + time.Second, kind: evSample})
	case evGC:
		e.p.GC(ev.at)
		e.push(event{at: ev.at + GCInterval, kind: evGC})
	case evRelease:
		e.p.Release(ev.at, e.grants[ev.req])
		e.grants[ev.req] = Grant{}
		e.freeG = append(e.freeG, ev.req)
	default:
		r := &e.reqs[ev.req]
		if !r.live || r.gen != ev.gen {
			return nil // abandoned at a phase deadline
		}
		return e.client(ev, r)
	}
	return nil
}

// client handles the events of a request's attempts.
func (e *engine) client(ev event, r *request) error {
	switch ev.kind {
	case evArrive, evAttempt:
		r.attempts++
		r.attempt, r.since = ev.at, ev.at
		return e.decide(ev.at, ev.req, r)
	case evDecide:
		return e.decide(ev.at, ev.req, r)
	case evRespond:
		return e.finish(ev.at, ev.req, r, results.StatusOK)
	case evFail:
		if r.attempts > workloads.DriverMaxRetries {
			return e.finish(ev.at, ev.req, r, results.StatusFailed)
		}
		back := workloads.DriverBackoffBase << (r.attempts - 1)
		e.push(event{at: ev.at + back, kind: evAttempt, req: ev.req, gen: r.gen})
	}
	return nil
}

// decide asks the platform for an instance and schedules what follows.
func (e *engine) decide(now time.Duration, i int32, r *request) error {
	g, err := e.p.AcquireHandle(now, r.since, e.handles[r.fn])
	switch {
	case errors.Is(err, ErrStartBusy):
		e.push(event{at: now + StartRetry, kind: evDecide, req: i, gen: r.gen})
		return nil
	case err != nil:
		r.lastErr = "500 Failed to make ctr instance for " + e.names[r.fn] + ": " + err.Error()
		e.push(event{at: now + e.overhead, kind: evFail, req: i, gen: r.gen})
		return nil
	}
	done := r.since + g.Startup + g.Exec // server-side end of the invocation
	e.push(event{at: done, kind: evRelease, req: e.holdGrant(g)})
	resp := done + e.overhead
	if resp-r.attempt > workloads.DriverAttemptTimeout {
		r.lastErr = "attempt timed out after 60 s"
		e.push(event{at: r.attempt + workloads.DriverAttemptTimeout, kind: evFail, req: i, gen: r.gen})
		return nil
	}
	r.kind, r.exec = g.Kind, g.Exec
	e.push(event{at: resp, kind: evRespond, req: i, gen: r.gen})
	return nil
}

// holdGrant keeps a grant until its evRelease and returns its index.
func (e *engine) holdGrant(g Grant) int32 {
	if n := len(e.freeG); n > 0 {
		i := e.freeG[n-1]
		e.freeG = e.freeG[:n-1]
		e.grants[i] = g
		return i
	}
	e.grants = append(e.grants, g)
	return int32(len(e.grants) - 1)
}

func (e *engine) newRequest(fn int32, at time.Duration) int32 {
	var i int32
	if n := len(e.free); n > 0 {
		i, e.free = e.free[n-1], e.free[:n-1]
	} else {
		e.reqs = append(e.reqs, request{})
		i = int32(len(e.reqs) - 1)
	}
	gen := e.reqs[i].gen + 1
	e.reqs[i] = request{fn: fn, gen: gen, live: true, scheduled: at}
	e.inFlight++
	e.sum.PeakInFlight = max(e.sum.PeakInFlight, e.inFlight)
	e.sum.Scheduled++
	return i
}

// finish writes a request's record and frees its slot.
func (e *engine) finish(now time.Duration, i int32, r *request, status results.Status) error {
	rec := &e.rec
	*rec = results.Request{
		Phase:      e.phase,
		Function:   e.names[r.fn],
		ScheduledS: (r.scheduled - e.phaseStart).Seconds(),
		SentS:      (r.scheduled - e.phaseStart).Seconds(), // the model sends on time
		DoneS:      math.NaN(),
		E2EMs:      math.NaN(),
		TotalMs:    math.NaN(),
		FuncMs:     math.NaN(),
		Attempts:   r.attempts,
		Status:     status,
	}
	switch status {
	case results.StatusOK:
		rec.DoneS = (now - e.phaseStart).Seconds()
		rec.E2EMs = ms(now - r.attempt)
		rec.TotalMs = ms(now - r.scheduled)
		rec.FuncMs = ms(r.exec)
		rec.StartKind = r.kind
		e.sum.OK++
	case results.StatusFailed:
		rec.DoneS = (now - e.phaseStart).Seconds()
		rec.TotalMs = ms(now - r.scheduled)
		rec.Error = r.lastErr
		e.sum.Failed++
	case results.StatusAbandoned:
		rec.Error = "unfinished at the phase deadline"
		e.sum.Abandoned++
	}
	r.live = false
	e.free = append(e.free, i)
	e.inFlight--
	if e.sinks.Request != nil {
		return e.sinks.Request(rec)
	}
	return nil
}

// abandonAll records every request still in flight as abandoned.
func (e *engine) abandonAll(now time.Duration) error {
	for i := range e.reqs {
		if r := &e.reqs[i]; r.live {
			if err := e.finish(now, int32(i), r, results.StatusAbandoned); err != nil {
				return err
			}
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func (e *engine) push(ev event) {
	e.q.seq++
	ev.seq = e.q.seq
	e.q.push(ev)
}

// eventQueue is a binary min-heap of events by (time, insertion order): a
// stable order for ties, so runs are deterministic.
type eventQueue struct {
	h   []event
	seq uint64
}

func (q *eventQueue) less(i, j int) bool {
	if q.h[i].at != q.h[j].at {
		return q.h[i].at < q.h[j].at
	}
	return q.h[i].seq < q.h[j].seq
}

func (q *eventQueue) push(ev event) {
	q.h = append(q.h, ev)
	for i := len(q.h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q.h[i], q.h[parent] = q.h[parent], q.h[i]
		i = parent
	}
}

func (q *eventQueue) pop() event {
	top := q.h[0]
	last := len(q.h) - 1
	q.h[0] = q.h[last]
	q.h = q.h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < len(q.h) && q.less(l, m) {
			m = l
		}
		if r < len(q.h) && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return top
}
