package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"trenv-bench/experiments"
	"trenv-bench/results"
	"trenv-bench/validate"
)

type simValidateOptions struct {
	Streams   *Streams
	Runs      []string
	Reference string
	JSON      bool
	Worst     int
	Target    results.Target
}

// metricHelp lists the metric vocabulary, one line each, for --help.
func metricHelp() string {
	var b strings.Builder
	for _, m := range validate.Metrics() {
		fmt.Fprintf(&b, "  %-16s %-5s %s\n", m.Name, m.Unit, m.Doc)
	}
	return b.String()
}

func newCmdSimValidate(s *Streams, runF func(context.Context, *simValidateOptions) error) *cobra.Command {
	opts := &simValidateOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "validate --runs DIR... --reference FILE [--json] [--worst N] [--target T]",
		Short: "Compare a reproduction's runs with a table of reference figures",
		Long: `Validate compares the run directories of a reproduction (--runs: run
directories, or directories of them, as plot takes) with a table of reference
figures — your own testbed's results, or numbers read off a paper — and says
how close they come. The project ships no such table.

The reference is CSV, one number a row, '#' lines comments:

  figure,workload,function,system,metric,value
  fig10a,1,dynamic-html,T-CXL,p99_ms,9.5
  fig11a,2,(all),REAP+,peak_memory_gib,21

figure is a figure of the experiment matrix (reproduce's); workload one of
its workloads as the manifests name them (1, 2, azure, huawei, func,
density-…, steps-…); function a catalog function or (all); system one the
figure compares (T-CXL, T-RDMA, faasd, CRIU, CRIU-lazy, FaaSnap+, REAP+;
fig14: also Reconfig, Cgroup); value positive. Metrics:

` + metricHelp() + `
Every field is checked; errors name the file, line and field.

For each row, the same metric is computed from the latest complete run of
that workload and system. It prints, per figure × workload and overall: the
median |ln(model/reference)|, the share of points within 25 %, the pairwise
concordance of the systems' order (pairs of systems with the same function
and metric), then the --worst N points, and every reference row the runs
could not answer (no run, function not invoked, ...), with why. --json
prints the same for scripts.`,
		Example: `  trenv-bench reproduce all --target sim
  trenv-bench sim validate --runs runs/reproduce --reference my-testbed.csv
  trenv-bench sim validate --runs runs/reproduce --reference my-testbed.csv --json | jq .overall`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Reference == "" {
				return flagErrorf("--reference FILE is required")
			}
			if len(opts.Runs) == 0 {
				return flagErrorf("--runs: expected at least one directory")
			}
			if opts.Worst < 0 {
				return flagErrorf("--worst %d: expected 0 or more", opts.Worst)
			}
			if opts.Target != "" && !opts.Target.Valid() {
				return flagErrorf("--target %q: expected one of sim, twin, gateway, host", opts.Target)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return simValidateRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Runs, "runs", []string{DefaultPlotRuns}, "run directories, or directories of run directories (repeat or separate by commas)")
	f.StringVar(&opts.Reference, "reference", "", "the reference table (CSV: figure,workload,function,system,metric,value)")
	f.BoolVar(&opts.JSON, "json", false, "print the result as JSON")
	f.IntVar(&opts.Worst, "worst", validate.DefaultWorst, "how many of the worst points to list")
	f.StringVar((*string)(&opts.Target), "target", "", "use only runs of this target: sim, twin, gateway or host (default: any)")
	cmd.RegisterFlagCompletionFunc("target", cobra.FixedCompletions([]string{"sim", "twin", "gateway", "host"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func simValidateRun(ctx context.Context, o *simValidateOptions) error {
	m, err := experiments.DefaultMatrix()
	if err != nil {
		return err
	}
	voc, err := m.Vocabulary()
	if err != nil {
		return err
	}
	f, err := os.Open(o.Reference)
	if err != nil {
		return fmt.Errorf("--reference: %w", err)
	}
	defer f.Close()
	ref, err := validate.ReadReference(f, o.Reference, voc)
	if err != nil {
		return err
	}
	dirs, err := results.FindRunDirs(o.Runs)
	if err != nil {
		return fmt.Errorf("--runs: %w", err)
	}
	runs, err := results.LoadRuns(dirs)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	worst := o.Worst
	if worst == 0 {
		worst = -1 // none
	}
	res := validate.Compare(ref, runs, validate.Options{Worst: worst, Target: o.Target})
	if o.JSON {
		return res.WriteJSON(o.Streams.Out)
	}
	if err := res.WriteText(o.Streams.Out); err != nil {
		return err
	}
	if res.Overall.Points == 0 {
		var systems []string
		for _, r := range runs {
			if s := r.System(); !slices.Contains(systems, s) {
				systems = append(systems, s)
			}
		}
		fmt.Fprintf(o.Streams.ErrOut, "sim validate: no reference row had a model value in %d runs (%s)\n", len(runs), strings.Join(systems, ", "))
	}
	return nil
}
