package main

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"trenv-bench/experiments"
	"trenv-bench/replay"
	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// runOptions are the inputs of `trenv-bench run`.
type runOptions struct {
	Streams  *Streams
	Args     []string // the full command line, for the manifest
	Platform platformFlags

	Workload     string // -w/--workload KIND, as in gen
	WorkloadDir  string // --workload-dir DIR
	Dataset      string
	GenSeed      int64
	Iter         int
	Target       results.Target
	Speed        float64
	Gateway      string
	PasswordFile string
	StackFile    string
	HostConfig   string
	Name         string
	OutDir       string
	Force        bool
	JitterSeed   uint64
	ShardFlag    string // --shard I/N
	StartAtFlag  string // --start-at T
	ClientProcs  int    // --client-procs N; 0: chosen by clientProcs
	// CPUProfile, when not empty, is where a CPU profile of the run is
	// written (hidden flag --cpuprofile, for cmd/loadbench).
	CPUProfile string

	// Set by RunE from the flags.
	shard    workloads.Shard
	startAt  time.Time
	platform sim.Config
	model    *calibration.Model
}

func newCmdRun(s *Streams, runF func(context.Context, *runOptions) error) *cobra.Command {
	opts := &runOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "run --method M (-w KIND | --workload-dir DIR) [--target sim|twin|host]",
		Short: "Replay a workload against TrEnv or a baseline, on a real host, the twin or the simulator",
		Long: `Run replays a workload's warmup phase, snapshots and resets faasd's metrics,
replays the test phase, and writes a run directory (runs/<name> by default):

  manifest.json       what ran, how, on what; status complete|interrupted|failed
  requests.csv        one row per request, written as the run goes
  test.log            upstream driver's log format, for existing notebooks
  warmup_metrics.output, metrics.output, metrics.json   faasd's /system/metrics
  memory.csv          1 Hz resident memory (the model's on twin and sim)
  summary.csv         per phase × function: counts, percentiles, start kinds

Targets:
  sim      the platform model in virtual time: a W1 run takes well under a second
  twin     the model behind faasd's HTTP API in real time (--speed X compresses
           time X-fold; records stay in model time), replayed over loopback
  gateway  --gateway URL: a faasd someone else runs (a real testbed, or
           trenv-bench sim serve), measured as it answers; a twin there
           announces itself and is recorded as twin, never as a measurement
  host     a real TrEnv host the harness manages: it starts containerd (when
           not running) and faasd provider with the method's flags as the
           artifact's test.sh does, waits for faasd's seeded pool, samples
           the function cgroup, and stops what it started (faasd and
           rdma-server, and the FaaSnap daemon for faasnap and reap,
           supervised by PID under /run/trenv-bench)

Several load generators (--shard I/N --start-at T): each replays a disjoint
slice of the workload against one --gateway, all starting the warmup at T;
the test phase starts at a time fixed by the schedule, so no shard waits for
another. Shard 1 registers the functions, takes faasd's metrics and samples;
report and plot merge the shard directories of one experiment, and refuse
an experiment with a shard missing or failed.`,
		Example: `  # W1 under TrEnv in the simulator (paper Figure 10a, one bar)
  trenv-bench run --method trenv -w 1 --target sim

  # REAP on W2 with the paper's settings, on the twin 20x faster than real time
  trenv-bench run --method reap -w 2 --mem 32 --gc 3 --target twin --speed 20

  # a workload written by gen, against a faasd at a URL (here: sim serve)
  trenv-bench gen -w 1 -o runs/w1
  trenv-bench run --method criu --workload-dir runs/w1 --gateway http://127.0.0.1:8081 --password-file pw

  # the same, split across two load generators (run one line on each)
  T=$(date -d '+2 min' +%s)
  trenv-bench run --method criu --workload-dir runs/w1 --gateway http://gw:8081 --password-file pw --shard 1/2 --start-at $T
  trenv-bench run --method criu --workload-dir runs/w1 --gateway http://gw:8081 --shard 2/2 --start-at $T`,
		Args: argsError(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := opts.check(cmd); err != nil {
				return err
			}
			var err error
			if opts.platform, opts.model, err = opts.Platform.config(cmd); err != nil {
				return err
			}
			opts.Args = os.Args
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			if opts.CPUProfile != "" {
				stop, err := startCPUProfile(opts.CPUProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			return runRun(cmd.Context(), opts)
		},
	}
	addPlatformFlags(cmd, &opts.Platform)
	f := cmd.Flags()
	f.StringVarP(&opts.Workload, "workload", "w", "", "generate the workload in memory as gen -w does: "+strings.Join(workloads.Kinds, ", "))
	f.StringVar(&opts.WorkloadDir, "workload-dir", "", "read workload.json and warmup.json (as gen writes them) from DIR instead")
	f.StringVar(&opts.Dataset, "dataset", "", "dataset for -w azure/huawei (default: the built-in sample)")
	f.Int64Var(&opts.GenSeed, "seed", int64(workloads.DefaultSeed), "generator seed for -w (as gen --seed)")
	f.IntVar(&opts.Iter, "iter", workloads.DefaultIter, "func cycles for -w func")
	f.StringVar((*string)(&opts.Target), "target", string(results.TargetSim), "where to run: sim, twin or host (with --gateway: none)")
	f.Float64Var(&opts.Speed, "speed", 1, "twin only: run the model this many times faster than real time")
	f.StringVar(&opts.Gateway, "gateway", "", "replay against the faasd at this URL, which the harness does not manage (target gateway)")
	f.StringVar(&opts.PasswordFile, "password-file", "", "with --gateway: file holding admin's password, to register the functions")
	f.StringVar(&opts.StackFile, "stack", "", "host or --gateway: register the functions from this stack.yml (faas-cli's format, TrEnv's port: keys) instead of the built-in catalog")
	f.StringVar(&opts.HostConfig, "host-config", "", "host only: YAML of where this host keeps the stack, for layouts that are not the artifact's (see docs/host-config.example.yaml)")
	f.StringVar(&opts.Name, "name", "", "run name (default: <workload>-<method>[-<pool>]-<target>[-shardIofN])")
	f.StringVar(&opts.OutDir, "out", "runs", "directory that holds run directories")
	f.BoolVar(&opts.Force, "force", false, "replace an existing run directory's files")
	f.Uint64Var(&opts.JitterSeed, "jitter-seed", 1, "seed of the send-time jitter U[0,1) (upstream's is unseeded)")
	f.StringVar(&opts.ShardFlag, "shard", "", "with --gateway and --start-at: replay only the I-th of N disjoint slices of the workload (I/N); shard 1 registers the functions and takes faasd's metrics and the samples")
	f.StringVar(&opts.StartAtFlag, "start-at", "", "twin or --gateway: start the warmup at T (RFC 3339, or Unix seconds); shards started at one T stay in step without talking to each other")
	f.IntVar(&opts.ClientProcs, "client-procs", 0, fmt.Sprintf("processors this process runs on (GOMAXPROCS, 1-%d); default: 1 on gateway and host runs whose busiest second holds at most %d requests (the load generator shares the machine with what it measures), else all", maxClientProcs, oneProcPeakRate))
	f.StringVar(&opts.CPUProfile, "cpuprofile", "", "write a CPU profile of the run to this file")
	f.MarkHidden("cpuprofile")
	cmd.RegisterFlagCompletionFunc("target", cobra.FixedCompletions([]string{"sim", "twin", "host"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("workload", cobra.FixedCompletions(workloads.Kinds, cobra.ShellCompDirectiveNoFileComp))
	cmd.MarkFlagDirname("workload-dir")
	return cmd
}

// check rejects bad flag combinations before anything runs.
func (o *runOptions) check(cmd *cobra.Command) error {
	if (o.Workload == "") == (o.WorkloadDir == "") {
		return flagErrorf("give exactly one of -w KIND (one of %s) and --workload-dir DIR", strings.Join(workloads.Kinds, ", "))
	}
	if o.Workload != "" && !slices.Contains(workloads.Kinds, o.Workload) {
		hint := ""
		if st, err := os.Stat(o.Workload); err == nil && st.IsDir() {
			hint = fmt.Sprintf(" (%s is a directory: pass it as --workload-dir)", o.Workload)
		}
		return flagErrorf("-w %q: expected one of %s%s", o.Workload, strings.Join(workloads.Kinds, ", "), hint)
	}
	if o.Dataset != "" && o.Workload != "azure" && o.Workload != "huawei" {
		return flagErrorf("--dataset is only read by -w azure and -w huawei")
	}
	if cmd.Flags().Changed("client-procs") && (o.ClientProcs < 1 || o.ClientProcs > maxClientProcs) {
		return flagErrorf("--client-procs %d: expected 1 to %d", o.ClientProcs, maxClientProcs)
	}
	if o.GenSeed < 0 || o.GenSeed > 1<<32-1 {
		return flagErrorf("--seed %d: expected 0 to 4294967295", o.GenSeed)
	}
	if o.Gateway != "" {
		if cmd.Flags().Changed("target") {
			return flagErrorf("--gateway replays against a faasd the harness does not manage, so it takes no --target " +
				"(a twin behind the URL is recognised and recorded as twin; --target host, which starts faasd itself, does not take a URL)")
		}
		o.Target = results.TargetGateway
	}
	switch o.Target {
	case results.TargetSim, results.TargetTwin, results.TargetHost, results.TargetGateway:
	default:
		return flagErrorf("--target %q: expected sim, twin or host", o.Target)
	}
	if err := checkSpeed(o.Speed); err != nil {
		return err
	}
	if err := checkIter(o.Iter); err != nil {
		return err
	}
	if o.Speed != 1 && o.Target != results.TargetTwin && o.Target != results.TargetGateway {
		return flagErrorf("--speed compresses the twin's real time; --target %s has none to compress", o.Target)
	}
	if o.PasswordFile != "" && o.Target != results.TargetGateway {
		return flagErrorf("--password-file registers the functions at --gateway; give --gateway URL with it")
	}
	if o.StackFile != "" && o.Target != results.TargetHost && o.Target != results.TargetGateway {
		return flagErrorf("--stack is what a real faasd registers (--target host or --gateway); the model's functions are the catalog's")
	}
	if o.HostConfig != "" && o.Target != results.TargetHost {
		return flagErrorf("--host-config says where a host keeps the stack; it is for --target host")
	}
	if o.StackFile != "" && o.Target == results.TargetGateway && o.PasswordFile == "" {
		return flagErrorf("--stack registers the functions at --gateway, which needs --password-file")
	}
	if o.Name != "" && (strings.ContainsAny(o.Name, `/\`) || o.Name == "." || o.Name == "..") {
		return flagErrorf("--name %q: expected a plain directory name", o.Name)
	}
	return o.checkShard()
}

// checkShard parses --shard and --start-at and checks where they go.
func (o *runOptions) checkShard() error {
	if o.ShardFlag != "" {
		sh, err := workloads.ParseShard(o.ShardFlag)
		if err != nil {
			return flagErrorf("--shard: %v", err)
		}
		if o.Target != results.TargetGateway {
			return flagErrorf("--shard %s splits the load on a faasd across load generators: give --gateway URL (on --target %s the platform runs in this process)", o.ShardFlag, o.Target)
		}
		if o.StartAtFlag == "" {
			return flagErrorf("--shard %s needs --start-at T, the same on every shard, so the shards replay in step", o.ShardFlag)
		}
		o.shard = sh
	}
	if o.StartAtFlag == "" {
		return nil
	}
	if o.Target != results.TargetGateway && o.Target != results.TargetTwin {
		return flagErrorf("--start-at starts a replay at a wall-clock time: for --target twin or --gateway, not %s", o.Target)
	}
	t, err := parseStartAt(o.StartAtFlag)
	if err != nil {
		return flagErrorf("--start-at %q: %v", o.StartAtFlag, err)
	}
	if ago := time.Since(t); ago >= 0 {
		return flagErrorf("--start-at %s passed %s ago: pick a time far enough ahead for every shard to be ready", o.StartAtFlag, ago.Round(time.Second))
	}
	o.startAt = t
	return nil
}

// parseStartAt reads T as RFC 3339 ("2026-12-03T14:00:00Z") or Unix
// seconds ("1796306400", fractions allowed).
func parseStartAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	sec, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(sec) || math.IsInf(sec, 0) || sec < 0 || sec > 1<<40 {
		return time.Time{}, fmt.Errorf("expected an RFC 3339 time (2026-12-03T14:00:00Z) or Unix seconds")
	}
	whole, frac := math.Modf(sec)
	return time.Unix(int64(whole), int64(frac*1e9)), nil
}

// loadWorkload generates (-w) or reads (--workload) the workload, and
// describes it for the manifest.
func (o *runOptions) loadWorkload(ctx context.Context) (workloads.Workload, results.WorkloadInfo, error) {
	if o.WorkloadDir != "" {
		w, err := workloads.ReadDir(o.WorkloadDir, workloads.DefaultCatalog())
		return w, results.WorkloadInfo{Name: o.WorkloadDir}, err
	}
	res, prov, err := workloads.Make(ctx, workloads.Spec{Kind: o.Workload, Seed: uint32(o.GenSeed), Iter: o.Iter,
		Dataset: o.Dataset, Meter: newMeter(o.Streams)})
	return res.Workload, experiments.WorkloadInfo(prov), err
}

// runName is the default run directory name.
func (o *runOptions) runName() string {
	if o.Name != "" {
		return o.Name
	}
	w := o.Workload
	if w == "" {
		w = strings.ReplaceAll(strings.Trim(o.WorkloadDir, "/"), "/", "_")
	}
	name := experiments.RunDirName(w, o.Platform.Method, o.Platform.Pool, o.Target)
	if !o.shard.Whole() {
		name += fmt.Sprintf("-shard%dof%d", o.shard.Index, o.shard.Count)
	}
	return name
}

func runRun(ctx context.Context, o *runOptions) error {
	w, info, err := o.loadWorkload(ctx)
	if err != nil {
		return err
	}
	if n := o.clientProcs(w, os.Getenv("GOMAXPROCS")); n > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	}
	if note := experiments.DatasetNote(info, "--dataset"); note != "" {
		fmt.Fprintf(o.Streams.ErrOut, "run: %s\n", note)
	}
	spec := &experiments.Spec{
		Dir: filepath.Join(o.OutDir, o.runName()), Force: o.Force,
		Target: o.Target, Gateway: o.Gateway, Speed: o.Speed,
		Platform: o.platform, Model: o.model, Workload: w,
		Manifest: o.manifest(info), JitterSeed: o.JitterSeed, Notes: o.Streams.ErrOut,
		Shard: o.shard, StartAt: o.startAt,
	}
	if o.HostConfig != "" {
		if spec.Host, err = experiments.LoadHostConfig(o.HostConfig); err != nil {
			return err
		}
	}
	if o.StackFile != "" {
		if spec.Stack, err = replay.LoadStack(o.StackFile); err != nil {
			return err
		}
	}
	if o.PasswordFile != "" {
		pw, err := os.ReadFile(o.PasswordFile)
		if err != nil {
			return fmt.Errorf("--password-file: %w", err)
		}
		spec.Password = strings.TrimSpace(string(pw))
	}
	bars := newPhaseBars(o.Streams)
	spec.Progress = bars.update
	m, err := experiments.Execute(ctx, spec)
	bars.done()
	if m.Status != "" {
		fmt.Fprintf(o.Streams.ErrOut, "%s: %s; %d requests: %d ok, %d failed, %d abandoned\n",
			spec.Dir, m.Status, m.Requests.Scheduled, m.Requests.OK, m.Requests.Failed, m.Requests.Abandoned)
	}
	return err
}

// oneProcPeakRate is the busiest second (requests, all functions) up to
// which a gateway or host run's replayer runs on one processor. Measured
// (README, "The load generator's own cost"): against the twin at 20
// requests/s per W1 function, one processor cut the replayer's CPU per
// request by a quarter and its context switches by a third, and costs
// about 0.24 ms of CPU per request there (hundreds in flight, each answer
// a wake-up of its own); so 2,000 requests in a second keep it half busy.
// cmd/replaybench with GOMAXPROCS=1 kept p99 dispatch lateness under 1 ms
// up to 10,000 requests/s.
const oneProcPeakRate = 2000

// maxClientProcs bounds --client-procs.
const maxClientProcs = 1024

// clientProcs is how many processors the run's process should use, or 0 to
// leave the Go runtime's choice (the GOMAXPROCS variable, given as env, or
// every core): --client-procs when given; else 1 on a run whose engine is
// another process on this machine (gateway, host) and whose phases are
// light enough for one (oneProcPeakRate): fewer idle processors to wake
// for every request, and the load generator never takes more than one core
// from what it measures. The twin and the simulator run the model in this
// process and keep every core.
func (o *runOptions) clientProcs(w workloads.Workload, env string) int {
	switch {
	case o.ClientProcs > 0:
		return o.ClientProcs
	case env != "":
		return 0
	case o.Target != results.TargetGateway && o.Target != results.TargetHost:
		return 0
	case max(w.Test.PeakRate(), w.Warmup.PeakRate()) > oneProcPeakRate:
		return 0
	}
	return 1
}

// startCPUProfile starts a CPU profile into path; stop ends it and closes
// the file.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpuprofile %s: %w", path, err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// manifest describes the run before it starts; info describes its
// workload.
func (o *runOptions) manifest(info results.WorkloadInfo) results.Manifest {
	return results.Manifest{
		ToolVersion: versionString(),
		CommandLine: o.Args,
		Platform:    o.Platform.PlatformFlags,
		Workload:    info,
	}
}
