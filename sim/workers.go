package sim

import (
	"container/heap"
	"time"
)

// startWorkers models faasd's start workers and the 2-slot channel that
// feeds them. Because a start's duration is known when it is accepted, the
// schedule is computed at acceptance: the start goes to the worker that is
// free earliest (FIFO order, as the channel gives), and begins when that
// worker is free. No events are needed.
//
// FaaSnap/REAP workers back off adaptively (faasd's comment: a burst of
// fast starts "might overwhelm the system"): a worker that takes a start
// which had to queue — the system is under pressure — first sleeps
// ThrottleBase × 2^(stage-1), at most max, and its stage grows with each
// such start in a row; a start that finds the worker idle resets it. The
// fork's exact rule is not in the spec; this is the estimate the model
// uses.
type startWorkers struct {
	w      workerHeap
	begins []time.Duration // begin times of accepted starts (pruned lazily)
	max    time.Duration   // throttle maximum; 0 = no throttle
}

// worker is one start worker: when it is next free and its throttle stage.
type worker struct {
	free  time.Duration
	stage int
}

func newStartWorkers(n int, throttleMax time.Duration) *startWorkers {
	return &startWorkers{w: make(workerHeap, n), max: throttleMax}
}

// queued counts accepted starts that have not begun at now.
func (s *startWorkers) queued(now time.Duration) int {
	kept := s.begins[:0]
	for _, b := range s.begins {
		if b > now {
			kept = append(kept, b)
		}
	}
	s.begins = kept
	return len(kept)
}

// busy counts workers busy at t.
func (s *startWorkers) busy(t time.Duration) int {
	n := 0
	for _, w := range s.w {
		if w.free > t {
			n++
		}
	}
	return n
}

// tryAccept reports whether a start arriving at now is handed over: a
// worker is free, or the channel has a free slot. If so it returns when the
// start begins and how many other starts run at that moment.
func (s *startWorkers) tryAccept(now time.Duration) (begin time.Duration, others int, ok bool) {
	first := s.w[0]
	if first.free > now && s.queued(now) >= StartQueueSlots {
		return 0, 0, false
	}
	begin = max(now, first.free)
	if first.free > now && s.max > 0 {
		begin += min(ThrottleBase<<min(first.stage, 16), s.max)
	}
	return begin, s.busy(begin), true
}

// commit books the start tryAccept accepted: the earliest-free worker runs
// it from begin for d.
func (s *startWorkers) commit(now, begin, d time.Duration) {
	w := &s.w[0]
	if begin > now {
		w.stage++
		s.begins = append(s.begins, begin)
	} else {
		w.stage = 0
	}
	w.free = begin + d
	heap.Fix(&s.w, 0)
}

// workerHeap is a min-heap of workers by the time they are next free.
type workerHeap []worker

func (h workerHeap) Len() int           { return len(h) }
func (h workerHeap) Less(i, j int) bool { return h[i].free < h[j].free }
func (h workerHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *workerHeap) Push(x any)        { *h = append(*h, x.(worker)) }
func (h *workerHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
