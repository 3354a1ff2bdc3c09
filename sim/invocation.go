package sim

import (
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
)

// An invocation runs through phases, each a job on one resource or a
// timer:
//
//	reuse:  phReuse (faasd's bookkeeping, a timer) → execution
//	switch: phStartCPU (the repurpose's work, 1 thread) → execution
//	start:  phQueued (for a start worker) → phStartDev (the start-up's
//	        page-in, if its method has one there) → phStartCPU (the rest
//	        of the start-up, 1 thread) → execution
//
// and its execution is phExecDev (the first execution's page-in, if its
// method has one there) → phExecCPU (the function's threads). Each phase's
// work is its uncontended time: what it takes alone on the platform. The
// start-up's is the drawn start-up × the concurrent-start slowdown, split
// between the device and the threads by the page-in's share (keyCost.phi);
// the execution's is the drawn execution × its factor × the copy's variant,
// split the same way. So a start-up or execution alone takes exactly what
// the cost model composes (calibration's package comment), and under load
// each of its jobs stretches as its resource is shared.
const (
	phFree uint8 = iota
	phReuse
	phQueued
	phStartDev
	phStartCPU
	phExecDev
	phExecCPU
)

// invocation is one invocation in progress.
type invocation struct {
	inst      *instance
	kind      StartKind
	phase     uint8
	first     bool // the instance's first execution
	switching bool // a repurpose in its start-up (counted in Platform.switching)
	worker    int16
	gen       uint32 // bumped when the slot is freed: stale timers are skipped
	since     time.Duration
	execStart time.Duration
	draw      time.Duration // a start's drawn start-up, before the slowdown
	work      time.Duration // the whole execution at full rate
}

// newInvocation takes a free invocation slot.
func (p *Platform) newInvocation(inst *instance, kind StartKind, since time.Duration) int32 {
	var id int32
	if n := len(p.freeInv); n > 0 {
		id, p.freeInv = p.freeInv[n-1], p.freeInv[:n-1]
	} else {
		p.invs = append(p.invs, invocation{})
		id = int32(len(p.invs) - 1)
	}
	inv := &p.invs[id]
	*inv = invocation{inst: inst, kind: kind, since: since, worker: -1, gen: inv.gen, execStart: -1}
	if inst != nil {
		inv.first = inst.uses == 0
	}
	return id
}

func (p *Platform) freeInvocation(id int32) {
	inv := &p.invs[id]
	inv.phase, inv.inst = phFree, nil
	inv.gen++
	p.freeInv = append(p.freeInv, id)
}

// execWork draws the execution time of the instance's next invocation, at
// full rate.
func (p *Platform) execWork(f *function, inst *instance) time.Duration {
	kc := &f.keys[inst.key]
	factor := kc.warm
	if inst.uses == 0 {
		factor = kc.first
	}
	return time.Duration(float64(p.draw(f.cost.Exec)) * factor)
}

// draw samples a log-normal duration.
func (p *Platform) draw(d calibration.Dist) time.Duration {
	return d.FromNormal(p.rng.NormFloat64())
}

// beginStart begins a start on worker wi at now: its start-up is the
// drawn one slowed by the other starts in progress.
func (p *Platform) beginStart(now time.Duration, id int32, wi int) {
	inv := &p.invs[id]
	inv.worker = int16(wi)
	others := p.workers.others(wi)
	p.beginStartup(now, id, slow(inv.draw, p.slowdown[inv.inst.key], others))
}

// beginStartup runs a start-up of total uncontended time from now: its
// page-in on the device first, then the rest on one thread.
func (p *Platform) beginStartup(now time.Duration, id int32, total time.Duration) {
	inv := &p.invs[id]
	kc := &inv.inst.fn.keys[inv.inst.key]
	if kc.dev != nil && !kc.inExec {
		dev := time.Duration(kc.phi * float64(total))
		inv.draw = total - dev // the rest, for phStartCPU
		inv.phase = phStartDev
		kc.dev.add(now, id, kc.weight, dev)
		return
	}
	inv.phase = phStartCPU
	p.cpu.add(now, id, 1, total)
}

// beginExec starts the execution at now: the first execution's page-in on
// the device first, then the function's threads.
func (p *Platform) beginExec(now time.Duration, id int32) {
	inv := &p.invs[id]
	inv.execStart = now
	kc := &inv.inst.fn.keys[inv.inst.key]
	if inv.first && kc.dev != nil && kc.inExec {
		dev := time.Duration(kc.phi * float64(inv.work))
		inv.work -= dev
		inv.phase = phExecDev
		kc.dev.add(now, id, kc.weight, dev)
		return
	}
	inv.phase = phExecCPU
	p.cpu.add(now, id, inv.inst.fn.threads, inv.work)
}

// Timer kinds.
const (
	timerReuse uint8 = iota // an invocation's reuse bookkeeping ends (id: invocation)
	timerWake               // a start worker's back-off ends (id: worker)
)

// Sources of the platform's next event, in the order ties are taken.
const (
	srcNone = iota
	srcTimer
	srcCPU
	srcDevice // + index into devList
)

// Next returns when the platform's next event happens — a phase of an
// invocation ends, a worker wakes — at the present load, and whether there
// is one. It may move (later or earlier) when an invocation is acquired or
// ends before then: ask again after each call.
func (p *Platform) Next() (time.Duration, bool) {
	t, src := p.peek()
	return t, src != srcNone
}

// peek returns the time and source of the next event; ties go to timers,
// then the host's threads, then the devices in name order.
func (p *Platform) peek() (time.Duration, int) {
	var t time.Duration
	src := srcNone
	if len(p.timers.h) > 0 {
		t, src = p.timers.h[0].at, srcTimer
	}
	if at, ok := p.cpu.next(); ok && (src == srcNone || at < t) {
		t, src = at, srcCPU
	}
	for i, d := range p.devList {
		if at, ok := d.next(); ok && (src == srcNone || at < t) {
			t, src = at, srcDevice+i
		}
	}
	return t, src
}

// Step handles the platform's next event (at Next's time) and returns the
// invocation it ended, if it ended one.
func (p *Platform) Step() (Done, bool) {
	t, src := p.peek()
	switch {
	case src == srcNone:
		return Done{}, false
	case src == srcTimer:
		tm := p.timers.pop()
		switch tm.kind {
		case timerReuse:
			if inv := &p.invs[tm.id]; inv.gen == tm.gen && inv.phase == phReuse {
				p.beginExec(t, tm.id)
			}
		case timerWake:
			if id, sleep := p.workers.wake(t, int(tm.id)); id >= 0 {
				p.workerTook(t, int(tm.id), id, sleep)
			}
		}
		return Done{}, false
	case src == srcCPU:
		return p.phaseDone(t, p.cpu.pop(t))
	default:
		return p.phaseDone(t, p.devList[src-srcDevice].pop(t))
	}
}

// Advance handles every event of the platform up to and including now, in
// time order, and calls done (if not nil) for each invocation that ended.
func (p *Platform) Advance(now time.Duration, done func(Done)) {
	for {
		t, ok := p.Next()
		if !ok || t > now {
			return
		}
		if d, ok := p.Step(); ok && done != nil {
			done(d)
		}
	}
}

// workerTook says worker wi took queued start id at now: it begins now,
// or after the worker's back-off.
func (p *Platform) workerTook(now time.Duration, wi int, id int32, sleep time.Duration) {
	if sleep > 0 {
		p.timers.push(timer{at: now + sleep, id: int32(wi), kind: timerWake})
		return
	}
	p.beginStart(now, id, wi)
}

// phaseDone moves invocation id on from the phase that ended at t.
func (p *Platform) phaseDone(t time.Duration, id int32) (Done, bool) {
	inv := &p.invs[id]
	switch inv.phase {
	case phStartDev:
		inv.phase = phStartCPU
		p.cpu.add(t, id, 1, inv.draw)
	case phStartCPU:
		p.startupEnded(t, id)
		p.beginExec(t, id)
	case phExecDev:
		p.grow(inv.inst)
		inv.phase = phExecCPU
		p.cpu.add(t, id, inv.inst.fn.threads, inv.work)
	case phExecCPU:
		return p.finish(t, id), true
	}
	return Done{}, false
}

// startupEnded frees what invocation id's start-up held at t: its start
// worker (which may take a queued start), or its place among the
// repurposes in progress.
func (p *Platform) startupEnded(t time.Duration, id int32) {
	inv := &p.invs[id]
	if inv.switching {
		inv.switching = false
		p.switching--
	}
	if wi := int(inv.worker); wi >= 0 {
		inv.worker = -1
		if next, sleep := p.workers.finish(t, wi); next >= 0 {
			p.workerTook(t, wi, next, sleep)
		}
	}
}

// grow brings an instance's own memory to its full size: its first
// execution has paged it in or written it.
func (p *Platform) grow(inst *instance) {
	if d := inst.full - inst.own; d > 0 {
		inst.own += d
		inst.resident += d
		p.resident += d
	}
}

// finish ends invocation id at t: it records faasd's metrics for it and
// returns the instance to the idle pools with lastActive = t.
func (p *Platform) finish(t time.Duration, id int32) Done {
	inv := &p.invs[id]
	inst := inv.inst
	if inv.execStart < 0 {
		inv.execStart = t
	}
	if inv.first {
		p.grow(inst)
	}
	d := Done{Grant: p.grant(inv.kind, id, inst), Since: inv.since, ExecStart: inv.execStart, End: t}
	inst.uses++
	c := classOf(inv.kind)
	m := &inst.fn.m
	startup, exec := d.Startup(), d.Exec()
	m.recs = append(m.recs, metricRec{startup: results.DurationMs(startup), exec: results.DurationMs(exec),
		e2e: results.DurationMs(startup + exec), class: uint8(c)})
	m.count[c]++
	p.invokes++
	p.makeIdle(inst, t)
	p.freeInvocation(id)
	return d
}

// Release ends invocation g at now, whatever it still had to do — for a
// caller that learns the end elsewhere (a test that sets it): it records
// faasd's metrics and returns the instance to the idle pools with
// lastActive = now, as an end in Step does. An invocation that already
// ended is left alone.
func (p *Platform) Release(now time.Duration, g Grant) {
	inv := &p.invs[g.id]
	if inv.phase == phFree || inv.gen != g.gen {
		return
	}
	switch inv.phase {
	case phQueued:
		p.workers.cancel(g.id)
	case phStartDev, phExecDev:
		kc := &inv.inst.fn.keys[inv.inst.key]
		kc.dev.remove(now, g.id)
	case phStartCPU, phExecCPU:
		p.cpu.remove(now, g.id)
	}
	if inv.execStart < 0 {
		p.startupEnded(now, g.id)
	}
	p.finish(now, g.id)
}

// HostThreads is the capacity of the host's threads, 0 if unlimited.
func (p *Platform) HostThreads() float64 { return p.cpu.capacity }

// CPUBusy is the host's busy time up to now: thread-nanoseconds of
// start-ups and executions served, at most HostThreads at a time. The
// platform must have been advanced to now.
func (p *Platform) CPUBusy(now time.Duration) float64 { return p.cpu.busyAt(now) }

// timer is a platform timer: at, insertion order, what and for whom.
type timer struct {
	at   time.Duration
	seq  uint64
	id   int32
	gen  uint32
	kind uint8
}

// timerHeap is a min-heap of timers by (at, seq).
type timerHeap struct {
	h   []timer
	seq uint64
}

func (q *timerHeap) less(i, j int) bool {
	if q.h[i].at != q.h[j].at {
		return q.h[i].at < q.h[j].at
	}
	return q.h[i].seq < q.h[j].seq
}

func (q *timerHeap) push(t timer) {
	q.seq++
	t.seq = q.seq
	q.h = append(q.h, t)
	for i := len(q.h) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q.less(i, parent) {
			break
		}
		q.h[i], q.h[parent] = q.h[parent], q.h[i]
		i = parent
	}
}

func (q *timerHeap) pop() timer {
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
