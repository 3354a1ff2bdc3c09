package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"trenv-bench/system"
)

type systemCleanOptions struct {
	*Streams
	DryRun   bool
	StateDir string
	Socket   string
}

func newCmdSystemClean(s *Streams, runF func(context.Context, *systemCleanOptions) error) *cobra.Command {
	opts := &systemCleanOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "clean [--dry-run]",
		Short: "Stop what the harness started on this host, and only that",
		Long: `clean stops what trenv-bench started and what those started in turn:
the daemons recorded under --state-dir (faasd, containerd, rdma-server: by PID
and start time, so a PID the kernel has reused is left alone), the tasks and
containers of containerd's openfaas-fn namespace, and the processes left in
the function cgroups (openfaas-fn, faasnap, reap: switched processes live
outside containerd), by PID from their cgroup.procs. It then removes those
cgroups, detaches the mounts under /var/lib/faasd/app/merged and empties
/var/lib/faasd/app/upper and work.

Unlike the artifact's test.sh --clean it kills nothing by name (no pkill
main), leaves other containerd namespaces, other processes and the firewall
alone (no iptables -F), and goes on after a failed step, reporting each.
It takes the harness's lock, so it refuses to run while a run holds the host.`,
		Example: `  trenv-bench system clean --dry-run
  trenv-bench system clean`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSystemClean(cmd.Context(), opts)
		},
	}
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "say what would be stopped and removed; do nothing")
	cmd.Flags().StringVar(&opts.StateDir, "state-dir", system.DefaultStateDir, "where the harness records the daemons it starts")
	cmd.Flags().StringVar(&opts.Socket, "containerd-socket", system.DefaultContainerdSocket, "the containerd whose openfaas-fn tasks and containers are removed (ctr -a)")
	return cmd
}

func runSystemClean(ctx context.Context, opts *systemCleanOptions) error {
	sup, err := system.OpenSupervisor(opts.StateDir)
	if err != nil {
		return err
	}
	defer sup.Close()
	o := system.DefaultCleanOptions(sup, system.ExecRunner{})
	o.DryRun = opts.DryRun
	o.Address = opts.Socket
	o.Say = func(s string) { fmt.Fprintln(opts.Out, s) }
	if err := system.Clean(ctx, o); err != nil {
		return err
	}
	if opts.DryRun {
		fmt.Fprintln(opts.Out, "dry run: nothing was changed")
	}
	return nil
}
