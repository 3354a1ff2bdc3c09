package plots

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"trenv-bench/results"
)

// fixture describes one hand-made run directory.
type fixture struct {
	// name is the directory name.
	name string
	// method, pool, variant (a model variant), workload and target go
	// into the manifest.
	method, pool, variant, workload string
	target                          results.Target
	// fns are the functions of the test phase.
	fns []string
	// perFn is the number of test requests per function.
	perFn int
	// slow scales every latency (one system is slower than another).
	slow float64
	// status is the manifest's status ("" = complete).
	status results.RunStatus
	// ended is the manifest's end time.
	ended time.Time
	// info, when its Name is set, is the manifest's workload description;
	// else the workload is {Name: workload} with the generator's seed, and
	// huawei and azure say they are the built-in sample (as reproduce
	// without datasets writes them).
	info results.WorkloadInfo
}

// Fixture geometry: the warmup ends at warmupEndS (its last request's
// done_s); memory is sampled every second up to memoryEndS.
const (
	warmupEndS = 10.0
	memoryEndS = 100
)

var (
	fewFunctions   = []string{"dynamic-html", "image-recognition", "pyaes"}
	traceFunctions = []string{"dynamic-html", "dynamic-html_1", "pyaes", "pyaes_2"}
)

// baseMs is a function's fixture latency: its execution time.
func baseMs(fn string) float64 {
	switch fn {
	case "dynamic-html", "dynamic-html_1":
		return 2
	case "image-recognition", "image-flip-rotate":
		return 150
	}
	return 350
}

// writeFixture writes f as a run directory under root and returns its path.
// Records come from results' writers, so they read back as a real run's.
func writeFixture(t testing.TB, root string, f fixture) string {
	t.Helper()
	dir := filepath.Join(root, f.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(len(f.name)), uint64(f.slow*1000)))
	if f.slow == 0 {
		f.slow = 1
	}
	if f.status == "" {
		f.status = results.RunComplete
	}
	if f.ended.IsZero() {
		f.ended = time.Date(2024, 4, 9, 12, 0, 0, 0, time.UTC)
	}

	// requests.csv: a warmup that ends at warmupEndS, then the test phase.
	create := func(name string) *os.File {
		fh, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return fh
	}
	fh := create(results.RequestsFile)
	rw := results.NewRequestWriter(fh)
	testEnd := 0.0 // the test phase's last done_s
	write := func(r results.Request) {
		if err := rw.Write(&r); err != nil {
			t.Fatal(err)
		}
		if r.Phase == results.PhaseTest && r.DoneS > testEnd {
			testEnd = r.DoneS
		}
	}
	for i, fn := range f.fns {
		done := warmupEndS - float64(i)*0.5
		write(results.Request{Phase: results.PhaseWarmup, Function: fn, ScheduledS: done - 1, SentS: done - 1,
			DoneS: done, E2EMs: 1000, TotalMs: 1000, FuncMs: math.NaN(), Attempts: 1, Status: results.StatusOK})
	}
	met := &results.Metrics{}
	startLabel, execLabel := results.LabelStartNewLatency, results.LabelStartNewExecLatency
	startMs := 400.0
	if f.method == "trenv" {
		startLabel, execLabel, startMs = results.LabelSwitchLatency, results.LabelSwitchExecLatency, 8
	}
	for _, fn := range f.fns {
		for i := range f.perFn {
			e2e := (baseMs(fn) + startMs*float64(i%4/3)) * f.slow * (0.9 + 0.2*rng.Float64())
			s := float64(i) * 0.5
			write(results.Request{Phase: results.PhaseTest, Function: fn, ScheduledS: s, SentS: s,
				DoneS: s + e2e/1000, E2EMs: e2e, TotalMs: e2e, FuncMs: baseMs(fn), Attempts: 1,
				Status: results.StatusOK, StartKind: results.StartReuse})
			met.AddLatencyMs(startLabel, fn, float32(startMs*f.slow*(0.9+0.2*rng.Float64())))
			met.AddLatencyMs(execLabel, fn, float32(baseMs(fn)))
		}
		// A failed request: never part of a latency.
		write(results.Request{Phase: results.PhaseTest, Function: fn, ScheduledS: 1, SentS: 1, DoneS: 2,
			E2EMs: math.NaN(), TotalMs: 1000, FuncMs: math.NaN(), Attempts: 4, Status: results.StatusFailed, Error: "HTTP 500"})
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	fh.Close()

	fh = create(results.MetricsFile)
	if _, err := met.WriteTo(fh); err != nil {
		t.Fatal(err)
	}
	fh.Close()

	// memory.csv: higher during the test phase; the peak inside it.
	fh = create(results.MemoryFile)
	mw := results.NewMemoryWriter(fh)
	for s := 0; s <= memoryEndS; s++ {
		gib := 1.0
		if float64(s) >= warmupEndS {
			gib = 2 + 3*f.slow + math.Sin(float64(s)/7)
		}
		if err := mw.Write(float64(s), int64(gib*GiB)); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Flush(); err != nil {
		t.Fatal(err)
	}
	fh.Close()

	info := f.info
	if info.Name == "" {
		seed := uint64(2022310806)
		info = results.WorkloadInfo{Name: f.workload, GeneratorSeed: &seed,
			TestSHA256: results.SHA256Hex([]byte("workload " + f.workload))}
		if f.workload == "huawei" || f.workload == "azure" {
			info.Dataset, info.Synthetic = results.DatasetBuiltInSample, true
		}
	}
	warmEnd, end := warmupEndS, warmupEndS+testEnd
	m := results.Manifest{
		Phases: []results.PhaseSpan{{Name: results.PhaseWarmup, StartS: 0, EndS: &warmEnd, Scheduled: len(f.fns)},
			{Name: results.PhaseTest, StartS: warmupEndS, EndS: &end, Scheduled: len(f.fns) * (f.perFn + 1)}},
		Method: f.method, Pool: f.pool, ModelVariant: f.variant, Target: f.target, Status: f.status,
		Workload: info, ToolVersion: "trenv-bench test", CalibrationSHA256: results.SHA256Hex([]byte("model")),
		StartedAt: f.ended.Add(-time.Hour), EndedAt: f.ended,
	}
	if err := m.WriteFile(filepath.Join(dir, results.ManifestFile)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fixtureSystems are the systems in the fixture: method, pool, and how
// much slower than T-CXL.
var fixtureSystems = []struct {
	label, method, pool string
	slow                float64
}{
	{"T-CXL", "trenv", "cxl", 1},
	{"T-RDMA", "trenv", "rdma", 1.3},
	{"faasd", "cold", "", 4},
	{"CRIU", "criu", "", 3},
	{"Lazy", "lazy", "", 2.5},
	{"FaaSnap+", "faasnap", "", 2},
	{"REAP+", "reap", "", 2.2},
}

// fixtureVariants are the model variants in the fixture (Figure 14's
// steps), on the model only.
var fixtureVariants = []struct {
	label, variant string
	slow           float64
}{
	{"Reconfig", results.VariantReconfig, 40},
	{"Cgroup", results.VariantCgroup, 35},
}

// writeAllFixtures writes, for every system, a run of W1, W2, func,
// huawei, azure and both Figure 11(b) experiments under root, with the
// given target, and of Figure 14's two workloads for its steps (the model
// variants only when target is simulated), and returns the directories.
func writeAllFixtures(t testing.TB, root string, target results.Target) []string {
	t.Helper()
	var dirs []string
	steps := []struct {
		workload string
		fns      []string
	}{{"steps-image-recognition", []string{"image-recognition"}}, {"steps-json-serde", []string{"json-serde"}}}
	for _, s := range fixtureSystems {
		if s.label == "Lazy" || s.label == "REAP+" {
			continue // not in Figure 14
		}
		for _, w := range steps {
			name := w.workload + "-" + s.method + "-" + s.pool
			dirs = append(dirs, writeFixture(t, root, fixture{name: name, method: s.method, pool: s.pool,
				workload: w.workload, target: target, fns: w.fns, perFn: 10, slow: s.slow}))
		}
	}
	for _, v := range fixtureVariants {
		if !target.Simulated() {
			break
		}
		for _, w := range steps {
			name := w.workload + "-trenv-cxl-" + v.variant
			dirs = append(dirs, writeFixture(t, root, fixture{name: name, method: "trenv", pool: "cxl", variant: v.variant,
				workload: w.workload, target: target, fns: w.fns, perFn: 10, slow: v.slow}))
		}
	}
	for _, s := range fixtureSystems {
		for _, w := range []struct {
			workload string
			fns      []string
			n        int
		}{
			{"1", fewFunctions, 40},
			{"2", fewFunctions, 40},
			{"func", fewFunctions, 5},
			{"huawei", traceFunctions, 30},
			{"azure", traceFunctions, 30},
			{"wl-image-recognition", []string{"image-recognition"}, 50},
			{"wl-image-flip-rotate", []string{"image-flip-rotate"}, 50},
		} {
			name := w.workload + "-" + s.method + "-" + s.pool
			dirs = append(dirs, writeFixture(t, root, fixture{name: name, method: s.method, pool: s.pool,
				workload: w.workload, target: target, fns: w.fns, perFn: w.n, slow: s.slow}))
		}
	}
	return dirs
}

// timeAt is hour h of a fixed day.
func timeAt(h int) time.Time { return time.Date(2024, 4, 9, h, 0, 0, 0, time.UTC) }
