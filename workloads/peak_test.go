package workloads

import (
	"math/rand/v2"
	"testing"
)

// TestPhasePeakRate: the busiest second's requests, all functions
// together, as the schedule sends them second by second.
func TestPhasePeakRate(t *testing.T) {
	if got := (Phase{}).PeakRate(); got != 0 {
		t.Errorf("empty phase: %d", got)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := range 20 {
		seconds, fns := 1+rng.IntN(30), 1+rng.IntN(5)
		var p Phase
		for f := range fns {
			s := Series{Function: "f" + string(rune('a'+f)), Counts: make([]int, seconds)}
			for i := range s.Counts {
				s.Counts[i] = rng.IntN(50)
			}
			p = append(p, s)
		}
		want := 0
		sch := NewSchedule(p, 1)
		for {
			a, ok := sch.Next()
			if !ok {
				break
			}
			want = max(want, len(a))
		}
		if got := p.PeakRate(); got != want {
			t.Errorf("trial %d: PeakRate %d, the schedule's busiest second %d", trial, got, want)
		}
	}
}
