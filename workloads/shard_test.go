package workloads

import (
	"context"
	"slices"
	"testing"
)

// arrivals drains a schedule.
func arrivals(s *Schedule) [][]Arrival {
	var out [][]Arrival
	for {
		sec, ok := s.Next()
		if !ok {
			return out
		}
		out = append(out, slices.Clone(sec))
	}
}

// TestShardsPartitionTheSchedule: on every workload kind, for N = 1…8, the
// N slices together are the unsharded schedule, request for request and
// send time for send time; each slice has the count Shard.Requests says;
// and each slice holds ⌊c/N⌋ or ⌈c/N⌉ of every function's c requests in
// every second, and of every second's total.
func TestShardsPartitionTheSchedule(t *testing.T) {
	const seed = 42
	for _, kind := range Kinds {
		res, _, err := Make(context.Background(), Spec{Kind: kind, Seed: DefaultSeed})
		if err != nil {
			t.Fatal(err)
		}
		for name, ph := range map[string]Phase{"warmup": res.Workload.Warmup, "test": res.Workload.Test} {
			whole := arrivals(NewSchedule(ph, seed))
			for n := 1; n <= 8; n++ {
				union := make([][]Arrival, len(whole))
				perFn := make([][]map[int]int, n) // shard → second → function → count
				for i := 1; i <= n; i++ {
					sh := Shard{i, n}
					secs := arrivals(NewShardSchedule(ph, seed, sh))
					if len(secs) != len(whole) {
						t.Fatalf("%s %s %v: %d seconds, the schedule has %d", kind, name, sh, len(secs), len(whole))
					}
					got := 0
					perFn[i-1] = make([]map[int]int, len(secs))
					for s, sec := range secs {
						union[s] = append(union[s], sec...)
						got += len(sec)
						perFn[i-1][s] = map[int]int{}
						for _, a := range sec {
							perFn[i-1][s][a.Function]++
						}
					}
					if want := sh.Requests(ph); got != want {
						t.Errorf("%s %s %v: %d requests, Shard.Requests says %d", kind, name, sh, got, want)
					}
				}
				for s := range whole {
					u := union[s]
					slices.SortFunc(u, func(a, b Arrival) int {
						if a.At != b.At {
							return int(a.At - b.At)
						}
						return a.Function - b.Function
					})
					if !slices.Equal(u, whole[s]) {
						t.Fatalf("%s %s N=%d second %d: the slices' union differs from the schedule", kind, name, n, s)
					}
					for fi, series := range ph {
						c := series.Counts[s]
						for i := range n {
							if k := perFn[i][s][fi]; k != c/n && k != (c+n-1)/n {
								t.Fatalf("%s %s N=%d second %d function %d: slice %d has %d of %d", kind, name, n, s, fi, i+1, k, c)
							}
						}
					}
					total := len(whole[s])
					for i := range n {
						k := 0
						for _, v := range perFn[i][s] {
							k += v
						}
						if k != total/n && k != (total+n-1)/n {
							t.Fatalf("%s %s N=%d second %d: slice %d has %d of %d", kind, name, n, s, i+1, k, total)
						}
					}
				}
			}
		}
	}
}

func TestParseShard(t *testing.T) {
	if sh, err := ParseShard("2/3"); err != nil || sh != (Shard{2, 3}) || sh.String() != "2/3" {
		t.Errorf("2/3: %v %v", sh, err)
	}
	for _, s := range []string{"", "1", "0/2", "3/2", "1/65", "a/b", "1/2/3", "-1/2"} {
		if _, err := ParseShard(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
