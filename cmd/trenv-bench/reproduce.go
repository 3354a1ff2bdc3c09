package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"trenv-bench/experiments"
	"trenv-bench/replay"
	"trenv-bench/results"
	"trenv-bench/sim/calibration"
	"trenv-bench/system"
	"trenv-bench/system/prepare"
)

// reproduceOptions are the inputs of `trenv-bench reproduce`.
type reproduceOptions struct {
	Streams *Streams
	Args    []string // the full command line, for the manifests
	// Plot draws the figures (the integrator's plots wiring); nil = the
	// runs and the report only.
	Plot experiments.PlotFunc

	Figure        string
	Target        results.Target
	OutDir        string
	Speed         float64
	AzureDataset  string
	HuaweiDataset string
	CalFile       string
	// NoPrepare (host): the host is prepared by hand; reproduce only
	// cleans between runs. StateDir is the harness's state directory.
	NoPrepare  bool
	StateDir   string
	HostConfig string

	// Set by RunE.
	model *calibration.Model
}

// newCmdReproduce returns the reproduce command; plot is the figure step
// it hands to experiments.Reproduce (nil: no figures, a note says so).
func newCmdReproduce(s *Streams, plot experiments.PlotFunc, runF func(context.Context, *reproduceOptions) error) *cobra.Command {
	opts := &reproduceOptions{Streams: s, Plot: plot}
	figures := figureNames()
	cmd := &cobra.Command{
		Use:   "reproduce " + strings.Join(figures, "|") + "|" + experiments.FigureAll + " --target sim|twin|host [--out DIR]",
		Short: "Run what a paper figure needs (only what is missing), plot it and write the report",
		Long: `Reproduce runs a figure's experiment matrix — every system the paper compares
(T-CXL, T-RDMA, faasd, CRIU, FaaSnap+, REAP+) on the figure's workloads with
the artifact's flags (experiments/matrix.yaml) — into --out, one run
directory each, then draws the figures into --out/figures and writes the
report (as trenv-bench report does) as --out/report.md, linking the
figures, and --out/report.html, one page with the figures inlined.

Only what is missing runs: a run directory whose manifest says complete and
matches the matrix is kept; an interrupted, failed or stale one is run
again. So an interrupted reproduction resumes when run again. Figures that
share runs share them (fig15 is fig13's Azure runs; fig11a, peak memory per
workload, draws fig10a's, fig10b's and fig13's), and "all" runs each once:
56 runs.

fig14 (the start-path optimisation steps of image-recognition and
json-serde) exists on the platform model only: its Reconfig and Cgroup steps
are model variants built from the paper's step costs (sim/startpath), which
are Figure 14's own numbers, so it restates the calibration — a check, not a
prediction. --target host refuses it, and "all" on a host leaves it out.

Targets:
  sim    the platform model in virtual time: all figures in seconds
  twin   the model behind faasd's HTTP API in real time, --speed X faster
         (the paper's runs take 30 min to 1 h each at speed 1)
  host   a real TrEnv host, as run --target host: the runs go pool by pool
         (T-RDMA's after everything else), with system prepare for the pool
         (its defaults) before each pool's first run and system clean before
         every run; --no-prepare when you prepared the host yourself with
         other options (a TrEnv run on templates of another pool or boot is
         refused by its pre-flight)

The trace workloads (fig13, fig15) use the built-in synthetic samples,
invented content in the traces' format, unless --azure-dataset and
--huawei-dataset name the real datasets (as gen --dataset); reproduce then
says so in one line, and the figures and the report mark those workloads
"SYNTHETIC SAMPLE (invented content)". A run's manifest records the dataset
files it read with their sha256, or the sample.`,
		Example: `  # every figure on the simulator, into runs/reproduce
  trenv-bench reproduce all --target sim

  # Figure 10(a) on the twin, 30x faster than real time
  trenv-bench reproduce fig10a --target twin --speed 30 --out runs/twin

  # Figures 13 and 15 from the real traces
  trenv-bench reproduce fig13 --target sim --azure-dataset azurefunctions-dataset2019.tar.xz \
      --huawei-dataset public_dataset/csv_files/requests_minute`,
		Args:      argsError(cobra.ExactArgs(1)),
		ValidArgs: append(slices.Clone(figures), experiments.FigureAll),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Figure = args[0]
			if opts.Figure != experiments.FigureAll && !slices.Contains(figures, opts.Figure) {
				return flagErrorf("figure %q: expected one of %s or %s", opts.Figure, strings.Join(figures, ", "), experiments.FigureAll)
			}
			switch opts.Target {
			case "":
				return flagErrorf("--target is required: sim, twin or host")
			case results.TargetSim, results.TargetTwin, results.TargetHost:
			default:
				return flagErrorf("--target %q: expected sim, twin or host", opts.Target)
			}
			if err := checkSpeed(opts.Speed); err != nil {
				return err
			}
			if (opts.NoPrepare || opts.HostConfig != "") && opts.Target != results.TargetHost {
				return flagErrorf("--no-prepare and --host-config are for --target host")
			}
			if opts.Speed != 1 && opts.Target != results.TargetTwin {
				return flagErrorf("--speed compresses the twin's real time; --target %s has none to compress", opts.Target)
			}
			var err error
			if opts.model, err = loadModel(opts.CalFile); err != nil {
				return err
			}
			opts.Args = os.Args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return reproduceRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar((*string)(&opts.Target), "target", "", "where to run: sim, twin or host (required)")
	f.StringVar(&opts.OutDir, "out", experiments.DefaultOutDir, "directory of the run directories, figures/, report.md and report.html")
	f.Float64Var(&opts.Speed, "speed", 1, "twin only: run the model this many times faster than real time")
	f.StringVar(&opts.AzureDataset, "azure-dataset", "", "Azure Functions 2019 dataset, as gen --dataset (default: the built-in sample)")
	f.StringVar(&opts.HuaweiDataset, "huawei-dataset", "", "Huawei 2023 requests_minute dataset, as gen --dataset (default: the built-in sample)")
	f.BoolVar(&opts.NoPrepare, "no-prepare", false, "host only: do not run system prepare between pools (the host is prepared already)")
	f.StringVar(&opts.HostConfig, "host-config", "", "host only: YAML of where this host keeps the stack (as run --host-config)")
	f.StringVar(&opts.StateDir, "state-dir", system.DefaultStateDir, "host only: where the harness records the daemons it starts")
	f.StringVar(&opts.CalFile, "calibration", "", "cost model YAML (default: the embedded sim/calibration/default.yaml)")
	cmd.RegisterFlagCompletionFunc("target", cobra.FixedCompletions([]string{"sim", "twin", "host"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// figureNames lists the embedded matrix's figures (none if it is broken:
// its tests catch that, and reproduce then fails with the matrix error).
func figureNames() []string {
	m, err := experiments.DefaultMatrix()
	if err != nil {
		return nil
	}
	return m.FigureNames()
}

func reproduceRun(ctx context.Context, o *reproduceOptions) error {
	bar := newMatrixBar(o.Streams)
	var prepare func(context.Context, string) error
	var clean func(context.Context) error
	var host *experiments.HostOptions
	if o.Target == results.TargetHost {
		prepare, clean = hostPrepare(o), hostClean(o)
		if o.HostConfig != "" {
			var err error
			if host, err = experiments.LoadHostConfig(o.HostConfig); err != nil {
				return err
			}
			o.StateDir = host.StateDir // the runs' and the clean-ups' must be one
		}
	}
	res, err := experiments.Reproduce(ctx, experiments.Options{
		PreparePool: prepare, Clean: clean, Host: host,
		Figure: o.Figure, Target: o.Target, OutDir: o.OutDir, Speed: o.Speed,
		Datasets:    experiments.Datasets{Azure: o.AzureDataset, Huawei: o.HuaweiDataset},
		Model:       o.model,
		ToolVersion: versionString(), CommandLine: o.Args,
		Plot:        o.Plot,
		Progress:    bar.step,
		RunProgress: bar.replay,
		Meter:       newMeter(o.Streams),
		Notes:       o.Streams.ErrOut,
	})
	bar.done()
	if res.Plan != nil {
		fmt.Fprintf(o.Streams.ErrOut, "reproduce %s --target %s: %d runs: %d ran, %d already complete, %d failed\n",
			o.Figure, o.Target, len(res.Plan.Runs), len(res.Ran), len(res.Skipped), len(res.Failed))
	}
	// The plot step has said which figures it wrote.
	for _, r := range []string{res.Report, res.ReportHTML} {
		if r != "" {
			fmt.Fprintf(o.Streams.ErrOut, "wrote %s\n", r)
		}
	}
	return err
}

// matrixBar draws one progress bar over a reproduction's runs on a
// terminal; within a twin run its description follows the replay.
type matrixBar struct {
	s   *Streams
	mu  sync.Mutex
	bar *bar
	run string
}

func newMatrixBar(s *Streams) *matrixBar { return &matrixBar{s: s} }

func (b *matrixBar) step(st experiments.Step) {
	if !b.s.ProgressOK {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar == nil {
		b.bar = newCountBar(b.s, st.Total, progressbar.OptionClearOnFinish())
	}
	b.run = st.Run
	switch st.Action {
	case experiments.StepSkip:
		b.bar.Describe("complete: " + st.Run)
	case experiments.StepRun:
		b.bar.Describe("running: " + st.Run)
	}
	b.bar.Set(st.Done)
}

// replay follows a twin run's replay (one goroutine calls it).
func (b *matrixBar) replay(p replay.Progress) {
	if !b.s.ProgressOK {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		b.bar.Describe(fmt.Sprintf("running: %s, %s %d/%d", b.run, p.Phase, p.Completed, p.Scheduled))
	}
}

func (b *matrixBar) done() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		b.bar.Finish()
		b.bar = nil
	}
}

// hostPrepare is a host reproduction's preparation for a pool: system
// prepare with its defaults, or nothing with --no-prepare.
func hostPrepare(o *reproduceOptions) func(context.Context, string) error {
	return func(ctx context.Context, pool string) error {
		if o.NoPrepare {
			return nil
		}
		p := &systemPrepareOptions{Streams: o.Streams, StateDir: o.StateDir, Opts: prepare.Defaults(pool)}
		if err := prepareServices(&p.Opts); err != nil {
			return err
		}
		if err := p.Opts.Validate(); err != nil {
			return err
		}
		return runSystemPrepare(ctx, p)
	}
}

// hostClean is a host reproduction's clean-up between runs: system clean.
func hostClean(o *reproduceOptions) func(context.Context) error {
	return func(ctx context.Context) error {
		return runSystemClean(ctx, &systemCleanOptions{Streams: o.Streams, StateDir: o.StateDir})
	}
}
