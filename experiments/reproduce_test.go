package experiments

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trenv-bench/report"
	"trenv-bench/results"
	"trenv-bench/system"
)

// tinyMatrix has two figures sharing runs: 4 runs of a few requests each.
const tinyMatrix = `
figures:
  - name: a
    workloads: [{name: tiny, function: pyaes, seconds: 3, per_second: 2}]
    groups: &g
      - {systems: [T-CXL], idle_num: 2}
      - {systems: [REAP+], mem: 32}
  - name: b
    workloads:
      - {name: tiny, function: pyaes, seconds: 3, per_second: 2}
      - {name: tiny2, function: crypto, seconds: 2, per_second: 1}
    groups: *g
`

// counting wraps Execute and records the runs it was asked for.
type counting struct {
	calls []string
	force map[string]bool
}

func (c *counting) execute(ctx context.Context, s *Spec) (results.Manifest, error) {
	name := filepath.Base(s.Dir)
	c.calls = append(c.calls, name)
	if c.force == nil {
		c.force = map[string]bool{}
	}
	c.force[name] = s.Force
	return Execute(ctx, s)
}

func tinyOptions(t *testing.T, out string) (Options, *counting, *[]string) {
	t.Helper()
	m, err := ParseMatrix([]byte(tinyMatrix), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := &counting{}
	var plotted []string
	return Options{
		Figure: FigureAll, Target: results.TargetSim, OutDir: out, Matrix: m,
		Execute: c.execute,
		Plot: func(fig string, dirs []string, outDir string) ([]report.Figure, error) {
			var names []string
			for _, d := range dirs {
				names = append(names, filepath.Base(d))
			}
			plotted = append(plotted, fig+":"+strings.Join(names, ","))
			return nil, nil
		},
	}, c, &plotted
}

func TestReproduceSkipsAndResumes(t *testing.T) {
	out := t.TempDir()
	opts, c, plotted := tinyOptions(t, out)
	var steps []Step
	opts.Progress = func(s Step) { steps = append(steps, s) }
	ctx := context.Background()

	res, err := Reproduce(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"tiny-trenv-cxl-sim", "tiny-reap-sim", "tiny2-trenv-cxl-sim", "tiny2-reap-sim"}
	if !slices.Equal(c.calls, all) || !slices.Equal(res.Ran, all) || len(res.Skipped) != 0 {
		t.Fatalf("first: calls %v, outcome %+v", c.calls, res)
	}
	for _, name := range all {
		if !results.IsComplete(filepath.Join(out, name)) {
			t.Errorf("%s not complete", name)
		}
	}
	if len(steps) != 5 || steps[0] != (Step{0, 4, "tiny-trenv-cxl-sim", StepRun}) || steps[4] != (Step{4, 4, "", StepDone}) {
		t.Errorf("steps %v", steps)
	}
	wantPlots := []string{"a:tiny-trenv-cxl-sim,tiny-reap-sim", "b:tiny-trenv-cxl-sim,tiny-reap-sim,tiny2-trenv-cxl-sim,tiny2-reap-sim"}
	if !slices.Equal(*plotted, wantPlots) {
		t.Errorf("plots %v", *plotted)
	}
	rep, err := os.ReadFile(filepath.Join(out, ReportFile))
	if err != nil || !bytes.Contains(rep, []byte("## Workload tiny2")) || !bytes.Contains(rep, []byte("SIMULATED")) {
		t.Fatalf("report: %v\n%s", err, rep)
	}

	// Again: everything is complete, nothing runs.
	c.calls = nil
	res, err = Reproduce(ctx, opts)
	if err != nil || len(c.calls) != 0 || len(res.Skipped) != 4 {
		t.Fatalf("second: calls %v, outcome %+v, %v", c.calls, res, err)
	}

	// One run interrupted, one deleted: only those two run, the
	// interrupted one over its files.
	mpath := filepath.Join(out, "tiny-reap-sim", results.ManifestFile)
	m, err := results.ReadManifest(mpath)
	if err != nil {
		t.Fatal(err)
	}
	m.Status = results.RunInterrupted
	if err := m.WriteFile(mpath); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(out, "tiny2-trenv-cxl-sim")); err != nil {
		t.Fatal(err)
	}
	c.calls = nil
	var notes bytes.Buffer
	opts.Notes = &notes
	res, err = Reproduce(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.calls, []string{"tiny-reap-sim", "tiny2-trenv-cxl-sim"}) || !c.force["tiny-reap-sim"] || c.force["tiny2-trenv-cxl-sim"] {
		t.Fatalf("resume: calls %v, force %v", c.calls, c.force)
	}
	if !strings.Contains(notes.String(), "the run is interrupted: running it again") {
		t.Errorf("notes: %s", notes.String())
	}

	// A stale run (the matrix changed its flags) runs again.
	opts.Matrix.Figures[0].Groups[1].Flags.MemGB = 16
	opts.Matrix.Figures[1].Groups[1].Flags.MemGB = 16
	c.calls = nil
	if _, err := Reproduce(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.calls, []string{"tiny-reap-sim", "tiny2-reap-sim"}) {
		t.Fatalf("stale: calls %v", c.calls)
	}
}

func TestReproduceCancel(t *testing.T) {
	out := t.TempDir()
	opts, c, plotted := tinyOptions(t, out)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inner := opts.Execute
	opts.Execute = func(ctx context.Context, s *Spec) (results.Manifest, error) {
		m, err := inner(ctx, s)
		cancel() // the user presses Ctrl-C during the first run
		return m, err
	}
	res, err := Reproduce(ctx, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v", err)
	}
	if len(c.calls) != 1 || len(res.Ran) != 1 || len(*plotted) != 0 {
		t.Fatalf("calls %v, plots %v", c.calls, *plotted)
	}
	if _, err := os.Stat(filepath.Join(out, ReportFile)); err == nil {
		t.Error("report written after cancel")
	}

	// Cancelled inside a run: Execute leaves it interrupted; the next
	// reproduction runs it again.
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	opts.Execute = c.execute
	c.calls = nil
	if _, err := Reproduce(ctx2, opts); !errors.Is(err, context.Canceled) || len(c.calls) != 0 {
		t.Fatalf("pre-cancelled: %v, calls %v", err, c.calls)
	}
	c.calls = nil
	if _, err := Reproduce(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.calls, []string{"tiny-reap-sim", "tiny2-trenv-cxl-sim", "tiny2-reap-sim"}) {
		t.Fatalf("after cancel: calls %v", c.calls)
	}
}

func TestReproduceFailuresAndTargets(t *testing.T) {
	out := t.TempDir()
	opts, _, plotted := tinyOptions(t, out)
	opts.Figure = "a"
	opts.Execute = func(ctx context.Context, s *Spec) (results.Manifest, error) {
		if strings.Contains(s.Dir, "reap") {
			return results.Manifest{}, errors.New("boom")
		}
		return Execute(ctx, s)
	}
	res, err := Reproduce(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "1 of 2 runs failed") || !slices.Equal(res.Failed, []string{"tiny-reap-sim"}) {
		t.Fatalf("err %v, outcome %+v", err, res)
	}
	if len(*plotted) != 0 || res.Report == "" {
		t.Fatalf("plots %v, report %q", *plotted, res.Report)
	}

	opts.Plot = nil
	opts.Execute = nil
	var notes bytes.Buffer
	opts.Notes = &notes
	if _, err := Reproduce(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(notes.String(), "a: not plotted, no plot step") {
		t.Errorf("notes %s", notes.String())
	}

	opts.Target = results.TargetHost
	if _, err := Reproduce(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "preparation and clean-up") {
		t.Errorf("host without preparation: %v", err)
	}
	opts.Target, opts.Speed = results.TargetSim, 5
	if _, err := Reproduce(context.Background(), opts); err == nil {
		t.Error("speed on sim accepted")
	}
	opts.Speed, opts.Figure = 0, "zz"
	if _, err := Reproduce(context.Background(), opts); err == nil {
		t.Error("unknown figure accepted")
	}
}

// TestReproduceTwin runs the tiny matrix's smallest figure on the twin,
// sped up.
func TestReproduceTwin(t *testing.T) {
	if testing.Short() {
		t.Skip("real time")
	}
	out := t.TempDir()
	opts, c, _ := tinyOptions(t, out)
	opts.Target, opts.Speed, opts.Figure = results.TargetTwin, 20, "a"
	if _, err := Reproduce(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.calls, []string{"tiny-trenv-cxl-twin", "tiny-reap-twin"}) {
		t.Fatalf("calls %v", c.calls)
	}
	m, err := results.ReadManifest(filepath.Join(out, "tiny-reap-twin", results.ManifestFile))
	if err != nil || m.Status != results.RunComplete || m.Speed != 20 || m.Requests.Scheduled != 6 {
		t.Fatalf("%+v %v", m, err)
	}
}

// hostMatrix has runs in both pools and a VM baseline.
const hostMatrix = `
figures:
  - name: h
    workloads: [{name: tiny, function: pyaes, seconds: 2, per_second: 2}]
    groups:
      - {systems: [T-RDMA, REAP+, T-CXL], idle_num: 2, mem: 32}
`

// TestReproduceHost reproduces a figure on the host target against the
// fake faasd and FaaSnap daemon: the runs go pool by pool, the host is
// prepared once per pool (the preparation here writes the marker a real
// one leaves, which each TrEnv run checks) and cleaned before every run,
// and a second reproduction finds everything complete and touches nothing.
func TestReproduceHost(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time runs")
	}
	faasd := fakeFaasd(t)
	h, _ := fakeHostTree(t, faasd)
	withFaaSnap(t, h, buildFake(t, "main", "trenv-bench/internal/fakes/faasnap/daemon"), results.MethodREAP)
	os.Remove(filepath.Join(h.Layout.FaasdState, "checkpoints", filepath.Base(system.CheckpointMarkerPath)))
	t.Setenv("FAKE_FAASD_POOL", system.PoolCXL)
	m, err := ParseMatrix([]byte(hostMatrix), "host.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := &counting{}
	var prepared []string
	cleans := 0
	opts := Options{Figure: FigureAll, Target: results.TargetHost, OutDir: t.TempDir(), Matrix: m, Execute: c.execute, Host: h,
		PreparePool: func(ctx context.Context, pool string) error {
			prepared = append(prepared, pool)
			writeMarker(t, h, pool, testBootID)
			return nil
		},
		Clean: func(context.Context) error { cleans++; return nil },
	}
	res, err := Reproduce(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tiny-reap-host", "tiny-trenv-cxl-host", "tiny-trenv-rdma-host"}
	if !slices.Equal(c.calls, want) || !slices.Equal(prepared, []string{system.PoolCXL, system.PoolRDMA}) || cleans != 3 {
		t.Fatalf("runs %v, preparations %v, cleans %d, outcome %+v", c.calls, prepared, cleans, res)
	}
	for _, name := range want {
		if !results.IsComplete(filepath.Join(opts.OutDir, name)) {
			t.Errorf("%s is not complete", name)
		}
	}
	c.calls, prepared, cleans = nil, nil, 0
	if res, err = Reproduce(context.Background(), opts); err != nil || len(c.calls) != 0 || len(prepared) != 0 || cleans != 0 || len(res.Skipped) != 3 {
		t.Fatalf("again: runs %v, preparations %v, cleans %d, %v", c.calls, prepared, cleans, err)
	}
}
