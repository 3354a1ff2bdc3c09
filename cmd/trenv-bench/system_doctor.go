package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/system"
	"trenv-bench/system/doctor"
)

// systemDoctorOptions are the inputs of `trenv-bench system doctor`.
type systemDoctorOptions struct {
	Streams *Streams
	// Host is how the host is read: the real one unless a test gives a
	// fixture tree and a fake runner.
	Host  doctor.Host
	Stack *system.Stack

	Method    string // --method; "" = every method
	Pool      string // --pool, TrEnv's pool
	MemGiB    int    // --mem
	DAXDevice string // --dax-device
	JSON      bool   // --json
}

// ErrNotReady is returned when a required check fails, so the command
// exits non-zero after printing the report.
var ErrNotReady = errors.New("the host is not ready")

func newCmdSystemDoctor(s *Streams, runF func(context.Context, *systemDoctorOptions) error) *cobra.Command {
	opts := &systemDoctorOptions{Streams: s}
	var methods []string
	for _, sys := range results.Systems() {
		if !slices.Contains(methods, sys.Method) {
			methods = append(methods, sys.Method)
		}
	}
	var list strings.Builder
	for _, c := range doctor.Checks() {
		fmt.Fprintf(&list, "  %-19s %s [%s]\n", c.ID, c.Title, c.When)
	}
	cmd := &cobra.Command{
		Use:   "doctor [--method M] [--pool cxl|rdma] [--mem GB] [--dax-device DEV] [--json]",
		Short: "Check whether this host can run the TrEnv stack for a method and pool",
		Long: `doctor checks this host for what a run of --method (and, for trenv, --pool)
needs, against the pins of system/stack.yaml, and prints one row per check:
PASS, FAIL (a requirement is not met), WARN (differs from the paper's setup
but does not stop a run) or SKIP (cannot be checked here, or does not
apply), with what it found and, for FAIL and WARN, how to fix it. It exits
1 when a required check fails. Without --method it checks for every method
(` + strings.Join(methods, ", ") + `), TrEnv on --pool.

Checks:
` + list.String() + `
doctor only reads the host, except that criu check refreshes CRIU's kernel
feature cache (/run/criu.kdat), as upstream's scripts do; run it as root.
--json prints the report for scripts: {"format", "ok", "scope", "counts",
"checks": [{"id", "title", "status", "required", "detail", "remedy"}]};
ids and field names are stable.`,
		Example: `  # is this host ready for T-CXL with faasd's default 64 GiB bound?
  trenv-bench system doctor --method trenv --pool cxl

  # for every system the paper compares, as JSON
  trenv-bench system doctor --json | jq -r '.checks[] | select(.status=="fail") | .id'

  # the CRIU baseline with a 32 GiB bound
  trenv-bench system doctor --method criu --mem 32`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Method != "" {
				if _, ok := results.SystemOf(opts.Method, ""); !ok {
					return flagErrorf("--method %q: expected one of %s", opts.Method, strings.Join(methods, ", "))
				}
			}
			if cmd.Flags().Changed("pool") && opts.Method != "" && opts.Method != doctor.MethodTrEnv {
				return flagErrorf("--pool %s: only TrEnv has a memory pool, not --method %s", opts.Pool, opts.Method)
			}
			if _, ok := results.SystemOf(doctor.MethodTrEnv, opts.Pool); !ok {
				return flagErrorf("--pool %q: expected cxl or rdma", opts.Pool)
			}
			if opts.MemGiB < 0 || opts.MemGiB >= 256 {
				return flagErrorf("--mem %d: expected 0 (no check) to 255 GiB (faasd refuses 256 and more)", opts.MemGiB)
			}
			if opts.Stack == nil {
				opts.Stack = system.DefaultStack()
			}
			if opts.Host.Root == nil {
				opts.Host = doctor.Host{Root: os.DirFS("/"), Runner: system.ExecRunner{}, Path: filepath.SplitList(os.Getenv("PATH"))}
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return systemDoctorRun(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Method, "method", "", "start method to check for: "+strings.Join(methods, ", ")+" (default: all)")
	f.StringVar(&opts.Pool, "pool", doctor.DefaultPool, "TrEnv's memory pool: cxl or rdma")
	f.IntVar(&opts.MemGiB, "mem", sim.DefaultMemGB, "faasd's memory bound (--mem), GiB, which available memory must hold; 0 skips the check")
	f.StringVar(&opts.DAXDevice, "dax-device", doctor.DefaultDAXDevice, "device-DAX that holds the mm-templates (pool cxl)")
	f.BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	cmd.RegisterFlagCompletionFunc("method", cobra.FixedCompletions(methods, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("pool", cobra.FixedCompletions([]string{system.PoolCXL, system.PoolRDMA}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func systemDoctorRun(ctx context.Context, o *systemDoctorOptions) error {
	sc := doctor.Scope{Pool: o.Pool, MemGiB: o.MemGiB, DAXDevice: o.DAXDevice}
	if o.Method != "" {
		sc.Methods = []string{o.Method}
	}
	rep, err := doctor.Run(ctx, o.Host, o.Stack, sc)
	if err != nil {
		return err
	}
	if o.JSON {
		err = rep.WriteJSON(o.Streams.Out)
	} else {
		err = rep.WriteTable(o.Streams.Out)
	}
	if err != nil {
		return err
	}
	if !rep.OK {
		var ids []string
		for _, c := range rep.Failed() {
			ids = append(ids, c.ID)
		}
		return fmt.Errorf("%w: %d required checks fail (%s)", ErrNotReady, len(ids), strings.Join(ids, ", "))
	}
	return nil
}
