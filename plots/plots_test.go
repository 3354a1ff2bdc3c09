package plots

import (
	"bytes"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"trenv-bench/results"
)

var update = flag.Bool("update", false, "rewrite the golden SVG files in testdata/")

// simRuns are the fixture runs of every system and experiment, target
// sim, written once for all tests.
var (
	simOnce sync.Once
	simDir  string
	simDirs []string
)

func simFixtures(t *testing.T) []*Run {
	t.Helper()
	simOnce.Do(func() {
		var err error
		if simDir, err = os.MkdirTemp("", "plots-test-"); err != nil {
			t.Fatal(err)
		}
		simDirs = writeAllFixtures(t, simDir, results.TargetSim)
	})
	runs, err := LoadRuns(simDirs)
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if simDir != "" {
		os.RemoveAll(simDir)
	}
	os.Exit(code)
}

// TestFiguresRenderPNG renders every figure from runs of all seven systems:
// a PNG of a sensible size, not blank, with every system's colour in it.
func TestPlotFiguresRenderPNG(t *testing.T) {
	runs := simFixtures(t)
	if got, want := Names(), []string{"fig10a", "fig10b", "fig11a", "fig11b", "fig12", "fig13", "fig14", "fig15"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	for _, spec := range Figures() {
		t.Run(spec.Name, func(t *testing.T) {
			fig, err := spec.Build(runs)
			if err != nil {
				t.Fatal(err)
			}
			if len(fig.Missing) != 0 || len(fig.Notes) != 0 {
				t.Errorf("Missing %v, Notes %v; want none", fig.Missing, fig.Notes)
			}
			if fig.Mark != SimulatedMark {
				t.Errorf("Mark %q, want %q", fig.Mark, SimulatedMark)
			}
			var buf bytes.Buffer
			if err := Render(&buf, fig, "", 0, 0); err != nil {
				t.Fatal(err)
			}
			if buf.Len() < 30_000 {
				t.Errorf("PNG of %d bytes, want at least 30 000", buf.Len())
			}
			img, err := png.Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if w := img.Bounds().Dx(); w != int(math.Ceil(float64(fig.Width/vg.Inch)*PNGDPI)) {
				t.Errorf("width %d px, want %v in at %d dpi", w, fig.Width/vg.Inch, PNGDPI)
			}
			colours := pixelColours(img)
			if len(colours) < 100 {
				t.Errorf("%d distinct colours: looks blank", len(colours))
			}
			want := Systems()
			if spec.Name == "fig14" { // its steps and FaaSnap+'s line
				want = nil
				for _, s := range allSystems() {
					if slices.Contains(fig14Steps, s.Name) || s.Name == fig14Reference {
						want = append(want, s)
					}
				}
				if len(want) != 7 {
					t.Fatalf("fig14's systems %v", want)
				}
			}
			for _, s := range want {
				if !colours[s.Color] {
					t.Errorf("%s's colour %v appears nowhere", s.Name, s.Color)
				}
			}
		})
	}
}

func pixelColours(img image.Image) map[color.RGBA]bool {
	seen := map[color.RGBA]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, a := img.At(x, y).RGBA()
			seen[color.RGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(bl >> 8), A: uint8(a >> 8)}] = true
		}
	}
	return seen
}

// TestSimulatedMark: the mark is in every SVG drawn from sim runs, and in
// none drawn from host runs.
func TestPlotSimulatedMark(t *testing.T) {
	hostRuns, err := LoadRuns(writeAllFixtures(t, t.TempDir(), results.TargetHost))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		runs []*Run
		want bool
	}{{simFixtures(t), true}, {hostRuns, false}} {
		for _, name := range Names() {
			fig, err := Build(name, c.runs)
			if name == "fig14" && !c.want {
				// On the model only: host runs are refused.
				if !errors.Is(err, ErrNoRuns) || !errors.Is(err, results.ErrModelOnly) {
					t.Errorf("fig14 from host runs: %v, want ErrNoRuns and ErrModelOnly", err)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := Render(&buf, fig, "svg", 0, 0); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(buf.String(), SimulatedMark); got != c.want {
				t.Errorf("%s: SVG has %q: %v, want %v", name, SimulatedMark, got, c.want)
			}
		}
	}
}

// TestRenderFormats: svg and pdf render; unknown formats are refused.
func TestPlotRenderFormats(t *testing.T) {
	fig, err := Fig11b(simFixtures(t))
	if err != nil {
		t.Fatal(err)
	}
	for format, magic := range map[string]string{"png": "\x89PNG", "svg": "<?xml", "pdf": "%PDF"} {
		var buf bytes.Buffer
		if err := Render(&buf, fig, format, 0, 0); err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		if !strings.HasPrefix(buf.String(), magic) {
			t.Errorf("%s output starts %q", format, buf.String()[:min(10, buf.Len())])
		}
	}
	if err := Render(&bytes.Buffer{}, fig, "gif", 0, 0); !errors.Is(err, ErrFormat) {
		t.Errorf("gif: %v, want ErrFormat", err)
	}
}

// TestMissingSystems: a figure draws the systems it has runs for and lists
// the paper's others.
func TestPlotMissingSystems(t *testing.T) {
	var some []*Run
	for _, r := range simFixtures(t) {
		if s, _ := SystemOf(r.Manifest); s.Name == "T-CXL" || s.Name == "REAP+" {
			some = append(some, r)
		}
	}
	for name, want := range map[string][]string{
		"fig10a": {"T-RDMA", "faasd", "CRIU", "FaaSnap+"},
		"fig11a": {"T-RDMA", "faasd", "CRIU", "FaaSnap+"},
		"fig11b": {"CRIU", "FaaSnap+"},
		"fig12":  {"T-RDMA", "faasd", "CRIU", "FaaSnap+"},
		"fig15":  {"T-RDMA", "faasd", "CRIU", "FaaSnap+"},
	} {
		fig, err := Build(name, some)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(fig.Missing, want) {
			t.Errorf("%s: Missing %v, want %v", name, fig.Missing, want)
		}
		var labels []string
		for _, e := range fig.Legend {
			if e.Fill != nil {
				labels = append(labels, e.Label)
			}
		}
		if !slices.Equal(labels, []string{"T-CXL", "REAP+"}) {
			t.Errorf("%s: legend %v, want T-CXL, REAP+", name, labels)
		}
	}

	// Only the Azure trace: Figure 13 draws one row and says the Huawei
	// trace is missing.
	var azure []*Run
	for _, r := range some {
		if r.Workload() == "azure" {
			azure = append(azure, r)
		}
	}
	fig, err := Fig13(azure)
	if err != nil {
		t.Fatal(err)
	}
	if len(fig.Panels) != 2 || !slices.Contains(fig.Missing, "Huawei trace (every system)") {
		t.Errorf("fig13 from Azure runs only: %d panels, Missing %v", len(fig.Panels), fig.Missing)
	}
}

// TestNoRuns: a figure without any run fails, saying what it needs.
func TestPlotNoRuns(t *testing.T) {
	var func1 []*Run
	for _, r := range simFixtures(t) {
		if r.Workload() == "func" {
			func1 = append(func1, r)
		}
	}
	for _, name := range Names() {
		if name == "fig12" {
			continue
		}
		_, err := Build(name, func1)
		if !errors.Is(err, ErrNoRuns) || !strings.Contains(err.Error(), name+" needs runs") {
			t.Errorf("%s without its runs: %v, want ErrNoRuns naming what it needs", name, err)
		}
	}
	if _, err := Build("fig99", nil); !errors.Is(err, ErrUnknownFigure) {
		t.Errorf("fig99: %v, want ErrUnknownFigure", err)
	}
	figs, errs := All(func1)
	if len(figs) != 1 || figs["fig12"] == nil || len(errs) != 7 {
		t.Errorf("All(func runs): figures %v, errors %v", figs, errs)
	}
}

// TestPickLatest: of two runs of one system, the latest complete one is
// drawn and a note says so; an incomplete one only if it is the only one.
func TestPlotPickLatest(t *testing.T) {
	root := t.TempDir()
	old := writeFixture(t, root, fixture{name: "old", method: "criu", workload: "1", target: results.TargetSim,
		fns: fewFunctions, perFn: 5, ended: timeAt(1)})
	newer := writeFixture(t, root, fixture{name: "new", method: "criu", workload: "1", target: results.TargetSim,
		fns: fewFunctions, perFn: 5, ended: timeAt(2)})
	broken := writeFixture(t, root, fixture{name: "broken", method: "criu", workload: "1", target: results.TargetSim,
		fns: fewFunctions, perFn: 5, ended: timeAt(3), status: results.RunInterrupted})
	runs, err := LoadRuns([]string{old, broken, newer})
	if err != nil {
		t.Fatal(err)
	}
	cs, notes := pickRuns("fig10a", runs, workloadIs("1"))
	if len(cs) != 1 || cs[0].run.Dir != newer {
		t.Fatalf("picked %v, want %s", cs, newer)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "3 runs of CRIU: drawing "+newer) {
		t.Errorf("notes %q", notes)
	}
	cs, notes = pickRuns("fig10a", runs[1:2], workloadIs("1"))
	if len(cs) != 1 || len(notes) != 1 || !strings.Contains(notes[0], "interrupted") {
		t.Errorf("only an interrupted run: %v, notes %q", cs, notes)
	}
}

// TestRunData checks what a Run reads: latencies of ok test requests only,
// sorted; the test phase's window; its memory.
func TestPlotRunData(t *testing.T) {
	dir := writeFixture(t, t.TempDir(), fixture{name: "r", method: "trenv", pool: "cxl", workload: "1",
		target: results.TargetSim, fns: fewFunctions, perFn: 8})
	r, err := LoadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	lat, err := latenciesOf(r)
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range fewFunctions {
		if v := lat[fn]; len(v) != 8 || !slices.IsSorted(v) {
			t.Errorf("%s: latencies %v, want 8 sorted", fn, v)
		}
	}
	fns, _ := testFunctionsOf(r)
	if !slices.Equal(fns, fewFunctions) {
		t.Errorf("TestFunctions %v", fns)
	}
	start, end, ok := r.TestWindow()
	if !ok || start != warmupEndS || !(end > start+3.5 && end < start+5) {
		t.Errorf("TestWindow = %v, %v, %v; want %v, ≈ %v + 4 (the manifest's phases)", start, end, ok, warmupEndS, warmupEndS)
	}
	mem, err := r.TestMemory()
	if err != nil || len(mem) == 0 || mem[0].TimeS != 0 || mem[0].Bytes < 3*GiB {
		t.Errorf("TestMemory: %d samples, first %+v, %v", len(mem), mem, err)
	}
	if s, ok := SystemOf(r.Manifest); !ok || s.Name != "T-CXL" || !r.Simulated() {
		t.Errorf("System %v %v, Simulated %v", s, ok, r.Simulated())
	}
}

// TestLoadErrors: errors name the directory and the file.
func TestPlotLoadErrors(t *testing.T) {
	root := t.TempDir()
	if _, err := LoadRuns([]string{root}); err == nil || !strings.Contains(err.Error(), root) ||
		!strings.Contains(err.Error(), results.ManifestFile) {
		t.Errorf("no manifest: %v", err)
	}
	dir := writeFixture(t, root, fixture{name: "bad", method: "cold", workload: "1", target: results.TargetSim,
		fns: fewFunctions, perFn: 3})
	path := filepath.Join(dir, results.RequestsFile)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.Replace(b, []byte(",ok,"), []byte(",okay,"), 1), 0o644)
	runs, err := LoadRuns([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Fig10a(runs)
	var pe *results.ParseError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), path) {
		t.Errorf("bad requests.csv: %v, want a ParseError naming %s", err, path)
	}
}

func TestPlotSystemOf(t *testing.T) {
	for _, c := range []struct{ method, pool, want string }{
		{"trenv", "cxl", "T-CXL"}, {"trenv", "", "T-CXL"}, {"trenv", "rdma", "T-RDMA"},
		{"cold", "", "faasd"}, {"criu", "", "CRIU"}, {"lazy", "", "CRIU-lazy"},
		{"faasnap", "", "FaaSnap+"}, {"reap", "", "REAP+"}, {"firecracker", "", ""},
	} {
		s, ok := SystemOf(&results.Manifest{Method: c.method, Pool: c.pool})
		if s.Name != c.want || ok != (c.want != "") {
			t.Errorf("SystemOf(%s, %q) = %q, %v; want %q", c.method, c.pool, s.Name, ok, c.want)
		}
	}
	seen := map[color.RGBA]bool{}
	for _, s := range Systems() {
		if seen[s.Color] {
			t.Errorf("%s shares its colour", s.Name)
		}
		seen[s.Color] = true
	}
}

func TestPlotNewCDF(t *testing.T) {
	vals := make([]float64, 10_000)
	for i := range vals {
		vals[i] = float64(i) // 0 is dropped: not drawable on a log axis
	}
	c := NewCDF(vals, 100, seriesLine(systems[0]))
	if n := len(c.XYs); n != 101 {
		t.Errorf("%d points, want 101 (a start and 100 steps)", n)
	}
	first, last := c.XYs[0], c.XYs[len(c.XYs)-1]
	if first.X != 1 || first.Y != 0 || last.X != 9999 || last.Y != 1 {
		t.Errorf("from %v to %v, want (1, 0) to (9999, 1)", first, last)
	}
	for i := 1; i < len(c.XYs); i++ {
		if c.XYs[i].Y <= c.XYs[i-1].Y || c.XYs[i].X < c.XYs[i-1].X {
			t.Fatalf("point %d %v after %v: not ascending", i, c.XYs[i], c.XYs[i-1])
		}
	}
	if NewCDF([]float64{0, -1}, 0, seriesLine(systems[0])) != nil {
		t.Error("a sample of no positive value gave a CDF")
	}
}

func TestPlotTicks(t *testing.T) {
	labels := func(ts []plot.Tick) (out []string) {
		for _, tk := range ts {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	if got := labels(logTicks{}.Ticks(1, 10000)); !slices.Equal(got, []string{"1", "10", "100", "1000", "10000"}) {
		t.Errorf("log ticks %v", got)
	}
	if got := labels(niceTicks{}.Ticks(0, 26.2)); !slices.Equal(got, []string{"0", "5", "10", "15", "20", "25"}) {
		t.Errorf("linear ticks %v", got)
	}
	if got := labels(niceTicks{}.Ticks(0, 1)); !slices.Equal(got, []string{"0.0", "0.2", "0.4", "0.6", "0.8", "1.0"}) {
		t.Errorf("linear ticks %v", got)
	}
}

// TestGoldenSVG compares Figures 11(a), 11(b), 12 and 14 of the fixture, as SVG,
// with testdata/<name>.golden.svg, numbers within 0.05 pt (-update
// rewrites them).
func TestPlotGoldenSVG(t *testing.T) {
	runs := simFixtures(t)
	for _, name := range []string{"fig11a", "fig11b", "fig12", "fig14"} {
		fig, err := Build(name, runs)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := Render(&buf, fig, "svg", 0, 0); err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", name+".golden.svg")
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if msg := svgDiff(buf.String(), string(want), 0.05); msg != "" {
			t.Errorf("%s differs from %s: %s (go test -update rewrites it)", name, golden, msg)
		}
	}
}

var svgNumber = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?(e-?[0-9]+)?`)

// svgDiff compares two SVG texts: equal once numbers are masked, and each
// number within tol of its counterpart. It returns "" or what differs.
func svgDiff(got, want string, tol float64) string {
	mask := func(s string) string { return svgNumber.ReplaceAllString(s, "#") }
	if mask(got) != mask(want) {
		g, w := strings.Split(mask(got), "\n"), strings.Split(mask(want), "\n")
		for i := range min(len(g), len(w)) {
			if g[i] != w[i] {
				return "line " + strconv.Itoa(i+1) + ": " + g[i] + " ≠ " + w[i]
			}
		}
		return "lengths differ"
	}
	gn, wn := svgNumber.FindAllString(got, -1), svgNumber.FindAllString(want, -1)
	for i := range gn {
		a, _ := strconv.ParseFloat(gn[i], 64)
		b, _ := strconv.ParseFloat(wn[i], 64)
		if math.Abs(a-b) > tol {
			return "number " + strconv.Itoa(i) + ": " + gn[i] + " ≠ " + wn[i]
		}
	}
	return ""
}
