package workloads

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Arrival is one request of a phase: the index of its function in the
// phase and its intended send time, since the phase started.
type Arrival struct {
	Function int
	At       time.Duration
}

// Schedule yields a phase's requests second by second, as upstream's driver
// schedules them: each of second t's requests at t + U[0,1), U drawn from a
// source seeded with the jitter seed (upstream's is unseeded). Within a
// second the arrivals come in time order. The same phase and seed always
// give the same schedule, whoever replays it.
type Schedule struct {
	phase  Phase
	rng    *rand.Rand
	shard  Shard
	second int
	buf    []Arrival
	keys   []uint64 // Next's sort keys: offset in the second, then function
}

// keyFuncBits is how many low bits of a sort key hold the function index;
// the offset within the second (< 2^30 ns) takes the bits above.
const keyFuncBits = 24

// NewSchedule returns the schedule of p for seed.
func NewSchedule(p Phase, seed uint64) *Schedule {
	return NewShardSchedule(p, seed, Shard{})
}

// NewShardSchedule returns the part of p's schedule for seed that shard
// holds: the same requests at the same times as in NewSchedule's, those
// of shard's slice only.
func NewShardSchedule(p Phase, seed uint64, shard Shard) *Schedule {
	return &Schedule{phase: p, rng: rand.New(rand.NewPCG(seed, 0x6a6974746572)), shard: shard}
}

// Next returns the arrivals of the next second of the phase, sorted by
// time, and false after the last second. The slice is reused by the next
// call.
func (s *Schedule) Next() ([]Arrival, bool) {
	if s.second >= s.phase.Seconds() {
		return nil, false
	}
	t := s.second
	s.second++
	s.buf = s.buf[:0]
	base := time.Duration(t) * time.Second
	if len(s.phase) >= 1<<keyFuncBits {
		return s.nextSlow(t, base), true
	}
	// Sorted by (offset, function) as one integer: no comparison calls.
	s.keys = s.keys[:0]
	j := 0
	for fi, series := range s.phase {
		for k := 0; k < series.Counts[t]; k++ {
			u := time.Duration(s.rng.Float64() * float64(time.Second))
			if s.shard.keeps(t, j) {
				s.keys = append(s.keys, uint64(u)<<keyFuncBits|uint64(fi))
			}
			j++
		}
	}
	slices.Sort(s.keys)
	for _, k := range s.keys {
		s.buf = append(s.buf, Arrival{Function: int(k & (1<<keyFuncBits - 1)), At: base + time.Duration(k>>keyFuncBits)})
	}
	return s.buf, true
}

// nextSlow is Next's second t for a phase of too many functions for the
// sort keys.
func (s *Schedule) nextSlow(t int, base time.Duration) []Arrival {
	j := 0
	for fi, series := range s.phase {
		for k := 0; k < series.Counts[t]; k++ {
			u := time.Duration(s.rng.Float64() * float64(time.Second))
			if s.shard.keeps(t, j) {
				s.buf = append(s.buf, Arrival{Function: fi, At: base + u})
			}
			j++
		}
	}
	slices.SortFunc(s.buf, func(a, b Arrival) int {
		if a.At != b.At {
			return int(a.At - b.At)
		}
		return a.Function - b.Function
	})
	return s.buf
}
