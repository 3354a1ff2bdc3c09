package replay

import (
	"runtime"
	"slices"
	"testing"
	"time"
	"unsafe"

	"trenv-bench/workloads"
)

// TestPlanIsTheSchedule checks that the send times planned are
// workloads.NewSchedule's, second by second, for the same seed: what the
// simulator replays in virtual time.
func TestPlanIsTheSchedule(t *testing.T) {
	ph := workloads.Phase{
		{Function: "pyaes", Counts: []int{3, 0, 5, 1}},
		{Function: "dynamic-html", Counts: []int{0, 7, 0, 2}},
	}
	for _, seed := range []uint64{0, 1, 2022310806} {
		var want []arrival
		s := workloads.NewSchedule(ph, seed)
		for {
			sec, ok := s.Next()
			if !ok {
				break
			}
			for _, a := range sec {
				want = append(want, arrival{at: a.At, fn: int32(a.Function)})
			}
		}
		got := drain(ph, seed)
		if !slices.Equal(got, want) {
			t.Errorf("seed %d: plan = %v, want NewSchedule's %v", seed, got, want)
		}
		if len(got) != ph.Requests() {
			t.Errorf("seed %d: %d arrivals, want %d", seed, len(got), ph.Requests())
		}
	}
	if slices.Equal(drain(ph, 1), drain(ph, 2)) {
		t.Error("seeds 1 and 2 give the same plan")
	}
}

// drain returns every arrival newPlan yields.
func drain(ph workloads.Phase, seed uint64) []arrival {
	var arr []arrival
	p := newPlan(ph, seed, workloads.Shard{})
	for a, ok := p.next(); ok; a, ok = p.next() {
		arr = append(arr, a)
	}
	return arr
}

func TestPhaseDeadline(t *testing.T) {
	for _, tc := range []struct {
		seconds int
		want    time.Duration
	}{
		{0, 0},
		{1, 1 * time.Second},   // int(1.2)
		{5, 6 * time.Second},   // 1.2 × 5 = 6.000000000000001 in floating point
		{10, 12 * time.Second}, // 1.2 × 10 = 12
		{38, 45 * time.Second}, // func warmup: int(45.6)
		{300, 360 * time.Second},
		{1430, 1716 * time.Second}, // W1 test (upstream-tooling.md §3.3)
		{3300, 3960 * time.Second}, // Azure/Huawei test
	} {
		if got := phaseDeadline(tc.seconds); got != tc.want {
			t.Errorf("phaseDeadline(%d) = %v, want %v", tc.seconds, got, tc.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}
	for k, w := range want {
		if got := Backoff(k); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", k, got, w)
		}
	}
}

// TestPlanMemory checks that planning a phase takes the memory of its
// busiest second, not of all its requests: draining a 1,000,000-request
// phase (16 MB as one slice of arrivals) allocates a small fraction of it.
func TestPlanMemory(t *testing.T) {
	counts := make([]int, 2000)
	for i := range counts {
		counts[i] = 500
	}
	ph := workloads.Phase{{Function: "pyaes", Counts: counts}}
	all := int64(ph.Requests()) * int64(unsafe.Sizeof(arrival{}))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	p := newPlan(ph, 1, workloads.Shard{})
	n := 0
	for _, ok := p.next(); ok; _, ok = p.next() {
		n++
	}
	runtime.ReadMemStats(&after)
	if n != ph.Requests() {
		t.Fatalf("%d arrivals, want %d", n, ph.Requests())
	}
	if got := int64(after.TotalAlloc - before.TotalAlloc); got > all/16 {
		t.Errorf("planning %d requests allocated %d bytes, want under %d (1/16 of holding them all)", n, got, all/16)
	}
}
