package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"trenv-bench/replay"
	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
	"trenv-bench/traces/azure"
	"trenv-bench/traces/huawei"
	"trenv-bench/workloads"
)

// Targets of run.
const (
	TargetHost = "host"
	TargetTwin = "twin"
	TargetSim  = "sim"
)

// runOptions are the inputs of `trenv-bench run`.
type runOptions struct {
	Streams  *Streams
	Args     []string // the full command line, for the manifest
	Platform platformFlags

	Workload     string // -w kind
	WorkloadDir  string // --workload DIR
	Dataset      string
	GenSeed      int64
	Iter         int
	Target       string
	Speed        float64
	Gateway      string
	PasswordFile string
	Name         string
	OutDir       string
	Force        bool
	JitterSeed   uint64

	// Set by RunE from the flags.
	platform sim.Config
	model    *calibration.Model
}

func newCmdRun(s *Streams, runF func(context.Context, *runOptions) error) *cobra.Command {
	opts := &runOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "run --method M (-w W | --workload DIR) [--target sim|twin|host]",
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
  sim    the platform model in virtual time: a W1 run takes well under a second
  twin   the model behind faasd's HTTP API in real time (--speed X compresses
         time X-fold; records stay in model time), replayed over loopback
  host   a real TrEnv host (not available in this version: see the error)

--gateway URL replays against any faasd-compatible endpoint that is already
running, e.g. trenv-bench sim serve, instead of starting the twin.`,
		Example: `  # W1 under TrEnv in the simulator (paper Figure 10a, one bar)
  trenv-bench run --method trenv -w 1 --target sim

  # REAP on W2 with the paper's settings, on the twin 20x faster than real time
  trenv-bench run --method reap -w 2 --mem 32 --gc 3 --target twin --speed 20

  # a workload written by gen, against a running sim serve
  trenv-bench run --method criu --workload runs/w1 --gateway http://127.0.0.1:8081`,
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
			return runRun(cmd.Context(), opts)
		},
	}
	addPlatformFlags(cmd, &opts.Platform)
	f := cmd.Flags()
	f.StringVarP(&opts.Workload, "workload-kind", "w", "", "generate the workload in memory as gen does: "+strings.Join(workloads.Kinds, ", "))
	f.StringVar(&opts.WorkloadDir, "workload", "", "read workload.json and warmup.json from DIR instead")
	f.StringVar(&opts.Dataset, "dataset", "", "dataset for -w azure/huawei (default: the built-in sample)")
	f.Int64Var(&opts.GenSeed, "seed", int64(workloads.DefaultSeed), "generator seed for -w (as gen --seed)")
	f.IntVar(&opts.Iter, "iter", workloads.DefaultIter, "func cycles for -w func")
	f.StringVar(&opts.Target, "target", TargetSim, "where to run: sim, twin or host")
	f.Float64Var(&opts.Speed, "speed", 1, "twin only: run the model this many times faster than real time")
	f.StringVar(&opts.Gateway, "gateway", "", "replay against this faasd-compatible URL instead of starting the twin")
	f.StringVar(&opts.PasswordFile, "password-file", "", "with --gateway: file holding admin's password, to register the functions")
	f.StringVar(&opts.Name, "name", "", "run name (default: <workload>-<method>[-<pool>]-<target>)")
	f.StringVar(&opts.OutDir, "out", "runs", "directory that holds run directories")
	f.BoolVar(&opts.Force, "force", false, "replace an existing run directory's files")
	f.Uint64Var(&opts.JitterSeed, "jitter-seed", 1, "seed of the send-time jitter U[0,1) (upstream's is unseeded)")
	cmd.RegisterFlagCompletionFunc("target", cobra.FixedCompletions([]string{TargetSim, TargetTwin, TargetHost}, cobra.ShellCompDirectiveNoFileComp))
	cmd.RegisterFlagCompletionFunc("workload-kind", cobra.FixedCompletions(workloads.Kinds, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// check rejects bad flag combinations before anything runs.
func (o *runOptions) check(cmd *cobra.Command) error {
	if (o.Workload == "") == (o.WorkloadDir == "") {
		return flagErrorf("give exactly one of -w KIND (one of %s) and --workload DIR", strings.Join(workloads.Kinds, ", "))
	}
	if o.Workload != "" && !slices.Contains(workloads.Kinds, o.Workload) {
		return flagErrorf("-w %q: expected one of %s", o.Workload, strings.Join(workloads.Kinds, ", "))
	}
	if o.Dataset != "" && o.Workload != "azure" && o.Workload != "huawei" {
		return flagErrorf("--dataset is only read by -w azure and -w huawei")
	}
	if o.GenSeed < 0 || o.GenSeed > 1<<32-1 {
		return flagErrorf("--seed %d: expected 0 to 4294967295", o.GenSeed)
	}
	switch o.Target {
	case TargetSim, TargetTwin, TargetHost:
	default:
		return flagErrorf("--target %q: expected sim, twin or host", o.Target)
	}
	if !(o.Speed > 0) {
		return flagErrorf("--speed %v: expected a positive number", o.Speed)
	}
	if o.Speed != 1 && o.Target != TargetTwin {
		return flagErrorf("--speed compresses the twin's real time; --target %s has none to compress", o.Target)
	}
	if o.Gateway != "" && o.Target == TargetSim {
		return flagErrorf("--gateway replays over HTTP; use --target twin (or host) with it")
	}
	if o.Name != "" && (strings.ContainsAny(o.Name, `/\`) || o.Name == "." || o.Name == "..") {
		return flagErrorf("--name %q: expected a plain directory name", o.Name)
	}
	return nil
}

// loadWorkload generates (-w) or reads (--workload) the workload.
func (o *runOptions) loadWorkload(ctx context.Context) (workloads.Workload, string, error) {
	cat := workloads.DefaultCatalog()
	if o.WorkloadDir != "" {
		w, err := workloads.ReadDir(o.WorkloadDir, cat)
		return w, "built from " + o.WorkloadDir, err
	}
	gopts := workloads.Options{Seed: uint32(o.GenSeed), Iter: o.Iter, Meter: newMeter(o.Streams), Catalog: cat}
	source := "generated"
	var err error
	switch o.Workload {
	case "azure":
		if o.Dataset == "" {
			sel, serr := workloads.AzureSelection()
			if serr == nil {
				gopts.Azure, serr = azure.Sample(sampleSeed, sel)
			}
			if serr != nil {
				return workloads.Workload{}, "", serr
			}
			source = "generated from the built-in synthetic Azure sample"
		} else if gopts.Azure, err = azure.OpenDataset(o.Dataset); err != nil {
			return workloads.Workload{}, "", err
		}
	case "huawei":
		if o.Dataset == "" {
			ws, werr := workloads.HuaweiWindows()
			if werr != nil {
				return workloads.Workload{}, "", werr
			}
			gopts.Huawei = huawei.Sample(sampleSeed, ws)
			source = "generated from the built-in synthetic Huawei sample"
		} else if gopts.Huawei, err = huawei.OpenDataset(o.Dataset); err != nil {
			return workloads.Workload{}, "", err
		}
	}
	res, err := workloads.Generate(ctx, o.Workload, gopts)
	return res.Workload, source, err
}

// runName is the default run directory name.
func (o *runOptions) runName() string {
	if o.Name != "" {
		return o.Name
	}
	w := o.Workload
	if w == "" {
		w = strings.ReplaceAll(strings.Trim(o.WorkloadDir, "/"), "/", "_")
	} else if w == "1" || w == "2" {
		w = "w" + w
	}
	name := w + "-" + o.Platform.Method
	if o.Platform.Method == "trenv" {
		name += "-" + o.Platform.Pool
	}
	return name + "-" + o.Target
}

// ErrHostTarget says what --target host still needs.
var ErrHostTarget = errors.New("--target host is not available yet: it needs the host support " +
	"(system/: stack checks, prepare and clean; baselines/: per-method faasd flags, CRIU binaries and daemons), " +
	"which a later version adds; use --target sim, --target twin, or --gateway URL against a running faasd")

func runRun(ctx context.Context, o *runOptions) (err error) {
	if o.Target == TargetHost && o.Gateway == "" {
		return ErrHostTarget
	}
	w, source, err := o.loadWorkload(ctx)
	if err != nil {
		return err
	}
	dir := filepath.Join(o.OutDir, o.runName())
	rd, err := results.CreateRunDir(dir, o.Force)
	if err != nil {
		return err
	}
	m := o.manifest(w, source)
	if err := rd.Begin(&m); err != nil {
		rd.Close()
		return err
	}
	var runErr error
	switch o.Target {
	case TargetSim:
		runErr = runSim(ctx, o, rd, w, &m)
	default:
		runErr = runReplay(ctx, o, rd, w, &m)
	}
	switch {
	case runErr == nil:
		m.Status = results.RunComplete
	case errors.Is(runErr, context.Canceled):
		m.Status = results.RunInterrupted
		m.Error = "interrupted"
	default:
		m.Status = results.RunFailed
		m.Error = runErr.Error()
	}
	finishErr := rd.Finish(&m)
	fmt.Fprintf(o.Streams.ErrOut, "%s: %s; %d requests: %d ok, %d failed, %d abandoned\n",
		dir, m.Status, m.Requests.Scheduled, m.Requests.OK, m.Requests.Failed, m.Requests.Abandoned)
	return errors.Join(runErr, finishErr)
}

// manifest describes the run before it starts.
func (o *runOptions) manifest(w workloads.Workload, source string) results.Manifest {
	p := o.Platform
	m := results.Manifest{
		ToolVersion: versionString(),
		CommandLine: o.Args,
		Method:      p.Method,
		Target:      results.Target(o.Target),
		Gateway:     o.Gateway,
		Platform:    results.PlatformFlags{MemGB: p.MemGB, GCMin: p.GCMin, IdleNum: p.IdleNum, NoReuse: p.NoReuse, NoBgTask: p.NoBgTask},
		Speed:       o.Speed,
		Workload: results.WorkloadInfo{
			Name:         o.Workload,
			TestSHA256:   results.SHA256Hex(w.Test.AppendJSON(nil)),
			WarmupSHA256: results.SHA256Hex(w.Warmup.AppendJSON(nil)),
		},
		Seeds: results.Seeds{Jitter: o.JitterSeed},
		Host:  results.HostFacts(),
	}
	if p.Method == sim.MethodTrEnv {
		m.Pool = p.Pool
	}
	if o.WorkloadDir != "" {
		m.Workload.Name = o.WorkloadDir
	} else {
		seed := uint64(o.GenSeed)
		m.Workload.GeneratorSeed = &seed
		switch {
		case o.Dataset != "":
			m.Workload.Dataset = o.Dataset
		case o.Workload == "azure" || o.Workload == "huawei":
			m.Workload.Dataset = results.DatasetBuiltInSample
		}
	}
	if o.Gateway == "" { // the model runs in this process
		seed := p.Seed
		m.Seeds.Model = &seed
	}
	_ = source
	return m
}

// runSim runs the workload on the platform model in virtual time. Wall
// times in test.log are the run's start plus virtual time.
func runSim(ctx context.Context, o *runOptions, rd *results.RunDir, w workloads.Workload, m *results.Manifest) error {
	start := time.Now()
	wall := func(phaseStart time.Duration, s float64) time.Time {
		return start.Add(phaseStart + time.Duration(s*float64(time.Second)))
	}
	log := rd.Log()
	var phaseStart time.Duration
	log.StartWarmup(start)
	ok, failed := 0, 0
	sinks := sim.Sinks{
		Request: func(r *results.Request) error {
			if err := rd.Requests().Write(r); err != nil {
				return err
			}
			switch r.Status {
			case results.StatusOK:
				ok++
				return log.Success(wall(phaseStart, r.DoneS), r.Function, r.E2EMs/1000, r.FuncMs/1000, r.Attempts-1)
			case results.StatusFailed:
				failed++
				return log.FinallyFailed(wall(phaseStart, r.DoneS), r.Function, r.Error)
			}
			return nil
		},
		Memory: func(ts float64, b int64) error { return rd.Memory().Write(ts, b) },
		PhaseEnd: func(phase string, met *results.Metrics) error {
			var raw bytes.Buffer
			if _, err := met.WriteTo(&raw); err != nil {
				return err
			}
			if err := rd.WriteMetrics(phase, raw.Bytes()); err != nil {
				return err
			}
			t := start.Add(phaseStart)
			if phase == sim.PhaseWarmup {
				log.WarmupFinished(t, failed, ok)
				ok, failed = 0, 0
				return log.StartTest(t)
			}
			return log.TestFinished(t, failed, ok)
		},
	}
	sum, err := sim.Run(ctx, sim.EngineConfig{
		Platform: o.platform, Model: o.model, JitterSeed: o.JitterSeed,
		PhaseStart: func(phase string, at time.Duration) { phaseStart = at },
	}, w, sinks)
	m.Requests = results.RequestCounts{Scheduled: sum.Scheduled, OK: sum.OK, Failed: sum.Failed, Abandoned: sum.Abandoned}
	return err
}

// runReplay replays the workload over HTTP: against --gateway, or against
// the twin started in this process on a free loopback port.
func runReplay(ctx context.Context, o *runOptions, rd *results.RunDir, w workloads.Workload, m *results.Manifest) error {
	cat := workloads.DefaultCatalog()
	gw := &replay.Gateway{URL: o.Gateway}
	var memory func() (int64, bool)
	bg, stopBg := context.WithCancel(context.Background())
	defer stopBg()
	if o.Gateway == "" {
		pw := make([]byte, 24)
		if _, err := rand.Read(pw); err != nil {
			return err
		}
		gw.Password = hex.EncodeToString(pw) // lives only in this process
		twin, err := sim.NewTwin(sim.TwinConfig{Platform: o.platform, Model: o.model, Password: gw.Password, Speed: o.Speed})
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("twin: %w", err)
		}
		srv := &http.Server{Handler: twin.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go srv.Serve(ln)
		defer srv.Close()
		go twin.RunBackground(bg)
		gw.URL = "http://" + ln.Addr().String()
		memory = func() (int64, bool) { r, _ := twin.Memory(); return r, true }
	} else {
		if o.PasswordFile != "" {
			pw, err := os.ReadFile(o.PasswordFile)
			if err != nil {
				return fmt.Errorf("--password-file: %w", err)
			}
			gw.Password = strings.TrimSpace(string(pw))
		}
		memory = func() (int64, bool) { return gatewayMemory(bg, gw.URL) }
	}
	if err := gw.Health(ctx); err != nil {
		return err
	}
	if gw.Password != "" {
		for _, ph := range []workloads.Phase{w.Warmup, w.Test} {
			for _, s := range ph {
				fn, _ := cat.Lookup(s.Function) // validated with the workload
				if err := gw.Register(ctx, fn); err != nil {
					return fmt.Errorf("registering %s at %s: %w", s.Function, gw.URL, err)
				}
			}
		}
	} else {
		fmt.Fprintf(o.Streams.ErrOut, "run: no --password-file: assuming the functions are registered at %s\n", o.Gateway)
	}

	// One lock for the run directory's writers: records, memory samples
	// and the flush that keeps at most a second of records in memory.
	var mu sync.Mutex
	start := time.Now()
	go func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		next := 0.0 // model seconds of the next memory sample
		for {
			select {
			case <-bg.Done():
				return
			case <-tick.C:
			}
			mu.Lock()
			model := time.Since(start).Seconds() * o.Speed
			for ; next <= model; next++ {
				if b, ok := memory(); ok {
					rd.Memory().Write(next, b)
				}
			}
			rd.Flush()
			mu.Unlock()
		}
	}()
	log := rd.Log()
	counts := map[string]*[2]int{replay.PhaseWarmup: {}, replay.PhaseTest: {}} // ok, failed
	bars := newPhaseBars(o.Streams)
	defer bars.done()
	sum, err := replay.Run(ctx, replay.Config{
		Target:     gw,
		Catalog:    cat,
		JitterSeed: o.JitterSeed,
		Speed:      o.Speed,
		OnRecord: func(r *results.Request) error {
			mu.Lock()
			defer mu.Unlock()
			switch r.Status {
			case results.StatusOK:
				counts[r.Phase][0]++
			case results.StatusFailed:
				counts[r.Phase][1]++
			}
			return rd.Requests().Write(r)
		},
		OnEvent: func(ev replay.LogEvent) {
			switch ev.Kind {
			case replay.EventPhaseStart:
				if ev.Phase == replay.PhaseWarmup {
					log.StartWarmup(ev.Time)
				} else {
					log.StartTest(ev.Time)
				}
			case replay.EventOK:
				log.Success(ev.Time, ev.Function, ev.E2ES, ev.LatencyS, ev.RetryCount)
			case replay.EventRetry:
				log.AttemptFailed(ev.Time, ev.Function, ev.RetryCount, ev.Message)
			case replay.EventGiveUp:
				log.FinallyFailed(ev.Time, ev.Function, ev.Message)
			case replay.EventPhaseEnd:
				c := counts[ev.Phase]
				if ev.Phase == replay.PhaseWarmup {
					log.WarmupFinished(ev.Time, c[1], c[0])
				} else {
					log.TestFinished(ev.Time, c[1], c[0])
				}
			}
		},
		OnMetrics: func(phase string, raw []byte) error {
			mu.Lock()
			defer mu.Unlock()
			return rd.WriteMetrics(phase, raw)
		},
		Progress: bars.update,
	}, w)
	stopBg()
	for _, p := range []replay.PhaseSummary{sum.Warmup, sum.Test} {
		m.Requests.Scheduled += p.Scheduled
		m.Requests.OK += p.OK
		m.Requests.Failed += p.Failed
		m.Requests.Abandoned += p.Abandoned
		m.PeakInFlight = max(m.PeakInFlight, p.PeakInFlight)
	}
	return err
}

// gatewayMemory reads GET /sim/memory of a twin served elsewhere (sim
// serve); a real faasd has none, and then there is no memory.csv data.
func gatewayMemory(ctx context.Context, base string) (int64, bool) {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+"/sim/memory", nil)
	if err != nil {
		return 0, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	var st sim.MemoryState
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&st) != nil {
		return 0, false
	}
	return st.ResidentBytes, true
}
