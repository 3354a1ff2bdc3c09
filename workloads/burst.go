package workloads

import (
	"fmt"
	"math"

	"trenv-bench/internal/pyrand"
)

// Burst generates W1 or W2 (see BurstParams): cycles of per-function burst
// slots, the first WarmupCycles cycles going to the warmup phase. rng is used
// only when p.RandomCounts or p.UnusedShuffle is set; it may be nil otherwise.
func Burst(p BurstParams, rng *pyrand.Random) (Workload, error) {
	if err := p.validate(); err != nil {
		return Workload{}, err
	}
	if (p.RandomCounts || p.UnusedShuffle > 0) && rng == nil {
		return Workload{}, fmt.Errorf("workloads: burst workload needs a random source")
	}
	if p.UnusedShuffle > 0 {
		rng.Shuffle(p.UnusedShuffle, func(i, j int) {})
	}
	cycle := 0
	for _, f := range p.Functions {
		cycle += f.Last
	}
	all := make(Phase, len(p.Functions))
	offset := 0
	for fi, f := range p.Functions {
		counts := make([]int, cycle*p.Cycles)
		sigma := math.Max(math.Ceil(0.1*float64(f.MaxConcurrency)), 1)
		ceiling := 1.1 * float64(f.MaxConcurrency)
		for c := 0; c < p.Cycles; c++ {
			for k := 0; k < f.PeakTimes; k++ {
				n := f.MaxConcurrency
				if p.RandomCounts {
					x := rng.NormalVariate(float64(f.MaxConcurrency), sigma)
					n = int(math.Min(math.Abs(x), ceiling))
				}
				counts[c*cycle+offset+k*(f.Interval+1)] = n
			}
		}
		all[fi] = Series{Function: f.Name, Counts: counts}
		offset += f.Last
	}
	return splitPhases(all, cycle*p.WarmupCycles), nil
}

func (p BurstParams) validate() error {
	if p.Cycles <= 0 || p.WarmupCycles < 0 || p.WarmupCycles > p.Cycles {
		return fmt.Errorf("workloads: cycle_num %d, warmup_cycle %d: expected 0 <= warmup_cycle <= cycle_num, cycle_num > 0", p.Cycles, p.WarmupCycles)
	}
	for _, f := range p.Functions {
		if f.PeakTimes < 0 || f.Interval < 0 || f.MaxConcurrency < 0 || f.Last <= 0 {
			return fmt.Errorf("workloads: function %q: negative peak_times/interval/max_concurrency or last <= 0", f.Name)
		}
		if f.PeakTimes > 0 && (f.PeakTimes-1)*(f.Interval+1) >= f.Last {
			return fmt.Errorf("workloads: function %q: %d bursts %d s apart do not fit its %d s slot", f.Name, f.PeakTimes, f.Interval+1, f.Last)
		}
	}
	return nil
}

// splitPhases cuts every series at second warmup: before it is the warmup
// phase, from it on the test phase.
func splitPhases(all Phase, warmup int) Workload {
	w := Workload{Warmup: make(Phase, len(all)), Test: make(Phase, len(all))}
	for i, s := range all {
		w.Warmup[i] = Series{Function: s.Function, Counts: s.Counts[:warmup:warmup]}
		w.Test[i] = Series{Function: s.Function, Counts: s.Counts[warmup:]}
	}
	return w
}

// Func generates the func workload: one request per function at the start
// of its slot in each cycle; iter cycles in the test phase, and a warmup
// phase of one cycle identical to the first. iter must be 1 to MaxIter.
func Func(p FuncParams, iter int) (Workload, error) {
	if iter < 1 || iter > MaxIter {
		return Workload{}, fmt.Errorf("%w: --iter %d: expected 1 to %d", ErrIter, iter, MaxIter)
	}
	cycle := 0
	for _, f := range p.Functions {
		if f.Last <= 0 {
			return Workload{}, fmt.Errorf("workloads: function %q: last %d: expected > 0", f.Name, f.Last)
		}
		cycle += f.Last
	}
	w := Workload{}
	offset := 0
	for _, f := range p.Functions {
		test := make([]int, cycle*iter)
		for c := 0; c < iter; c++ {
			test[c*cycle+offset] = 1
		}
		warm := make([]int, cycle)
		warm[offset] = 1
		w.Test = append(w.Test, Series{Function: f.Name, Counts: test})
		w.Warmup = append(w.Warmup, Series{Function: f.Name, Counts: warm})
		offset += f.Last
	}
	return w, nil
}
