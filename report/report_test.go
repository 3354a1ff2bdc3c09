package report

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trenv-bench/results"
)

// fixtureRun is a run directory written by hand with results' writers.
type fixtureRun struct {
	name     string
	manifest results.Manifest
	requests []results.Request
	memory   []int64 // GiB at t = 0, 1, 2, … s
	// testStart is when the test phase started on the run clock, as the
	// manifest's phases record it; negative: it never started.
	testStart float64
}

func req(phase, fn string, e2e, done float64, st results.Status, kind results.StartKind) results.Request {
	r := results.Request{Phase: phase, Function: fn, ScheduledS: 0, SentS: 0, DoneS: done,
		E2EMs: e2e, TotalMs: e2e, FuncMs: math.NaN(), Attempts: 1, Status: st, StartKind: kind}
	if st != results.StatusOK {
		r.E2EMs = math.NaN()
	}
	if st == results.StatusAbandoned {
		r.DoneS, r.TotalMs = math.NaN(), math.NaN()
	}
	return r
}

func writeFixture(t *testing.T, root string, f fixtureRun) string {
	t.Helper()
	dir := filepath.Join(root, f.name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if f.testStart >= 0 {
		warmEnd := f.testStart
		f.manifest.Phases = []results.PhaseSpan{{Name: warm, EndS: &warmEnd}, {Name: test, StartS: f.testStart}}
	}
	if err := f.manifest.WriteFile(filepath.Join(dir, results.ManifestFile)); err != nil {
		t.Fatal(err)
	}
	var rb bytes.Buffer
	rw := results.NewRequestWriter(&rb)
	for i := range f.requests {
		if err := rw.Write(&f.requests[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := rw.Flush(); err != nil {
		t.Fatal(err)
	}
	var mb bytes.Buffer
	mw := results.NewMemoryWriter(&mb)
	for i, g := range f.memory {
		if err := mw.Write(float64(i), g<<30); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Flush(); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{results.RequestsFile: rb.Bytes(), results.MemoryFile: mb.Bytes()} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const (
	ok        = results.StatusOK
	failed    = results.StatusFailed
	abandoned = results.StatusAbandoned
	warm      = results.PhaseWarmup
	test      = results.PhaseTest
)

// fixture writes three runs: T-CXL and REAP+ on workload "1" (sim), and
// faasd on workload "2" (twin at 10x).
func fixture(t *testing.T) (root string, dirs []string) {
	root = t.TempDir()
	man := func(method, pool, wl string, target results.Target, speed float64) results.Manifest {
		return results.Manifest{Method: method, Pool: pool, Target: target, Speed: speed, Status: results.RunComplete,
			Platform: results.PlatformFlags{MemGB: 64, GCMin: 2, IdleNum: 70},
			Workload: results.WorkloadInfo{Name: wl, TestSHA256: "sha-" + wl}}
	}
	runs := []fixtureRun{
		{
			// T-CXL: the test phase starts at 5.5 s.
			name: "w1-trenv-cxl-sim", manifest: man("trenv", "cxl", "1", results.TargetSim, 0), testStart: 5.5,
			requests: []results.Request{
				req(warm, "pyaes", 7, 3.0, ok, results.StartCold),
				req(warm, "pyaes", 7, 5.5, ok, results.StartReuse),
				req(test, "pyaes", 10, 1, ok, results.StartSwitch),
				req(test, "pyaes", 20, 2, ok, results.StartReuse),
				req(test, "pyaes", 40, 3, ok, results.StartReuse), // out of order on purpose
				req(test, "pyaes", 30, 4, ok, results.StartReuse),
				req(test, "pyaes", 0, 5, failed, ""),
				req(test, "crypto", 5, 1, ok, results.StartSwitch),
				req(test, "crypto", 0, 0, abandoned, ""),
			},
			// t:     0  1  2  3  4  5  6  7  8  9  10
			memory: []int64{1, 1, 8, 1, 1, 1, 2, 4, 3, 2, 1},
		},
		{
			// REAP+: the test phase starts at 4 s.
			name: "w1-reap-sim", manifest: man("reap", "", "1", results.TargetSim, 0), testStart: 4,
			requests: []results.Request{
				req(warm, "crypto", 9, 3.9, ok, results.StartRestore),
				req(test, "pyaes", 50, 1, ok, results.StartRestore),
				req(test, "pyaes", 60, 1, ok, results.StartRestore),
				req(test, "pyaes", 70, 1, ok, results.StartReuse),
				req(test, "pyaes", 80, 1, ok, results.StartReuse),
				req(test, "pyaes", 90, 1, ok, results.StartReuse),
				req(test, "crypto", 15, 1, ok, results.StartRestore),
			},
			// t:     0  1  2  3  4  5  6  7  8
			memory: []int64{1, 1, 1, 9, 2, 3, 5, 4, 1},
		},
		{
			// faasd on the twin at 10x: the run clock is model time; the
			// test phase starts at 5 s.
			name: "w2-cold-twin", manifest: man("cold", "", "2", results.TargetTwin, 10), testStart: 5,
			requests: []results.Request{
				req(warm, "pyaes", 3, 4.8, ok, results.StartCold),
				req(test, "pyaes", 3, 1, ok, results.StartCold),
			},
			// t:     0  1  2  3  4  5  6  7
			memory: []int64{6, 6, 6, 6, 6, 1, 3, 2},
		},
	}
	for _, r := range runs {
		dirs = append(dirs, writeFixture(t, root, r))
	}
	return root, dirs
}

func TestLoadNumbers(t *testing.T) {
	root, _ := fixture(t)
	dirs, err := results.FindRunDirs([]string{root})
	if err != nil || len(dirs) != 3 {
		t.Fatalf("results.FindRunDirs: %v %v", dirs, err)
	}
	rep, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Sections) != 2 || rep.Sections[0].Workload != "1" || rep.Sections[1].Workload != "2" {
		t.Fatalf("sections: %+v", rep.Sections)
	}
	s1 := rep.Sections[0]
	if len(s1.Runs) != 2 || s1.Runs[0].System != SystemTCXL || s1.Runs[1].System != SystemREAP {
		t.Fatalf("section 1 runs: %v, %v", s1.Runs[0].System, s1.Runs[1].System)
	}
	if got := strings.Join(s1.Functions, ","); got != "crypto,pyaes" {
		t.Fatalf("functions %s", got)
	}
	cxl, reap := s1.Runs[0], s1.Runs[1]

	type want struct {
		count, ok, failed, abandoned   int
		p50, p99, p999                 float64
		cold, restore, switches, reuse int
	}
	check := func(r *Run, fn string, w want) {
		t.Helper()
		row, found := r.Row(fn)
		if !found {
			t.Fatalf("%s: no row %s", r.Name, fn)
		}
		got := want{row.Count, row.OK, row.Failed, row.Abandoned, row.P50Ms, row.P99Ms, row.P999Ms,
			row.Cold, row.Restore, row.Switch, row.Reuse}
		if got != w {
			t.Errorf("%s %s:\n got %+v\nwant %+v", r.Name, fn, got, w)
		}
	}
	// T-CXL pyaes: ok e2e sorted 10 20 30 40 (n=4); P50 rank ⌈2⌉=2 → 20;
	// P99 rank ⌈3.96⌉=4 → 40; P99.9 rank ⌈3.996⌉=4 → 40. One failed.
	check(cxl, "pyaes", want{5, 4, 1, 0, 20, 40, 40, 0, 0, 1, 3})
	// crypto: one ok (5), one abandoned.
	check(cxl, "crypto", want{2, 1, 0, 1, 5, 5, 5, 0, 0, 1, 0})
	// all: 5 10 20 30 40 (n=5); P50 rank ⌈2.5⌉=3 → 20; P99 rank ⌈4.95⌉=5 → 40.
	check(cxl, AllFunctions, want{7, 5, 1, 1, 20, 40, 40, 0, 0, 2, 3})
	// REAP+ pyaes: 50 60 70 80 90; P50 rank 3 → 70; P99 rank 5 → 90.
	check(reap, "pyaes", want{5, 5, 0, 0, 70, 90, 90, 0, 2, 0, 3})
	check(reap, "crypto", want{1, 1, 0, 0, 15, 15, 15, 0, 1, 0, 0})
	// all: 15 50 60 70 80 90 (n=6); P50 rank 3 → 60; P99 rank ⌈5.94⌉=6 → 90.
	check(reap, AllFunctions, want{6, 6, 0, 0, 60, 90, 90, 0, 3, 0, 3})
	if cxl.Warmup != (results.RequestCounts{Scheduled: 2, OK: 2}) {
		t.Errorf("warmup counts %+v", cxl.Warmup)
	}

	// Speed-ups of T-CXL over REAP+: baseline ÷ T-CXL.
	for _, c := range []struct {
		fn       string
		p50, p99 float64
	}{
		{"pyaes", 70.0 / 20, 90.0 / 40},      // 3.5, 2.25
		{"crypto", 15.0 / 5, 15.0 / 5},       // 3, 3
		{AllFunctions, 60.0 / 20, 90.0 / 40}, // 3, 2.25
	} {
		if s1.Reference(reap) != cxl || s1.Reference(cxl) != nil {
			t.Fatal("reference run")
		}
		ref, _ := cxl.Row(c.fn)
		v, _ := reap.Row(c.fn)
		p50, p99 := Speedup(ref, v)
		if p50 != c.p50 || p99 != c.p99 {
			t.Errorf("speed-up %s: %v %v, want %v %v", c.fn, p50, p99, c.p50, c.p99)
		}
	}

	// Memory over the test phase the manifest records. T-CXL from 5.5 s:
	// samples t=6..10 → 2 4 3 2 1 GiB: peak 4, mean 12/5 = 2.4 GiB (the
	// 8 GiB at t=2 is warmup).
	// REAP+ from 4 s: t=4..8 → 2 3 5 4 1: peak 5, mean 15/5 = 3.
	// faasd twin from 5 s (model time): t=5..7 → 1 3 2: peak 3, mean 2.
	for _, c := range []struct {
		r         *Run
		span      Span
		from      float64
		n         int
		peak, avg float64 // GiB
	}{
		{cxl, SpanTest, 5.5, 5, 4, 2.4},
		{reap, SpanTest, 4, 5, 5, 3},
		{rep.Sections[1].Runs[0], SpanTest, 5, 3, 3, 2},
	} {
		m := c.r.Memory
		if m.Span != c.span || m.FromS != c.from || m.Samples != c.n ||
			m.PeakBytes != int64(c.peak*gib) || math.Abs(m.MeanBytes-c.avg*gib) > 1 {
			t.Errorf("%s memory %+v, want span %q from %v, %d samples, peak %v GiB, mean %v GiB",
				c.r.Name, m, c.span, c.from, c.n, c.peak, c.avg)
		}
	}
}

// TestMemoryWholeRunWhenNoTestPhase: a run whose test phase never started
// (the manifest has no test phase) is summed over all its samples.
func TestMemoryWholeRunWhenNoTestPhase(t *testing.T) {
	root := t.TempDir()
	dir := writeFixture(t, root, fixtureRun{name: "x", testStart: -1,
		manifest: results.Manifest{Method: "criu", Target: results.TargetHost, Status: results.RunFailed, Workload: results.WorkloadInfo{Name: "1"}},
		requests: []results.Request{req(warm, "pyaes", 0, 0, abandoned, ""), req(test, "pyaes", 4, 1, ok, "")},
		memory:   []int64{7, 1},
	})
	r, err := LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Memory.Span != SpanWholeRun || r.Memory.PeakBytes != 7<<30 || r.Memory.Samples != 2 || r.Simulated {
		t.Fatalf("%+v", r)
	}
}

func TestProblemsKeptNotFatal(t *testing.T) {
	root := t.TempDir()
	dir := writeFixture(t, root, fixtureRun{name: "cut", testStart: -1,
		manifest: results.Manifest{Method: "trenv", Pool: "rdma", Target: results.TargetSim, Status: results.RunInterrupted, Workload: results.WorkloadInfo{Name: "azure"}},
		requests: []results.Request{req(test, "pyaes", 4, 1, ok, "")},
	})
	// A crash cuts requests.csv mid-row.
	f, _ := os.OpenFile(filepath.Join(dir, results.RequestsFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("test,pyaes,1.0")
	f.Close()
	r, err := LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Problems) != 1 || r.All.OK != 1 || r.System != SystemTRDMA {
		t.Fatalf("problems %v, all %+v", r.Problems, r.All)
	}
}

func TestWriteFormats(t *testing.T) {
	_, dirs := fixture(t)
	rep, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}

	var md bytes.Buffer
	if err := rep.Write(&md, FormatMarkdown); err != nil {
		t.Fatal(err)
	}
	tabs := mdTables(t, md.String())
	// The fixture's numbers (TestLoadNumbers): T-CXL's P50/P99 pyaes 20/40,
	// all 20/40, peak 4 GiB; REAP+'s pyaes 70/90, all 60/90, peak 5 GiB.
	sum := tabs["/Summary: T-CXL against each system"]
	if len(sum) != 3 || !slices.Equal(sum[0], []string{"workload", "data", "T-CXL", "vs faasd", "vs REAP+"}) {
		t.Fatalf("summary %q", sum)
	}
	// Runs of two targets (sim, twin): the rows name theirs.
	wantW1 := []string{"W1 (-w 1) [sim]", "no dataset", "P50 " + fmtMs(20) + " ms · P99 " + fmtMs(40) + " ms · peak " + fmtGiB(4*gib) + " GiB",
		dash, "P50 " + fmtRatio(60.0/20) + " · P99 " + fmtRatio(90.0/40) + " · mem " + fmtRatio(5.0/4)}
	if !slices.Equal(sum[1], wantW1) || !slices.Equal(sum[2][:3], []string{"W2 (-w 2)", "no dataset", "no T-CXL run"}) {
		t.Errorf("summary rows:\n %q\n %q\nwant W1 %q", sum[1], sum[2], wantW1)
	}
	w1 := "W1 (-w 1)/"
	for _, c := range []struct {
		table string
		row   int
		want  []string
	}{
		{"Runs", 1, []string{"T-CXL [sim]", "w1-trenv-cxl-sim", "sim (SIMULATED)", "complete", "--mem 64 --gc 2 --idle-num 70", "5 ok, 1 failed, 1 abandoned", "2 ok"}},
		{"Latency, all functions together", 2, []string{"REAP+ [sim]", fmtMs(60), fmtMs(90), fmtMs(90), fmtRatio(3), fmtRatio(2.25)}},
		{"Start kinds and memory", 1, []string{"T-CXL [sim]", "0", "0", "2", "3", "2", fmtGiB(4 * gib), fmtGiB(2.4 * gib), dash}},
		{"Start kinds and memory", 2, []string{"REAP+ [sim]", "0", "3", "0", "3", "0", fmtGiB(5 * gib), fmtGiB(3 * gib), fmtRatio(5.0 / 4)}},
		{"P50 end-to-end latency per function (ms)", 2, []string{"pyaes", fmtMs(20), fmtMs(70) + " · " + fmtRatio(3.5)}},
		{"P99 end-to-end latency per function (ms)", 1, []string{"crypto", fmtMs(5), fmtMs(15) + " · " + fmtRatio(3)}},
		{"Failed and abandoned requests", 1, []string{"crypto", "0 / 1", "0 / 0"}},
		{"Failed and abandoned requests", 2, []string{"pyaes", "1 / 0", "0 / 0"}},
	} {
		rows := tabs[w1+c.table]
		if c.row >= len(rows) || !slices.Equal(rows[c.row], c.want) {
			t.Errorf("%s row %d: got %q, want %q", c.table, c.row, rows, c.want)
		}
	}
	if rows := tabs["W2 (-w 2)/Latency, all functions together"]; len(rows) != 2 || rows[1][4] != dash {
		t.Errorf("W2 without T-CXL: %q", rows)
	}
	if about := tabs["/About these runs"]; len(about) < 2 || !slices.Equal(about[1], []string{"runs", "3"}) {
		t.Errorf("about %q", about)
	}
	for _, want := range []string{"SIMULATED: 3 of 3 runs", "No speed-ups: this workload has no T-CXL run", "Data: workload.json sha256 sha-1."} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if t.Failed() {
		t.Log(md.String())
	}

	var cb bytes.Buffer
	if err := rep.Write(&cb, FormatCSV); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cb).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != strings.Join(CSVColumns(), ",") || len(recs) != 1+3+3+2 {
		t.Fatalf("csv: %d rows, header %v", len(recs), recs[0])
	}
	byKey := map[string][]string{}
	for _, r := range recs[1:] {
		byKey[r[2]+"/"+r[6]] = r
	}
	if r := byKey["w1-reap-sim/pyaes"]; r[11] != "70.000" || r[12] != "90.000" || r[14] != "3.5000" || r[15] != "2.2500" || r[4] != "true" {
		t.Errorf("csv reap pyaes: %v", r)
	}
	if r := byKey["w1-trenv-cxl-sim/(all)"]; r[20] != "4294967296" || r[21] != "2576980378" || r[22] != string(SpanTest) || r[14] != "" {
		t.Errorf("csv cxl all: %v", r)
	}
	if r := byKey["w1-trenv-cxl-sim/pyaes"]; r[20] != "" || r[9] != "1" {
		t.Errorf("csv cxl pyaes: %v", r)
	}

	// HTML: self-contained, the figure inlined unescaped, the same tables.
	figPath := filepath.Join(t.TempDir(), "fig10a.png")
	data := []byte{0xfb, 0xef, 0xbe, 0xfb, 0xef, 0xbe} // base64 "++++++++"
	os.WriteFile(figPath, data, 0o644)
	fig, err := LoadFigure(figPath)
	if err != nil {
		t.Fatal(err)
	}
	rep.Figures = []Figure{fig}
	var hb bytes.Buffer
	if err := rep.Write(&hb, FormatHTML); err != nil {
		t.Fatal(err)
	}
	page := parseHTML(t, hb.String())
	if srcs := page.imgSrcs; len(srcs) != 1 || srcs[0] != "data:image/png;base64,"+base64.StdEncoding.EncodeToString(data) ||
		strings.Contains(hb.String(), "&#43;") {
		t.Errorf("image sources %q: want the data URI, unescaped", srcs)
	}
	if len(page.banners) != 1 || !strings.HasPrefix(page.banners[0], "⚠ SIMULATED") {
		t.Errorf("banners %q", page.banners)
	}
	for key, rows := range tabs {
		if !slices.EqualFunc(page.tables[key], rows, slices.Equal) {
			t.Errorf("html table %s:\n %q\nmarkdown:\n %q", key, page.tables[key], rows)
		}
	}
	if len(page.tables) != len(tabs) {
		t.Errorf("%d tables in html, %d in markdown", len(page.tables), len(tabs))
	}
	if strings.Contains(hb.String(), "http://") || strings.Contains(hb.String(), "https://") || strings.Contains(hb.String(), filepath.Dir(figPath)) {
		t.Error("html is not self-contained, or shows a local directory")
	}
	if err := rep.Write(&hb, "pdf"); !errors.Is(err, ErrFormat) {
		t.Errorf("pdf: %v", err)
	}
}

// TestModelVariantRuns: a model variant's run is its own system (labelled
// Reconfig, ranked after the paper's systems), compared with the section's
// T-CXL run; its section says it restates the calibration; the summary
// compares T-CXL with the paper's systems only.
func TestModelVariantRuns(t *testing.T) {
	root := t.TempDir()
	man := func(variant string) results.Manifest {
		return results.Manifest{Method: "trenv", Pool: "cxl", ModelVariant: variant, Target: results.TargetSim, Status: results.RunComplete,
			Workload: results.WorkloadInfo{Name: "steps-json-serde", TestSHA256: "sha-steps"}}
	}
	var dirs []string
	for _, f := range []fixtureRun{
		{name: "steps-json-serde-trenv-cxl-reconfig-sim", manifest: man(results.VariantReconfig),
			requests: []results.Request{req(test, "json-serde", 180, 1, ok, results.StartSwitch), req(test, "json-serde", 200, 6, ok, results.StartSwitch)},
			memory:   []int64{1, 2, 1}},
		{name: "steps-json-serde-trenv-cxl-sim", manifest: man(""),
			requests: []results.Request{req(test, "json-serde", 100, 1, ok, results.StartSwitch), req(test, "json-serde", 100, 6, ok, results.StartSwitch)},
			memory:   []int64{1, 1, 1}},
	} {
		dirs = append(dirs, writeFixture(t, root, f))
	}
	rep, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Sections[0]
	if len(s.Runs) != 2 || s.Runs[0].System != SystemTCXL || s.Runs[1].System != results.SystemReconfig || s.Runs[1].Label() != "Reconfig [sim]" {
		t.Fatalf("runs %q %q", s.Runs[0].System, s.Runs[1].System)
	}
	if ref := s.Reference(s.Runs[1]); ref != s.Runs[0] {
		t.Errorf("Reconfig compared with %v, want the T-CXL run", ref)
	}
	p50, p99 := Speedup(s.Runs[0].All, s.Runs[1].All)
	if p50 != 1.8 || p99 != 2 {
		t.Errorf("speed-up of T-CXL over Reconfig: P50 %v, P99 %v; want 180/100, 200/100", p50, p99)
	}
	if len(s.Notes) != 1 || !strings.Contains(s.Notes[0], "steps-json-serde-trenv-cxl-reconfig-sim") || !strings.Contains(s.Notes[0], "restate the calibration") {
		t.Errorf("notes %q", s.Notes)
	}
	if base := rep.baselines(); len(base) != 0 {
		t.Errorf("the summary compares T-CXL with %v, want none (model variants are left out)", base)
	}
	var md bytes.Buffer
	if err := rep.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "restate the calibration") || strings.Contains(md.String(), "vs Reconfig") {
		t.Errorf("markdown: note %v, summary column %v", strings.Contains(md.String(), "restate the calibration"), strings.Contains(md.String(), "vs Reconfig"))
	}
}
