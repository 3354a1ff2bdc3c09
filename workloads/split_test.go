package workloads

import (
	"errors"
	"slices"
	"testing"

	"trenv-bench/internal/pyrand"
)

func TestApplyCap(t *testing.T) {
	cases := []struct {
		in    []int
		limit int
		want  []int
	}{
		// Worked by hand: second 0 gives one request at a time to the
		// currently emptiest second, the earliest on ties.
		{[]int{5, 0, 1, 0}, 2, []int{2, 2, 1, 1}},
		{[]int{0, 3, 0, 3}, 2, []int{1, 2, 1, 2}},
		{[]int{2, 2, 2, 2}, 2, []int{2, 2, 2, 2}},
		{[]int{8, 0, 0, 0}, 2, []int{2, 2, 2, 2}},
	}
	for _, c := range cases {
		got := slices.Clone(c.in)
		if err := ApplyCap(got, c.limit); err != nil || !slices.Equal(got, c.want) {
			t.Errorf("ApplyCap(%v, %d) = %v, %v; want %v", c.in, c.limit, got, err, c.want)
		}
	}
	if err := ApplyCap([]int{9, 0, 0, 0}, 2); !errors.Is(err, ErrUnsplittable) {
		t.Errorf("9 requests over 4 seconds capped at 2: got %v, want ErrUnsplittable", err)
	}
}

func TestSplitsKeepTheCount(t *testing.T) {
	src := NewSources(DefaultSeed)
	var scratch []int64
	for _, n := range []int{0, 1, 2, 59, 60, 61, 400, 4800} {
		even := EvenSplit(src.Py, n, nil)
		var skew []int
		skew, scratch = SkewSplit(src.NP, n, nil, scratch)
		for name, sec := range map[string][]int{"even": even, "skew": skew} {
			sum := 0
			for _, c := range sec {
				if c < 0 {
					t.Errorf("%s split of %d: negative second %v", name, n, sec)
				}
				sum += c
			}
			if len(sec) != SecondsPerMinute || sum != n {
				t.Errorf("%s split of %d: %d seconds summing to %d", name, n, len(sec), sum)
			}
		}
	}
}

// TestSkewSplitDraws pins how many NumPy draws a skew split consumes: 600
// Poisson samples, then one randint per request short of n after scaling.
func TestSkewSplitDraws(t *testing.T) {
	a, b := pyrand.NewRandomState(7), pyrand.NewRandomState(7)
	out, _ := SkewSplit(a, 1, nil, nil)
	w := b.PoissonN(skewLambda, skewDraws, nil)[:SecondsPerMinute]
	sum := int64(0)
	for _, x := range w {
		sum += x
	}
	// With n = 1 scaling floors every weight below 1 unless a single second
	// holds all the weight, so one randint places the request.
	want := make([]int, SecondsPerMinute)
	if sum == 0 || slices.Max(w) < sum {
		want[b.Randint(0, SecondsPerMinute)] = 1
	} else {
		want[slices.Index(w, sum)] = 1
	}
	if !slices.Equal(out, want) || a.RandomSample() != b.RandomSample() {
		t.Errorf("skew split of 1 = %v, want %v with the same draws consumed", out, want)
	}
}
