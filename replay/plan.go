package replay

import (
	"sync"
	"time"

	"trenv-bench/workloads"
)

// arrival is one request of a phase: its intended send time since the
// phase started (model time) and the index of its function in the phase.
type arrival struct {
	at time.Duration
	fn int32
}

// planAhead is how many seconds of arrivals plan computes ahead of the
// dispatcher: with one second ready as the current one is dispatched, the
// next is never computed (drawn and sorted) while its first send is due.
const planAhead = 2

// plan yields every request of a phase in send order, from
// workloads.NewSchedule(ph, seed): the simulator (sim) and the replayer
// given the same seed send the same requests at the same times. It reads no
// clock. A goroutine computes the send times a second at a time, up to
// planAhead seconds ahead of the reader, so memory is that of a few of the
// busiest seconds (each at most the phase's functions × workloads.MaxCount
// arrivals), not of the whole phase. One goroutine reads it (next); stop
// ends it early.
type plan struct {
	n     int            // the phase's requests
	ready chan []arrival // the seconds computed, in order; closed after the last
	free  chan []arrival // buffers next is done with, for the producer to reuse
	done  chan struct{}  // closed by stop
	stop  func()         // ends the producer; safe to call more than once
	cur   []arrival      // what is left of the current second
	buf   []arrival      // the buffer cur is in, to give back
}

func newPlan(ph workloads.Phase, seed uint64, shard workloads.Shard) *plan {
	p := &plan{n: shard.Requests(ph), ready: make(chan []arrival, planAhead-1),
		free: make(chan []arrival, planAhead+1), done: make(chan struct{})}
	p.stop = sync.OnceFunc(func() { close(p.done) })
	go p.produce(workloads.NewShardSchedule(ph, seed, shard))
	return p
}

// produce computes the seconds of s into ready until the last, or stop.
func (p *plan) produce(s *workloads.Schedule) {
	defer close(p.ready)
	for {
		sec, ok := s.Next()
		if !ok {
			return
		}
		if len(sec) == 0 {
			continue
		}
		var buf []arrival
		select {
		case buf = <-p.free:
		default:
		}
		buf = buf[:0]
		for _, a := range sec {
			buf = append(buf, arrival{at: a.At, fn: int32(a.Function)})
		}
		select {
		case p.ready <- buf:
		case <-p.done:
			return
		}
	}
}

// next returns the next request and true, or false after the last (or
// once stop was called and what was computed is read).
func (p *plan) next() (arrival, bool) {
	for len(p.cur) == 0 {
		if p.buf != nil {
			select {
			case p.free <- p.buf:
			default:
			}
			p.buf = nil
		}
		buf, ok := <-p.ready
		if !ok {
			return arrival{}, false
		}
		p.buf, p.cur = buf, buf
	}
	a := p.cur[0]
	p.cur = p.cur[1:]
	return a, true
}

// phaseDeadline is how long after its start a phase of the given length
// stops waiting for its requests: int(length × 1.2) whole seconds, as
// upstream's gevent.joinall timeout.
func phaseDeadline(seconds int) time.Duration {
	return time.Duration(int(float64(seconds)*PhaseDeadlineFactor)) * time.Second
}
