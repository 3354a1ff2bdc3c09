package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"trenv-bench/internal/atomicfile"
	"trenv-bench/results"
	"trenv-bench/sim"
)

type simCalibrateOptions struct {
	Streams *Streams
	From    string
	Out     string
	Method  string
	Pool    string
	Base    string
	Force   bool
}

func newCmdSimCalibrate(s *Streams, runF func(context.Context, *simCalibrateOptions) error) *cobra.Command {
	opts := &simCalibrateOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "calibrate --from RUN_DIR -o FILE",
		Short: "Fit the cost model's start-up and execution times to a real run",
		Long: `Calibrate reads faasd's metrics of a run on a real host (RUN_DIR/metrics.output)
and writes a cost model whose start-up distributions (for the run's start
method) and warm execution distributions are fitted to them (log-normal:
median and sigma of the logs), everything else taken from the default model
(or --base). Use the result with --calibration to model your own testbed and
explore what it did not measure: other memory bounds, pool sizes, keep-alives.

The run's method and pool come from RUN_DIR/manifest.json, or --method/--pool.`,
		Example: `  trenv-bench sim calibrate --from runs/w1-trenv -o testbed.yaml
  trenv-bench sim serve --method trenv --calibration testbed.yaml --mem 32`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.From == "" || opts.Out == "" {
				return flagErrorf("--from RUN_DIR and -o FILE are required")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return simCalibrateRun(opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from", "", "run directory holding metrics.output (and manifest.json)")
	f.StringVarP(&opts.Out, "out", "o", "", "cost model YAML to write")
	f.StringVar(&opts.Method, "method", "", "the run's start method (default: from manifest.json)")
	f.StringVar(&opts.Pool, "pool", "", "the run's TrEnv pool (default: from manifest.json, else cxl)")
	f.StringVar(&opts.Base, "base", "", "cost model to start from (default: the embedded one)")
	f.BoolVar(&opts.Force, "force", false, "replace an existing -o file")
	return cmd
}

// runManifest is the part of a run's manifest.json calibrate reads.
type runManifest struct {
	Method string `json:"method"`
	Pool   string `json:"pool"`
}

func simCalibrateRun(o *simCalibrateOptions) error {
	if !o.Force {
		if _, err := os.Stat(o.Out); err == nil {
			return fmt.Errorf("%s: already exists (pass --force to overwrite)", o.Out)
		}
	}
	method, pool := o.Method, o.Pool
	mpath := filepath.Join(o.From, "manifest.json")
	if data, err := os.ReadFile(mpath); err == nil {
		var man runManifest
		if err := json.Unmarshal(data, &man); err != nil {
			return fmt.Errorf("%s: %w", mpath, err)
		}
		if method == "" {
			method = man.Method
		}
		if pool == "" {
			pool = man.Pool
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if method == "" {
		return flagErrorf("%s has no method: pass --method", mpath)
	}
	path := filepath.Join(o.From, "metrics.output")
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	m, err := results.ParseMetrics(f, path)
	if err != nil {
		return err
	}
	base, err := loadModel(o.Base)
	if err != nil {
		return err
	}
	model, fitted, err := sim.Fit(base, m, method, pool, path)
	if err != nil {
		return err
	}
	if len(fitted) == 0 {
		return fmt.Errorf("%s: no latency list has %d or more samples to fit", path, sim.MinFitSamples)
	}
	data, err := yaml.Marshal(model)
	if err != nil {
		return err
	}
	header := fmt.Sprintf("# Cost model fitted by trenv-bench sim calibrate from %s (method %s).\n", path, method)
	if err := atomicfile.WriteFile(o.Out, append([]byte(header), data...), 0o644); err != nil {
		return err
	}
	for _, x := range fitted {
		fmt.Fprintf(o.Streams.ErrOut, "fitted %-18s %-8s %-10s n=%-5d median %.3f ms, sigma %.3f\n",
			x.Function, x.Field, x.Method, x.Samples, x.MedianMs, x.Sigma)
	}
	fmt.Fprintf(o.Streams.ErrOut, "wrote %s\n", o.Out)
	return nil
}
