package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"trenv-bench/experiments"
	"trenv-bench/internal/atomicfile"
	"trenv-bench/plots"
	"trenv-bench/report"
	"trenv-bench/results"
)

// reportOptions are the inputs of `trenv-bench report`.
type reportOptions struct {
	Streams *Streams

	Runs    []string // --runs and the arguments: run directories, or folders of them
	Format  string   // md, csv or html; "" = from -o's extension, else md
	Output  string   // -o FILE; "" = stdout
	Figures []string // --figure FILE: images for the report
	Title   string
}

func newCmdReport(s *Streams, runF func(context.Context, *reportOptions) error) *cobra.Command {
	opts := &reportOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "report --runs DIR... [--format md|csv|html] [-o FILE]",
		Short: "Compare runs in tables: latency percentiles, speed-ups, start kinds, memory, failures",
		Long: `Report reads run directories and compares the systems that ran each workload.
It opens with a one-screen summary (per workload: T-CXL's P50/P99 and peak
memory, and against each other system the speed-ups and memory ratio, values
below 1x marked), then one section per workload, in reproduce's order:

  - where its data came from: the dataset's files and sha256, or the
    synthetic sample (invented content), in red like SIMULATED;
  - the runs: target, status, flags, requests by how they ended;
  - P50, P99 and P99.9 of all functions together and T-CXL's speed-ups
    (the other system's percentile ÷ T-CXL's, same target); the client's
    e2e_ms over the test phase's ok requests, nearest rank;
  - the start-kind mix (cold, restore, switch, reuse) and peak and mean
    memory from memory.csv over the test phase;
  - P50 and P99 per function with the speed-ups; failed and abandoned
    requests.

It closes with what the manifests record: tool version, command, dates,
seeds, calibration digest, host. Runs of target sim or twin come from the
platform model, not a TrEnv host: the report says so at the top and marks
their columns [sim] or [twin].

A DIR that is not itself a run directory stands for the run directories in
it (runs/reproduce, say). Formats: md (Markdown, the default), csv (one long
table, a row per run × function) and html (one self-contained page that fits
a 1,280 px window and prints on A4 without losing columns; --figure images
are inlined, and a paper figure's file, fig10a.png …, is captioned and shown
in its workload's section). The report goes to stdout, or to -o FILE, whose
extension picks the format when --format is not given. reproduce writes
report.md and report.html itself.`,
		Example: `  # everything reproduce made, as Markdown on stdout
  trenv-bench report --runs runs/reproduce

  # two runs side by side, as CSV
  trenv-bench report --runs runs/w1-trenv-cxl-sim,runs/w1-reap-sim --format csv

  # one HTML page with the figures inlined
  trenv-bench report --runs runs/reproduce --figure runs/reproduce/figures/fig10a.png -o report.html`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Runs = append(opts.Runs, args...)
			if len(opts.Runs) == 0 {
				return flagErrorf("--runs is required: the run directories to compare (or folders holding them)")
			}
			if opts.Format == "" {
				opts.Format = formatOf(opts.Output)
			}
			if !slices.Contains(report.Formats(), opts.Format) {
				return flagErrorf("--format %q: expected one of %s", opts.Format, strings.Join(report.Formats(), ", "))
			}
			if len(opts.Figures) > 0 && opts.Format == report.FormatCSV {
				return flagErrorf("--figure: a CSV report has no figures; use --format md or html")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return reportRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Runs, "runs", nil, "run directories, or folders of run directories (repeat, or separate with commas)")
	f.StringVar(&opts.Format, "format", "", "output format: md, csv or html (default: -o's extension, else md)")
	f.StringVarP(&opts.Output, "output", "o", "", "write the report to FILE instead of stdout")
	f.StringSliceVar(&opts.Figures, "figure", nil, "image file (.png, .svg) to show with the report: inlined in html, linked in md")
	f.StringVar(&opts.Title, "title", "", "title of the report (default \""+report.DefaultTitle+"\")")
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(report.Formats(), cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// formatOf picks the report format from an output file's extension:
// .csv, .html or .htm, else Markdown.
func formatOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return report.FormatCSV
	case ".html", ".htm":
		return report.FormatHTML
	}
	return report.FormatMarkdown
}

func reportRun(_ context.Context, o *reportOptions) error {
	dirs, err := results.FindRunDirs(o.Runs)
	if err != nil {
		return fmt.Errorf("--runs: %w", err)
	}
	rep, err := report.Load(dirs)
	if err != nil {
		return err
	}
	rep.Title = o.Title
	rep.Order(experiments.WorkloadOrder())
	for _, path := range o.Figures {
		fig, err := report.LoadFigure(path)
		if err != nil {
			return fmt.Errorf("--figure: %w", err)
		}
		// A paper figure (fig10a.png …) is captioned and placed in the
		// section of its workloads, as reproduce's report does.
		if spec, ok := plots.Lookup(fig.Name); ok {
			fig.Title, fig.Caption, fig.Workloads = spec.Paper, spec.Caption, spec.Workloads
			if ws := experiments.FigureWorkloads(fig.Name); ws != nil {
				fig.Workloads = ws
			}
		}
		rep.Figures = append(rep.Figures, fig)
	}
	if o.Output == "" {
		return rep.Write(o.Streams.Out, o.Format)
	}
	var b bytes.Buffer
	if err := rep.Write(&b, o.Format); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(o.Output, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	fmt.Fprintf(o.Streams.ErrOut, "wrote %s (%d runs)\n", o.Output, len(dirs))
	return nil
}
