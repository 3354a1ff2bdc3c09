package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"trenv-bench/internal/fileerr"
	"trenv-bench/results"
)

// paperSystems are the systems the fixture's figures compare.
var paperSystems = []string{"T-CXL", "T-RDMA", "faasd", "CRIU", "FaaSnap+", "REAP+"}

// vocabulary is the fixture's: three figures and a few functions.
func vocabulary() Vocabulary {
	return Vocabulary{
		Figures: map[string]FigureSpec{
			"fig10a": {Workloads: []string{"1"}, Systems: paperSystems},
			"fig10b": {Workloads: []string{"2"}, Systems: paperSystems},
			"fig11a": {Workloads: []string{"1", "2", "azure", "huawei"}, Systems: paperSystems},
			"fig14":  {Workloads: []string{"steps-json-serde"}, Systems: []string{"faasd", "CRIU", "Reconfig", "Cgroup", "T-RDMA", "T-CXL", "FaaSnap+"}},
		},
		Order:     []string{"fig10a", "fig10b", "fig11a", "fig14"},
		Functions: []string{"crypto", "json-serde", "pyaes", "pyaes_1"},
	}
}

// run is a fixture run directory.
type run struct {
	name, method, pool, workload string
	ended                        time.Time
	// latencies are e2e_ms of ok test-phase requests per function.
	latencies map[string][]float64
	// peakGiB is the largest memory sample of the test phase; the warmup
	// holds a larger one, which must not count.
	peakGiB float64
	// startup and exec are faasd's start-new latencies of pyaes.
	startup, exec []float32
}

// Fixture geometry: the warmup runs 0–5 s, the test phase 5–10 s.
const (
	testStartS = 5.0
	testEndS   = 10.0
)

func writeRun(t *testing.T, root string, f run) string {
	t.Helper()
	dir := filepath.Join(root, f.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	create := func(name string) *os.File {
		fh, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return fh
	}
	fh := create(results.RequestsFile)
	rw := results.NewRequestWriter(fh)
	write := func(r results.Request) {
		if err := rw.Write(&r); err != nil {
			t.Fatal(err)
		}
	}
	write(results.Request{Phase: results.PhaseWarmup, Function: "pyaes", DoneS: 1, E2EMs: 9999, TotalMs: 9999, FuncMs: math.NaN(),
		Attempts: 1, Status: results.StatusOK})
	n := 0
	for _, fn := range slices.Sorted(func(yield func(string) bool) {
		for k := range f.latencies {
			if !yield(k) {
				return
			}
		}
	}) {
		for _, e2e := range f.latencies[fn] {
			write(results.Request{Phase: results.PhaseTest, Function: fn, DoneS: 1, E2EMs: e2e, TotalMs: e2e, FuncMs: math.NaN(),
				Attempts: 1, Status: results.StatusOK})
			n++
		}
	}
	// A failed request counts in no latency.
	write(results.Request{Phase: results.PhaseTest, Function: "pyaes", DoneS: 1, E2EMs: math.NaN(), TotalMs: 60000, FuncMs: math.NaN(),
		Attempts: 4, Status: results.StatusFailed, Error: "HTTP 500"})
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	fh.Close()

	fh = create(results.MemoryFile)
	mw := results.NewMemoryWriter(fh)
	for s := 0; s <= int(testEndS); s++ {
		gib := 1.0
		switch {
		case s == 2:
			gib = 99 // the warmup's: not counted
		case s == 7:
			gib = f.peakGiB
		}
		if err := mw.Write(float64(s), int64(gib*(1<<30))); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Flush(); err != nil {
		t.Fatal(err)
	}
	fh.Close()

	met := &results.Metrics{}
	for i := range f.startup {
		met.AddLatencyMs(results.LabelStartNewLatency, "pyaes", f.startup[i])
		met.AddLatencyMs(results.LabelStartNewExecLatency, "pyaes", f.exec[i])
	}
	fh = create(results.MetricsFile)
	if _, err := met.WriteTo(fh); err != nil {
		t.Fatal(err)
	}
	fh.Close()

	warmEnd, end := testStartS, testEndS
	m := results.Manifest{Method: f.method, Pool: f.pool, Target: results.TargetSim, Status: results.RunComplete,
		Workload: results.WorkloadInfo{Name: f.workload}, EndedAt: f.ended,
		Phases: []results.PhaseSpan{{Name: results.PhaseWarmup, EndS: &warmEnd}, {Name: results.PhaseTest, StartS: testStartS, EndS: &end, Scheduled: n + 1}}}
	if err := m.WriteFile(filepath.Join(dir, results.ManifestFile)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// fixtureRuns writes the runs testdata/reference.csv is compared with.
func fixtureRuns(t *testing.T) []*results.Run {
	t.Helper()
	root := t.TempDir()
	day := time.Date(2024, 4, 9, 12, 0, 0, 0, time.UTC)
	var dirs []string
	for _, f := range []run{
		{name: "w1-trenv-cxl", method: "trenv", pool: "cxl", workload: "1", peakGiB: 2,
			latencies: map[string][]float64{"pyaes": {40, 10, 30, 20}, "crypto": {5}}},
		{name: "w1-cold", method: "cold", workload: "1", peakGiB: 6, ended: day,
			latencies: map[string][]float64{"pyaes": {100, 200, 300, 400}}, startup: []float32{400, 420}, exec: []float32{340, 360}},
		// An older faasd run of W1: passed over, with a note.
		{name: "w1-cold-old", method: "cold", workload: "1", peakGiB: 60, ended: day.Add(-time.Hour),
			latencies: map[string][]float64{"pyaes": {1, 1}}},
		{name: "w1-reap", method: "reap", workload: "1", peakGiB: 3, latencies: map[string][]float64{"pyaes": {50, 60, 70, 80}}},
		{name: "w2-trenv-cxl", method: "trenv", pool: "cxl", workload: "2", peakGiB: 1, latencies: map[string][]float64{"pyaes": {10, 10}}},
		{name: "w2-cold", method: "cold", workload: "2", peakGiB: 1, latencies: map[string][]float64{"pyaes": {50, 50}}},
	} {
		dirs = append(dirs, writeRun(t, root, f))
	}
	runs, err := results.LoadRuns(dirs)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func readFixture(t *testing.T) *Reference {
	t.Helper()
	f, err := os.Open("testdata/reference.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ref, err := ReadReference(f, "reference.csv", vocabulary())
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

// TestCompareFixture checks every score of the fixture table against its
// runs, worked out by hand (the model values are noted in the table):
//
// fig10a × 1: seven points, |ln| 0, ln 2, ln 1.25, ln 1.25, 0, ln 6.25,
// ln 1.025 → median ln 1.25 = 0.2231; five within 25 % (ratios 1, 0.8,
// 0.8, 1, 1.025); pairs: p50 (T-CXL, faasd, REAP+) all three concordant,
// p99 two of three (faasd < REAP+ in the reference, > in the model) → 5/6;
// one missing (CRIU). fig11a × 1: ln 1.5, ln 0.75, 0 → median 0.2877; two
// within (0.75 is on the band's edge); no pair (the peak references tie).
// fig10b × 2: one exact point, one missing. Overall: 11 points, median
// ln 1.25, 8 within, 5/6 concordant; worst: REAP+ p99, faasd p50, REAP+'s
// peak.
func TestCompareFixture(t *testing.T) {
	ref := readFixture(t)
	if len(ref.Rows) != 13 || ref.Rows[0].Line != 7 || ref.Rows[0].Value != 20 || ref.Rows[0].Metric != P50Ms {
		t.Fatalf("rows: %d, first %+v", len(ref.Rows), ref.Rows[0])
	}
	res := Compare(ref, fixtureRuns(t), Options{Worst: 3})
	if res.Rows != 13 || res.Runs != 6 {
		t.Errorf("rows %d, runs %d", res.Rows, res.Runs)
	}
	want := []struct {
		figure, workload    string
		points, missing     int
		median              float64
		within, pairs, conc int
	}{
		{"fig10a", "1", 7, 1, math.Log(1.25), 5, 6, 5},
		{"fig11a", "1", 3, 0, -math.Log(0.75), 2, 0, 0},
		{"fig10b", "2", 1, 1, 0, 1, 0, 0},
	}
	if len(res.Groups) != len(want) {
		t.Fatalf("groups %+v", res.Groups)
	}
	for i, w := range want {
		g := res.Groups[i]
		if g.Figure != w.figure || g.Workload != w.workload || g.Points != w.points || g.Missing != w.missing ||
			!near(g.MedianAbsLogRatio, w.median) || g.Within != w.within || g.Pairs != w.pairs || g.Concordant != w.conc {
			t.Errorf("group %d: %+v, want %+v", i, g, w)
		}
		if share := float64(w.within) / float64(w.points); !near(g.WithinShare, share) {
			t.Errorf("%s × %s: within share %v, want %v", w.figure, w.workload, g.WithinShare, share)
		}
		if (w.pairs == 0) != math.IsNaN(g.Concordance) || (w.pairs > 0 && !near(g.Concordance, float64(w.conc)/float64(w.pairs))) {
			t.Errorf("%s × %s: concordance %v", w.figure, w.workload, g.Concordance)
		}
	}
	o := res.Overall
	if o.Points != 11 || !near(o.MedianAbsLogRatio, math.Log(1.25)) || o.Within != 8 || o.Pairs != 6 || o.Concordant != 5 {
		t.Errorf("overall %+v", o)
	}

	byLine := map[int]Point{}
	for _, p := range res.Points {
		byLine[p.Line] = p
	}
	for line, model := range map[int]float64{7: 20, 9: 200, 11: 60, 13: 40, 15: 400, 17: 80, 21: 410, 23: 3, 25: 3, 27: 2, 29: 5} {
		p, ok := byLine[line]
		if !ok || !near(p.Model, model) || !near(p.LogRatio, math.Log(model/p.Value)) {
			t.Errorf("line %d: %+v, want model %v", line, p, model)
		}
	}
	if p := byLine[9]; !strings.HasSuffix(p.Run, "w1-cold") {
		t.Errorf("faasd's W1 point from %s, want the latest run w1-cold", p.Run)
	}
	if p := byLine[25]; !strings.HasSuffix(p.Run, "w1-cold") || !strings.HasSuffix(p.TCXLRun, "w1-trenv-cxl") {
		t.Errorf("memory ratio from %s ÷ %s", p.Run, p.TCXLRun)
	}
	var worst []int
	for _, p := range res.Worst {
		worst = append(worst, p.Line)
	}
	if !slices.Equal(worst, []int{17, 9, 23}) {
		t.Errorf("worst lines %v, want 17, 9, 23", worst)
	}
	if len(res.Missing) != 2 || res.Missing[0].Line != 19 || res.Missing[0].Reason != "no run of CRIU on workload 1" ||
		res.Missing[1].Line != 31 || !strings.Contains(res.Missing[1].Reason, "no ok test-phase request of crypto") {
		t.Errorf("missing %+v", res.Missing)
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "2 runs of faasd on workload 1") {
		t.Errorf("notes %q", res.Notes)
	}

	// The text and JSON forms say the same.
	var txt bytes.Buffer
	if err := res.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"fig10a × 1", "0.223", "71 % (5/7)", "83 % (5/6)", "overall", "73 % (8/11)",
		"reference.csv:19: fig10a 1 pyaes CRIU p50_ms: no run of CRIU on workload 1", "worst 3 points"} {
		if !strings.Contains(txt.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, txt.String())
		}
	}
	var js bytes.Buffer
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Groups []struct {
			Figure string
			Score  struct {
				Points      int      `json:"points"`
				Median      *float64 `json:"median_abs_log_ratio"`
				Concordance *float64 `json:"concordance"`
			}
		}
		Overall struct {
			Within int `json:"within_25pct"`
		}
		Missing []struct {
			Line   int
			Reason string
		}
		Points []Point
	}
	if err := json.Unmarshal(js.Bytes(), &back); err != nil {
		t.Fatalf("%v\n%s", err, js.String())
	}
	if len(back.Groups) != 3 || back.Groups[0].Score.Points != 7 || back.Groups[1].Score.Concordance != nil ||
		!near(*back.Groups[0].Score.Median, math.Log(1.25)) || back.Overall.Within != 8 || len(back.Missing) != 2 || len(back.Points) != 11 ||
		back.Points[0].Figure != "fig10a" || back.Points[0].Model != 20 {
		t.Errorf("JSON: %+v", back)
	}
}

// TestCompareTarget: Options.Target takes only runs of that target.
func TestCompareTarget(t *testing.T) {
	res := Compare(readFixture(t), fixtureRuns(t), Options{Target: results.TargetHost})
	if res.Runs != 0 || len(res.Points) != 0 || len(res.Missing) != 13 || !math.IsNaN(res.Overall.MedianAbsLogRatio) {
		t.Errorf("host only: %d runs, %d points, %d missing, %+v", res.Runs, len(res.Points), len(res.Missing), res.Overall)
	}
}

// TestReadReferenceErrors: every field is checked; errors name the file,
// line and field, the value and what was expected.
func TestReadReferenceErrors(t *testing.T) {
	const head = "figure,workload,function,system,metric,value\n"
	for _, c := range []struct{ name, csv, want string }{
		{"empty", "", "x.csv: validate: bad reference table: empty"},
		{"header", "figure,workload,function,system,metric\n", `x.csv:1: validate: bad reference table: header "figure,workload,function,system,metric": expected figure,workload,function,system,metric,value`},
		{"fields", head + "fig10a,1,pyaes,T-CXL,p50_ms\n", "x.csv:2: validate: bad reference table: 5 fields: expected 6"},
		{"figure", head + "fig99,1,pyaes,T-CXL,p50_ms,1\n", `x.csv:2: column "figure": validate: bad reference table: "fig99": expected one of fig10a, fig10b, fig11a, fig14`},
		{"workload", head + "fig10a,2,pyaes,T-CXL,p50_ms,1\n", `x.csv:2: column "workload": validate: bad reference table: "2": expected one of fig10a's workloads (1)`},
		{"system", head + "fig10a,1,pyaes,TCXL,p50_ms,1\n", `x.csv:2: column "system": validate: bad reference table: "TCXL": expected a system of the systems table (T-CXL, T-RDMA, faasd, CRIU, CRIU-lazy, FaaSnap+, REAP+, Reconfig, Cgroup)`},
		{"system of another figure", head + "fig10a,1,pyaes,Reconfig,p50_ms,1\n", `column "system": validate: bad reference table: "Reconfig": expected one of the systems fig10a compares`},
		{"function", head + "fig10a,1,pyaes_9,T-CXL,p50_ms,1\n", `x.csv:2: column "function": validate: bad reference table: "pyaes_9": expected a catalog function or (all)`},
		{"metric", head + "fig10a,1,pyaes,T-CXL,p95_ms,1\n", `column "metric": validate: bad reference table: "p95_ms": expected one of p50_ms, p99_ms, mean_ms`},
		{"whole run", head + "fig11a,1,pyaes,T-CXL,peak_memory_gib,1\n", `column "function": validate: bad reference table: "pyaes": peak_memory_gib covers the whole run: expected (all)`},
		{"relative to itself", head + "fig10a,1,pyaes,T-CXL,speedup_p99,1\n", `column "system": validate: bad reference table: "T-CXL": speedup_p99 compares a system with T-CXL`},
		{"not a number", head + "fig10a,1,pyaes,T-CXL,p50_ms,fast\n", `x.csv:2: column "value": validate: bad reference table: "fast": expected a number`},
		{"zero", head + "fig10a,1,pyaes,T-CXL,p50_ms,0\n", `column "value": validate: bad reference table: "0": expected a positive, finite number of at most 1e+09`},
		{"NaN", head + "fig10a,1,pyaes,T-CXL,p50_ms,NaN\n", `"NaN": expected a positive, finite number`},
		{"too large", head + "fig10a,1,pyaes,T-CXL,p50_ms,2e9\n", `"2e9": expected a positive, finite number of at most 1e+09`},
		{"duplicate", head + "fig10a,1,pyaes,T-CXL,p50_ms,1\n# again\nfig10a,1,pyaes,T-CXL,p50_ms,2\n", "x.csv:4: validate: bad reference table: the same figure, workload, function, system and metric as line 2"},
		{"bad CSV", head + "fig10a,1,\"pyaes,T-CXL,p50_ms,1\n", "x.csv:2: validate: bad reference table: not valid CSV"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadReference(strings.NewReader(c.csv), "x.csv", vocabulary())
			var fe *fileerr.Error
			if !errors.Is(err, ErrReference) || !errors.As(err, &fe) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v; want ErrReference, a *fileerr.Error, containing %q", err, c.want)
			}
		})
	}
	// Several problems at once, each named; the rest counted past MaxErrors.
	_, err := ReadReference(strings.NewReader(head+"fig99,1,pyaes,T-CXL,p50_ms,1\nfig10a,1,nope,T-CXL,p50_ms,-1\n"), "x.csv", vocabulary())
	if n := strings.Count(err.Error(), "\n") + 1; n != 3 {
		t.Errorf("%d errors, want 3: %v", n, err)
	}
	var many strings.Builder
	many.WriteString(head)
	for range MaxErrors + 5 {
		many.WriteString("fig99,1,pyaes,T-CXL,p50_ms,1\n")
	}
	if _, err := ReadReference(strings.NewReader(many.String()), "x.csv", vocabulary()); err == nil || !strings.Contains(err.Error(), "and 5 more errors") {
		t.Errorf("many errors: %v", err)
	}
}

// TestReadReferenceBounds: at most MaxRows rows and MaxBytes bytes; a BOM
// and comments are fine; a valid model variant row of Figure 14 reads.
func TestReadReferenceBounds(t *testing.T) {
	const head = "\ufeff# comment\nfigure,workload,function,system,metric,value\n"
	ref, err := ReadReference(strings.NewReader(head+"fig14,steps-json-serde,json-serde,Reconfig,mean_ms,179\n"), "x.csv", vocabulary())
	if err != nil || len(ref.Rows) != 1 || ref.Rows[0].Line != 3 || ref.Rows[0].System != "Reconfig" {
		t.Fatalf("%+v, %v", ref, err)
	}
	// Row bound: MaxRows + 1 distinct rows, over a vocabulary with many
	// functions.
	voc := vocabulary()
	var rows strings.Builder
	rows.WriteString(head)
	n := 0
	for i := 0; n <= MaxRows; i++ {
		fn := "f" + strconv.Itoa(i)
		voc.Functions = append(voc.Functions, fn)
		for _, sys := range paperSystems {
			for _, m := range []string{"p50_ms", "p99_ms", "mean_ms", "startup_ms", "exec_ms"} {
				if n <= MaxRows {
					rows.WriteString("fig10a,1," + fn + "," + sys + "," + m + ",1\n")
					n++
				}
			}
		}
	}
	_, err = ReadReference(strings.NewReader(rows.String()), "x.csv", voc)
	if err == nil || !strings.Contains(err.Error(), "more than 100000 rows") || !strings.Contains(err.Error(), "x.csv:"+strconv.Itoa(MaxRows+3)+":") {
		t.Errorf("MaxRows + 1 rows: %v", err)
	}
	big := head + strings.Repeat("# "+strings.Repeat("x", 1000)+"\n", MaxBytes/1000+2) + "fig10a,1,pyaes,T-CXL,p50_ms,1\n"
	if _, err := ReadReference(strings.NewReader(big), "x.csv", vocabulary()); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("a file over MaxBytes: %v", err)
	}
}

// TestScoreParts: the median of an even count is the mean of the middle
// two; a model tie where the reference orders counts as discordant; a
// reference tie is no pair.
func TestScoreParts(t *testing.T) {
	if got := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Errorf("median of 1–4: %v, want 2.5", got)
	}
	if got := median(nil); !math.IsNaN(got) {
		t.Errorf("median of nothing: %v", got)
	}
	pt := func(ref, model float64) Point { return Point{Row: Row{Value: ref}, Model: model} }
	for _, c := range []struct {
		ps          []Point
		pairs, conc int
	}{
		{[]Point{pt(1, 1), pt(2, 2), pt(3, 3)}, 3, 3},
		{[]Point{pt(1, 3), pt(2, 2), pt(3, 1)}, 3, 0},
		{[]Point{pt(1, 5), pt(2, 5)}, 1, 0}, // a model tie
		{[]Point{pt(2, 1), pt(2, 9)}, 0, 0}, // a reference tie
	} {
		if n, k := concordance(c.ps); n != c.pairs || k != c.conc {
			t.Errorf("%v: %d pairs, %d concordant; want %d, %d", c.ps, n, k, c.pairs, c.conc)
		}
	}
	if s := score(nil, 0, 0); s.Points != 0 || !math.IsNaN(s.MedianAbsLogRatio) || !math.IsNaN(s.WithinShare) || !math.IsNaN(s.Concordance) {
		t.Errorf("empty score %+v", s)
	}
	var b bytes.Buffer
	if err := Compare(&Reference{File: "r.csv"}, nil, Options{}).WriteJSON(&b); err != nil || !strings.Contains(b.String(), `"median_abs_log_ratio": null`) || !strings.Contains(b.String(), `"points": []`) {
		t.Errorf("empty result as JSON: %v\n%s", err, b.String())
	}
}

// FuzzReadReference: any input is read without panicking; an accepted
// table's rows are valid (positive, finite values of known metrics) and
// read back the same once written out again.
func FuzzReadReference(f *testing.F) {
	seed, err := os.ReadFile("testdata/reference.csv")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add([]byte("figure,workload,function,system,metric,value\nfig14,steps-json-serde,json-serde,Cgroup,startup_ms,75\n"))
	f.Add([]byte("figure,workload,function,system,metric,value\nfig10a,1,\"pyaes\",T-CXL,p50_ms,1e3\n"))
	voc := vocabulary()
	f.Fuzz(func(t *testing.T, data []byte) {
		ref, err := ReadReference(bytes.NewReader(data), "f.csv", voc)
		if err != nil {
			if !errors.Is(err, ErrReference) {
				t.Fatalf("an error that is not ErrReference: %v", err)
			}
			return
		}
		var b strings.Builder
		b.WriteString(strings.Join(Header, ",") + "\n")
		for _, r := range ref.Rows {
			if _, ok := r.Metric.Info(); !ok || !(r.Value > 0) || r.Value > MaxValue {
				t.Fatalf("accepted row %+v", r)
			}
			b.WriteString(strings.Join([]string{r.Figure, r.Workload, r.Function, r.System, string(r.Metric),
				strconv.FormatFloat(r.Value, 'g', -1, 64)}, ",") + "\n")
		}
		again, err := ReadReference(strings.NewReader(b.String()), "again.csv", voc)
		if err != nil || len(again.Rows) != len(ref.Rows) {
			t.Fatalf("re-read: %v", err)
		}
		for i := range again.Rows {
			a, r := again.Rows[i], ref.Rows[i]
			a.Line, r.Line = 0, 0
			if a != r {
				t.Fatalf("row %d: %+v, then %+v", i, r, a)
			}
		}
	})
}
