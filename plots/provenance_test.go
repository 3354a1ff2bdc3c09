package plots

import (
	"bytes"
	"image/color"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/recorder"

	"trenv-bench/results"
)

// svgOf renders fig as SVG text.
func svgOf(t *testing.T, fig *Figure) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, fig, "svg", 0, 0); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// svgText is s as the SVG writer escapes text.
func svgText(s string) string { return strings.ReplaceAll(s, "'", "&#39;") }

// TestPlotProvenance: every figure says where its data came from, in the
// figure; invented trace data is marked and never titled a real trace.
func TestPlotProvenance(t *testing.T) {
	runs := simFixtures(t)
	manifestOf := func(workload, method string) *results.Manifest {
		for _, r := range runs {
			if r.Workload() == workload && r.Manifest.Method == method {
				return r.Manifest
			}
		}
		t.Fatalf("no fixture run of %s %s", workload, method)
		return nil
	}
	for _, spec := range Figures() {
		fig, err := spec.Build(runs)
		if err != nil {
			t.Fatal(err)
		}
		if spec.Workloads != nil && !slices.Equal(fig.Workloads, spec.Workloads) {
			t.Errorf("%s: Workloads %v, want the spec's %v", spec.Name, fig.Workloads, spec.Workloads)
		}
		if spec.Caption == "" {
			t.Errorf("%s: no caption in the registry", spec.Name)
		}
		trace := slices.Contains(fig.Workloads, "azure") || slices.Contains(fig.Workloads, "huawei")
		if (fig.DataMark == SyntheticMark) != trace {
			t.Errorf("%s: DataMark %q; the fixture's traces (only) are the synthetic sample", spec.Name, fig.DataMark)
		}
		svg := svgOf(t, fig)
		if strings.Contains(svg, SyntheticMark) != trace {
			t.Errorf("%s: SVG shows %q: %v, want %v", spec.Name, SyntheticMark, !trace, trace)
		}
		if trace && (strings.Contains(fig.Title, "real") || !strings.Contains(fig.Title, "synthetic")) {
			t.Errorf("%s: title %q claims real traces for the synthetic sample", spec.Name, fig.Title)
		}
		// One source line per workload drawn, then the runs' line; each in
		// the SVG (wrapped lines are split at spaces).
		if len(fig.Source) != len(fig.Workloads)+1 {
			t.Errorf("%s: %d source lines for workloads %v: %q", spec.Name, len(fig.Source), fig.Workloads, fig.Source)
		}
		for _, w := range fig.Workloads {
			if spec.Name == "fig11b" {
				continue // labelled by function
			}
			want := "Data, " + workloadLabel(w) + ": " + manifestOf(w, "trenv").Workload.DataSource()
			if !slices.Contains(fig.Source, want) {
				t.Errorf("%s: no source line %q in %q", spec.Name, want, fig.Source)
			}
		}
		runsLine := fig.Source[len(fig.Source)-1]
		cal := manifestOf("1", "trenv").CalibrationSHA256[:results.DigestPrefix]
		for _, want := range []string{"target sim (platform model)", "calibration sha256 " + cal, "trenv-bench test"} {
			if !strings.Contains(runsLine, want) {
				t.Errorf("%s: runs line %q lacks %q", spec.Name, runsLine, want)
			}
		}
		for _, l := range fig.Source {
			for _, word := range strings.Fields(l) {
				if !strings.Contains(svg, svgText(word)) {
					t.Errorf("%s: the SVG lacks %q of source line %q", spec.Name, word, l)
					break
				}
			}
		}
	}
}

// TestPlotProvenanceRealTraces: trace runs from hashed dataset files are
// titled real traces, name the files by base name with their digest, and
// never show a directory; a system whose run used the sample stands out.
func TestPlotProvenanceRealTraces(t *testing.T) {
	root := t.TempDir()
	abs := filepath.Join(root, "private", "datasets")
	files := map[string][]results.DatasetFile{
		"huawei": {{Path: filepath.Join(abs, "day_00.csv"), SHA256: strings.Repeat("ab", 32), Bytes: 10}},
		"azure":  {{Path: filepath.Join(abs, "azurefunctions-dataset2019.tar.xz"), SHA256: strings.Repeat("cd", 32), Bytes: 20}},
	}
	var dirs []string
	for _, s := range fixtureSystems {
		for _, w := range []string{"huawei", "azure"} {
			info := results.WorkloadInfo{Name: w, Dataset: abs, DatasetFiles: files[w]}
			if s.method == "reap" && w == "azure" {
				info = results.WorkloadInfo{Name: w, Dataset: results.DatasetBuiltInSample, Synthetic: true}
			}
			dirs = append(dirs, writeFixture(t, root, fixture{name: w + "-" + s.method + "-" + s.pool, method: s.method, pool: s.pool,
				workload: w, target: results.TargetSim, fns: traceFunctions, perFn: 10, slow: s.slow, info: info}))
		}
	}
	runs, err := LoadRuns(dirs)
	if err != nil {
		t.Fatal(err)
	}
	fig, err := Fig13(runs)
	if err != nil {
		t.Fatal(err)
	}
	// REAP+'s Azure run used the sample: the figure is marked, the Azure
	// rows are titled synthetic, Huawei's stay the real trace.
	if fig.DataMark != SyntheticMark || !strings.Contains(fig.Title, "synthetic") {
		t.Errorf("mixed: mark %q, title %q", fig.DataMark, fig.Title)
	}
	titles := []string{fig.Panels[0].Plot.Title.Text, fig.Panels[2].Plot.Title.Text}
	if !strings.HasPrefix(titles[0], "Huawei trace:") || !strings.HasPrefix(titles[1], "Azure workload (synthetic sample):") {
		t.Errorf("panel titles %q", titles)
	}
	want := "Data, Huawei: dataset day_00.csv sha256 " + strings.Repeat("ab", 6)
	if !strings.HasPrefix(fig.Source[0], want) || !strings.Contains(fig.Source[1], "the runs differ") || !strings.Contains(fig.Source[1], "[REAP+]") {
		t.Errorf("sources %q", fig.Source)
	}
	svg := svgOf(t, fig)
	if strings.Contains(svg, root) || !strings.Contains(svg, "azurefunctions-dataset2019.tar.xz") {
		t.Error("the SVG shows a dataset's directory, or not its file name")
	}

	// Without the sampled run: no mark, and the paper's title.
	var real []*Run
	for _, r := range runs {
		if !r.Manifest.Workload.SyntheticData() {
			real = append(real, r)
		}
	}
	fig, err = Fig13(real)
	if err != nil {
		t.Fatal(err)
	}
	if fig.DataMark != "" || fig.Title != "Figure 13: real-world traces, end-to-end latency" || strings.Contains(svgOf(t, fig), SyntheticMark) {
		t.Errorf("real traces: mark %q, title %q", fig.DataMark, fig.Title)
	}
	if fig15, err := Fig15(real); err != nil || fig15.DataMark != "" || !strings.HasSuffix(fig15.Title, "Azure trace") {
		t.Errorf("Figure 15 of the real trace: %v, %+v", err, fig15)
	}
}

// TestPlotStartupNumbers: Figure 12 writes a bar's start-up number where it
// cannot be read as the total, in a colour that reads on what is behind it.
func TestPlotStartupNumbers(t *testing.T) {
	blue, orange := systems[0].Color, systems[3].Color
	l := &startupNumbers{
		// A short start-up under a long execution; a start-up that is
		// nearly all of the bar; a bar too short for a label inside.
		Startup: []float64{10, 90, 1},
		Total:   []float64{90, 92, 2},
		Colors:  []color.RGBA{blue, orange, blue},
		Width:   0.7,
		Style:   textStyle(barLabelSize, color.Black),
	}
	p := plot.New()
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -0.5, 2.5, 0, 100
	rec := &recorder.Canvas{}
	c := draw.Canvas{Canvas: rec, Rectangle: vg.Rectangle{Max: vg.Point{X: 300, Y: 300}}}
	l.Plot(c, p)
	_, trY := p.Transforms(&c)
	type text struct {
		s   string
		y   vg.Length
		col color.Color
	}
	var texts []text
	var cur color.Color = color.Black
	for _, a := range rec.Actions {
		switch a := a.(type) {
		case *recorder.SetColor:
			cur = a.Color
		case *recorder.FillString:
			texts = append(texts, text{a.String, a.Point.Y, cur})
		}
	}
	if len(texts) != 3 {
		t.Fatalf("texts %+v, want 3", texts)
	}
	h := l.Style.Height("10")
	for i, c := range []struct {
		label  string
		col    color.Color
		lo, hi vg.Length // where its baseline must lie
	}{
		{formatMs(10), shade(blue, labelShade), trY(10), trY(90) - h},    // above the boundary, below the bar's top
		{formatMs(90), contrastText(orange), trY(0), trY(90)},            // inside the solid part
		{formatMs(1), shade(blue, labelShade), trY(2) + h, trY(2) + 4*h}, // above the total's label
	} {
		got := texts[i]
		r1, g1, b1, _ := got.col.RGBA()
		r2, g2, b2, _ := c.col.RGBA()
		if got.s != c.label || r1 != r2 || g1 != g2 || b1 != b2 || got.y < c.lo || got.y > c.hi {
			t.Errorf("bar %d: %q at y %v in %v; want %q in %v between %v and %v", i, got.s, got.y, got.col, c.label, c.col, c.lo, c.hi)
		}
	}
	if contrastText(blue) != color.White || contrastText(orange) != color.Black {
		t.Error("text on dark blue should be white, on orange black")
	}
}
