package sim

import (
	"math"
	"time"
)

// psResource is a resource its jobs share by processor sharing: the host's
// hardware threads, or a device's bandwidth. It has a capacity in units of
// weight (hardware threads; for a device, how many page-in streams run at
// full rate at once), and each job a weight (the threads it runs; 1 for a
// stream) and an amount of work: the time it takes at full rate, alone.
//
// While the jobs' weights sum to load, each job progresses at rate
// min(1, capacity/load) of its full rate: every weight unit gets an equal
// share once the resource is overloaded (a thread gets what every other
// runnable thread gets, as the kernel's fair scheduler gives; a device's
// streams split its bandwidth). A capacity of 0 is unlimited: every job
// always runs at full rate.
//
// Since all jobs share one rate, a job's progress is the virtual time
// v(t) = ∫ rate dt since it was added: it is done when v has grown by its
// work. So each job's finish is fixed in virtual time when it is added, the
// jobs sit in a heap by that finish, and a change of load only changes how
// fast v runs — O(log n) per job added or done, and nothing per job when
// the load changes. (Per-resource virtual time is the usual way to
// simulate processor sharing; see e.g. the GPS virtual clock of fair
// queueing.)
//
// Times are integer nanoseconds; v is kept in float64 nanoseconds. While
// the rate stays 1 every job's finish is exact to the nanosecond; under
// sharing a finish is rounded up to the next nanosecond.
type psResource struct {
	capacity float64 // in weight units; 0 = unlimited
	load     int64   // Σ weights of the jobs
	rate     float64 // each job's progress per ns of its full rate
	v        float64 // virtual time, ns
	at       time.Duration
	busy     float64 // ∫ min(load, capacity) dt: weight·ns served
	h        []psJob
	pos      []int32 // heap index of each invocation's job, -1 if none
	seq      uint64
	// next's answer, kept until the resource changes (sync or setRate):
	// the platform asks for it more often than the jobs change.
	nextAt    time.Duration
	nextKnown bool
}

// psJob is one job: its finish in virtual time, insertion order for ties,
// the invocation it belongs to and its weight.
type psJob struct {
	vf  float64
	seq uint64
	id  int32
	w   int32
}

func newPSResource(capacity float64) *psResource {
	return &psResource{capacity: capacity, rate: 1}
}

// sync brings the resource to now (never back in time).
func (r *psResource) sync(now time.Duration) {
	if now <= r.at {
		return
	}
	r.nextKnown = false
	dt := float64(now - r.at)
	r.v += r.rate * dt
	served := float64(r.load)
	if r.capacity > 0 && served > r.capacity {
		served = r.capacity
	}
	r.busy += served * dt
	r.at = now
}

func (r *psResource) setRate() {
	r.nextKnown = false
	r.rate = 1
	if r.capacity > 0 && float64(r.load) > r.capacity {
		r.rate = r.capacity / float64(r.load)
	}
}

// add starts invocation id's job at now: weight w, work ns at full rate.
// An invocation has at most one job on a resource.
func (r *psResource) add(now time.Duration, id int32, w int32, work time.Duration) {
	r.sync(now)
	for int(id) >= len(r.pos) {
		r.pos = append(r.pos, -1)
	}
	r.seq++
	r.h = append(r.h, psJob{vf: r.v + float64(work), seq: r.seq, id: id, w: w})
	i := len(r.h) - 1
	r.pos[id] = int32(i)
	r.up(i)
	r.load += int64(w)
	r.setRate()
}

// has reports whether invocation id has a job here.
func (r *psResource) has(id int32) bool { return int(id) < len(r.pos) && r.pos[id] >= 0 }

// remove takes invocation id's job out at now, done or not.
func (r *psResource) remove(now time.Duration, id int32) {
	if !r.has(id) {
		return
	}
	r.sync(now)
	i := int(r.pos[id])
	r.load -= int64(r.h[i].w)
	r.del(i)
	r.setRate()
}

// next returns when the next job finishes at the present load, and
// whether there is one. The time is rounded up to the nanosecond, and
// never before the resource's present time.
func (r *psResource) next() (time.Duration, bool) {
	if len(r.h) == 0 {
		return 0, false
	}
	if r.nextKnown {
		return r.nextAt, true
	}
	r.nextAt, r.nextKnown = r.nextFinish(), true
	return r.nextAt, true
}

// nextFinish computes next's time for a resource with jobs.
func (r *psResource) nextFinish() time.Duration {
	dv := r.h[0].vf - r.v
	if dv <= 0 {
		return r.at
	}
	// The rate is 1 unless overloaded: then dv/rate is exact.
	dt := dv / r.rate
	// Sub-nanosecond float residue is no time; else round up.
	d := math.Ceil(dt - 1e-6)
	if d > float64(math.MaxInt64/4) {
		d = float64(math.MaxInt64 / 4)
	}
	return r.at + time.Duration(d)
}

// pop takes out the job that finishes first, at now (as next said), and
// returns its invocation.
func (r *psResource) pop(now time.Duration) int32 {
	r.sync(now)
	j := r.h[0]
	r.load -= int64(j.w)
	r.del(0)
	r.setRate()
	return j.id
}

// busyAt is the weight·ns served up to now (≥ the present time), without
// changing the resource: what cpu.csv's utilisation is made of.
func (r *psResource) busyAt(now time.Duration) float64 {
	b := r.busy
	if now > r.at {
		served := float64(r.load)
		if r.capacity > 0 && served > r.capacity {
			served = r.capacity
		}
		b += served * float64(now-r.at)
	}
	return b
}

func (r *psResource) less(i, j int) bool {
	a, b := &r.h[i], &r.h[j]
	if a.vf != b.vf {
		return a.vf < b.vf
	}
	return a.seq < b.seq
}

func (r *psResource) swap(i, j int) {
	r.h[i], r.h[j] = r.h[j], r.h[i]
	r.pos[r.h[i].id] = int32(i)
	r.pos[r.h[j].id] = int32(j)
}

func (r *psResource) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !r.less(j, i) {
			break
		}
		r.swap(i, j)
		j = i
	}
}

func (r *psResource) down(i0 int) bool {
	i, n := i0, len(r.h)
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if k := j + 1; k < n && r.less(k, j) {
			j = k
		}
		if !r.less(j, i) {
			break
		}
		r.swap(i, j)
		i = j
	}
	return i > i0
}

// del removes the job at heap index i.
func (r *psResource) del(i int) {
	n := len(r.h) - 1
	if i != n {
		r.swap(i, n)
	}
	r.pos[r.h[n].id] = -1
	r.h = r.h[:n]
	if i != n && !r.down(i) {
		r.up(i)
	}
}
