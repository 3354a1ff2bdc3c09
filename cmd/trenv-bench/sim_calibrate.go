package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"trenv-bench/internal/atomicfile"
	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
)

type simCalibrateOptions struct {
	Streams        *Streams
	From           string
	Out            string
	Method         string
	Pool           string
	Base           string
	KeepExec       bool
	AllowSimulated bool
	Force          bool
}

func newCmdSimCalibrate(s *Streams, runF func(context.Context, *simCalibrateOptions) error) *cobra.Command {
	opts := &simCalibrateOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "calibrate --from RUN_DIR -o FILE",
		Short: "Fit the cost model to a run on a real testbed",
		Long: `Calibrate fits the platform model's cost file to a run directory that run wrote
against a real testbed, and writes it to -o; everything it cannot fit comes
from the default model (or --base). Use the result with --calibration to
model your own testbed and explore what it did not measure: other memory
bounds, pool sizes, keep-alives.

It reads RUN_DIR/requests.csv and, when the target did not record start kinds
(a real faasd does not), faasd's metrics (warmup_metrics.output,
metrics.output). For each function, and the run's method M (the manifest's,
or --method/--pool):

  exec               execution of reused instances, ÷ the warm_exec_factor of
                     what started them (M's, and in TrEnv mode the pool's
                     switch key), so it stays the time on local DRAM
  first_exec_factor  first executions after a start (M; cold in TrEnv mode)
                     and after a switch, ÷ exec
  startup            e2e_ms − func_ms − http_overhead_ms of the starts that
                     found a free start worker, ÷ (1 + slowdown × other
                     starts running): the model adds waits and slowdown again
  platform.reuse     the same for reuses, all functions together

Distributions are log-normal (median and sigma of the logs). HTTP overhead,
concurrent-start slowdowns, resident memory and copies' factors are kept.
With --keep-exec, exec is kept and M's warm_exec_factor is fitted instead:
fit exec from a cold or CRIU run first, then a TrEnv run with --base.

A run of the model itself (target sim or twin) is refused: fitting the model
to its own output only gives it back. --allow-simulated fits it anyway, to
check the fit.`,
		Example: `  # on a testbed: a CRIU run (local DRAM), then fit exec and CRIU's start-up
  trenv-bench run --method criu -w 1 --target host --gateway http://testbed:8080
  trenv-bench sim calibrate --from runs/w1-criu-host -o testbed.yaml

  # then T-CXL: its switch and CXL execution factors, on top of those times
  trenv-bench run --method trenv --pool cxl -w 1 --target host --gateway http://testbed:8080
  trenv-bench sim calibrate --from runs/w1-trenv-cxl-host --base testbed.yaml --keep-exec -o testbed-cxl.yaml
  trenv-bench run --method trenv -w 2 --target sim --calibration testbed-cxl.yaml`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.From == "" || opts.Out == "" {
				return flagErrorf("--from RUN_DIR and -o FILE are required")
			}
			if opts.Pool != "" && opts.Pool != sim.PoolCXL && opts.Pool != sim.PoolRDMA {
				return flagErrorf("--pool %q: expected cxl or rdma", opts.Pool)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return simCalibrateRun(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from", "", "run directory (manifest.json, requests.csv, metrics)")
	f.StringVarP(&opts.Out, "out", "o", "", "cost model YAML to write")
	f.StringVar(&opts.Method, "method", "", "the run's start method, if the manifest's is wrong")
	f.StringVar(&opts.Pool, "pool", "", "the run's TrEnv pool, if the manifest's is wrong")
	f.StringVar(&opts.Base, "base", "", "cost model to start from (default: the embedded one)")
	f.BoolVar(&opts.KeepExec, "keep-exec", false, "keep --base's exec and fit the method's warm_exec_factor instead")
	f.BoolVar(&opts.AllowSimulated, "allow-simulated", false, "fit a run of the model itself (target sim or twin)")
	f.BoolVar(&opts.Force, "force", false, "replace an existing -o file")
	cmd.RegisterFlagCompletionFunc("method", cobra.FixedCompletions(sim.Methods, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("pool", cobra.FixedCompletions([]string{sim.PoolCXL, sim.PoolRDMA}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func simCalibrateRun(o *simCalibrateOptions) error {
	if !o.Force {
		if _, err := os.Stat(o.Out); err == nil {
			return fmt.Errorf("-o %s: already exists (pass --force to overwrite)", o.Out)
		}
	}
	mpath := filepath.Join(o.From, results.ManifestFile)
	man, err := results.ReadManifest(mpath)
	if err != nil {
		return fmt.Errorf("--from %s: %w (expected a run directory written by trenv-bench run)", o.From, err)
	}
	if man.Target.Simulated() && !o.AllowSimulated {
		return fmt.Errorf("%s: target %q: the run measured the platform model, not a testbed, and fitting the model to its own output only gives it back (pass --allow-simulated to fit it anyway)",
			mpath, man.Target)
	}
	method, pool, from := man.Method, man.Pool, mpath
	if o.Method != "" {
		method, from = o.Method, "--method"
	}
	if o.Pool != "" {
		if method != sim.MethodTrEnv {
			return flagErrorf("--pool is TrEnv's memory pool; the run's method %s has none", method)
		}
		pool = o.Pool
	}
	if method != sim.MethodTrEnv {
		pool = ""
	}
	base, err := loadModel(o.Base)
	if err != nil {
		return err
	}
	run := fmt.Sprintf("%s (%s, target %s)", o.From, methodLabel(method, pool), man.Target)
	fitter, err := sim.NewFitter(base, sim.FitOptions{Method: method, Pool: pool, Run: run, KeepExec: o.KeepExec})
	if err != nil {
		return fmt.Errorf("%s: method %q: %w", from, method, err)
	}
	if err := addRequests(fitter, filepath.Join(o.From, results.RequestsFile)); err != nil {
		return err
	}
	if !fitter.Timed() {
		if err := addMetrics(fitter, o.From); err != nil {
			return err
		}
	}
	model, rep, err := fitter.Fit()
	if err != nil {
		return fmt.Errorf("--from %s: %w", o.From, err)
	}
	if err := model.Validate(nil); err != nil {
		return fmt.Errorf("the fitted model does not validate (a bug): %w", err)
	}
	data, err := yaml.Marshal(model)
	if err != nil {
		return err
	}
	header := fmt.Sprintf("# Cost model fitted by trenv-bench sim calibrate from %s\n# (%s); numbers with a \"fitted:\" source come from the run, the rest from %s.\n",
		run, fitSourceLabel(rep), baseLabel(o.Base))
	if err := atomicfile.WriteFile(o.Out, append([]byte(header), data...), 0o644); err != nil {
		return fmt.Errorf("-o %s: %w", o.Out, err)
	}
	writeFitReport(o.Streams.ErrOut, rep)
	if man.Status != results.RunComplete {
		fmt.Fprintf(o.Streams.ErrOut, "note: the run's status is %s: fitted from the records it has\n", man.Status)
	}
	fmt.Fprintf(o.Streams.ErrOut, "wrote %s\n", o.Out)
	return nil
}

// addRequests feeds requests.csv to the fitter.
func addRequests(fitter *sim.Fitter, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rr := results.NewRequestReader(f, path)
	for row := 2; rr.Next(); row++ { // row 1 is the header
		r := rr.Request()
		if err := fitter.AddRequest(&r); err != nil {
			return fmt.Errorf("%s:%d: %w", path, row, err)
		}
	}
	return rr.Err()
}

// addMetrics feeds the run's metrics files that exist to the fitter.
func addMetrics(fitter *sim.Fitter, dir string) error {
	found := false
	for _, name := range []string{results.WarmupMetricsFile, results.MetricsFile} {
		path := filepath.Join(dir, name)
		f, err := os.Open(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		m, err := results.ParseMetrics(f, path)
		f.Close()
		if err != nil {
			return err
		}
		if err := fitter.AddMetrics(m); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		found = true
	}
	if !found {
		return fmt.Errorf("%s: %s has no start kinds and there is no %s or %s to read them from",
			dir, results.RequestsFile, results.WarmupMetricsFile, results.MetricsFile)
	}
	return nil
}

func methodLabel(method, pool string) string {
	if pool != "" {
		return method + "/" + pool
	}
	return method
}

func baseLabel(base string) string {
	if base == "" {
		return "the embedded " + calibration.DefaultFile
	}
	return base
}

func fitSourceLabel(rep *sim.FitReport) string {
	if rep.Timed {
		return "requests.csv, with start kinds and times"
	}
	return "faasd's metrics: requests.csv has no start kinds"
}

// writeFitReport says, per function, from how many requests of each start
// kind what was fitted, then the notes.
func writeFitReport(w io.Writer, rep *sim.FitReport) {
	fmt.Fprintf(w, "fitted from %s; %d requests skipped (not ok, no start kind or func_ms, or unknown function)\n",
		fitSourceLabel(rep), rep.Skipped)
	fmt.Fprintf(w, "%-18s %6s %7s %6s %6s  fitted\n", "function", "cold", "restore", "switch", "reuse")
	byFn := map[string][]string{}
	var platform []string
	for _, x := range rep.Fitted {
		s := describeFitted(x)
		if x.Function == "" {
			platform = append(platform, s)
		} else {
			byFn[x.Function] = append(byFn[x.Function], s)
		}
	}
	for _, c := range rep.Functions {
		k := c.Kinds
		what := strings.Join(byFn[c.Function], "; ")
		if what == "" {
			what = "nothing (too few)"
		}
		fmt.Fprintf(w, "%-18s %6d %7d %6d %6d  %s\n", c.Function,
			k[results.StartCold], k[results.StartRestore], k[results.StartSwitch], k[results.StartReuse], what)
	}
	for _, s := range platform {
		fmt.Fprintf(w, "platform: %s\n", s)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

func describeFitted(x sim.Fitted) string {
	name := x.Field
	if x.Method != "" {
		name += " " + x.Method
	}
	if x.MedianMs > 0 {
		return fmt.Sprintf("%s %.4g ms σ %.3f (n=%d)", name, x.MedianMs, x.Sigma, x.Samples)
	}
	return fmt.Sprintf("%s %.3f (n=%d)", name, x.Value, x.Samples)
}
