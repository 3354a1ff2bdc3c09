package workloads

import (
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
