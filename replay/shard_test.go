package replay

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"trenv-bench/workloads"
)

// TestRunShards replays one workload as two and as three shards at once,
// each a separate Run with a common StartAt, against one gateway: every
// request of the schedule is sent by exactly one shard, at its unsharded
// time; only shard 1 takes and resets faasd's metrics (once each); and
// every shard starts its test phase at StartAt + TestOffset, with no
// barrier between them.
func TestRunShards(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time replay")
	}
	w := workloads.Workload{
		Warmup: workloads.Phase{{Function: "pyaes", Counts: []int{7}}},
		Test: workloads.Phase{
			{Function: "pyaes", Counts: []int{5, 4}},
			{Function: "dynamic-html", Counts: []int{3, 8}},
		},
	}
	const speed = 10
	for _, n := range []int{2, 3} {
		f := newFaulty(t, func(_ int, w http.ResponseWriter, _ *http.Request) { answerOK(w) })
		start := time.Now().Add(300 * time.Millisecond)
		sinks := make([]*sink, n)
		sums := make([]Summary, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			sinks[i] = &sink{}
			cfg := sinks[i].config(Config{Target: f.gateway(), JitterSeed: 5, Speed: speed,
				Shard: workloads.Shard{Index: i + 1, Count: n}, StartAt: start})
			wg.Go(func() { sums[i], errs[i] = Run(context.Background(), cfg, w) })
		}
		wg.Wait()
		var all []string
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("%d shards: shard %d: %v", n, i+1, errs[i])
			}
			s := sinks[i]
			sh := workloads.Shard{Index: i + 1, Count: n}
			if want := sh.Requests(w.Warmup) + sh.Requests(w.Test); len(s.records) != want || s.count("ok") != want {
				t.Errorf("%d shards: shard %d recorded %d (%d ok), its slice has %d", n, i+1, len(s.records), s.count("ok"), want)
			}
			for _, r := range s.records {
				all = append(all, keyString(keyOf(r)))
			}
			if owner := i == 0; owner != (len(s.metrics) == 2) {
				t.Errorf("%d shards: shard %d took metrics of %d phases (owner %v)", n, i+1, len(s.metrics), owner)
			}
			wantTest := start.Add(time.Duration(float64(TestOffset(w.Warmup)) / speed))
			if d := sums[i].Test.Start.Sub(wantTest); d < 0 || d > 100*time.Millisecond {
				t.Errorf("%d shards: shard %d started its test phase %v after StartAt + TestOffset", n, i+1, d)
			}
		}
		var want []string
		for _, k := range planned(w, 5) {
			want = append(want, keyString(k))
		}
		slices.Sort(all)
		slices.Sort(want)
		if !slices.Equal(all, want) {
			t.Errorf("%d shards: the shards' records\n%v\nwant the schedule's, once each:\n%v", n, all, want)
		}
		if f.deletes != 1 {
			t.Errorf("%d shards: metrics reset %d times, want once, by the owner", n, f.deletes)
		}
	}
}

func keyString(k key) string {
	return k.phase + "/" + k.function + "/" + time.Duration(k.scheduledUs*1000).String()
}
