package sim

import (
	"cmp"
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// collect runs the engine and returns its records and phase metrics.
func collect(t testing.TB, cfg EngineConfig, w workloads.Workload) ([]results.Request, map[string]int, Summary) {
	t.Helper()
	var recs []results.Request
	invokes := map[string]int{}
	sum, err := Run(context.Background(), cfg, w, hooks{
		request: func(r *results.Request) error { recs = append(recs, *r); return nil },
		metrics: func(phase string, m *results.Metrics) error {
			invokes[phase] = m.InvokeCount
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return recs, invokes, sum
}

func defaultModel(t testing.TB) *calibration.Model {
	t.Helper()
	m, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func w1(t testing.TB) workloads.Workload {
	t.Helper()
	res, err := workloads.Generate(context.Background(), "1", workloads.Options{Seed: workloads.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	return res.Workload
}

// TestEngineW1 runs W1 on every method: every request of the workload ends
// exactly once, the counts agree, and the run is deterministic.
func TestEngineW1(t *testing.T) {
	w := w1(t)
	model := defaultModel(t)
	for _, method := range Methods {
		cfg := EngineConfig{Platform: DefaultConfig(method), Model: model, JitterSeed: 7}
		cfg.Platform.GC = 2 * time.Minute // W1's baseline setting
		recs, invokes, sum := collect(t, cfg, w)
		want := map[string]map[string]int{results.PhaseWarmup: {}, results.PhaseTest: {}}
		for _, s := range w.Warmup {
			want[results.PhaseWarmup][s.Function] = (workloads.Phase{s}).Requests()
		}
		for _, s := range w.Test {
			want[results.PhaseTest][s.Function] = (workloads.Phase{s}).Requests()
		}
		got := map[string]map[string]int{results.PhaseWarmup: {}, results.PhaseTest: {}}
		ok := map[string]int{}
		for _, r := range recs {
			got[r.Phase][r.Function]++
			if r.Status == results.StatusOK {
				ok[r.Phase]++
				if r.StartKind == "" || math.IsNaN(r.E2EMs) || r.TotalMs < r.E2EMs || r.DoneS < r.ScheduledS {
					t.Fatalf("%s: inconsistent ok record %+v", method, r)
				}
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: records per phase and function differ from the workload", method)
		}
		if sum.Scheduled != len(recs) || sum.OK+sum.Failed+sum.Abandoned != sum.Scheduled {
			t.Errorf("%s: summary %+v for %d records", method, sum, len(recs))
		}
		if peak := peakFromRecords(recs); sum.PeakInFlight != peak || peak == 0 {
			t.Errorf("%s: PeakInFlight %d, the records' own overlap %d", method, sum.PeakInFlight, peak)
		}
		if invokes[results.PhaseTest] != ok[results.PhaseTest] {
			t.Errorf("%s: test-phase invoke-count %d, ok records %d", method, invokes[results.PhaseTest], ok[results.PhaseTest])
		}
		if method == MethodTrEnv {
			again, _, _ := collect(t, cfg, w)
			if !reflect.DeepEqual(recs, again) {
				t.Errorf("same seeds, different records")
			}
		}
	}
}

// peakFromRecords is the most requests in flight at once by the records'
// send and end times, per phase (phases do not overlap); on a tie a send
// counts before an end, as the engine takes an arrival first.
func peakFromRecords(recs []results.Request) int {
	type edge struct {
		at    float64
		delta int
	}
	peak := 0
	for _, phase := range []string{results.PhaseWarmup, results.PhaseTest} {
		var edges []edge
		for _, r := range recs {
			if r.Phase != phase {
				continue
			}
			end := r.DoneS
			if math.IsNaN(end) {
				end = math.Inf(1)
			}
			edges = append(edges, edge{r.SentS, +1}, edge{end, -1})
		}
		slices.SortFunc(edges, func(a, b edge) int {
			if c := cmp.Compare(a.at, b.at); c != 0 {
				return c
			}
			return b.delta - a.delta
		})
		n := 0
		for _, e := range edges {
			n += e.delta
			peak = max(peak, n)
		}
	}
	return peak
}

// TestEngineFailuresRetry: a function charged above the memory bound fails
// every attempt; the client retries 3 times with 0.5/1/2 s back-off.
func TestEngineFailuresRetry(t *testing.T) {
	cat, err := workloads.ParseCatalog([]byte("functions:\n  - {name: big, base: big, language: python, memory: 2G}\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := EngineConfig{Platform: baseline(MethodCold, 1<<30), Model: tinyModel("big"), Catalog: cat}
	w := workloads.Workload{Test: workloads.Phase{{Function: "big", Counts: []int{1, 0, 0, 0, 0, 0}}}}
	recs, _, sum := collect(t, cfg, w)
	if len(recs) != 1 || sum.Failed != 1 {
		t.Fatalf("records %+v, summary %+v", recs, sum)
	}
	r := recs[0]
	if r.Status != results.StatusFailed || r.Attempts != 4 || !strings.Contains(r.Error, "reach memory limitation") {
		t.Errorf("record %+v", r)
	}
	// 4 answers of 1 ms overhead each, and 0.5 + 1 + 2 s of back-off.
	if got, want := r.TotalMs, 3504.0; math.Abs(got-want) > 1e-6 {
		t.Errorf("total %v ms, want %v", got, want)
	}
}

// TestEngineAbandons: a request still running at 1.2 × the phase length is
// recorded as abandoned, not dropped.
func TestEngineAbandons(t *testing.T) {
	cat, _ := workloads.ParseCatalog([]byte("functions:\n  - {name: slow, base: slow, language: python, memory: 1M}\n"), "test")
	cfg := EngineConfig{Platform: baseline(MethodCold, 1<<30), Model: tinyModel("slow"), Catalog: cat}
	// One second of phase: the deadline is int(1 × 1.2) = 1 s; the request
	// needs 0.1 s to start and 1 s to run.
	w := workloads.Workload{Test: workloads.Phase{{Function: "slow", Counts: []int{2}}}}
	recs, _, sum := collect(t, cfg, w)
	if sum.Abandoned != 2 || len(recs) != 2 {
		t.Fatalf("summary %+v", sum)
	}
	for _, r := range recs {
		if r.Status != results.StatusAbandoned || !math.IsNaN(r.DoneS) || r.Attempts != 1 {
			t.Errorf("record %+v", r)
		}
	}
	if sum.End != time.Second {
		t.Errorf("run ended at %v, want the 1 s deadline", sum.End)
	}
}

func TestEngineMemorySamples(t *testing.T) {
	cfg := EngineConfig{Platform: DefaultConfig(MethodTrEnv), Model: defaultModel(t), JitterSeed: 1}
	w := workloads.Workload{Test: workloads.Phase{{Function: "pyaes", Counts: []int{5, 0, 0, 0}}}}
	var samples []float64
	var bytes []int64
	_, err := Run(context.Background(), cfg, w, hooks{memory: func(ts float64, b int64) error {
		samples = append(samples, ts)
		bytes = append(bytes, b)
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(samples) < 2 || samples[0] != 0 || samples[1] != 1 {
		t.Fatalf("samples at %v", samples)
	}
	// 70 seeds resident from the start.
	seed := defaultModel(t).Functions[SeedFunction].ResidentMB[calibration.MethodCold].Value
	if bytes[0] != int64(70*seed*1e6) {
		t.Errorf("resident at 0 s: %d, want 70 seeds × %v MB", bytes[0], seed)
	}
}

// BenchmarkEngineW1 measures simulated invocations per second of W1
// (5,197 requests) under TrEnv, records discarded.
func BenchmarkEngineW1(b *testing.B) {
	w := w1(b)
	cfg := EngineConfig{Platform: DefaultConfig(MethodTrEnv), Model: defaultModel(b), JitterSeed: 1,
		Catalog: workloads.DefaultCatalog()}
	n := w.Warmup.Requests() + w.Test.Requests()
	cpu0, _ := results.ProcessCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), cfg, w, results.Discard{}); err != nil {
			b.Fatal(err)
		}
	}
	reportSpeed(b, n, cpu0)
}

// reportSpeed reports simulated invocations per second of wall time
// (inv/s) and per second of the process's CPU time (inv/cpu-s: what one
// core does, however many other processes share the machine), n per op,
// CPU time counted from cpu0.
func reportSpeed(b *testing.B, n int, cpu0 time.Duration) {
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "inv/s")
	if cpu1, ok := results.ProcessCPU(); ok && cpu1 > cpu0 {
		b.ReportMetric(float64(n*b.N)/(cpu1-cpu0).Seconds(), "inv/cpu-s")
	}
}

// BenchmarkEngineW1Devices is BenchmarkEngineW1 for the methods whose
// restores or first executions page in from a shared device (T-RDMA's
// link, the CXL tmpfs of CRIU's and REAP+'s images), so that the device
// resources are exercised too.
func BenchmarkEngineW1Devices(b *testing.B) {
	w := w1(b)
	n := w.Warmup.Requests() + w.Test.Requests()
	for _, c := range []struct{ name, method, pool string }{
		{"trenv-rdma", MethodTrEnv, PoolRDMA}, {"criu", MethodCRIU, ""}, {"reap", MethodREAP, ""},
	} {
		b.Run(c.name, func(b *testing.B) {
			pc := DefaultConfig(c.method)
			if c.pool != "" {
				pc.Pool = c.pool
			}
			cfg := EngineConfig{Platform: pc, Model: defaultModel(b), JitterSeed: 1, Catalog: workloads.DefaultCatalog()}
			cpu0, _ := results.ProcessCPU()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := Run(context.Background(), cfg, w, results.Discard{}); err != nil {
					b.Fatal(err)
				}
			}
			reportSpeed(b, n, cpu0)
		})
	}
}

// BenchmarkEngineW1Metrics is BenchmarkEngineW1 with faasd's metrics
// formatted for the recorder after each phase, as a run directory gets
// them (results.Discard alone gets none).
func BenchmarkEngineW1Metrics(b *testing.B) {
	w := w1(b)
	cfg := EngineConfig{Platform: DefaultConfig(MethodTrEnv), Model: defaultModel(b), JitterSeed: 1,
		Catalog: workloads.DefaultCatalog()}
	n := w.Warmup.Requests() + w.Test.Requests()
	var got int
	rec := metricsOnly{n: &got}
	cpu0, _ := results.ProcessCPU()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Run(context.Background(), cfg, w, rec); err != nil {
			b.Fatal(err)
		}
	}
	reportSpeed(b, n, cpu0)
	if got != 2*b.N {
		b.Fatalf("%d metrics snapshots, want 2 per run", got)
	}
}

// metricsOnly is a Recorder that counts the metrics it is given and
// keeps nothing.
type metricsOnly struct {
	results.Discard
	n *int
}

func (m metricsOnly) Metrics(string, []byte) error { *m.n++; return nil }

// BenchmarkEngineAzureAllMethods runs the azure workload (built-in sample
// dataset) once for each of the six methods per iteration, records written
// to requests.csv in memory.
func BenchmarkEngineAzureAllMethods(b *testing.B) {
	res, _, err := workloads.Make(context.Background(), workloads.Spec{Kind: "azure", Seed: workloads.DefaultSeed})
	if err != nil {
		b.Fatal(err)
	}
	model := defaultModel(b)
	n := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, m := range Methods {
			var buf strings.Builder
			rw := results.NewRequestWriter(&buf)
			sum, err := Run(context.Background(), EngineConfig{Platform: DefaultConfig(m), Model: model, JitterSeed: 1},
				res.Workload, hooks{request: rw.Write})
			if err != nil {
				b.Fatal(err)
			}
			n += sum.Scheduled
		}
	}
	b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "inv/s")
}

// TestEngineInterrupted cancels W1 part way through the warmup and part
// way through the test phase: every scheduled request still has exactly one
// record (the ones in flight and the unsent ones abandoned, a phase that
// never started all abandoned), and the error says it was interrupted.
func TestEngineInterrupted(t *testing.T) {
	w := w1(t)
	for _, after := range []int{300, 2500} {
		ctx, cancel := context.WithCancel(context.Background())
		var recs []results.Request
		cfg := EngineConfig{Platform: DefaultConfig(MethodTrEnv), Model: defaultModel(t), JitterSeed: 3}
		sum, err := Run(ctx, cfg, w, hooks{request: func(r *results.Request) error {
			recs = append(recs, *r)
			if len(recs) == after {
				cancel()
			}
			return nil
		}})
		cancel()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("after %d records: error %v, want context.Canceled", after, err)
		}
		got := map[string]int{}
		reasons := map[string]int{}
		for _, r := range recs {
			got[r.Phase+"/"+r.Function]++
			if r.Status == results.StatusAbandoned {
				reasons[r.Error]++
			}
		}
		for name, ph := range map[string]workloads.Phase{results.PhaseWarmup: w.Warmup, results.PhaseTest: w.Test} {
			for _, s := range ph {
				if n := (workloads.Phase{s}).Requests(); got[name+"/"+s.Function] != n {
					t.Errorf("after %d: %s/%s has %d records, the workload %d", after, name, s.Function, got[name+"/"+s.Function], n)
				}
			}
		}
		if sum.Scheduled != len(recs) || sum.OK+sum.Failed+sum.Abandoned != len(recs) {
			t.Errorf("after %d: summary %+v for %d records", after, sum, len(recs))
		}
		if reasons["interrupted before sending"] == 0 {
			t.Errorf("after %d: no unsent request recorded: %v", after, reasons)
		}
		if after < w.Warmup.Requests() && reasons["interrupted before the phase started"] != w.Test.Requests() {
			t.Errorf("interrupted in the warmup: %d test requests recorded as never started, want %d (%v)",
				reasons["interrupted before the phase started"], w.Test.Requests(), reasons)
		}
	}
}
