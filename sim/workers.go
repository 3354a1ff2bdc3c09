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
type startWorkers struct {
	free   durationHeap    // when each worker is next free
	begins []time.Duration // begin times of accepted starts (pruned lazily)
	// FaaSnap/REAP adaptive throttle: a worker that finished a start under
	// pressure sleeps ThrottleBase × 2^stage (at most max) before the next.
	stage int
	max   time.Duration
}

func newStartWorkers(n int, throttleMax time.Duration) *startWorkers {
	w := &startWorkers{free: make(durationHeap, n), max: throttleMax}
	return w
}

// queued counts accepted starts that have not begun at now.
func (w *startWorkers) queued(now time.Duration) int {
	kept := w.begins[:0]
	for _, b := range w.begins {
		if b > now {
			kept = append(kept, b)
		}
	}
	w.begins = kept
	return len(kept)
}

// busy counts workers busy at t.
func (w *startWorkers) busy(t time.Duration) int {
	n := 0
	for _, f := range w.free {
		if f > t {
			n++
		}
	}
	return n
}

// tryAccept reports whether a start arriving at now is handed over: a
// worker is free, or the channel has a free slot. If so it returns when the
// start begins and how many other starts run at that moment.
func (w *startWorkers) tryAccept(now time.Duration) (begin time.Duration, others int, ok bool) {
	earliest := w.free[0]
	if earliest > now && w.queued(now) >= StartQueueSlots {
		return 0, 0, false
	}
	begin = max(now, earliest)
	return begin, w.busy(begin), true
}

// commit books the start accepted by tryAccept: the earliest-free worker
// runs it from begin for d, then sleeps its throttle back-off, if any.
func (w *startWorkers) commit(now, begin, d time.Duration) {
	pressure := w.free[0] > now || w.queued(now) > 0
	if w.max > 0 {
		if pressure {
			w.stage++
		} else {
			w.stage = 0
		}
	}
	backoff := time.Duration(0)
	if w.max > 0 && w.stage > 0 {
		backoff = ThrottleBase << min(w.stage-1, 16)
		backoff = min(backoff, w.max)
	}
	w.free[0] = begin + d + backoff
	heap.Fix(&w.free, 0)
	if begin > now {
		w.begins = append(w.begins, begin)
	}
}

// durationHeap is a min-heap of times.
type durationHeap []time.Duration

func (h durationHeap) Len() int           { return len(h) }
func (h durationHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h durationHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *durationHeap) Push(x any)        { *h = append(*h, x.(time.Duration)) }
func (h *durationHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
