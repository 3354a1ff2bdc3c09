package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trenv-bench/experiments"
	"trenv-bench/report"
	"trenv-bench/results"
)

func TestNewCmdReproduce(t *testing.T) {
	cases := []struct {
		line    string
		check   func(o *reproduceOptions) bool
		wantErr string
	}{
		{line: "all --target sim", check: func(o *reproduceOptions) bool {
			return o.Figure == "all" && o.Target == "sim" && o.OutDir == experiments.DefaultOutDir && o.Speed == 1 && o.model != nil
		}},
		{line: "fig10a --target twin --speed 30 --out /tmp/x", check: func(o *reproduceOptions) bool {
			return o.Figure == "fig10a" && o.Target == "twin" && o.Speed == 30 && o.OutDir == "/tmp/x"
		}},
		{line: "fig13 --target sim --azure-dataset a.tar.xz --huawei-dataset h", check: func(o *reproduceOptions) bool {
			return o.AzureDataset == "a.tar.xz" && o.HuaweiDataset == "h"
		}},
		{line: "fig10a", wantErr: "--target is required"},
		{line: "fig99 --target sim", wantErr: `figure "fig99"`},
		{line: "--target sim", wantErr: "accepts 1 arg"},
		{line: "fig10a --target cloud", wantErr: `--target "cloud"`},
		{line: "fig10a --target sim --speed 5", wantErr: "--speed compresses"},
		{line: "fig10a --target twin --speed 0", wantErr: "--speed 0"},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			s, _, _ := testStreams()
			var got *reproduceOptions
			cmd := newCmdReproduce(s, nil, func(_ context.Context, o *reproduceOptions) error { got = o; return nil })
			err := executeCmd(t, cmd, strings.Fields(c.line)...)
			if c.wantErr != "" {
				var fe *FlagError
				if !errors.As(err, &fe) || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v, want a FlagError containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got == nil || !c.check(got) {
				t.Fatalf("err %v, options %+v", err, got)
			}
		})
	}
}

// TestReproduceRun reproduces Figure 12 on the simulator with a stub plot
// step, then again: the second time nothing runs.
func TestReproduceRun(t *testing.T) {
	out := t.TempDir()
	var plotted []string
	plot := func(fig string, dirs []string, outDir string) ([]report.Figure, error) {
		plotted = append(plotted, fig)
		p := filepath.Join(outDir, fig+".png")
		return []report.Figure{{Name: fig, Title: "The figure", Caption: "What it shows.", Workloads: []string{"func"}, Path: p}},
			os.WriteFile(p, []byte("\x89PNG\r\n\x1a\n"), 0o644)
	}
	for round := range 2 {
		s, _, errOut := testStreams()
		cmd := newCmdReproduce(s, plot, nil)
		if err := executeCmd(t, cmd, "fig12", "--target", "sim", "--out", out); err != nil {
			t.Fatalf("round %d: %v\n%s", round, err, errOut)
		}
		want := "6 runs: 6 ran, 0 already complete"
		if round == 1 {
			want = "6 runs: 0 ran, 6 already complete"
		}
		if !strings.Contains(errOut.String(), want) || !strings.Contains(errOut.String(), "wrote "+filepath.Join(out, "report.md")) ||
			!strings.Contains(errOut.String(), "wrote "+filepath.Join(out, "report.html")) {
			t.Fatalf("round %d: %s", round, errOut)
		}
	}
	if !slices.Equal(plotted, []string{"fig12", "fig12"}) {
		t.Errorf("plotted %v", plotted)
	}
	for _, name := range []string{"func-trenv-cxl-sim", "func-trenv-rdma-sim", "func-cold-sim", "func-criu-sim", "func-faasnap-sim", "func-reap-sim"} {
		if !results.IsComplete(filepath.Join(out, name)) {
			t.Errorf("%s not complete", name)
		}
	}
	rep, err := os.ReadFile(filepath.Join(out, "report.md"))
	// The figure is in its workload's section, with its caption.
	if err != nil || !strings.Contains(string(rep), "## Workload func\n\nData: generated") ||
		!strings.Contains(string(rep), "### The figure\n\n![The figure](figures/fig12.png)\n\n*What it shows.*") {
		t.Fatalf("report: %v\n%s", err, rep)
	}
	if html, err := os.ReadFile(filepath.Join(out, "report.html")); err != nil || !strings.Contains(string(html), `<img src="data:image/png;base64,`) {
		t.Fatalf("report.html: %v", err)
	}

	// No plot step: the runs and the report only, and a note; a progress
	// bar as on a terminal.
	s, _, errOut := testStreams()
	s.ProgressOK = true
	if err := executeCmd(t, newCmdReproduce(s, nil, nil), "fig12", "--target", "sim", "--out", out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut.String(), "fig12: not plotted, no plot step") {
		t.Errorf("%s", errOut)
	}

	// host: accepted with its own flags (not run here: it would clean
	// this machine's function cgroups); --no-prepare only there.
	s, _, _ = testStreams()
	var got *reproduceOptions
	capture := func(_ context.Context, o *reproduceOptions) error { got = o; return nil }
	if err := executeCmd(t, newCmdReproduce(s, nil, capture), "fig12", "--target", "host", "--no-prepare", "--state-dir", "/tmp/st"); err != nil ||
		got == nil || !got.NoPrepare || got.StateDir != "/tmp/st" {
		t.Errorf("host: %v, %+v", err, got)
	}
	if err := executeCmd(t, newCmdReproduce(s, nil, capture), "fig12", "--target", "sim", "--no-prepare"); err == nil {
		t.Error("--no-prepare accepted for sim")
	}
}
