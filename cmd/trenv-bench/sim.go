package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

func newCmdSim(s *Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sim",
		Short: "The platform model: serve it over faasd's API, fit it to a real run, or validate a reproduction",
		Long: `The platform model reproduces TrEnv's faasd fork — its policies (reuse, TrEnv's
repurposing, start workers, memory bound and eviction, keep-alive GC) and a
cost model calibrated from the paper and the baselines' papers
(sim/calibration/default.yaml, every number with its source).

run --target sim runs it in virtual time; sim serve puts it behind faasd's
HTTP API in real time, for any client; sim validate compares a reproduction
with a table of reference figures.`,
		Example: `  trenv-bench sim serve --method trenv --pool rdma --addr 127.0.0.1:8081
  trenv-bench sim calibrate --from runs/w1-criu-gateway -o my-testbed.yaml
  trenv-bench sim validate --runs runs/reproduce --reference my-testbed.csv`,
	}
	cmd.AddCommand(newCmdSimServe(s, nil), newCmdSimCalibrate(s, nil), newCmdSimValidate(s, nil))
	return cmd
}

// platformFlags are the faasd provider flags shared by run and sim serve
// (test.sh's names and defaults): the start method and pool, the provider
// flags as the manifest records them, the cost model's seed and file.
type platformFlags struct {
	Method string
	Pool   string
	results.PlatformFlags
	Seed    uint64
	CalFile string
}

func addPlatformFlags(cmd *cobra.Command, f *platformFlags) {
	fs := cmd.Flags()
	fs.StringVar(&f.Method, "method", "", "start method: "+strings.Join(sim.Methods, ", ")+" (required)")
	fs.StringVar(&f.Pool, "pool", sim.PoolCXL, "TrEnv's memory pool: cxl or rdma")
	fs.Float64Var(&f.MemGB, "mem", sim.DefaultMemGB, "memory bound on declared limits of live instances, GiB")
	fs.Float64Var(&f.GCMin, "gc", sim.DefaultGCMinutes, "baseline keep-alive, minutes (scanned every 5 s)")
	fs.IntVar(&f.IdleNum, "idle-num", sim.DefaultIdleNum, "generic sandboxes TrEnv seeds for repurposing")
	fs.BoolVar(&f.NoReuse, "no-reuse", false, "never reuse an idle instance of the same function")
	fs.BoolVar(&f.NoBgTask, "no-bgtask", false, "no keep-alive GC (baseline) and no idle-pool seeding (TrEnv)")
	fs.Uint64Var(&f.Seed, "model-seed", 1, "seed of the cost model's random draws")
	fs.StringVar(&f.CalFile, "calibration", "", "cost model YAML (default: the embedded sim/calibration/default.yaml)")
	cmd.RegisterFlagCompletionFunc("method", cobra.FixedCompletions(sim.Methods, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("pool", cobra.FixedCompletions([]string{sim.PoolCXL, sim.PoolRDMA}, cobra.ShellCompDirectiveNoFileComp))
}

// config checks the flags and returns the platform configuration and the
// validated cost model.
func (f *platformFlags) config(cmd *cobra.Command) (sim.Config, *calibration.Model, error) {
	if f.Method == "" {
		return sim.Config{}, nil, flagErrorf("--method is required: one of %s", strings.Join(sim.Methods, ", "))
	}
	if f.Method != sim.MethodTrEnv && cmd.Flags().Changed("pool") {
		return sim.Config{}, nil, flagErrorf("--pool is TrEnv's memory pool; --method %s has none", f.Method)
	}
	if !(f.MemGB > 0) || f.MemGB >= sim.MaxMemBytes>>30 {
		return sim.Config{}, nil, flagErrorf("--mem %v: expected more than 0 and less than %d GiB (faasd refuses larger)", f.MemGB, sim.MaxMemBytes>>30)
	}
	if maxGC := sim.MaxGC.Minutes(); !(f.GCMin >= 0) || f.GCMin > maxGC {
		return sim.Config{}, nil, flagErrorf("--gc %v: expected 0 to %v minutes", f.GCMin, maxGC)
	}
	if f.IdleNum < 0 || f.IdleNum > sim.MaxIdleNum {
		return sim.Config{}, nil, flagErrorf("--idle-num %d: expected 0 to %d", f.IdleNum, sim.MaxIdleNum)
	}
	cfg := sim.ConfigFor(f.Method, f.Pool, f.PlatformFlags, f.Seed)
	if err := cfg.Validate(); err != nil {
		return cfg, nil, &FlagError{Err: err}
	}
	model, err := loadModel(f.CalFile)
	return cfg, model, err
}

// loadModel reads the cost model and checks it covers every catalog function.
func loadModel(path string) (*calibration.Model, error) {
	var m *calibration.Model
	var err error
	if path == "" {
		m, err = calibration.Default()
	} else {
		m, err = calibration.Load(path)
	}
	if err != nil {
		return nil, err
	}
	bases := []string{}
	seen := map[string]bool{}
	for _, f := range workloads.DefaultCatalog().Functions {
		if !seen[f.Base] {
			seen[f.Base] = true
			bases = append(bases, f.Base)
		}
	}
	if err := m.Validate(bases); err != nil {
		if path == "" {
			return nil, fmt.Errorf("the embedded calibration: %w", err)
		}
		return nil, err // each of its errors names the file and line
	}
	return m, nil
}

type simServeOptions struct {
	Streams      *Streams
	Platform     platformFlags
	Addr         string
	Speed        float64
	PasswordFile string
	Register     bool
}

func newCmdSimServe(s *Streams, runF func(context.Context, *simServeOptions, sim.TwinConfig) error) *cobra.Command {
	opts := &simServeOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "serve --method M [--pool P] [--addr 127.0.0.1:8081] [--speed X]",
		Short: "Serve the platform model behind faasd's provider API (the twin)",
		Long: `Serve answers faasd's provider API on --addr with the platform model in real
time: POST /system/register (basic auth: admin and the password in
--password-file), /invoke/<name> (answers after the modelled start-up and
execution with {"latency": seconds, ...}), GET and DELETE /system/metrics in
faasd's exact text format, GET /system/functions, /danger/kill, /healthz, and
GET /sim/memory (the model's resident memory; not in faasd).

--speed X runs the model X times faster than the wall clock; latencies in
answers and metrics stay in model time. By default every catalog function is
registered at start (--register=false waits for /system/register, as faasd).
It serves until interrupted.`,
		Example: `  # a TrEnv-on-RDMA twin for upstream's own Python driver (config.yml gateway 127.0.0.1:8081)
  trenv-bench sim serve --method trenv --pool rdma

  # REAP, 10x faster than real time, registration through the API only
  echo secret > pw; trenv-bench sim serve --method reap --mem 32 --speed 10 --register=false --password-file pw`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			pcfg, model, err := opts.Platform.config(cmd)
			if err != nil {
				return err
			}
			if err := checkSpeed(opts.Speed); err != nil {
				return err
			}
			tcfg := sim.TwinConfig{Platform: pcfg, Model: model, Speed: opts.Speed}
			if opts.PasswordFile != "" {
				pw, err := os.ReadFile(opts.PasswordFile)
				if err != nil {
					return fmt.Errorf("--password-file: %w", err)
				}
				tcfg.Password = strings.TrimSpace(string(pw))
			}
			if runF != nil {
				return runF(cmd.Context(), opts, tcfg)
			}
			return simServeRun(cmd.Context(), opts, tcfg)
		},
	}
	addPlatformFlags(cmd, &opts.Platform)
	cmd.Flags().StringVar(&opts.Addr, "addr", "127.0.0.1:8081", "address to listen on (faasd's provider port is 8081)")
	cmd.Flags().Float64Var(&opts.Speed, "speed", 1, "model time per wall time (10 = ten times faster)")
	cmd.Flags().StringVar(&opts.PasswordFile, "password-file", "", "file holding admin's password for /system/register (faasd's basic-auth-password)")
	cmd.Flags().BoolVar(&opts.Register, "register", true, "register every catalog function at start")
	return cmd
}

func simServeRun(ctx context.Context, o *simServeOptions, cfg sim.TwinConfig) error {
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("--addr: %w", err)
	}
	return serveTwin(ctx, o, cfg, ln)
}

// serveTwin serves the twin on ln until ctx ends.
func serveTwin(ctx context.Context, o *simServeOptions, cfg sim.TwinConfig, ln net.Listener) error {
	defer ln.Close()
	twin, err := sim.NewTwin(cfg)
	if err != nil {
		return err
	}
	if o.Register {
		for _, f := range workloads.DefaultCatalog().Functions {
			charge, _ := f.MemoryBytes() // the catalog is validated
			if err := twin.Register(f.Name, charge); err != nil {
				return err
			}
		}
	}
	fmt.Fprintf(o.Streams.ErrOut, "sim serve: %s (pool %s) on http://%s, speed %gx; Ctrl-C stops\n",
		cfg.Platform.Method, cfg.Platform.Pool, ln.Addr(), cfg.Speed)
	if err := twin.Serve(ctx, ln); err != nil {
		return err
	}
	return ctx.Err()
}
