package main

import (
	"github.com/spf13/cobra"
)

func newCmdSystem(s *Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "system",
		Short: "The real TrEnv host: the pinned stack, and whether this host can run it",
		Long: `A real TrEnv host runs the artifact's stack: the 6.1.0-rc8 kernel with the
pseudo_mm driver, forks of runc, containerd, CRIU and faasd, a memory pool
(a CXL or PMem device-DAX, or soft-RoCE with the RDMA server), and for the
FaaSnap and REAP baselines the FaaSnap daemon and Firecracker.

  lock    prints the stack as pinned in system/stack.yaml (the file the
          Ansible playbook reads): every component's repository, branch and
          commit, download and checksum, or why upstream pins nothing
  doctor  checks this host for a method and pool: kernel, memory pool,
          cgroup v2, CRIU, the pinned binaries, faasd's state, checkpoints,
          memory, CPU and noise settings, each failure with a remedy
  prepare readies the host after a boot, as machine-prepare.sh without its
          prompts: memory pool, tmpfs, images, mm-templates (--dry-run)
  vendor  fetches every pinned component into one bundle directory with a
          manifest, for a testbed without network (the playbook's
          stack_bundle)
  clean   stops what the harness started, by PID, and removes the function
          containers, cgroups and overlays (--dry-run)`,
		Example: `  trenv-bench system lock
  trenv-bench system doctor --method trenv --pool cxl
  trenv-bench system prepare --mem-pool cxl --dry-run
  trenv-bench system vendor -o /srv/trenv-bundle
  trenv-bench system clean`,
	}
	cmd.AddCommand(newCmdSystemLock(s, nil), newCmdSystemDoctor(s, nil), newCmdSystemPrepare(s, nil), newCmdSystemVendor(s, nil), newCmdSystemClean(s, nil))
	return cmd
}
