package plots

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trenv-bench/results"
)

// writeMetrics replaces dir's metrics.output with start-up and execution
// latencies of fn under label pair (start-new or switch).
func writeMetrics(t *testing.T, dir, fn string, pair [2]string, startup, exec []float32) {
	t.Helper()
	m := &results.Metrics{}
	for i := range startup {
		m.AddLatencyMs(pair[0], fn, startup[i])
		m.AddLatencyMs(pair[1], fn, exec[i])
	}
	f, err := os.Create(filepath.Join(dir, results.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := m.WriteTo(f); err != nil {
		t.Fatal(err)
	}
}

// writeMemory replaces dir's memory.csv with one sample a second, bytes[i]
// at second i.
func writeMemory(t *testing.T, dir string, bytes []int64) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, results.MemoryFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := results.NewMemoryWriter(f)
	for i, b := range bytes {
		if err := w.Write(float64(i), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}

var (
	startNew = [2]string{results.LabelStartNewLatency, results.LabelStartNewExecLatency}
	switched = [2]string{results.LabelSwitchLatency, results.LabelSwitchExecLatency}
)

// TestFig14Values: Figure 14 draws each step's mean start-up and execution
// from metrics.output, worked out by hand: faasd (1400 + 1430)/2 = 1415 ms
// start-up and 431 ms execution, 1846 in all; Reconfig (350 + 364)/2 = 357
// and (50 + 52)/2 = 51, 408 in all; FaaSnap+'s line at 24.4 + 247 = 271.4
// ms. The steps are in Figure 14's order whatever the runs' order; a host
// run is passed over with a note; a function without runs is missing.
func TestFig14Values(t *testing.T) {
	root := t.TempDir()
	const fn = "image-recognition"
	w := fig14Prefix + fn
	mk := func(name, method, pool, variant string, target results.Target, pair [2]string, startup, exec []float32) string {
		dir := writeFixture(t, root, fixture{name: name, method: method, pool: pool, variant: variant, workload: w,
			target: target, fns: []string{fn}, perFn: 2})
		writeMetrics(t, dir, fn, pair, startup, exec)
		return dir
	}
	dirs := []string{
		mk("tcxl", "trenv", "cxl", "", results.TargetSim, switched, []float32{18, 18}, []float32{150, 150}),
		mk("reconfig", "trenv", "cxl", results.VariantReconfig, results.TargetSim, switched, []float32{350, 364}, []float32{50, 52}),
		mk("faasd", "cold", "", "", results.TargetSim, startNew, []float32{1400, 1430}, []float32{431, 431}),
		mk("faasnap", "faasnap", "", "", results.TargetSim, startNew, []float32{24, 24.8}, []float32{247, 247}),
		mk("criu-host", "criu", "", "", results.TargetHost, startNew, []float32{552, 552}, []float32{75, 75}),
	}
	runs, err := LoadRuns(dirs)
	if err != nil {
		t.Fatal(err)
	}
	fig, err := Fig14(runs)
	if err != nil {
		t.Fatal(err)
	}
	var legend []string
	for _, e := range fig.Legend {
		if e.Fill != nil {
			legend = append(legend, e.Label)
		}
	}
	if want := []string{"faasd", "Reconfig", "T-CXL", "FaaSnap+ (dashed line: its mean end-to-end)"}; !slices.Equal(legend, want) {
		t.Errorf("legend %v, want %v", legend, want)
	}
	if want := []string{"CRIU", "Cgroup", "T-RDMA", "json-serde (every step)"}; !slices.Equal(fig.Missing, want) {
		t.Errorf("Missing %v, want %v", fig.Missing, want)
	}
	if len(fig.Notes) != 1 || !strings.Contains(fig.Notes[0], "criu-host (target host)") || !strings.Contains(fig.Notes[0], "platform model only") {
		t.Errorf("Notes %q, want one passing over the host run", fig.Notes)
	}
	if fig.Mark != SimulatedMark || !strings.Contains(fig.Caption, "restatement of the calibration") {
		t.Errorf("Mark %q, caption %q", fig.Mark, fig.Caption)
	}
	svg := svgOf(t, fig)
	for _, want := range []string{">1846<", ">1415<", ">408<", ">357<", ">168<", ">18<", "FaaSnap+ 271 ms"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
	// The x axis in Figure 14's order.
	last := -1
	for _, step := range []string{">faasd<", ">Reconfig<", ">T-CXL<"} {
		i := strings.Index(svg, step)
		if i < last {
			t.Errorf("%s out of order in the SVG", step)
		}
		last = i
	}

	// Only host runs: refused, on the model only.
	hostOnly, _ := LoadRuns(dirs[4:])
	if _, err := Fig14(hostOnly); !errors.Is(err, ErrNoRuns) || !errors.Is(err, results.ErrModelOnly) || !strings.Contains(err.Error(), "criu-host") {
		t.Errorf("host runs only: %v", err)
	}
}

// TestFig11aValues: Figure 11(a) draws each run's largest memory sample of
// its test phase, in GiB, by workload: a larger sample in the warmup does
// not count; a workload without runs is missing as a whole, a system
// missing from one workload is named with it.
func TestFig11aValues(t *testing.T) {
	root := t.TempDir()
	mem := func(peakGiB float64) []int64 {
		// warmup (0–9 s) holds 9 GiB, the test phase 1 GiB and one peak.
		out := make([]int64, 14)
		for i := range out {
			out[i] = GiB
			if float64(i) < warmupEndS {
				out[i] = 9 * GiB
			}
		}
		out[12] = int64(peakGiB * GiB)
		return out
	}
	mk := func(name, method, pool, workload string, peak float64) string {
		dir := writeFixture(t, root, fixture{name: name, method: method, pool: pool, workload: workload,
			target: results.TargetSim, fns: []string{"pyaes"}, perFn: 8})
		writeMemory(t, dir, mem(peak))
		return dir
	}
	runs, err := LoadRuns([]string{
		mk("w1-tcxl", "trenv", "cxl", "1", 3.3), mk("w1-reap", "reap", "", "1", 6.25),
		mk("w2-tcxl", "trenv", "cxl", "2", 2.1), mk("azure-reap", "reap", "", "azure", 4.4),
	})
	if err != nil {
		t.Fatal(err)
	}
	fig, err := Fig11a(runs)
	if err != nil {
		t.Fatal(err)
	}
	svg := svgOf(t, fig)
	for _, want := range []string{">3.3<", ">6.2<", ">2.1<", ">4.4<", ">W1<", ">W2<", "Azure workload (synthetic sample)"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
	if strings.Contains(svg, ">9.0<") {
		t.Error("a warmup sample is drawn")
	}
	want := []string{"Huawei (every system)", "T-CXL (Azure)", "T-RDMA", "faasd", "CRIU", "FaaSnap+", "REAP+ (W2)"}
	if !slices.Equal(fig.Missing, want) {
		t.Errorf("Missing %v, want %v", fig.Missing, want)
	}
	if !slices.Equal(fig.Workloads, []string{"1", "2", "azure"}) {
		t.Errorf("Workloads %v", fig.Workloads)
	}
}
