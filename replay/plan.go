package replay

import (
	"time"

	"trenv-bench/workloads"
)

// arrival is one request of a phase: its intended send time since the
// phase started (model time) and the index of its function in the phase.
type arrival struct {
	at time.Duration
	fn int32
}

// plan yields every request of a phase in send order, from
// workloads.NewSchedule(ph, seed): the simulator (sim) and the replayer
// given the same seed send the same requests at the same times. It reads no
// clock. It computes the send times a second at a time, as they are
// needed, so its memory is that of the busiest second (at most the phase's
// functions × workloads.MaxCount arrivals), not of the whole phase.
type plan struct {
	s   *workloads.Schedule
	sec []workloads.Arrival // what is left of the current second
	n   int                 // the phase's requests
}

func newPlan(ph workloads.Phase, seed uint64) *plan {
	return &plan{s: workloads.NewSchedule(ph, seed), n: ph.Requests()}
}

// next returns the next request and true, or false after the last.
func (p *plan) next() (arrival, bool) {
	for len(p.sec) == 0 {
		sec, ok := p.s.Next()
		if !ok {
			return arrival{}, false
		}
		p.sec = sec
	}
	a := p.sec[0]
	p.sec = p.sec[1:]
	return arrival{at: a.At, fn: int32(a.Function)}, true
}

// phaseDeadline is how long after its start a phase of the given length
// stops waiting for its requests: int(length × 1.2) whole seconds, as
// upstream's gevent.joinall timeout.
func phaseDeadline(seconds int) time.Duration {
	return time.Duration(int(float64(seconds)*PhaseDeadlineFactor)) * time.Second
}
