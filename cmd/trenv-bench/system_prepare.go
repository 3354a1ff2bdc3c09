package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"trenv-bench/replay"
	"trenv-bench/system"
	"trenv-bench/system/prepare"
	"trenv-bench/workloads"
)

type systemPrepareOptions struct {
	*Streams
	Pool     string
	Opts     prepare.Options
	DryRun   bool
	StateDir string
}

func newCmdSystemPrepare(s *Streams, runF func(context.Context, *systemPrepareOptions) error) *cobra.Command {
	opts := &systemPrepareOptions{Streams: s, Opts: prepare.Defaults(system.PoolCXL)}
	o := &opts.Opts
	cmd := &cobra.Command{
		Use:   "prepare --mem-pool cxl|rdma [flags]",
		Short: "Ready this TrEnv host after a boot: memory pool, tmpfs, images, mm-templates",
		Long: `prepare does what the artifact's machine-prepare.sh does, without its prompts:
loads the kernel modules, turns swap off, sets up the memory pool (a devdax
device with 4096-byte alignment for cxl; Soft-RoCE, the RDMA server and
pseudo_mm_rdma for rdma), mounts the checkpoint tmpfs on the far-memory NUMA
node, runs faasd install, hands /var/lib/faasd/pkgs to the functions' user,
pulls the function images into containerd's openfaas-fn namespace, deploys
and warms the 35 services through a faasd provider started without
background tasks, checkpoints them into mm-templates in the pool, and
records the pool and this boot in a marker that run --target host and
system doctor check.

Each step first checks whether its work is done, so prepare can be run again
after a failure and resumes; a second run on a prepared host changes
nothing. --dry-run prints every step with the commands it would run (none
of them through a shell). Recreating a DAX device destroys the region's
devices, so prepare does it only with --create-dax.

Differences from machine-prepare.sh: no proxy; images are pulled into
openfaas-fn (upstream pulls into the default namespace and checks
openfaas-fn); each service is warmed on its own URL (upstream warms
json-serde, js-json-serde and pagerank on the unsuffixed one, so their _1
and _2 copies are dumped cold); daemons are supervised by PID; the faasd
provider it starts for checkpointing is stopped at the end.`,
		Example: `  # what would be done for T-CXL, changing nothing
  trenv-bench system prepare --mem-pool cxl --dry-run

  # T-RDMA over a dummy interface, far memory on NUMA node 2
  trenv-bench system prepare --mem-pool rdma --nic eth0 --node 2`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch opts.Pool {
			case "dax", system.PoolCXL:
				o.Pool = system.PoolCXL
			case system.PoolRDMA:
				o.Pool = system.PoolRDMA
			default:
				return flagErrorf("--mem-pool %q: expected cxl (or dax, machine-prepare.sh's name) or rdma", opts.Pool)
			}
			if err := prepareServices(o); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return flagErrorf("%v", err)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runSystemPrepare(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Pool, "mem-pool", system.PoolCXL, "TrEnv's memory pool: cxl (a device-DAX; machine-prepare.sh calls it dax) or rdma")
	f.StringVar(&o.DAXDevice, "dax-device", o.DAXDevice, "the device-DAX of the cxl pool")
	f.BoolVar(&o.CreateDAX, "create-dax", false, "recreate the DAX device when it is missing or wrong (destroys region 0's devices)")
	f.StringVar(&o.DAXSize, "dax-size", o.DAXSize, "size of the DAX device --create-dax makes")
	f.StringVar(&o.NIC, "nic", o.NIC, "network interface of the Soft-RoCE link (rdma); a dummy one is made when missing")
	f.StringVar(&o.DummyAddr, "dummy-addr", o.DummyAddr, "address/prefix of the dummy interface (rdma)")
	f.StringVar(&o.RDMAServer, "rdma-server", o.RDMAServer, "the rdma-server binary (rdma)")
	f.IntVar(&o.RDMAPort, "rdma-port", o.RDMAPort, "the RDMA server's port (rdma)")
	f.IntVar(&o.Node, "node", o.Node, "NUMA node of the far memory (-1: the DAX device's target_node)")
	f.StringVar(&o.TmpfsSize, "tmpfs-size", o.TmpfsSize, "size of the checkpoint tmpfs")
	f.BoolVar(&o.Baselines, "baselines", false, "also ready the VM baselines: their snapshot tmpfs (/mnt/cxl-tmp) on the far-memory node, and the FaaSnap VMs' network namespaces")
	f.StringVar(&o.FaaSnapDir, "faasnap-dir", o.FaaSnapDir, "the FaaSnap daemon's checkout (its network.sh makes the VMs' namespaces; --baselines)")
	f.StringVar(&o.FaasdSource, "faasd-source", o.FaasdSource, "faasd's source checkout (faasd install runs there)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "print the steps and their commands; change nothing")
	f.StringVar(&opts.StateDir, "state-dir", system.DefaultStateDir, "where the harness records the daemons it starts")
	return cmd
}

// prepareServices fills the services (the catalog's deployments and
// payloads, in the artifact's checkpoint order) and the images (stack.yaml).
func prepareServices(o *prepare.Options) error {
	cat := workloads.DefaultCatalog()
	o.Services = nil
	for _, name := range prepare.CheckpointOrder() {
		fn, ok := cat.Lookup(name)
		if !ok {
			return fmt.Errorf("system prepare: %s is not in the function catalog", name)
		}
		dep, err := replay.Deployment(fn)
		if err != nil {
			return err
		}
		var payload []byte
		if fn.Payload != "" {
			payload = []byte(fn.Payload)
		}
		o.Services = append(o.Services, prepare.Service{Name: name, Deployment: dep, Payload: payload})
	}
	images, ok := system.DefaultStack().Component("function-images")
	if !ok || images.Images == nil {
		return fmt.Errorf("system prepare: stack.yaml has no function-images")
	}
	o.Images = images.Images.Refs
	return nil
}

// supervised adapts a system.Supervisor to prepare.Daemons.
type supervised struct{ sup *system.Supervisor }

func (s supervised) Start(ctx context.Context, name string, argv, env []string, dir string) (prepare.Daemon, error) {
	return s.sup.Start(ctx, name, argv, env, dir)
}

func runSystemPrepare(ctx context.Context, opts *systemPrepareOptions) error {
	h := &prepare.Host{Root: "/", Runner: system.ExecRunner{}, HTTP: &http.Client{Timeout: 2 * time.Minute}}
	if !opts.DryRun {
		sup, err := system.OpenSupervisor(opts.StateDir)
		if err != nil {
			return err
		}
		defer sup.Close()
		h.Daemons = supervised{sup}
	}
	steps, err := prepare.Plan(opts.Opts, h)
	if err != nil {
		return err
	}
	return prepare.Prepare(ctx, steps, h.Runner, prepare.ToWriter(opts.Out), opts.DryRun)
}
