package report

import (
	"bytes"
	"strings"
	"testing"

	"trenv-bench/results"
)

// TestReportOrderAndFigures: sections follow the order given; each figure
// is shown once, in the section of its first workload, pointed to from the
// others, and figures of no workload come after the sections.
func TestReportOrderAndFigures(t *testing.T) {
	_, dirs := fixture(t)
	rep, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	rep.Order([]string{"2", "unknown"})
	if rep.Sections[0].Workload != "2" || rep.Sections[1].Workload != "1" {
		t.Fatalf("order: %s, %s", rep.Sections[0].Workload, rep.Sections[1].Workload)
	}
	png := []byte("\x89PNG\r\n\x1a\n")
	rep.Figures = []Figure{
		{Name: "a", Title: "Figure A", Caption: "A shows W1.", Workloads: []string{"1"}, Path: "figures/a.png", Data: png, MediaType: "image/png"},
		{Name: "b", Title: "Figure B", Caption: "B shows both.", Workloads: []string{"1", "2"}, Path: "figures/b.png", Data: png, MediaType: "image/png"},
		{Name: "c", Caption: "C shows none.", Path: "figures/c.png", Data: png, MediaType: "image/png"},
	}
	var hb, mb bytes.Buffer
	if err := rep.WriteHTML(&hb); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteMarkdown(&mb); err != nil {
		t.Fatal(err)
	}
	page := parseHTML(t, hb.String())
	// W2 is section w0 now, W1 w1; B's first workload the report has is
	// W2 (section order), so B goes there and W1 points to it.
	want := map[string]string{"fig-a": sectionID(1), "fig-b": sectionID(0), "fig-c": "others"}
	for id, sec := range want {
		if page.figures[id] != sec {
			t.Errorf("figure %s in section %q, want %q (all: %v)", id, page.figures[id], sec, page.figures)
		}
	}
	if sees := page.sees[sectionID(1)]; len(sees) != 1 || !strings.HasPrefix(sees[0], "Figure B also shows this workload") {
		t.Errorf("pointers in W1: %q", sees)
	}
	if len(page.imgSrcs) != 3 {
		t.Errorf("%d images, want each figure once", len(page.imgSrcs))
	}
	// Markdown: the same places, captions under the images.
	md := mb.String()
	at := func(s string) int {
		i := strings.Index(md, s)
		if i < 0 {
			t.Fatalf("markdown lacks %q", s)
		}
		return i
	}
	w2, w1, others := at("## Workload W2"), at("## Workload W1"), at("## Other figures")
	if a := at("![Figure A](figures/a.png)\n\n*A shows W1.*"); a < w1 || a > others {
		t.Error("figure A is not in W1's section")
	}
	if b := at("![Figure B](figures/b.png)"); b < w2 || b > w1 {
		t.Error("figure B is not in W2's section")
	}
	if c := at("![c](figures/c.png)"); c < others {
		t.Error("figure C is not among the other figures")
	}
}

// TestReportProvenance: the report says where each workload's data came
// from, warns about invented data as it does about simulated runs, and
// records the tool, command, dates, seeds and calibration of the runs.
func TestReportProvenance(t *testing.T) {
	root := t.TempDir()
	seed, model := uint64(2022310806), uint64(7)
	cal := strings.Repeat("c", 64)
	man := func(method, pool, wl string, info results.WorkloadInfo) results.Manifest {
		info.Name, info.GeneratorSeed = wl, &seed
		return results.Manifest{Method: method, Pool: pool, Target: results.TargetSim, Status: results.RunComplete,
			ToolVersion: "trenv-bench v9", CommandLine: []string{"/tmp/go-build1/exe/trenv-bench", "reproduce", "all"},
			Seeds: results.Seeds{Jitter: 3, Model: &model}, CalibrationSHA256: cal, Workload: info}
	}
	sample := results.WorkloadInfo{Dataset: results.DatasetBuiltInSample, Synthetic: true}
	real := results.WorkloadInfo{Dataset: "/data/hw", DatasetFiles: []results.DatasetFile{{Path: "/data/hw/day_00.csv", SHA256: strings.Repeat("ab", 32)}}}
	var dirs []string
	for _, r := range []struct {
		name, method, pool, wl string
		info                   results.WorkloadInfo
	}{
		{"azure-trenv-cxl-sim", "trenv", "cxl", "azure", sample},
		{"azure-reap-sim", "reap", "", "azure", sample},
		{"huawei-trenv-cxl-sim", "trenv", "cxl", "huawei", real},
	} {
		dirs = append(dirs, writeFixture(t, root, fixtureRun{name: r.name, manifest: man(r.method, r.pool, r.wl, r.info), testStart: -1,
			requests: []results.Request{req(test, "pyaes", 10, 1, ok, results.StartReuse)}, memory: []int64{1, 2}}))
	}
	rep, err := Load(dirs)
	if err != nil {
		t.Fatal(err)
	}
	var hb, mb bytes.Buffer
	if err := rep.WriteHTML(&hb); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteMarkdown(&mb); err != nil {
		t.Fatal(err)
	}
	page := parseHTML(t, hb.String())
	// Banners: simulated, invented data (Azure only), and Azure's section.
	if len(page.banners) != 3 || !strings.HasPrefix(page.banners[1], "⚠ SYNTHETIC SAMPLE") ||
		!strings.Contains(page.banners[1], "Azure") || strings.Contains(page.banners[1], "Huawei") ||
		page.banners[2] != "⚠ Data: "+rep.Sections[0].Runs[0].Manifest.Workload.DataSource()+"." {
		t.Errorf("banners %q", page.banners)
	}
	sum := page.tables["/Summary: T-CXL against each system"]
	if len(sum) != 3 || sum[1][1] != markWarn+" synthetic sample (invented content)" || sum[2][1] != "dataset (files and sha256 in its section)" {
		t.Errorf("summary's data column: %q", sum)
	}
	hw := "Data: " + rep.Sections[1].Runs[0].Manifest.Workload.DataSource() + "."
	if !strings.Contains(hw, "day_00.csv sha256 "+strings.Repeat("ab", results.DigestPrefix/2)) || !strings.Contains(mb.String(), "\n"+hw+"\n") ||
		!strings.Contains(hb.String(), `<p class="source">`+hw+`</p>`) || strings.Contains(hb.String(), "/data/hw") {
		t.Errorf("huawei's source %q missing, or a directory shown", hw)
	}
	about := map[string]string{}
	for _, row := range page.tables["/About these runs"][1:] {
		about[row[0]] = row[1]
	}
	for k, v := range map[string]string{
		"runs": "3", "tool version": "trenv-bench v9", "command": "trenv-bench reproduce all",
		"seeds of the runs": "jitter 3, model 7", "calibration sha256": cal,
		"generator seeds": "2022310806 (Azure (-w azure), Huawei (-w huawei))",
	} {
		if about[k] != v {
			t.Errorf("about %s: %q, want %q", k, about[k], v)
		}
	}
}

// TestRatioMarks: ratios below 1× as printed are marked, in the HTML only
// the ratio, not the milliseconds beside it.
func TestRatioMarks(t *testing.T) {
	for v, marked := range map[float64]bool{0.5: true, 0.994: true, 0.996: false, 1: false, 3.5: false} {
		if got := strings.Contains(fmtRatio(v), markBelow); got != marked {
			t.Errorf("fmtRatio(%v) = %q: marked %v, want %v", v, fmtRatio(v), got, marked)
		}
	}
	cell := fmtMs(2.21) + " · " + fmtRatio(0.69)
	got := string(cellHTML(cell + "\n" + markWarn + " careful"))
	want := fmtMs(2.21) + ` · <span class="below">` + fmtRatio(0.69) + `</span><br><span class="warn">` + markWarn + ` careful</span>`
	if got != want {
		t.Errorf("cellHTML = %q, want %q", got, want)
	}
}
