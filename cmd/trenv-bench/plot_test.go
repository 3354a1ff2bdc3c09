package main

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trenv-bench/plots"
	"trenv-bench/results"
	"trenv-bench/workloads"
)

// TestNewCmdPlot checks how command lines become options, apart from what
// the command does.
func TestNewCmdPlot(t *testing.T) {
	every := []string{"fig10a", "fig10b", "fig11a", "fig11b", "fig12", "fig13", "fig14", "fig15"}
	cases := []struct {
		line    string
		want    plotOptions
		wantErr string
	}{
		{line: "fig10a", want: plotOptions{Figures: []string{"fig10a"}, Runs: []string{"runs"}, OutDir: "runs/figures", Format: "png"}},
		{line: "all --runs a,b --runs c -o out --format svg",
			want: plotOptions{Figures: every, All: true, Runs: []string{"a", "b", "c"}, OutDir: "out", Format: "svg"}},
		{line: "fig13 fig10a fig13 --format pdf --out x",
			want: plotOptions{Figures: []string{"fig10a", "fig13"}, Runs: []string{"runs"}, OutDir: "x", Format: "pdf"}},
		{line: "fig12 all", want: plotOptions{Figures: every, All: true, Runs: []string{"runs"}, OutDir: "runs/figures", Format: "png"}},
		{line: "", wantErr: "requires at least 1 arg"},
		{line: "fig99", wantErr: `figure "fig99": expected one of fig10a, fig10b, fig11a, fig11b, fig12, fig13, fig14, fig15, all`},
		{line: "all --format gif", wantErr: `--format "gif": expected one of png, svg, pdf`},
		{line: "all --runs=", wantErr: "--runs: expected at least one directory"},
		{line: "all --out=", wantErr: "-o: expected a directory"},
		{line: "all --bogus", wantErr: "unknown flag: --bogus"},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			s, _, _ := testStreams()
			var got *plotOptions
			cmd := newCmdPlot(s, func(_ context.Context, o *plotOptions) error { got = o; return nil })
			err := execLine(cmd, c.line)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, c.wantErr)
				}
				var fe *FlagError
				if strings.Contains(c.wantErr, "expected") && !errors.As(err, &fe) {
					t.Errorf("%v is not a FlagError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Streams = nil
			if !slices.Equal(got.Figures, c.want.Figures) || got.All != c.want.All || !slices.Equal(got.Runs, c.want.Runs) ||
				got.OutDir != c.want.OutDir || got.Format != c.want.Format {
				t.Errorf("options %+v, want %+v", *got, c.want)
			}
		})
	}
}

// execPlot runs the plot command line args and returns its error and
// stderr.
func execPlot(t *testing.T, args ...string) (error, string) {
	t.Helper()
	s, _, errOut := testStreams()
	cmd := newCmdPlot(s, nil)
	cmd.SetArgs(args)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	err := cmd.ExecuteContext(context.Background())
	return err, errOut.String()
}

// TestPlotRun draws figures from simulated runs made by `run`: files
// written where asked, figures without runs skipped under "all" and an
// error when asked for by name, missing systems warned about.
func TestPlotRun(t *testing.T) {
	root := t.TempDir()
	runs := filepath.Join(root, "runs")
	fig11b := filepath.Join(root, "wl-image-recognition")
	if err := workloads.WriteDir(fig11b, workloads.Workload{
		Warmup: workloads.Phase{{Function: "image-recognition", Counts: []int{0}}},
		Test:   workloads.Phase{{Function: "image-recognition", Counts: []int{2, 2, 2, 2, 2}}},
	}, false); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--method", "trenv", "-w", "func", "--idle-num", "1"},
		{"--method", "criu", "-w", "func", "--no-reuse", "--gc", "20"},
		{"--method", "trenv", "-w", "1"},
		{"--method", "trenv", "--workload-dir", fig11b, "--no-reuse", "--mem", "80", "--idle-num", "50", "--name", "f11b-trenv"},
		{"--method", "reap", "--workload-dir", fig11b, "--no-reuse", "--mem", "80", "--no-bgtask", "--name", "f11b-reap"},
	} {
		s, _, errOut := testStreams()
		if code := Main(append([]string{"run", "--target", "sim", "--out", runs}, args...), s); code != ExitOK {
			t.Fatalf("run %v: exit %d: %s", args, code, errOut)
		}
	}

	out := filepath.Join(root, "figs", "nested")
	err, stderr := execPlot(t, "all", "--runs", runs, "-o", out)
	if err != nil {
		t.Fatalf("plot all: %v\n%s", err, stderr)
	}
	for _, name := range []string{"fig10a", "fig11a", "fig11b", "fig12"} {
		b, err := os.ReadFile(filepath.Join(out, name+".png"))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || len(b) < 30_000 || img.Bounds().Dx() < 1000 {
			t.Errorf("%s.png: %d bytes, %v", name, len(b), err)
		}
	}
	for _, want := range []string{
		"plot: fig10b skipped: plots: no runs for this figure: fig10b needs runs of workload \"2\"",
		"plot: fig13 skipped", "plot: fig14 skipped", "plot: fig15 skipped",
		"plot: warning: fig11a: no run for W2 (every system), Azure (every system), Huawei (every system), T-RDMA, faasd, CRIU, FaaSnap+, REAP+ (not drawn)",
		"plot: warning: fig12: no run for T-RDMA, faasd, FaaSnap+, REAP+ (not drawn)",
		"plot: warning: fig11b: no run for T-CXL (image-flip-rotate), CRIU, FaaSnap+, REAP+ (image-flip-rotate) (not drawn)",
		"wrote " + filepath.Join(out, "fig12.png"),
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 4 {
		t.Errorf("%d files in %s, want 4 (no temporary files left)", len(entries), out)
	}

	// By name, a figure without runs is an error; SVG carries the mark.
	if err, _ := execPlot(t, "fig13", "--runs", runs, "-o", out); !errors.Is(err, plots.ErrNoRuns) {
		t.Errorf("plot fig13 without trace runs: %v, want ErrNoRuns", err)
	}
	if err, stderr := execPlot(t, "fig12", "--runs", filepath.Join(runs, "func-trenv-cxl-sim"), "-o", out, "--format", "svg"); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "fig12.svg")); !bytes.Contains(b, []byte(plots.SimulatedMark)) {
		t.Errorf("fig12.svg lacks %q", plots.SimulatedMark)
	}
	if err, _ := execPlot(t, "all", "--runs", filepath.Join(root, "nothing")); err == nil || !strings.Contains(err.Error(), "nothing") {
		t.Errorf("--runs of a missing directory: %v", err)
	}
	if err, _ := execPlot(t, "all", "--runs", filepath.Join(root, "figs")); !errors.Is(err, results.ErrNoRunDirs) {
		t.Errorf("--runs of a directory without runs: %v, want ErrNoRunDirs", err)
	}
}
