package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// ExitCode is the process exit status.
type ExitCode int

// Exit statuses.
const (
	ExitOK          ExitCode = 0
	ExitError       ExitCode = 1 // bad input, failed run
	ExitUsage       ExitCode = 2 // bad flags or arguments
	ExitInterrupted ExitCode = 130
)

// FlagError is a wrong command line; Main prints a usage hint for it.
type FlagError struct{ Err error }

func (e *FlagError) Error() string { return e.Err.Error() }
func (e *FlagError) Unwrap() error { return e.Err }

func flagErrorf(format string, args ...any) error {
	return &FlagError{Err: fmt.Errorf(format, args...)}
}

// Main runs the command line args and returns the exit status. It is the
// one place where errors become messages and exit codes.
func Main(args []string, s *Streams) ExitCode {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newCmdRoot(s)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(s.ErrOut, "trenv-bench: interrupted")
		return ExitInterrupted
	}
	fmt.Fprintf(s.ErrOut, "trenv-bench: %v\n", err)
	var fe *FlagError
	switch {
	case errors.As(err, &fe):
		fmt.Fprintf(s.ErrOut, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return ExitUsage
	}
	return ExitError
}

// argsError turns cobra's argument-count errors into FlagErrors.
func argsError(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return &FlagError{Err: err}
		}
		return nil
	}
}

func newCmdRoot(s *Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "trenv-bench",
		Short: "Benchmark harness and workload generator for TrEnv (SOSP '24)",
		Long: `trenv-bench generates the workloads of the TrEnv artifact byte for byte as
upstream gen_trace.py does (W1, W2, func, and the Azure 2019 and Huawei 2023
traces), from streamed datasets, in one fast binary.`,
		Example: `  # W1 (paper Figure 10a) into runs/w1
  trenv-bench gen -w 1 -o runs/w1

  # the Azure workload from the extracted trace, or straight from the archive
  trenv-bench gen -w azure --dataset ~/downloads/azurefunctions-dataset2019.tar.xz -o runs/azure

  # a synthetic Huawei dataset for demos and benchmarks
  trenv-bench traces synth huawei -o /tmp/huawei`,
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetOut(s.Out)
	root.SetErr(s.ErrOut)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &FlagError{Err: err}
	})
	root.AddCommand(
		newCmdGen(s, nil),
		newCmdTraces(s),
		newCmdSim(s),
		newCmdRun(s, nil),
		newCmdReport(s, nil),
		newCmdReproduce(s, reproducePlot(s), nil),
		newCmdPlot(s, nil),
		newCmdVersion(s),
	)
	return root
}
