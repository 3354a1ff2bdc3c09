package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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

// Defaults of plot.
const (
	// DefaultPlotRuns is where plot looks for runs: run's default --out.
	DefaultPlotRuns = "runs"
	// DefaultPlotOut is where plot writes figures (DESIGN.md).
	DefaultPlotOut = "runs/figures"
)

// plotAll names every figure on plot's command line.
const plotAll = "all"

// plotOptions are the inputs of `trenv-bench plot`.
type plotOptions struct {
	Streams *Streams

	// Figures are the figure names to draw, in registry order, "all"
	// expanded.
	Figures []string
	// All is set when "all" was asked for: a figure without runs is then
	// skipped with a warning instead of failing the command.
	All bool
	// Runs are run directories or directories holding them.
	Runs []string
	// OutDir receives <figure>.<format>; created.
	OutDir string
	// Format is png, svg or pdf.
	Format string
}

func newCmdPlot(s *Streams, runF func(context.Context, *plotOptions) error) *cobra.Command {
	opts := &plotOptions{Streams: s}
	names := plots.Names()
	cmd := &cobra.Command{
		Use:   "plot " + strings.Join(append(names, plotAll), "|") + "... [--runs DIR...] [-o DIR] [--format png|svg|pdf]",
		Short: "Draw the paper's figures from run directories",
		Long: `Plot draws the TrEnv paper's evaluation figures from run directories and
writes each to -o DIR as <figure>.<format> (atomically).

Figures, and the runs each draws (by the manifest's workload and method):
  fig10a  W1 (-w 1): P50 and P99 end-to-end latency per function, latency CDF
  fig10b  W2 (-w 2): the same
  fig11a  peak memory of each system under W1, W2, Azure and Huawei (the runs
          of fig10a, fig10b and fig13)
  fig11b  peak memory of 50 instances; runs whose test phase invokes only
          image-recognition, or only image-flip-rotate (--workload-dir DIR)
  fig12   startup vs execution latency per function (-w func)
  fig13   Huawei and Azure traces (-w huawei, -w azure): P50 and P99 per function
  fig14   start-path optimisation steps (faasd, CRIU, Reconfig, Cgroup,
          T-RDMA, T-CXL; FaaSnap+ dashed) of image-recognition and json-serde:
          sim or twin runs of workloads steps-image-recognition and
          steps-json-serde (reproduce fig14). On the platform model only: the
          Reconfig and Cgroup steps are model variants built from the paper's
          step costs, so the figure restates the calibration, a check, not a
          prediction; host and gateway runs are refused
  fig15   memory over time on the Azure trace (-w azure)
  all     every figure there are runs for

--runs takes run directories (holding manifest.json) or directories whose
subdirectories are runs (one level down). When several runs fit one system
of a figure, the latest complete one is drawn. A system without a run is
left out and named on stderr; figures from the simulator or the twin carry
a "SIMULATED (platform model)" mark, figures of trace workloads replayed
from invented data (the built-in sample, or a traces synth dataset) a
"SYNTHETIC SAMPLE (invented content)" mark, and every figure's footer says
where its data came from (dataset files and sha256, or the sample).`,
		Example: `  # every figure from the runs under runs/, into runs/figures/*.png
  trenv-bench plot all

  # Figure 10(a) as SVG from two folders of runs
  trenv-bench plot fig10a --runs runs/w1,runs/extra --format svg -o paper/

  # Figures 13 and 15 from named run directories
  trenv-bench plot fig13 fig15 --runs runs/azure-trenv-cxl-sim --runs runs/azure-reap-sim`,
		Args: argsError(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Figures, opts.All = nil, false
			for _, a := range args {
				switch {
				case a == plotAll:
					opts.All = true
				case !slices.Contains(names, a):
					return flagErrorf("figure %q: expected one of %s", a, strings.Join(append(names, plotAll), ", "))
				}
			}
			for _, n := range names { // registry order, each once
				if opts.All || slices.Contains(args, n) {
					opts.Figures = append(opts.Figures, n)
				}
			}
			if !slices.Contains(plots.Formats, opts.Format) {
				return flagErrorf("--format %q: expected one of %s", opts.Format, strings.Join(plots.Formats, ", "))
			}
			if len(opts.Runs) == 0 {
				return flagErrorf("--runs: expected at least one directory")
			}
			if opts.OutDir == "" {
				return flagErrorf("-o: expected a directory")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return plotRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Runs, "runs", []string{DefaultPlotRuns}, "run directories, or directories of run directories (repeat or separate by commas)")
	f.StringVarP(&opts.OutDir, "out", "o", DefaultPlotOut, "directory to write the figures into (created)")
	f.StringVar(&opts.Format, "format", plots.DefaultFormat, "image format: "+strings.Join(plots.Formats, ", "))
	cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(plots.Formats, cobra.ShellCompDirectiveNoFileComp))
	cmd.ValidArgs = append(names, plotAll)
	return cmd
}

func plotRun(ctx context.Context, o *plotOptions) error {
	dirs, err := results.FindRunDirs(o.Runs)
	if err != nil {
		return fmt.Errorf("--runs: %w", err)
	}
	runs, err := plots.LoadRuns(dirs)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return err
	}
	errOut := o.Streams.ErrOut
	written := 0
	var skipped []string
	for _, name := range o.Figures {
		if err := ctx.Err(); err != nil {
			return err
		}
		if _, _, err := drawFigure(name, runs, o.Format, o.OutDir, errOut); err != nil {
			if o.All && errors.Is(err, plots.ErrNoRuns) {
				fmt.Fprintf(errOut, "plot: %s skipped: %v\n", name, err)
				skipped = append(skipped, name)
				continue
			}
			return err
		}
		written++
	}
	if written == 0 {
		return fmt.Errorf("plot: no figure drawn from %d runs in %s (skipped: %s)",
			len(runs), strings.Join(o.Runs, ", "), strings.Join(skipped, ", "))
	}
	return nil
}

// drawFigure builds figure name from runs, writes outDir/<name>.<format>
// atomically, says so and warns about missing systems on errOut.
func drawFigure(name string, runs []*plots.Run, format, outDir string, errOut io.Writer) (*plots.Figure, string, error) {
	fig, err := plots.Build(name, runs)
	if err != nil {
		return nil, "", err
	}
	for _, n := range fig.Notes {
		fmt.Fprintf(errOut, "plot: note: %s\n", n)
	}
	if len(fig.Missing) > 0 {
		fmt.Fprintf(errOut, "plot: warning: %s: no run for %s (not drawn)\n", name, strings.Join(fig.Missing, ", "))
	}
	var buf bytes.Buffer
	if err := plots.Render(&buf, fig, format, 0, 0); err != nil {
		return nil, "", err
	}
	path := filepath.Join(outDir, name+"."+format)
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return nil, "", err
	}
	fmt.Fprintf(errOut, "wrote %s\n", path)
	return fig, path, nil
}

// reproducePlot is the plot step of reproduce: figure as PNG into outDir,
// described for the report (paper name, caption, workloads drawn).
func reproducePlot(s *Streams) experiments.PlotFunc {
	return func(figure string, runDirs []string, outDir string) ([]report.Figure, error) {
		runs, err := plots.LoadRuns(runDirs)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(outDir, 0o755); err != nil {
			return nil, err
		}
		fig, path, err := drawFigure(figure, runs, "png", outDir, s.ErrOut)
		if err != nil {
			return nil, err
		}
		rf := report.Figure{Name: figure, Path: path, Workloads: fig.Workloads}
		if spec, ok := plots.Lookup(figure); ok {
			rf.Title, rf.Caption = spec.Paper, spec.Caption
		}
		return []report.Figure{rf}, nil
	}
}
