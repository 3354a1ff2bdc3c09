package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"trenv-bench/workloads"
)

// genOptions are the inputs of `trenv-bench gen`.
type genOptions struct {
	Streams *Streams

	Workload string
	Dataset  string
	Seed     int64
	Iter     int
	OutDir   string
	Force    bool
	Verbose  bool
}

func newCmdGen(s *Streams, runF func(context.Context, *genOptions) error) *cobra.Command {
	opts := &genOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "gen -w 1|2|func|azure|huawei [--dataset PATH] [-o DIR]",
		Short: "Generate a workload (workload.json and warmup.json) as upstream gen_trace.py does",
		Long: `Generate writes workload.json (the measured phase) and warmup.json (the warmup
phase) into -o DIR: for each function, the number of requests to start in
each second. With the default seed the files are byte-identical to upstream
gen_trace.py's (faasd-testdriver@f1dcaed) for the same inputs.

Workloads:
  1       W1, synthetic bursts (paper Figure 10a): 286 s warmup, 1430 s test
  2       W2, bursts under memory pressure (Figure 10b): 320 s + 1600 s
  func    one request per function per cycle (Figure 12): 38 s + --iter cycles
  azure   Azure Functions 2019 trace, day 3, first hour (Figures 13, 15)
  huawei  Huawei public cloud trace 2023, 26 one-hour windows (Figure 13)

--dataset for azure: the extracted folder, one of the day's CSV files (plain
or .gz; the others are found beside it), or azurefunctions-dataset2019.tar.xz
itself. For huawei: the requests_minute folder (or its parent), or one of its
day_DD.csv(.gz) files. Without --dataset, azure and huawei use a small
built-in synthetic sample and say so on stderr.

Unlike upstream, a minute that holds more requests than 60 × the function's
per-second cap (where upstream loops forever) is an error naming it, and
existing files are only replaced with --force.`,
		Example: `  # W1 into runs/w1
  trenv-bench gen -w 1 -o runs/w1

  # func with 10 cycles, W2 with another seed
  trenv-bench gen -w func --iter 10 -o runs/func
  trenv-bench gen -w 2 --seed 7 -o runs/w2-seed7

  # the traces, from the datasets as downloaded
  trenv-bench gen -w azure --dataset azurefunctions-dataset2019.tar.xz -o runs/azure
  trenv-bench gen -w huawei --dataset public_dataset/csv_files/requests_minute -o runs/huawei`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Workload == "" {
				return flagErrorf("-w/--workload is required: one of %s", strings.Join(workloads.Kinds, ", "))
			}
			if !slices.Contains(workloads.Kinds, opts.Workload) {
				return flagErrorf("-w %q: expected one of %s", opts.Workload, strings.Join(workloads.Kinds, ", "))
			}
			if opts.Seed < 0 || opts.Seed > 1<<32-1 {
				return flagErrorf("--seed %d: expected 0 to 4294967295 (NumPy's seed range, which upstream seeds too)", opts.Seed)
			}
			if err := checkIter(opts.Iter); err != nil {
				return err
			}
			if cmd.Flags().Changed("dataset") && opts.Workload != "azure" && opts.Workload != "huawei" {
				return flagErrorf("--dataset is only read by -w azure and -w huawei, not -w %s", opts.Workload)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return genRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Workload, "workload", "w", "", "workload: "+strings.Join(workloads.Kinds, ", "))
	f.StringVar(&opts.Dataset, "dataset", "", "dataset for azure/huawei: folder, file, .gz or .tar.xz (default: built-in sample)")
	f.Int64Var(&opts.Seed, "seed", int64(workloads.DefaultSeed), "seed of both random generators, 0 to 4294967295")
	f.IntVar(&opts.Iter, "iter", workloads.DefaultIter, "func only: number of cycles in workload.json")
	f.StringVarP(&opts.OutDir, "out", "o", ".", "directory to write workload.json and warmup.json into (created)")
	f.BoolVar(&opts.Force, "force", false, "replace existing workload.json/warmup.json")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "say which dataset rows each function replays")
	cmd.RegisterFlagCompletionFunc("workload", cobra.FixedCompletions(workloads.Kinds, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func genRun(ctx context.Context, o *genOptions) error {
	res, prov, err := workloads.Make(ctx, workloads.Spec{Kind: o.Workload, Seed: uint32(o.Seed), Iter: o.Iter,
		Dataset: o.Dataset, NoDigests: true, Meter: newMeter(o.Streams)})
	if prov.Sample {
		fmt.Fprintf(o.Streams.ErrOut, "gen: no --dataset: using the built-in synthetic %s sample (not the real trace)\n", o.Workload)
	}
	if err != nil {
		return err
	}
	if o.Verbose {
		for _, p := range res.Picks {
			fmt.Fprintf(o.Streams.ErrOut, "%-20s %s\n", p.Function, p.Source)
		}
	}
	if err := workloads.WriteDir(o.OutDir, res.Workload, o.Force); err != nil {
		return err
	}
	w := res.Workload
	fmt.Fprintf(o.Streams.ErrOut, "wrote %s (%d s, %d requests) and %s (%d s, %d requests)\n",
		filepath.Join(o.OutDir, workloads.TestFile), w.Test.Seconds(), w.Test.Requests(),
		workloads.WarmupFile, w.Warmup.Seconds(), w.Warmup.Requests())
	return nil
}
