package sim

import "time"

// startWorkers models faasd's start workers and the 2-slot channel that
// feeds them. A start that finds a worker idle begins at once; otherwise it
// waits in the channel, if a slot is free (else it is refused), until a
// worker finishes a start and takes it, in FIFO order. How long a start
// takes is not known when it is accepted — it shares the host and devices
// with everything else running — so the workers are driven by events: the
// platform tells them when a start ends (finish), and they say which
// queued start begins, and when.
//
// FaaSnap/REAP workers back off adaptively (faasd's comment: a burst of
// fast starts "might overwhelm the system"): a worker that takes a start
// which had to queue — the system is under pressure — first sleeps
// ThrottleBase × 2^(stage-1), at most max, and its stage grows with each
// such start in a row; a start that finds the worker idle resets it. While
// the worker sleeps, the start it took still fills its channel slot. The
// fork's exact rule is not in the spec; this is the estimate the model
// uses.
type startWorkers struct {
	w     []worker
	queue []queued // accepted, not begun: the channel's slots, FIFO
	max   time.Duration
}

// Worker states.
const (
	workerIdle uint8 = iota
	workerRunning
	workerSleeping // backing off before the start it took
)

// worker is one start worker.
type worker struct {
	state uint8
	free  time.Duration // when it last became idle
	stage int
	inv   int32 // the start it runs or sleeps before; -1 none
}

// queued is a start waiting in the channel; by is the sleeping worker that
// took it, -1 if none has.
type queued struct {
	inv int32
	by  int32
}

func newStartWorkers(n int, throttleMax time.Duration) *startWorkers {
	s := &startWorkers{w: make([]worker, n), max: throttleMax}
	for i := range s.w {
		s.w[i].inv = -1
	}
	return s
}

// accept hands start inv over at now: to the idle worker that has been
// idle longest (it begins at once: begun, on that worker), or into a free
// channel slot (begun false). ok is false when every worker is busy and the
// channel is full.
func (s *startWorkers) accept(now time.Duration, inv int32) (wi int, begun, ok bool) {
	wi = -1
	for i := range s.w {
		if w := &s.w[i]; w.state == workerIdle && (wi < 0 || w.free < s.w[wi].free) {
			wi = i
		}
	}
	if wi >= 0 {
		w := &s.w[wi]
		w.state, w.stage, w.inv = workerRunning, 0, inv
		return wi, true, true
	}
	if len(s.queue) >= StartQueueSlots {
		return -1, false, false
	}
	s.queue = append(s.queue, queued{inv: inv, by: -1})
	return -1, false, true
}

// others counts the workers running a start or sleeping before one, but
// wi: the other starts in progress when wi's begins.
func (s *startWorkers) others(wi int) int {
	n := 0
	for i := range s.w {
		if i != wi && s.w[i].state != workerIdle {
			n++
		}
	}
	return n
}

// finish ends the start worker wi runs, at now. If a start waits in the
// channel that no other worker has taken, wi takes it: without a throttle
// it begins now (inv, sleep 0); with one, wi sleeps first and the start
// begins when the platform calls wake after sleep. Otherwise wi goes idle
// and inv is -1.
func (s *startWorkers) finish(now time.Duration, wi int) (inv int32, sleep time.Duration) {
	w := &s.w[wi]
	for qi := range s.queue {
		q := &s.queue[qi]
		if q.by >= 0 {
			continue
		}
		if s.max > 0 {
			sleep = min(ThrottleBase<<min(w.stage, 16), s.max)
		}
		w.stage++
		w.inv = q.inv
		if sleep > 0 {
			q.by = int32(wi)
			w.state = workerSleeping
			return q.inv, sleep
		}
		s.queue = append(s.queue[:qi], s.queue[qi+1:]...)
		w.state = workerRunning
		return w.inv, 0
	}
	w.state, w.free, w.inv = workerIdle, now, -1
	return -1, 0
}

// wake ends worker wi's back-off at now: the start it took begins (inv),
// or, if that start was cancelled meanwhile, wi takes the next one as
// finish does.
func (s *startWorkers) wake(now time.Duration, wi int) (inv int32, sleep time.Duration) {
	w := &s.w[wi]
	for qi := range s.queue {
		if s.queue[qi].by == int32(wi) {
			s.queue = append(s.queue[:qi], s.queue[qi+1:]...)
			w.state = workerRunning
			return w.inv, 0
		}
	}
	return s.finish(now, wi)
}

// cancel forgets start inv if it still waits in the channel (a caller
// ended it early). A start a worker runs is ended with finish instead.
func (s *startWorkers) cancel(inv int32) {
	for qi := range s.queue {
		if q := s.queue[qi]; q.inv == inv {
			if q.by >= 0 {
				s.w[q.by].inv = -1
			}
			s.queue = append(s.queue[:qi], s.queue[qi+1:]...)
			return
		}
	}
}
