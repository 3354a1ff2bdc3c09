package workloads

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestSchedule(t *testing.T) {
	p := Phase{{"a", []int{2, 0, 1}}, {"b", []int{1, 3, 0}}}
	count := func(seed uint64) ([]Arrival, int) {
		s := NewSchedule(p, seed)
		var all []Arrival
		seconds := 0
		for {
			arr, ok := s.Next()
			if !ok {
				break
			}
			for i, a := range arr {
				if a.At < time.Duration(seconds)*time.Second || a.At >= time.Duration(seconds+1)*time.Second {
					t.Errorf("second %d: arrival at %v", seconds, a.At)
				}
				if i > 0 && a.At < arr[i-1].At {
					t.Errorf("second %d: not in time order", seconds)
				}
			}
			all = append(all, arr...)
			seconds++
		}
		return all, seconds
	}
	a, n := count(1)
	if n != 3 || len(a) != p.Requests() {
		t.Fatalf("%d seconds, %d arrivals; want 3 and %d", n, len(a), p.Requests())
	}
	perFn := map[int]int{}
	for _, x := range a {
		perFn[x.Function]++
	}
	if perFn[0] != 3 || perFn[1] != 4 {
		t.Errorf("arrivals per function %v", perFn)
	}
	b, _ := count(1)
	c, _ := count(2)
	same := func(x, y []Arrival) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("same seed, different schedule")
	}
	if same(a, c) {
		t.Error("seed does not change the jitter")
	}
}

// TestScheduleSortKeys: Next's integer sort keys give the order of
// sorting the arrivals by time, then function (nextSlow), on random phases
// with bursts and ties, whole and sharded.
func TestScheduleSortKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for round := range 50 {
		var p Phase
		for f := range 1 + rng.IntN(12) {
			counts := make([]int, 20)
			for i := range counts {
				counts[i] = rng.IntN(3) * rng.IntN(40)
			}
			p = append(p, Series{Function: fmt.Sprintf("f%d", f), Counts: counts})
		}
		shard := Shard{}
		if round%2 == 1 {
			shard = Shard{Index: 1 + rng.IntN(3), Count: 3}
		}
		fast, slow := NewShardSchedule(p, uint64(round), shard), NewShardSchedule(p, uint64(round), shard)
		for sec := 0; ; sec++ {
			got, more := fast.Next()
			if !more {
				break
			}
			slow.second++
			want := slow.nextSlow(sec, time.Duration(sec)*time.Second)
			if !slices.Equal(got, want) {
				t.Fatalf("round %d second %d:\n got %v\nwant %v", round, sec, got, want)
			}
			slow.buf = slow.buf[:0]
		}
	}
}
