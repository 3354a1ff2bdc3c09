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
	"strings"
	"sync"
	"time"

	"trenv-bench/replay"
	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// Targets a run can have.
const (
	TargetHost = "host"
	TargetTwin = "twin"
	TargetSim  = "sim"
)

// ErrHostTarget says what --target host still needs.
var ErrHostTarget = errors.New("--target host is not available yet: it needs the host support " +
	"(system/: stack checks, prepare and clean; baselines/: per-method faasd flags, CRIU binaries and daemons), " +
	"which a later version adds; use --target sim, --target twin, or --gateway URL against a running faasd")

// Spec is one run: what to replay, where, and where the run directory goes.
type Spec struct {
	// Dir is the run directory; an existing one is refused unless Force.
	Dir   string
	Force bool
	// Target is TargetSim, TargetTwin or TargetHost.
	Target string
	// Gateway, if set, is a running faasd-compatible endpoint to replay
	// against (twin or host); Password its admin password for
	// registering the functions ("" = assume they are registered). The
	// password is never written anywhere.
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
}

func (o *Spec) notes() io.Writer {
	if o.Notes == nil {
		return io.Discard
	}
	return o.Notes
}

// Execute runs spec into its run directory and returns the final
// manifest. Whatever happens after the directory is created, it is left
// complete and parseable, with status complete, interrupted (ctx cancelled:
// the error wraps context.Canceled) or failed.
func Execute(ctx context.Context, o *Spec) (results.Manifest, error) {
	m := o.Manifest
	if o.Target == TargetHost && o.Gateway == "" {
		return m, ErrHostTarget
	}
	rd, err := results.CreateRunDir(o.Dir, o.Force)
	if err != nil {
		return m, err
	}
	m.Target = results.Target(o.Target)
	m.Gateway = o.Gateway
	m.Speed = o.Speed
	m.Seeds.Jitter = o.JitterSeed
	m.Host = results.HostFacts()
	m.Method = o.Platform.Method
	if o.Platform.Method == sim.MethodTrEnv {
		m.Pool = o.Platform.Pool
	}
	if o.Gateway == "" { // the model runs in this process
		seed := o.Platform.Seed
		m.Seeds.Model = &seed
	}
	m.Workload.TestSHA256 = results.SHA256Hex(o.Workload.Test.AppendJSON(nil))
	m.Workload.WarmupSHA256 = results.SHA256Hex(o.Workload.Warmup.AppendJSON(nil))
	if err := rd.Begin(&m); err != nil {
		rd.Close()
		return m, err
	}
	var runErr error
	switch o.Target {
	case TargetSim:
		runErr = runSim(ctx, o, rd, o.Workload, &m)
	default:
		runErr = runReplay(ctx, o, rd, o.Workload, &m)
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

// RunDirName is the default name of a run directory.
func RunDirName(workload, method, pool, target string) string {
	if workload == "1" || workload == "2" {
		workload = "w" + workload
	}
	name := workload + "-" + method
	if method == sim.MethodTrEnv {
		name += "-" + pool
	}
	return name + "-" + target
}

// runSim runs the workload on the platform model in virtual time. Wall
// times in test.log are the run's start plus virtual time.
func runSim(ctx context.Context, o *Spec, rd *results.RunDir, w workloads.Workload, m *results.Manifest) error {
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
		PhaseEnd: func(phase string, end time.Duration, met *results.Metrics) error {
			var raw bytes.Buffer
			if _, err := met.WriteTo(&raw); err != nil {
				return err
			}
			if err := rd.WriteMetrics(phase, raw.Bytes()); err != nil {
				return err
			}
			t := start.Add(end)
			if phase == results.PhaseWarmup {
				log.WarmupFinished(t, failed, ok)
				ok, failed = 0, 0
				return log.StartTest(t)
			}
			return log.TestFinished(t, failed, ok)
		},
	}
	sum, err := sim.Run(ctx, sim.EngineConfig{
		Platform: o.Platform, Model: o.Model, JitterSeed: o.JitterSeed,
		PhaseStart: func(phase string, at time.Duration) { phaseStart = at },
	}, w, sinks)
	m.Requests = results.RequestCounts{Scheduled: sum.Scheduled, OK: sum.OK, Failed: sum.Failed, Abandoned: sum.Abandoned}
	m.PeakInFlight = sum.PeakInFlight
	return err
}

// runReplay replays the workload over HTTP: against --gateway, or against
// the twin started in this process on a free loopback port.
func runReplay(ctx context.Context, o *Spec, rd *results.RunDir, w workloads.Workload, m *results.Manifest) error {
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
		twin, err := sim.NewTwin(sim.TwinConfig{Platform: o.Platform, Model: o.Model, Password: gw.Password, Speed: o.Speed})
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
		gw.Password = o.Password
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
		fmt.Fprintf(o.notes(), "run: no password: assuming the functions are registered at %s\n", o.Gateway)
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
		Progress: o.Progress,
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
