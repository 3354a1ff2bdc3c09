package main

import (
	"context"
	"encoding/csv"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"trenv-bench/plots"
	"trenv-bench/report"
)

// execute runs cmd with the command line, as Main would.
func executeCmd(t *testing.T, cmd *cobra.Command, line ...string) error {
	t.Helper()
	cmd.SetArgs(line)
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return &FlagError{Err: err} })
	return cmd.ExecuteContext(context.Background())
}

func TestNewCmdReport(t *testing.T) {
	cases := []struct {
		line    string
		want    reportOptions
		wantErr string
	}{
		{line: "--runs a", want: reportOptions{Runs: []string{"a"}, Format: "md"}},
		{line: "--runs a,b --runs c d e", want: reportOptions{Runs: []string{"a", "b", "c", "d", "e"}, Format: "md"}},
		{line: "--runs a -o r.html", want: reportOptions{Runs: []string{"a"}, Format: "html", Output: "r.html"}},
		{line: "--runs a -o r.csv --format md", want: reportOptions{Runs: []string{"a"}, Format: "md", Output: "r.csv"}},
		{line: "a --format csv --title T", want: reportOptions{Runs: []string{"a"}, Format: "csv", Title: "T"}},
		{line: "--runs a --format html --figure f.png", want: reportOptions{Runs: []string{"a"}, Format: "html", Figures: []string{"f.png"}}},
		{line: "", wantErr: "--runs is required"},
		{line: "--runs a --format pdf", wantErr: `--format "pdf"`},
		{line: "--runs a --format csv --figure f.png", wantErr: "a CSV report has no figures"},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			s, _, _ := testStreams()
			var got *reportOptions
			cmd := newCmdReport(s, func(_ context.Context, o *reportOptions) error { got = o; return nil })
			err := executeCmd(t, cmd, strings.Fields(c.line)...)
			if c.wantErr != "" {
				if _, ok := err.(*FlagError); !ok || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v, want a FlagError containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got.Streams = nil
			if !slices.Equal(got.Runs, c.want.Runs) || got.Format != c.want.Format || got.Output != c.want.Output ||
				got.Title != c.want.Title || !slices.Equal(got.Figures, c.want.Figures) {
				t.Fatalf("options %+v, want %+v", *got, c.want)
			}
		})
	}
}

// TestReportRun runs two systems on a short workload in the simulator and
// reports them in each format.
func TestReportRun(t *testing.T) {
	wl := writeWorkload(t, 6)
	runs := t.TempDir()
	for _, m := range []string{"trenv", "reap"} {
		s, _, errOut := testStreams()
		if err := executeCmd(t, newCmdRun(s, nil), "--method", m, "--workload-dir", wl, "--target", "sim", "--out", runs, "--name", m); err != nil {
			t.Fatalf("run %s: %v: %s", m, err, errOut)
		}
	}

	s, out, _ := testStreams()
	if err := reportRun(context.Background(), &reportOptions{Streams: s, Runs: []string{runs}, Format: "md"}); err != nil {
		t.Fatal(err)
	}
	md := out.String()
	for _, want := range []string{"# " + report.DefaultTitle, "SIMULATED: 2 of 2 runs", "| function | T-CXL [sim] | REAP+ [sim] |",
		"## Summary: T-CXL against each system", "| workload | data | T-CXL | vs REAP+ |", "| json-serde_1 |", "| (all) |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}

	s, out, _ = testStreams()
	if err := reportRun(context.Background(), &reportOptions{Streams: s, Runs: []string{filepath.Join(runs, "trenv"), filepath.Join(runs, "reap")}, Format: "csv"}); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(out).ReadAll()
	if err != nil || len(recs) != 1+2*4 || recs[1][1] != report.SystemTCXL || recs[5][1] != report.SystemREAP {
		t.Fatalf("csv %v %v", recs, err)
	}

	// A paper figure's file gets the figure's title and caption.
	png := filepath.Join(t.TempDir(), "fig12.png")
	os.WriteFile(png, []byte("\x89PNG\r\n\x1a\n"), 0o644)
	spec, _ := plots.Lookup("fig12")
	s, _, errOut := testStreams()
	html := filepath.Join(t.TempDir(), "r.html")
	if err := reportRun(context.Background(), &reportOptions{Streams: s, Runs: []string{runs}, Format: "html", Output: html, Figures: []string{png}}); err != nil {
		t.Fatal(err)
	}
	page, _ := os.ReadFile(html)
	if !strings.Contains(string(page), "data:image/png;base64,iVBORw0KGgo") || !strings.Contains(errOut.String(), "wrote "+html) ||
		!strings.Contains(string(page), "<b>"+spec.Paper+".</b> "+template.HTMLEscapeString(spec.Caption)) {
		t.Fatalf("html: %.300s / %s", page, errOut)
	}

	s, _, _ = testStreams()
	if err := reportRun(context.Background(), &reportOptions{Streams: s, Runs: []string{t.TempDir()}, Format: "md"}); err == nil {
		t.Fatal("a folder without runs was accepted")
	}
}
