package sim

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
)

// Tiny hand-made cost model: every start takes startupMs, every execution
// execMs, no spread, no slowdown; each instance is residentMB resident.
const (
	startupMs  = 100.0
	switchMs   = 5.0
	execMs     = 1000.0
	residentMB = 10.0
)

func tinyModel(functions ...string) *calibration.Model {
	src := "estimate: test"
	m := &calibration.Model{Version: 1, Functions: map[string]calibration.Function{}}
	m.Platform.Reuse = calibration.Dist{MedianMs: 0.5, Source: src}
	m.Platform.HTTPOverheadMs = calibration.Number{Value: 1, Source: src}
	for _, f := range append(functions, SeedFunction) {
		c := calibration.Function{
			Exec:            calibration.Dist{MedianMs: execMs, Source: src},
			Startup:         map[string]calibration.Dist{},
			FirstExecFactor: map[string]calibration.Number{},
			WarmExecFactor:  map[string]calibration.Number{},
			ResidentMB:      map[string]calibration.Number{},
		}
		for _, k := range calibration.Methods {
			d := startupMs
			if k == calibration.MethodTrEnvCXL || k == calibration.MethodTrEnvRDMA {
				d = switchMs
			}
			c.Startup[k] = calibration.Dist{MedianMs: d, Source: src}
			c.FirstExecFactor[k] = calibration.Number{Value: 1, Source: src}
			c.WarmExecFactor[k] = calibration.Number{Value: 1, Source: src}
			c.ResidentMB[k] = calibration.Number{Value: residentMB, Source: src}
		}
		m.Functions[f] = c
	}
	return m
}

const mb = 1_000_000

func newTestPlatform(t *testing.T, cfg Config, charges map[string]int64) *Platform {
	t.Helper()
	names := make([]string, 0, len(charges))
	for n := range charges {
		names = append(names, n)
	}
	p, err := NewPlatform(cfg, tinyModel(names...))
	if err != nil {
		t.Fatal(err)
	}
	for n, c := range charges {
		if err := p.Register(n, c); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func baseline(method string, memBytes int64) Config {
	c := DefaultConfig(method)
	c.MemBytes = memBytes
	return c
}

func at(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// ends runs the platform up to until and returns the invocations that
// ended, by Grant.ID.
func ends(p *Platform, until time.Duration) map[int32]Done {
	out := map[int32]Done{}
	p.Advance(until, func(d Done) { out[d.ID()] = d })
	return out
}

func mustAcquire(t *testing.T, p *Platform, now time.Duration, fn string) Grant {
	t.Helper()
	g, err := p.Acquire(now, now, fn)
	if err != nil {
		t.Fatalf("Acquire(%v, %s): %v", now, fn, err)
	}
	return g
}

func TestReuseTakesTheLongestIdle(t *testing.T) {
	p := newTestPlatform(t, baseline(MethodCold, 64<<30), map[string]int64{"a": 100 * mb})
	g1, g2 := mustAcquire(t, p, 0, "a"), mustAcquire(t, p, 0, "a")
	if g1.Kind != results.StartCold || g1.InstanceID() != "a-1" || g2.InstanceID() != "a-2" {
		t.Fatalf("starts: %s %s, %s", g1.Kind, g1.InstanceID(), g2.InstanceID())
	}
	p.Release(at(2), g2)
	p.Release(at(1), g1) // a-1 became idle later in call order, but earlier in time
	g := mustAcquire(t, p, at(3), "a")
	if g.Kind != results.StartReuse || g.InstanceID() != "a-1" {
		t.Errorf("reuse took %s (%s), want a-1, idle since 1 s", g.InstanceID(), g.Kind)
	}
	d := ends(p, at(10))[g.ID()]
	if d.Startup() >= time.Millisecond || d.Exec() != time.Duration(execMs*float64(time.Millisecond)) {
		t.Errorf("reuse costs: startup %v exec %v", d.Startup(), d.Exec())
	}
}

func TestEvictionFollowsGlobalLRU(t *testing.T) {
	charges := map[string]int64{"a": 100 * mb, "b": 100 * mb, "c": 100 * mb, "d": 100 * mb}
	p := newTestPlatform(t, baseline(MethodCRIU, 300*mb), charges)
	ga, gb, gc := mustAcquire(t, p, 0, "a"), mustAcquire(t, p, 0, "b"), mustAcquire(t, p, 0, "c")
	p.Release(at(1), ga)
	p.Release(at(3), gb)
	p.Release(at(2), gc)
	// The bound is full (300 MB): d evicts the least recently active, a-1.
	gd := mustAcquire(t, p, at(4), "d")
	if gd.Kind != results.StartRestore {
		t.Errorf("criu start recorded as %s", gd.Kind)
	}
	if got := p.Instances(); !slices.Equal(got, []string{"b-1", "c-1", "d-1"}) {
		t.Fatalf("after evicting for d: %v", got)
	}
	// Next victim is c-1 (idle since 2 s), then b-1.
	mustAcquire(t, p, at(5), "a")
	if got := p.IdleInstances(); !slices.Equal(got, []string{"b-1"}) {
		t.Errorf("idle after the second eviction: %v, want [b-1]", got)
	}
	if p.ChargedBytes() != 300*mb {
		t.Errorf("charged %d, want the bound exactly (filling up to it is allowed)", p.ChargedBytes())
	}
}

func TestMemoryBoundFailure(t *testing.T) {
	charges := map[string]int64{"x": 100 * mb, "y": 100 * mb, "z": 250 * mb}
	p := newTestPlatform(t, baseline(MethodCold, 300*mb), charges)
	mustAcquire(t, p, 0, "x") // stays busy
	gy := mustAcquire(t, p, 0, "y")
	p.Release(at(1), gy)
	// z needs 250 MB: evicting y frees only enough for 200, and no other
	// instance is idle: fail, and put y back.
	_, err := p.Acquire(at(2), at(2), "z")
	if !errors.Is(err, ErrMemoryLimit) {
		t.Fatalf("got %v, want ErrMemoryLimit", err)
	}
	if want := "findKillingInstanceFor z failed: reach memory limitation"; err.Error() != want {
		t.Errorf("message %q, want faasd's %q", err, want)
	}
	if p.ChargedBytes() != 200*mb || !slices.Equal(p.IdleInstances(), []string{"y-1"}) {
		t.Errorf("after the failure: charged %d, idle %v; want 200 MB and y-1 back", p.ChargedBytes(), p.IdleInstances())
	}
	if g := mustAcquire(t, p, at(3), "y"); g.InstanceID() != "y-1" || g.Kind != results.StartReuse {
		t.Errorf("the restored victim is not reusable: %s %s", g.InstanceID(), g.Kind)
	}
	// TrEnv's cold start says so in its message.
	q := newTestPlatform(t, Config{Method: MethodTrEnv, MemBytes: 100 * mb, NoBgTask: true}, charges)
	if _, err := q.Acquire(0, 0, "z"); err == nil || err.Error() != "findKillingInstanceFor z (cold start) failed: reach memory limitation" {
		t.Errorf("TrEnv: got %v", err)
	}
}

func TestKeepAliveGC(t *testing.T) {
	cfg := baseline(MethodCold, 64<<30)
	cfg.GC = 2 * time.Minute
	p := newTestPlatform(t, cfg, map[string]int64{"a": mb})
	g := mustAcquire(t, p, 0, "a")
	p.Release(at(10), g)
	if n := p.GC(at(130)); n != 0 {
		t.Errorf("idle exactly 2 min: GC killed %d, want 0 (strictly longer only)", n)
	}
	if n := p.GC(at(130.001)); n != 1 || p.Live() != 0 || p.ChargedBytes() != 0 {
		t.Errorf("idle > 2 min: GC killed %d; live %d, charged %d", n, p.Live(), p.ChargedBytes())
	}
	// TrEnv keeps idle instances; so does a baseline with --no-bgtask.
	tr := newTestPlatform(t, Config{Method: MethodTrEnv, MemBytes: 64 << 30, GC: time.Minute, NoBgTask: true}, map[string]int64{"a": mb})
	g = mustAcquire(t, tr, 0, "a")
	tr.Release(at(1), g)
	cfg.NoBgTask = true
	nb := newTestPlatform(t, cfg, map[string]int64{"a": mb})
	g = mustAcquire(t, nb, 0, "a")
	nb.Release(at(1), g)
	if tr.GC(at(3600)) != 0 || nb.GC(at(3600)) != 0 {
		t.Error("GC ran in TrEnv mode or with --no-bgtask")
	}
}

func TestStartWorkerLimit(t *testing.T) {
	start := time.Duration(startupMs * float64(time.Millisecond))
	for _, c := range []struct {
		method  string
		workers int
		backoff time.Duration // the throttle's first stage, on queued starts
	}{{MethodCold, StartWorkers, 0}, {MethodFaaSnap, SnapshotStartWorkers, ThrottleBase}} {
		p := newTestPlatform(t, baseline(c.method, 64<<30), map[string]int64{"a": mb})
		accepted := c.workers + StartQueueSlots
		var grants []Grant
		for i := 0; i < accepted; i++ {
			g, err := p.Acquire(0, 0, "a")
			if err != nil {
				t.Fatalf("%s: start %d refused: %v", c.method, i+1, err)
			}
			grants = append(grants, g)
		}
		peak := p.Metrics().PeakMem
		if _, err := p.Acquire(0, 0, "a"); !errors.Is(err, ErrStartBusy) {
			t.Fatalf("%s: start %d: got %v, want ErrStartBusy", c.method, accepted+1, err)
		}
		if p.ChargedBytes() != int64(accepted)*mb || p.Metrics().PeakMem != peak+mb {
			t.Errorf("%s: refused start: charged %d, peak %d; want the charge released and the transient peak kept",
				c.method, p.ChargedBytes(), p.Metrics().PeakMem)
		}
		// A retry that waited 50 ms counts the wait in its startup.
		done := ends(p, StartRetry)
		if _, err := p.Acquire(StartRetry, 0, "a"); !errors.Is(err, ErrStartBusy) {
			t.Errorf("%s: still busy at 50 ms: %v", c.method, err)
		}
		maps.Copy(done, ends(p, start))
		g, err := p.Acquire(start, 0, "a")
		if _, err := p.Acquire(ServerDeadline, 0, "a"); !errors.Is(err, ErrDeadline) {
			t.Errorf("%s: at the 55 s deadline: %v", c.method, err)
		}
		maps.Copy(done, ends(p, at(60)))
		if d := done[g.ID()]; err != nil || d.Startup() < 2*start {
			t.Errorf("%s: retry at %v: %v, startup %v (want the wait included)", c.method, start, err, d.Startup())
		}
		for i, g := range grants {
			want := start
			if i >= c.workers { // queued behind the first wave
				want = 2*start + c.backoff
			}
			if d := done[g.ID()]; d.Startup() != want {
				t.Errorf("%s: start %d startup %v, want %v", c.method, i+1, d.Startup(), want)
			}
		}
	}
}

func TestSnapshotThrottle(t *testing.T) {
	// A start that has to queue waits for a worker, which first sleeps its
	// back-off: 100 ms at the first stage, doubling, at most 0.8 s
	// (FaaSnap) or 3.2 s (REAP). Cold starts queue without it.
	start := time.Duration(startupMs * float64(time.Millisecond))
	for _, c := range []struct {
		method string
		extra  time.Duration
	}{{MethodCold, 0}, {MethodFaaSnap, ThrottleBase}, {MethodREAP, ThrottleBase}} {
		p := newTestPlatform(t, baseline(c.method, 64<<30), map[string]int64{"a": mb})
		workers, _ := p.cfg.startWorkers()
		var g Grant
		for i := 0; i <= workers; i++ {
			g = mustAcquire(t, p, 0, "a")
		}
		if d, want := ends(p, at(60))[g.ID()], 2*start+c.extra; d.Startup() != want {
			t.Errorf("%s: first queued start: startup %v, want %v", c.method, d.Startup(), want)
		}
	}
	// Consecutive queued starts on one worker climb the stages up to the
	// maximum.
	s := newStartWorkers(1, FaaSnapThrottleMax)
	if _, begun, ok := s.accept(0, 0); !begun || !ok {
		t.Fatalf("the first start did not begin on the idle worker")
	}
	var waits []time.Duration
	end := time.Second
	for i := int32(1); i < 6; i++ {
		// The next start arrives just before the worker frees: it queues.
		if _, begun, ok := s.accept(end-time.Millisecond, i); begun || !ok {
			t.Fatalf("start %d: begun %v, accepted %v; want it queued", i, begun, ok)
		}
		inv, sleep := s.finish(end, 0)
		if inv != i {
			t.Fatalf("the worker took start %d, want %d", inv, i)
		}
		if inv, again := s.wake(end+sleep, 0); inv != i || again != 0 {
			t.Fatalf("after its back-off the worker began %d (sleep %v), want %d", inv, again, i)
		}
		waits = append(waits, sleep)
		end += sleep + time.Second
	}
	want := []time.Duration{100, 200, 400, 800, 800}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if !slices.Equal(waits, want) {
		t.Errorf("back-offs %v, want %v", waits, want)
	}
}

func TestRepurposingOrder(t *testing.T) {
	cfg := DefaultConfig(MethodTrEnv)
	cfg.IdleNum = 2
	charges := map[string]int64{"a": 100 * mb, "b": 300 * mb}
	p := newTestPlatform(t, cfg, charges)
	if p.Live() != 2 || p.ChargedBytes() != 2*SeedChargeBytes || p.Metrics().PeakMem != 2*SeedChargeBytes {
		t.Fatalf("seeding: live %d, charged %d", p.Live(), p.ChargedBytes())
	}
	ga := mustAcquire(t, p, at(1), "a")
	if ga.Kind != results.StartSwitch || ga.InstanceID() != "a-1" {
		t.Fatalf("first a: %s %s, want a switch of a seed", ga.Kind, ga.InstanceID())
	}
	if p.Live() != 2 || p.ChargedBytes() != SeedChargeBytes+100*mb {
		t.Errorf("a switch replaces its candidate: live %d, charged %d", p.Live(), p.ChargedBytes())
	}
	ends(p, at(2))
	p.Release(at(2), ga)
	if got := p.Metrics().LatencyMs[results.LabelSwitchLatency]["a"]; !slices.Equal(got, []float32{switchMs}) {
		t.Fatalf("switch-latency %v, want the switch's %v ms", got, switchMs)
	}
	// b repurposes the other seed (idle since 0), not a-1 (idle since 2 s).
	gb := mustAcquire(t, p, at(3), "b")
	if gb.Kind != results.StartSwitch || !slices.Equal(p.IdleInstances(), []string{"a-1"}) {
		t.Errorf("b: %s; idle now %v, want [a-1]", gb.Kind, p.IdleInstances())
	}
	// Switches skip the bound: 100 + 300 MB on a 64 GiB bound is fine, but
	// the same happens on a tiny one.
	p.Release(at(4), gb)
	if g := mustAcquire(t, p, at(5), "a"); g.Kind != results.StartReuse || g.InstanceID() != "a-1" {
		t.Errorf("a with a-1 idle: %s %s, want reuse", g.Kind, g.InstanceID())
	}
	// With --no-reuse a switch takes the LRU head even if it is b's own.
	cfg.NoReuse = true
	q := newTestPlatform(t, cfg, charges)
	g := mustAcquire(t, q, 0, "b")
	q.Release(at(1), g)
	g = mustAcquire(t, q, at(2), "b")
	if g.Kind != results.StartSwitch || g.InstanceID() != "b-2" {
		t.Errorf("--no-reuse: %s %s, want a switch to b-2", g.Kind, g.InstanceID())
	}
	// No idle instance anywhere: a cold start, bound-checked.
	cfg = Config{Method: MethodTrEnv, MemBytes: 64 << 30, NoBgTask: true}
	r := newTestPlatform(t, cfg, charges)
	if g := mustAcquire(t, r, 0, "a"); g.Kind != results.StartCold {
		t.Errorf("TrEnv with nothing idle: %s, want cold", g.Kind)
	}
}

func TestReleaseRecordsMetrics(t *testing.T) {
	p := newTestPlatform(t, baseline(MethodCold, 64<<30), map[string]int64{"a": mb})
	g := mustAcquire(t, p, 0, "a")
	if got := ends(p, at(1.1)); len(got) != 1 || got[g.ID()].End != at(1.1) {
		t.Fatalf("the start ended %v, want at 1.1 s", got)
	}
	mustAcquire(t, p, at(2), "a")
	ends(p, at(4))
	m := p.Metrics()
	if m.InvokeCount != 2 || m.Counts[results.LabelStartNewCount]["a"] != 1 || m.Counts[results.LabelReuseCount]["a"] != 1 {
		t.Fatalf("counts: invoke %d, %v", m.InvokeCount, m.Counts)
	}
	if got := m.LatencyMs[results.LabelStartNewLatency]["a"]; !slices.Equal(got, []float32{startupMs}) {
		t.Errorf("start-new-latency %v", got)
	}
	if got := m.LatencyMs[results.LabelEndToEndLatency]["a"]; len(got) != 2 || got[0] != startupMs+execMs {
		t.Errorf("end-to-end-latency %v", got)
	}
	if p.ResidentBytes() != residentMB*mb {
		t.Errorf("resident %d", p.ResidentBytes())
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{Method: "firecracker", MemBytes: 1},
		{Method: MethodTrEnv, Pool: "nvme", MemBytes: 1},
		{Method: MethodCold, MemBytes: 0},
		{Method: MethodCold, MemBytes: 256 << 30},
		{Method: MethodCold, MemBytes: 1, GC: -1},
	} {
		if _, err := NewPlatform(c, tinyModel()); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: got %v, want ErrConfig", c, err)
		}
	}
	p := newTestPlatform(t, baseline(MethodCold, 1<<30), nil)
	if err := p.Register("unknown", mb); err == nil {
		t.Error("registering a function the cost model lacks succeeded")
	}
	if _, err := p.Acquire(0, 0, "unknown"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unregistered: %v", err)
	}
}
