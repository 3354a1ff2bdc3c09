package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"trenv-bench/traces/azure"
	"trenv-bench/traces/huawei"
	"trenv-bench/traces/tracefile"
	"trenv-bench/workloads"
)

func newCmdTraces(s *Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "traces",
		Short: "Work with the public trace datasets",
		Long: `The public traces the trace workloads replay: the Azure Functions 2019 trace
(azurefunctions-dataset2019.tar.xz) and the Huawei public cloud trace 2023
(public_dataset/csv_files/requests_minute). gen -w azure|huawei reads them.`,
		Example: `  # an invented Azure day in the real format, then a workload from it
  trenv-bench traces synth azure -o /tmp/azure
  trenv-bench gen -w azure --dataset /tmp/azure -o runs/azure-synth`,
	}
	cmd.AddCommand(newCmdSynth(s, nil))
	return cmd
}

// synthOptions are the inputs of `trenv-bench traces synth`.
type synthOptions struct {
	Streams *Streams
	Trace   string
	OutDir  string
	Seed    uint64
}

func newCmdSynth(s *Streams, runF func(context.Context, *synthOptions) error) *cobra.Command {
	opts := &synthOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "synth azure|huawei -o DIR [--seed N]",
		Short: "Write a complete synthetic dataset in a trace's real format",
		Long: `Synth writes an invented dataset in the exact format of a public trace, with
every row and minute of a day and heavy-tailed, bursty counts. The same seed
gives the same bytes. Use it for demos, tests and benchmarks; it is not the
real trace.

  azure   DIR/invocations_per_function_md.anon.d03.csv,
          DIR/function_durations_percentiles.anon.d03.csv,
          DIR/app_memory_percentiles.anon.d03.csv (46,500 functions, 1,440 minutes)
  huawei  DIR/requests_minute/day_DD.csv for the 8 days gen -w huawei reads
          (5,093 functions, 1,440 minutes)

Beside the files it writes a marker, ` + tracefile.SynthMarkerName + ` (JSON: the trace, the
files and their seed), so that a run reading the dataset with --dataset (or
reproduce --azure-dataset/--huawei-dataset) records it as synthetic, and
its figures and report say "synthetic (invented content)" instead of
passing it off as the real trace.`,
		Example: `  trenv-bench traces synth azure -o /tmp/azure && trenv-bench gen -w azure --dataset /tmp/azure -o runs/azure-synth
  trenv-bench traces synth huawei -o /tmp/huawei --seed 2`,
		Args:      argsError(cobra.ExactArgs(1)),
		ValidArgs: []string{"azure", "huawei"},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Trace = args[0]
			if opts.Trace != "azure" && opts.Trace != "huawei" {
				return flagErrorf("trace %q: expected azure or huawei", opts.Trace)
			}
			if opts.OutDir == "" {
				return flagErrorf("-o DIR is required")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return synthRun(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.OutDir, "out", "o", "", "directory to write the dataset into (created)")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 1, "seed of the synthetic data")
	return cmd
}

func synthRun(ctx context.Context, o *synthOptions) error {
	var err error
	switch o.Trace {
	case "azure":
		// The rows gen -w azure reads get busy traffic, as in the real trace.
		var sel azure.Selection
		if sel, err = workloads.AzureSelection(); err == nil {
			err = azure.Synth(o.OutDir, azure.SynthOptions{Seed: o.Seed, Busy: sel.Positions})
		}
	case "huawei":
		// The windows gen -w huawei reads get busy traffic, as in a real trace.
		var busy []huawei.Window
		if busy, err = workloads.HuaweiWindows(); err == nil {
			err = huawei.Synth(o.OutDir, huawei.SynthOptions{Seed: o.Seed, Busy: busy})
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Streams.ErrOut, "wrote a synthetic %s dataset (seed %d) into %s\n", o.Trace, o.Seed, o.OutDir)
	return nil
}
