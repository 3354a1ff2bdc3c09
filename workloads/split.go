package workloads

import (
	"errors"
	"fmt"
	"slices"

	"trenv-bench/internal/pyrand"
)

// SecondsPerMinute is how many per-second counts one minute is spread over.
const SecondsPerMinute = 60

// Skew split constants of upstream gen_trace.py: it draws skewDraws Poisson
// samples with mean skewLambda and uses the first 60 as per-second weights.
const (
	skewLambda = 0.1
	skewDraws  = 600
)

// ErrUnsplittable is wrapped when a minute holds more requests than its
// per-second cap allows (count > 60 × cap): upstream's cap step loops forever
// on such a minute.
var ErrUnsplittable = errors.New("minute exceeds 60 × the per-second cap")

// EvenSplit spreads n requests uniformly over 60 seconds as upstream does:
// 59 draws of Python randint(0, n), sorted, with 0 and n added at the ends,
// and the 60 consecutive differences. It appends to out and returns it.
func EvenSplit(rng *pyrand.Random, n int, out []int) []int {
	var cuts [SecondsPerMinute + 1]int
	for i := 1; i < SecondsPerMinute; i++ {
		cuts[i] = int(rng.Randint(0, int64(n)))
	}
	slices.Sort(cuts[1:SecondsPerMinute])
	cuts[SecondsPerMinute] = n
	for i := 1; i <= SecondsPerMinute; i++ {
		out = append(out, cuts[i]-cuts[i-1])
	}
	return out
}

// SkewSplit concentrates n requests in a few seconds as upstream does: 600
// NumPy Poisson(0.1) draws of which the first 60 are weights; all zero →
// every request in the second NumPy randint(0, 60) picks; otherwise each
// weight scaled by n/sum and rounded down, and the shortfall handed out one
// request at a time to seconds picked by randint(0, 60). It appends the 60
// counts to out and returns it. scratch is reused between calls.
func SkewSplit(rng *pyrand.RandomState, n int, out []int, scratch []int64) ([]int, []int64) {
	scratch = rng.PoissonN(skewLambda, skewDraws, scratch[:0])
	w := scratch[:SecondsPerMinute]
	var sum int64
	for _, x := range w {
		sum += x
	}
	start := len(out)
	out = append(out, make([]int, SecondsPerMinute)...)
	sec := out[start:]
	if sum == 0 {
		sec[rng.Randint(0, SecondsPerMinute)] = n
		return out, scratch
	}
	total := 0
	for i, x := range w {
		// numpy: arr * n / arr.sum(), element-wise in float64, then floor.
		sec[i] = int(float64(x) * float64(n) / float64(sum))
		total += sec[i]
	}
	for total < n {
		sec[rng.Randint(0, SecondsPerMinute)]++
		total++
	}
	return out, scratch
}

// ApplyCap moves requests out of seconds holding more than limit, one at a
// time, to the second currently holding the fewest (earliest on ties), in
// second order — upstream's per-second cap. It uses no randomness. It fails
// with ErrUnsplittable when the minute holds more than 60 × limit requests
// (upstream loops forever there).
func ApplyCap(sec []int, limit int) error {
	total := 0
	for _, c := range sec {
		total += c
	}
	if total > len(sec)*limit {
		return fmt.Errorf("%w: %d requests, cap %d/s", ErrUnsplittable, total, limit)
	}
	for i := range sec {
		for sec[i] > limit {
			sec[i]--
			sec[argmin(sec)]++
		}
	}
	return nil
}

func argmin(xs []int) int {
	best := 0
	for i, x := range xs {
		if x < xs[best] {
			best = i
		}
	}
	return best
}
