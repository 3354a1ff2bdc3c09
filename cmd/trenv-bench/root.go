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
//
// The first interrupt (Ctrl-C, SIGTERM) cancels the command's context: a
// run stops dispatching, lets requests in flight finish for a grace period
// and writes everything down. A second one exits at once with
// ExitInterrupted, leaving whatever was written (a run directory's manifest
// then still says the run did not finish).
func Main(args []string, s *Streams) ExitCode {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case <-sigs:
		case <-ctx.Done():
			return
		}
		fmt.Fprintln(s.ErrOut, "trenv-bench: stopping: requests in flight get a few seconds, then everything is written down (interrupt again to quit at once)")
		cancel()
		<-sigs
		fmt.Fprintln(s.ErrOut, "trenv-bench: quitting at once")
		os.Exit(int(ExitInterrupted))
	}()
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
		Long: `trenv-bench runs the evaluation of TrEnv (SOSP '24) end to end, in place of the
artifact's Python and shell tooling:

  gen        writes the artifact's workloads (W1, W2, func, the Azure 2019 and
             Huawei 2023 traces) byte for byte as upstream gen_trace.py does
  run        replays a workload against the platform model (--target sim in
             virtual time, --target twin over HTTP) or a faasd at --gateway URL,
             into a run directory of records
  reproduce  runs what a paper figure needs, then plots it and writes the report
  plot       draws the paper's figures from run directories
  report     compares run directories in tables (Markdown, CSV, HTML)
  sim        serves the platform model behind faasd's API, or fits it to a run
  traces     writes synthetic datasets in the public traces' formats
  system     the real TrEnv host: the pinned stack (lock), and whether this
             host can run it for a method and pool (doctor)

Figures and tables from the model say SIMULATED; those from the built-in
trace samples say that the data is invented.`,
		Example: `  # the paper's Figure 10(a) on the platform model, with its report
  trenv-bench reproduce fig10a --target sim

  # W1 (paper Figure 10a) into runs/w1, then TrEnv on it in the simulator
  trenv-bench gen -w 1 -o runs/w1
  trenv-bench run --method trenv --workload-dir runs/w1 --target sim

  # the Azure workload straight from the downloaded archive
  trenv-bench gen -w azure --dataset ~/downloads/azurefunctions-dataset2019.tar.xz -o runs/azure`,
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
		newCmdSystem(s),
		newCmdVersion(s),
	)
	return root
}
