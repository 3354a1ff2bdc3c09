package replay

import (
	"time"

	"trenv-bench/workloads"
)

// arrival is one request of a phase: its intended send time since the
// phase started (model time) and the index of its function in the phase.
// 16 bytes, so a 1,000,000-request phase plans in 16 MB.
type arrival struct {
	at time.Duration
	fn int32
}

// plan returns every request of the phase in send order, from
// workloads.NewSchedule(ph, seed): the simulator (sim) and the replayer
// given the same seed send the same requests at the same times. It reads no
// clock.
func plan(ph workloads.Phase, seed uint64) []arrival {
	arr := make([]arrival, 0, ph.Requests())
	s := workloads.NewSchedule(ph, seed)
	for {
		sec, ok := s.Next()
		if !ok {
			return arr
		}
		for _, a := range sec {
			arr = append(arr, arrival{at: a.At, fn: int32(a.Function)})
		}
	}
}

// phaseDeadline is how long after its start a phase of the given length
// stops waiting for its requests: int(length × 1.2) whole seconds, as
// upstream's gevent.joinall timeout.
func phaseDeadline(seconds int) time.Duration {
	return time.Duration(int(float64(seconds)*PhaseDeadlineFactor)) * time.Second
}
