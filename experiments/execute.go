package experiments

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
	"runtime"
	"strings"
	"time"

	"trenv-bench/replay"
	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// Spec is one run: what to replay, where, and where the run directory goes.
type Spec struct {
	// Dir is the run directory; an existing one is refused unless Force.
	Dir   string
	Force bool
	// Target is where the run goes: sim (the model in virtual time), twin
	// (the model served in this process, replayed over HTTP), gateway (the
	// faasd at Gateway; recorded as twin when a twin answers there) or host
	// (not available yet).
	Target results.Target
	// Gateway is the URL of a running faasd-compatible endpoint (target
	// gateway); Password its admin password for registering the functions
	// ("" = assume they are registered). The password is never written
	// anywhere.
	Gateway, Password string
	// Speed compresses the twin's time (1 = real time).
	Speed float64
	// Platform and Model configure the platform model (sim and twin).
	Platform sim.Config
	Model    *calibration.Model
	Workload workloads.Workload
	// Manifest is the run's description (workload info, command line,
	// tool version, platform flags); Execute fills in the rest.
	Manifest results.Manifest
	// JitterSeed seeds the send-time jitter.
	JitterSeed uint64
	// Progress receives replay progress (twin and gateway runs); nil = none.
	Progress func(replay.Progress)
	// Notes receives remarks for the user (nil = discarded).
	Notes io.Writer
	// Stack, when set, is the user's stack.yml: gateway and host runs
	// register the workload's functions from it instead of the catalog,
	// and attach it to the run directory as stack.yml.
	Stack *replay.Stack
	// Host says where a host run finds the stack (target host); nil
	// means DefaultHostOptions.
	Host *HostOptions
	// Shard is the slice of the workload this run replays (target
	// gateway only; zero = all of it). Shard 1 registers the functions,
	// snapshots faasd's metrics and samples; the others only replay.
	Shard workloads.Shard
	// StartAt, when set, is when the warmup starts (targets twin and
	// gateway); the test phase follows at a time fixed by the schedule
	// (replay.TestOffset), so shards started at one T stay in step.
	StartAt time.Time
}

// ClockBudget is how long a sharded run's pre-flight spends timing the
// gateway's clock (replay.Gateway.ClockOffset).
const ClockBudget = 1500 * time.Millisecond

// checkShard checks that a sharded or timed run goes where it can: shards
// to a gateway (the twin and the model run in this process: there is
// nothing to share), a start time to the twin or a gateway, in the future.
func (o *Spec) checkShard() error {
	if err := o.Shard.Validate(); err != nil {
		return fmt.Errorf("experiments: %w", err)
	}
	if !o.Shard.Whole() {
		if o.Target != results.TargetGateway {
			return fmt.Errorf("experiments: shard %s on target %s: sharding splits the load on a gateway across load generators; expected target gateway (--gateway URL)", o.Shard, o.Target)
		}
		if o.StartAt.IsZero() {
			return fmt.Errorf("experiments: shard %s without a start time: every shard needs the same one (--start-at)", o.Shard)
		}
	}
	if !o.StartAt.IsZero() && o.Target != results.TargetGateway && o.Target != results.TargetTwin {
		return fmt.Errorf("experiments: a start time on target %s: expected target twin or gateway", o.Target)
	}
	return o.checkStartAt()
}

// checkStartAt fails when the start time has passed.
func (o *Spec) checkStartAt() error {
	if o.StartAt.IsZero() || time.Now().Before(o.StartAt) {
		return nil
	}
	return fmt.Errorf("experiments: start time %s passed %s ago: pick one far enough ahead for every shard to be ready",
		o.StartAt.Format(time.RFC3339), time.Since(o.StartAt).Round(time.Millisecond))
}

func (o *Spec) notes() io.Writer {
	if o.Notes == nil {
		return io.Discard
	}
	return o.Notes
}

// engine is what produces a run's events into its recorder: the simulator,
// or the replayer against the twin or a gateway.
type engine interface {
	// target is what the run measures, as the manifest records it.
	target() results.Target
	// effective is the configuration that runs, for the manifest (nil when
	// the engine does not know it).
	effective() json.RawMessage
	// run runs the workload into rec; it fills the manifest's counts it
	// knows.
	run(ctx context.Context, rec results.Recorder, m *results.Manifest) error
	// close releases what the engine started (the twin's server).
	close()
}

// Execute runs spec into its run directory and returns the final
// manifest. A model variant (Manifest.ModelVariant) runs on sim and twin
// only: on another target Execute fails at once with an error wrapping
// results.ErrModelOnly. It first starts the engine and checks what it needs (the
// gateway answers, the functions register): when that fails, no run
// directory is left behind. Whatever happens after the directory is
// created, it is left complete and parseable, with status complete,
// interrupted (ctx cancelled: the error wraps context.Canceled) or failed.
func Execute(ctx context.Context, o *Spec) (results.Manifest, error) {
	m := o.Manifest
	if v := m.ModelVariant; v != "" && (o.Target != results.TargetSim && o.Target != results.TargetTwin) {
		return m, fmt.Errorf("experiments: model variant %s on target %s: %w", v, o.Target, results.ErrModelOnly)
	}
	if err := o.checkShard(); err != nil {
		return m, err
	}
	eng, err := startEngine(ctx, o)
	if err != nil {
		return m, err
	}
	defer eng.close()
	if err := o.checkStartAt(); err != nil { // the pre-flight took too long
		return m, err
	}
	var calDigest string
	if o.Gateway == "" && o.Model != nil {
		if calDigest, err = CalibrationDigest(o.Model); err != nil {
			return m, err
		}
	}
	rd, err := results.CreateRunDir(o.Dir, o.Force)
	if err != nil {
		return m, err
	}
	m.Target = eng.target()
	m.Gateway = o.Gateway
	m.Effective = eng.effective()
	m.Speed = o.Speed
	if m.Target == results.TargetSim {
		m.Speed = 0
	}
	m.Seeds.Jitter = o.JitterSeed
	m.Host = results.HostFacts()
	m.Method = o.Platform.Method
	if o.Platform.Method == sim.MethodTrEnv {
		m.Pool = o.Platform.Pool
	}
	if o.Gateway == "" { // the model runs in this process
		seed := o.Platform.Seed
		m.Seeds.Model = &seed
		m.CalibrationSHA256 = calDigest
	}
	if !o.Shard.Whole() {
		m.Shard = &results.ShardInfo{Index: o.Shard.Index, Count: o.Shard.Count, StartAt: o.StartAt.UTC(), Owns: []string{}}
		if o.Shard.Index == 1 {
			m.Shard.Owns = []string{results.OwnsMetrics, results.OwnsSamples}
			if o.Password != "" {
				m.Shard.Owns = append([]string{results.OwnsRegister}, m.Shard.Owns...)
			}
		}
		if re, ok := eng.(*replayEngine); ok && re.clockOK {
			m.Shard.ClockOffsetS = new(re.clockOffset.Offset.Seconds())
			m.Shard.ClockOffsetUncertaintyS = new(re.clockOffset.Uncertainty.Seconds())
		}
	}
	m.Workload.TestSHA256 = results.SHA256Hex(o.Workload.Test.AppendJSON(nil))
	m.Workload.WarmupSHA256 = results.SHA256Hex(o.Workload.Warmup.AppendJSON(nil))
	cpu0, cpuOK := results.ProcessCPU()
	if err := rd.Begin(&m); err != nil {
		rd.Close()
		return m, err
	}
	runErr := eng.run(ctx, rd, &m)
	if cpu1, ok := results.ProcessCPU(); ok && cpuOK {
		m.Harness = &results.HarnessInfo{Procs: runtime.GOMAXPROCS(0), CPUSeconds: (cpu1 - cpu0).Seconds()}
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
	return m, errors.Join(runErr, finishErr)
}

// CalibrationDigest is the hex SHA-256 digest of a cost model as the
// manifest records it (results.Manifest.CalibrationSHA256): of its
// encoding/json form, which writes fields in order and sorts map keys, so
// equal models have equal digests however their files were written.
func CalibrationDigest(model *calibration.Model) (string, error) {
	b, err := json.Marshal(model)
	if err != nil {
		return "", fmt.Errorf("experiments: calibration digest: %w", err)
	}
	return results.SHA256Hex(b), nil
}

// RunDirName is the default name of a run directory.
func RunDirName(workload, method, pool string, target results.Target) string {
	if workload == "1" || workload == "2" {
		workload = "w" + workload
	}
	name := workload + "-" + method
	if method == sim.MethodTrEnv {
		name += "-" + pool
	}
	return name + "-" + string(target)
}

// SystemRunDirName is RunDirName of a system: its method and pool, and a
// model variant's name after them
// ("steps-json-serde-trenv-cxl-reconfig-sim").
func SystemRunDirName(workload string, s results.System, target results.Target) string {
	name := RunDirName(workload, s.Method, s.Pool, target)
	if s.Variant == "" {
		return name
	}
	return strings.TrimSuffix(name, "-"+string(target)) + "-" + s.Variant + "-" + string(target)
}

// startEngine picks and starts the engine of o's target, with its
// pre-flight checks.
func startEngine(ctx context.Context, o *Spec) (engine, error) {
	switch o.Target {
	case results.TargetSim:
		return &simEngine{o: o}, nil
	case results.TargetTwin:
		return startTwin(o)
	case results.TargetGateway:
		return dialGateway(ctx, o)
	case results.TargetHost:
		return startHost(ctx, o)
	}
	return nil, fmt.Errorf("experiments: target %q: expected one of sim, twin, gateway, host", o.Target)
}

// simEngine runs the workload on the platform model in virtual time;
// test.log's stamps are the run's start plus virtual time.
type simEngine struct{ o *Spec }

func (e *simEngine) target() results.Target { return results.TargetSim }
func (e *simEngine) close()                 {}
func (e *simEngine) effective() json.RawMessage {
	return mustJSON(e.o.Platform.Effective("sim", 0))
}

func (e *simEngine) run(ctx context.Context, rec results.Recorder, m *results.Manifest) error {
	o := e.o
	sum, err := sim.Run(ctx, sim.EngineConfig{Platform: o.Platform, Model: o.Model, JitterSeed: o.JitterSeed}, o.Workload, rec)
	m.Requests = results.RequestCounts{Scheduled: sum.Scheduled, OK: sum.OK, Failed: sum.Failed, Abandoned: sum.Abandoned}
	m.PeakInFlight = sum.PeakInFlight
	return err
}

// replayEngine replays the workload over HTTP against gw: the twin this
// process serves, or a gateway someone else runs.
type replayEngine struct {
	o      *Spec
	gw     *replay.Gateway
	tgt    results.Target
	eff    json.RawMessage
	speed  float64
	memory func(ctx context.Context) (int64, bool)
	// cpu samples cpu.csv: the model host's utilisation on a twin, this
	// machine's on a gateway.
	cpu     func() (float64, bool)
	stopSrv func()
	// clockOffset is the gateway's clock against this machine's
	// (sharded runs), when clockOK.
	clockOffset replay.ClockOffset
	clockOK     bool
}

func (e *replayEngine) target() results.Target     { return e.tgt }
func (e *replayEngine) effective() json.RawMessage { return e.eff }
func (e *replayEngine) close() {
	if e.stopSrv != nil {
		e.stopSrv()
	}
}

// startTwin serves the platform model on a free loopback port, with a
// random admin password that lives only in this process.
func startTwin(o *Spec) (*replayEngine, error) {
	pw := make([]byte, 24)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	password := hex.EncodeToString(pw)
	twin, err := sim.NewTwin(sim.TwinConfig{Platform: o.Platform, Model: o.Model, Password: password, Speed: o.Speed})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("twin: %w", err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan struct{})
	go func() { defer close(served); twin.Serve(ctx, ln) }()
	e := &replayEngine{o: o, tgt: results.TargetTwin, speed: o.Speed,
		gw:      &replay.Gateway{URL: "http://" + ln.Addr().String(), Password: password},
		eff:     mustJSON(o.Platform.Effective("twin", o.Speed)),
		memory:  func(context.Context) (int64, bool) { r, _ := twin.Memory(); return r, true },
		cpu:     twin.CPU,
		stopSrv: func() { stop(); <-served },
	}
	if err := e.register(context.Background()); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// dialGateway checks that a faasd answers at o.Gateway and registers the
// functions there (with o.Password). A twin that announces itself there
// (sim.TwinHeader) is recorded as the twin, with its own configuration.
func dialGateway(ctx context.Context, o *Spec) (*replayEngine, error) {
	gw := &replay.Gateway{URL: o.Gateway, Password: o.Password, Warn: notef(o.notes())}
	e := &replayEngine{o: o, gw: gw, tgt: results.TargetGateway, speed: 1, cpu: results.HostCPU()}
	if err := gw.Health(ctx); err != nil {
		return nil, err
	}
	if info, ok := twinInfo(ctx, gw.URL); ok {
		e.tgt, e.eff, e.speed = results.TargetTwin, mustJSON(info), info.Speed
		if info.Speed != o.Speed {
			return nil, fmt.Errorf("--gateway %s is a twin running at speed %g: pass --speed %g so the replay keeps its time",
				results.RedactURL(gw.URL), info.Speed, info.Speed)
		}
		e.memory = func(ctx context.Context) (int64, bool) { return gatewayMemory(ctx, gw.URL) }
		e.cpu = gatewayCPU(ctx, gw.URL)
	}
	if !o.Shard.Whole() {
		off, ok, err := gw.ClockOffset(ctx, ClockBudget)
		if err != nil {
			return nil, err
		}
		e.clockOffset, e.clockOK = off, ok
		if !ok {
			fmt.Fprintf(o.notes(), "run: %s answers without a Date header: this shard's clock offset is not recorded\n", results.RedactURL(gw.URL))
		}
		if o.Shard.Index != 1 { // shard 1 registers
			return e, nil
		}
	}
	if o.Password == "" {
		fmt.Fprintf(o.notes(), "run: no --password-file: assuming the functions are registered at %s\n", results.RedactURL(gw.URL))
		return e, nil
	}
	if err := e.register(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// workloadFunctions are the functions the workload invokes, in the order
// they first appear, from the catalog.
func (e *replayEngine) workloadFunctions() []workloads.Function {
	return workloadFunctions(e.o.Workload)
}

func workloadFunctions(w workloads.Workload) []workloads.Function {
	cat := workloads.DefaultCatalog()
	seen := map[string]bool{}
	var out []workloads.Function
	for _, ph := range []workloads.Phase{w.Warmup, w.Test} {
		for _, s := range ph {
			if seen[s.Function] {
				continue
			}
			seen[s.Function] = true
			fn, _ := cat.Lookup(s.Function) // validated with the workload
			out = append(out, fn)
		}
	}
	return out
}

// register registers every function of the workload, from the user's
// stack file when there is one.
func (e *replayEngine) register(ctx context.Context) error {
	for _, fn := range e.workloadFunctions() {
		if e.o.Stack == nil {
			if err := e.gw.Register(ctx, fn); err != nil {
				return err
			}
			continue
		}
		body, err := e.o.Stack.Deployment(fn.Name)
		if err != nil {
			return err
		}
		if err := e.gw.RegisterDeployment(ctx, fn.Name, body); err != nil {
			return err
		}
	}
	return nil
}

func (e *replayEngine) run(ctx context.Context, rec results.Recorder, m *results.Manifest) error {
	o := e.o
	sum, err := replay.Run(ctx, replay.Config{
		Target:     e.gw,
		JitterSeed: o.JitterSeed,
		Speed:      e.speed,
		Recorder:   rec,
		Memory:     e.memory,
		CPU:        e.cpu,
		Warn:       notef(o.notes()),
		Progress:   o.Progress,
		Shard:      o.Shard,
		StartAt:    o.StartAt,
	}, o.Workload)
	if o.Stack != nil {
		if aerr := rec.Attach("stack.yml", bytes.NewReader(o.Stack.Data)); aerr != nil && err == nil {
			err = aerr
		}
	}
	for _, p := range []replay.PhaseSummary{sum.Warmup, sum.Test} {
		m.Requests.Scheduled += p.Scheduled
		m.PeakInFlight = max(m.PeakInFlight, p.PeakInFlight)
	}
	m.Clock = e.clock(sum)
	return err
}

// TwinShiftLimit is the model shift (replay.PhaseSummary.ModelShift) above
// which a twin's latencies were measured to drift from the engine's: in
// cmd/twinbench on W1 (README, "The twin's clock"), every function's P50
// and P99 stayed within 5 % of the engine's at shifts up to 20 ms, under
// TrEnv and REAP+, and drifted from 53 ms on (a P99 3.0× the engine's
// under REAP+ at 53 ms, 1.16× under TrEnv at 60 ms). A twin run whose
// test phase measures more is warned.
const TwinShiftLimit = 30 * time.Millisecond

// clock describes how closely the run kept to its schedule, from the test
// phase (the warmup when the test never ran), and warns when a twin's
// model saw its requests too late for its decisions to hold.
func (e *replayEngine) clock(sum replay.Summary) *results.ClockInfo {
	p, name := sum.Test, results.PhaseTest
	if !p.Ran || p.Sent == 0 {
		p, name = sum.Warmup, results.PhaseWarmup
	}
	if !p.Ran || p.Sent == 0 {
		return nil
	}
	c := &results.ClockInfo{Phase: name, LatenessP50Ms: ms(p.LatenessP50), LatenessP99Ms: ms(p.LatenessP99)}
	if p.Overheads == 0 {
		return c
	}
	overhead := ms(p.OverheadP50)
	c.OverheadP50Ms = &overhead
	if e.tgt != results.TargetTwin {
		return c
	}
	shift := p.ModelShift(e.speed)
	c.ModelShiftMs = new(ms(shift))
	if shift > TwinShiftLimit {
		fmt.Fprintf(e.o.notes(), "run: warning: at --speed %g a typical request reached the twin's model %.0f ms of model time late "+
			"(dispatch lateness %.3f ms + overhead %.3f ms, wall, × %g); above %v the twin's latencies were measured to drift from "+
			"the engine's (README, \"The twin's clock\"): use a lower --speed, or --target sim\n",
			e.speed, ms(shift), c.LatenessP50Ms, overhead, e.speed, TwinShiftLimit)
	}
	return c
}

// ms converts d to milliseconds.
func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

// notef returns a Warn function that writes a line to w.
func notef(w io.Writer) func(string) {
	return func(msg string) { fmt.Fprintln(w, "run: "+msg) }
}

// twinInfo asks base whether it is a twin: GET /sim/info answered with
// sim.TwinHeader.
func twinInfo(ctx context.Context, base string) (sim.EffectiveConfig, bool) {
	var info sim.EffectiveConfig
	resp, ok := getJSON(ctx, base, "/sim/info")
	if !ok {
		return info, false
	}
	defer resp.Body.Close()
	if resp.Header.Get(sim.TwinHeader) != sim.TwinHeaderValue ||
		json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&info) != nil {
		return info, false
	}
	return info, true
}

// gatewayMemory reads GET /sim/memory of a twin served elsewhere (sim
// serve).
func gatewayMemory(ctx context.Context, base string) (int64, bool) {
	st, ok := twinState(ctx, base)
	return st.ResidentBytes, ok
}

// gatewayCPU returns a cpu.csv sampler of a twin served elsewhere: the
// model host's utilisation between two readings of GET /sim/memory (its
// busy thread-seconds over its threads × the model time between).
func gatewayCPU(ctx context.Context, base string) func() (float64, bool) {
	var last sim.MemoryState
	return func() (float64, bool) {
		st, ok := twinState(ctx, base)
		if !ok || st.HostThreads <= 0 {
			return 0, false
		}
		prev := last
		last = st
		dt := st.ModelTimeS - prev.ModelTimeS
		if prev.HostThreads <= 0 || dt <= 0 {
			return 0, false // the first reading: nothing to compare it with
		}
		return min(1, max(0, (st.CPUBusyS-prev.CPUBusyS)/(st.HostThreads*dt))), true
	}
}

// twinState reads GET /sim/memory of a twin served elsewhere.
func twinState(ctx context.Context, base string) (sim.MemoryState, bool) {
	var st sim.MemoryState
	resp, ok := getJSON(ctx, base, "/sim/memory")
	if !ok {
		return st, false
	}
	defer resp.Body.Close()
	if json.NewDecoder(io.LimitReader(resp.Body, 1<<16)).Decode(&st) != nil {
		return st, false
	}
	return st, true
}

// getJSON GETs base+path within 500 ms; ok is false unless it answered 200.
func getJSON(ctx context.Context, base, path string) (*http.Response, bool) {
	ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(base, "/")+path, nil)
	if err != nil {
		cancel()
		return nil, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil, false
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		return nil, false
	}
	resp.Body = cancelOnClose{resp.Body, cancel}
	return resp, true
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c cancelOnClose) Close() error { err := c.ReadCloser.Close(); c.cancel(); return err }

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // plain structs of numbers and strings
	}
	return b
}
