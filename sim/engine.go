package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// EngineConfig configures a simulated run.
type EngineConfig struct {
	Platform Config
	Model    *calibration.Model
	Catalog  *workloads.Catalog
	// JitterSeed seeds the schedule's U[0,1) offsets (workloads.Schedule).
	JitterSeed uint64
	// Origin is the wall time virtual time 0 stands for, given to the
	// recorder (test.log's stamps); zero means the time Run starts.
	Origin time.Time
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
	evGC                       // keep-alive scan
	evSample                   // memory and CPU sample
)

// event is kept small (32 bytes): the queue moves it around a lot.
type event struct {
	at   time.Duration
	seq  uint64
	req  int32 // index into engine.reqs
	gen  int32 // the request's attempt generation: stale events are dropped
	kind eventKind
}

// request is a request in flight.
type request struct {
	fn int32
	// gen is the generation of the current attempt: it grows when a
	// request slot is reused and when an attempt ends, so the events and
	// invocation of an attempt that is over are told apart.
	gen       int32
	live      bool
	granted   bool          // the current attempt has an invocation, not yet answered
	scheduled time.Duration // absolute
	attempt   time.Duration // current attempt's send time
	since     time.Duration // when the current attempt reached faasd
	attempts  int
	kind      StartKind
	exec      time.Duration
	lastErr   string
}

// attemptRef names a request's attempt: the request and its generation.
type attemptRef struct{ req, gen int32 }

// timeout is an attempt's client-side deadline.
type timeout struct {
	at time.Duration
	attemptRef
}

// engine runs the Platform in virtual time: the platform's own events (an
// invocation's phases end as the shared resources serve them), the
// schedule's arrivals, one event queue of the client's and the background
// tasks' events, and a FIFO of attempt deadlines.
type engine struct {
	cfg      EngineConfig
	p        *Platform
	rec      results.Recorder
	q        eventQueue
	reqs     []request
	free     []int32
	byInv    []attemptRef // the attempt each invocation in progress serves, by Grant.ID
	timeouts []timeout    // attempt deadlines in time order (attempts start in time order)
	toHead   int
	names    []string
	handles  []Handle
	overhead time.Duration
	// cpu.csv: the host's busy thread-ns at the last sample
	cpuBusy float64
	// current phase
	phase      string
	phaseStart time.Duration
	deadline   time.Duration
	inFlight   int
	sum        Summary
	record     results.Request
}

// Run simulates the workload on the platform in virtual time: the warmup
// phase, a metrics snapshot and reset, then the test phase. Everything goes
// to rec as it is produced, on the run clock (virtual seconds since the run
// started): phases, one record per request, 1 Hz memory samples and, from
// the first second on, 1 Hz samples of the model host's CPU utilisation
// over the second before (when the model's host has a finite number of
// threads), the metrics of each phase; memory stays bounded by the
// requests in flight.
// The workload is validated first (Workload.Validate with the catalog,
// which checks its limits), so nothing runs for one over them.
//
// When ctx is cancelled the run stops at the virtual time it reached: the
// requests in flight and those not yet sent are recorded as abandoned, and
// so is every request of a phase that had not started, so each scheduled
// request has one record. The error then wraps ctx.Err().
func Run(ctx context.Context, cfg EngineConfig, w workloads.Workload, rec results.Recorder) (Summary, error) {
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
	origin := cfg.Origin
	if origin.IsZero() {
		origin = time.Now()
	}
	if err := rec.Start(origin); err != nil {
		return Summary{}, err
	}
	e := &engine{cfg: cfg, p: p, rec: rec,
		overhead: time.Duration(cfg.Model.Platform.HTTPOverheadMs.Value * float64(time.Millisecond))}
	e.push(event{at: 0, kind: evSample})
	if !cfg.Platform.trenv() && !cfg.Platform.NoBgTask && cfg.Platform.GC > 0 {
		e.push(event{at: GCInterval, kind: evGC})
	}
	now := time.Duration(0)
	phases := []workloads.Phase{w.Warmup, w.Test}
	for i, ph := range phases {
		name := []string{results.PhaseWarmup, results.PhaseTest}[i]
		if ctx.Err() != nil { // between the phases
			return e.sum, errors.Join(fmt.Errorf("sim: interrupted before the %s phase: %w", name, ctx.Err()),
				e.abandonPhase(name, ph, "interrupted before the phase started"))
		}
		if now, err = e.runPhase(ctx, name, ph, now); err != nil {
			if ctx.Err() != nil && i == 0 {
				err = errors.Join(err, e.abandonPhase(results.PhaseTest, phases[1], "interrupted before the phase started"))
			}
			return e.sum, err
		}
		// A recorder that keeps nothing gets no metrics: nothing is
		// formatted for it (benchmarks).
		if _, discard := rec.(results.Discard); !discard {
			var raw bytes.Buffer // a recorder may keep it
			if _, err := p.Metrics().WriteTo(&raw); err != nil {
				return e.sum, err
			}
			if err := rec.Metrics(name, raw.Bytes()); err != nil {
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
	if err := e.rec.PhaseStart(name, start.Seconds(), ph.Requests()); err != nil {
		return start, err
	}
	e.names, e.handles = e.names[:0], e.handles[:0]
	for _, s := range ph {
		h, _ := e.p.Handle(s.Function) // Run registered every function
		e.names = append(e.names, s.Function)
		e.handles = append(e.handles, h)
		n := 0
		for _, c := range s.Counts {
			n += c
		}
		e.p.Reserve(h, n) // each request ends one invocation, give or take retries
	}
	if n := min(ph.Requests(), 1<<16); cap(e.timeouts) < n {
		e.timeouts = slices.Grow(e.timeouts, n)
	}
	e.deadline = start + time.Duration(math.Floor(float64(ph.Seconds())*workloads.DriverPhaseDeadlineFactor))*time.Second
	sched := workloads.NewSchedule(ph, e.cfg.JitterSeed)
	var arr []workloads.Arrival
	more := true
	now := start
	for steps := 0; ; steps++ {
		if steps&0xff == 0 && ctx.Err() != nil {
			return now, e.interrupt(ctx, now, arr, sched)
		}
		for len(arr) == 0 && more {
			arr, more = sched.Next()
		}
		if len(arr) == 0 && e.inFlight == 0 {
			return now, e.rec.PhaseEnd(name, now.Seconds())
		}
		// The next thing to happen: the platform's next event first on a
		// tie (an instance free at t is free for a decision at t, as on the
		// twin), then an arrival, then the queue, then a deadline.
		tp, pok := e.p.Next()
		if pok && (len(arr) == 0 || tp <= start+arr[0].At) && (len(e.q.h) == 0 || tp <= e.q.h[0].at) &&
			(e.toHead == len(e.timeouts) || tp <= e.timeouts[e.toHead].at) {
			now = tp
			if d, ok := e.p.Step(); ok {
				e.ended(d)
			}
			continue
		}
		if len(arr) > 0 && (len(e.q.h) == 0 || start+arr[0].At <= e.q.h[0].at) &&
			(e.toHead == len(e.timeouts) || start+arr[0].At <= e.timeouts[e.toHead].at) {
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
		if len(e.q.h) > 0 && (e.toHead == len(e.timeouts) || e.q.h[0].at <= e.timeouts[e.toHead].at) {
			ev := e.q.pop()
			if ev.at >= e.deadline && ev.kind != evGC && ev.kind != evSample {
				// The deadline passes before anything more reaches the client.
				e.q.push(ev)
				return e.deadline, errors.Join(e.abandonAll(e.deadline, "unfinished at the phase deadline"), e.rec.PhaseEnd(name, e.deadline.Seconds()))
			}
			now = ev.at
			if err := e.handle(ev); err != nil {
				return now, err
			}
			continue
		}
		if e.toHead == len(e.timeouts) {
			// Nothing left but requests no event will end: cannot happen
			// while the platform ends every invocation it grants.
			return now, fmt.Errorf("sim: %d requests in flight and nothing left to happen at %v", e.inFlight, now)
		}
		to := e.timeouts[e.toHead]
		e.toHead++
		switch {
		case e.toHead == len(e.timeouts):
			e.timeouts, e.toHead = e.timeouts[:0], 0
		case e.toHead >= 1024 && 2*e.toHead >= len(e.timeouts):
			// Keep the FIFO to the deadlines still ahead (a minute of attempts).
			e.timeouts = e.timeouts[:copy(e.timeouts, e.timeouts[e.toHead:])]
			e.toHead = 0
		}
		r := &e.reqs[to.req]
		if !r.live || r.gen != to.gen || !r.granted {
			continue // that attempt ended before its deadline
		}
		if to.at >= e.deadline {
			return e.deadline, errors.Join(e.abandonAll(e.deadline, "unfinished at the phase deadline"), e.rec.PhaseEnd(name, e.deadline.Seconds()))
		}
		now = to.at
		r.lastErr = "attempt timed out after 60 s"
		if err := e.client(event{at: now, kind: evFail, req: to.req, gen: r.gen}, r); err != nil {
			return now, err
		}
	}
}

// ended handles an invocation the platform ended at d.End: if its attempt
// still waits for it, the answer reaches the client after the HTTP
// overhead.
func (e *engine) ended(d Done) {
	ref := e.byInv[d.ID()]
	r := &e.reqs[ref.req]
	if !r.live || r.gen != ref.gen || !r.granted {
		return // abandoned, or its attempt timed out
	}
	r.kind, r.exec = d.Kind, d.Exec()
	e.push(event{at: d.End + e.overhead, kind: evRespond, req: ref.req, gen: r.gen})
}

func (e *engine) handle(ev event) error {
	switch ev.kind {
	case evSample:
		if err := e.rec.Memory(ev.at.Seconds(), e.p.ResidentBytes()); err != nil {
			return err
		}
		if c := e.p.HostThreads(); c > 0 {
			busy := e.p.CPUBusy(ev.at)
			if ev.at > 0 {
				u := min(1, max(0, (busy-e.cpuBusy)/(c*float64(time.Second))))
				if err := e.rec.CPU(ev.at.Seconds(), u); err != nil {
					return err
				}
			}
			e.cpuBusy = busy
		}
		e.push(event{at: ev.at + time.Second, kind: evSample})
	case evGC:
		e.p.GC(ev.at)
		e.push(event{at: ev.at + GCInterval, kind: evGC})
	default:
		r := &e.reqs[ev.req]
		if !r.live || r.gen != ev.gen {
			return nil // abandoned at a phase deadline, or of an attempt that ended
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
		e.timeouts = append(e.timeouts, timeout{at: ev.at + workloads.DriverAttemptTimeout, attemptRef: attemptRef{ev.req, r.gen}})
		return e.decide(ev.at, ev.req, r)
	case evDecide:
		return e.decide(ev.at, ev.req, r)
	case evRespond:
		return e.finish(ev.at, ev.req, r, results.StatusOK)
	case evFail:
		// The attempt is over: its events and invocation are stale now.
		r.gen++
		r.granted = false
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
	// The invocation runs in the platform; ended answers when it ends, or
	// the attempt's deadline fails it first.
	for int(g.ID()) >= len(e.byInv) {
		e.byInv = append(e.byInv, attemptRef{})
	}
	e.byInv[g.ID()] = attemptRef{i, r.gen}
	r.granted = true
	return nil
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
	rec := &e.record
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
		rec.Error = r.lastErr
		e.sum.Abandoned++
	}
	r.live = false
	e.free = append(e.free, i)
	e.inFlight--
	return e.rec.Request(rec)
}

// abandonAll records every request still in flight as abandoned, saying
// why (and, when an attempt had failed, its failure).
func (e *engine) abandonAll(now time.Duration, why string) error {
	for i := range e.reqs {
		if r := &e.reqs[i]; r.live {
			if r.lastErr != "" {
				r.lastErr = why + " (last failure: " + r.lastErr + ")"
			} else {
				r.lastErr = why
			}
			if err := e.finish(now, int32(i), r, results.StatusAbandoned); err != nil {
				return err
			}
		}
	}
	return nil
}

// interrupt ends a phase that ctx stopped at now: the requests in flight
// and the arrivals not yet sent (arr, then the rest of sched) are recorded
// as abandoned. It returns ctx's error, joined with any recording error.
func (e *engine) interrupt(ctx context.Context, now time.Duration, arr []workloads.Arrival, sched *workloads.Schedule) error {
	err := e.abandonAll(now, "interrupted")
	for more := true; err == nil && more; arr, more = sched.Next() {
		for _, a := range arr {
			if err = e.unsent(a, "interrupted before sending"); err != nil {
				break
			}
		}
	}
	return errors.Join(fmt.Errorf("sim: interrupted at %.3f s of virtual time: %w", now.Seconds(), ctx.Err()), err)
}

// abandonPhase records every request of a phase that never started as
// abandoned, with why.
func (e *engine) abandonPhase(name string, ph workloads.Phase, why string) error {
	e.phase, e.phaseStart = name, 0
	e.names = e.names[:0]
	for _, s := range ph {
		e.names = append(e.names, s.Function)
	}
	sched := workloads.NewSchedule(ph, e.cfg.JitterSeed)
	for arr, more := sched.Next(); more; arr, more = sched.Next() {
		for _, a := range arr {
			if err := e.unsent(a, why); err != nil {
				return err
			}
		}
	}
	return nil
}

// unsent records an arrival of the current phase that was never sent.
func (e *engine) unsent(a workloads.Arrival, why string) error {
	e.sum.Scheduled++
	e.sum.Abandoned++
	rec := &e.record
	*rec = results.Request{
		Phase: e.phase, Function: e.names[a.Function], ScheduledS: a.At.Seconds(),
		SentS: math.NaN(), DoneS: math.NaN(), E2EMs: math.NaN(), TotalMs: math.NaN(), FuncMs: math.NaN(),
		Status: results.StatusAbandoned, Error: why,
	}
	return e.rec.Request(rec)
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
