package sim

import (
	"context"
	"maps"
	"math"
	"testing"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// Tests of the resource model on tiny workloads worked out by hand (see
// resource.go and invocation.go): the times are exact.

const msec = time.Millisecond

func TestPSResourceByHand(t *testing.T) {
	// Two jobs of 1 s on one core, added together: each runs at half
	// speed and both end at 2 s.
	r := newPSResource(1)
	r.add(0, 0, 1, time.Second)
	r.add(0, 1, 1, time.Second)
	for _, id := range []int32{0, 1} {
		if at, _ := r.next(); at != 2*time.Second {
			t.Fatalf("job %d ends at %v, want 2 s", id, at)
		}
		if got := r.pop(2 * time.Second); got != id {
			t.Fatalf("popped %d, want %d (insertion order on a tie)", got, id)
		}
	}
	if b := r.busyAt(2 * time.Second); b != float64(2*time.Second) {
		t.Errorf("busy %v thread-ns, want the one core's 2 s", b)
	}
	// Staggered: A (1 s) at 0, B (1 s) at 0.5 s. A runs alone for 0.5 s,
	// then both at half speed: A's last 0.5 s takes 1 s, to 1.5 s; B has
	// done 0.5 s by then and runs alone for its last 0.5 s, to 2 s.
	r = newPSResource(1)
	r.add(0, 0, 1, time.Second)
	r.add(500*msec, 1, 1, time.Second)
	if at, _ := r.next(); at != 1500*msec {
		t.Fatalf("A ends at %v, want 1.5 s", at)
	}
	r.pop(1500 * msec)
	if at, _ := r.next(); at != 2*time.Second {
		t.Fatalf("B ends at %v, want 2 s", at)
	}
	// A 2-thread job of 1 s and a 1-thread job of 1 s on 2 threads: the
	// three threads share them at 2/3 speed; the 2-thread job's work is
	// per thread, so both need 1.5 s.
	r = newPSResource(2)
	r.add(0, 0, 2, time.Second)
	r.add(0, 1, 1, time.Second)
	if at, _ := r.next(); at != 1500*msec {
		t.Errorf("the jobs end at %v, want 1.5 s", at)
	}
	// Unlimited capacity: nothing is shared, and a removed job is gone.
	r = newPSResource(0)
	r.add(0, 0, 1, time.Second)
	r.add(0, 1, 1, 3*time.Second)
	r.remove(100*msec, 0)
	if at, _ := r.next(); at != 3*time.Second || r.has(0) {
		t.Errorf("after removing the first job: next %v, has it %v; want 3 s and false", at, r.has(0))
	}
}

// contendedModel is tinyModel on a host of hostThreads, with CRIU
// restores paging their whole start-up in from device "d" (2 streams at
// full rate), T-RDMA's first executions paging in their first 40 %, and
// the given resident shares at start-up and repurpose carry.
func contendedModel(hostThreads float64, functions ...string) *calibration.Model {
	m := tinyModel(functions...)
	src := "estimate: test"
	m.Platform.HostThreads = calibration.Number{Value: hostThreads, Source: src}
	m.Platform.VMVCPUs = calibration.Number{Value: 2, Source: src}
	m.Platform.DeviceMBps = map[string]calibration.Number{"d": {Value: 200, Source: src}}
	m.Platform.PageIn = map[string]calibration.PageIn{
		calibration.MethodCRIU:      {Device: "d", Phase: calibration.PhaseStartup, StreamMBps: calibration.Number{Value: 100, Source: src}},
		calibration.MethodTrEnvRDMA: {Device: "d", Phase: calibration.PhaseFirstExec, StreamMBps: calibration.Number{Value: 100, Source: src}},
	}
	for name, f := range m.Functions {
		f.Threads = calibration.Number{Value: 1, Source: src}
		f.PageInMs = map[string]calibration.Number{
			calibration.MethodCRIU:      {Value: startupMs, Source: src},
			calibration.MethodTrEnvRDMA: {Value: 0.4 * execMs, Source: src},
		}
		m.Functions[name] = f
	}
	return m
}

// platformOf returns a platform of cfg on model with functions registered
// (charged 1 MB each).
func platformOf(t *testing.T, cfg Config, model *calibration.Model, functions ...string) *Platform {
	t.Helper()
	p, err := NewPlatform(cfg, model)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range functions {
		if err := p.Register(f, mb); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// TestTwoExecutionsOnOneCore: two cold starts at once on a 1-thread host.
// Their start-ups (100 msec of one thread each) share the thread and end at
// 200 msec; their executions (1000 msec each) share it too and end at 2.2 s.
// Alone, one takes 100 + 1000 msec.
func TestTwoExecutionsOnOneCore(t *testing.T) {
	p := platformOf(t, baseline(MethodCold, 64<<30), contendedModel(1, "a"), "a")
	g1, g2 := mustAcquire(t, p, 0, "a"), mustAcquire(t, p, 0, "a")
	done := ends(p, at(10))
	for _, g := range []Grant{g1, g2} {
		d := done[g.ID()]
		if d.Startup() != 200*msec || d.Exec() != 2000*msec || d.End != 2200*msec {
			t.Errorf("%s: start-up %v, execution %v, end %v; want 200 msec, 2 s, 2.2 s", g.InstanceID(), d.Startup(), d.Exec(), d.End)
		}
	}
	// cpu.csv's account: the thread was busy all 2.2 s.
	if b := p.CPUBusy(at(10)); b != float64(2200*msec) {
		t.Errorf("busy %v thread-ns, want 2.2 s", b)
	}
	q := platformOf(t, baseline(MethodCold, 64<<30), contendedModel(1, "a"), "a")
	g := mustAcquire(t, q, 0, "a")
	if d := ends(q, at(10))[g.ID()]; d.Startup() != 100*msec || d.Exec() != time.Second {
		t.Errorf("alone: start-up %v, execution %v; want 100 msec, 1 s", d.Startup(), d.Exec())
	}
}

// TestRestoresShareTheLink: CRIU restores page their start-up in from a
// device that runs two at full rate. Two at once take their 100 msec; four
// at once share it at half rate and take 200 msec; with three, the rate is
// 2/3 and each takes 150 msec.
func TestRestoresShareTheLink(t *testing.T) {
	for _, c := range []struct {
		n    int
		want time.Duration
	}{{1, 100 * msec}, {2, 100 * msec}, {3, 150 * msec}, {4, 200 * msec}} {
		p := platformOf(t, baseline(MethodCRIU, 64<<30), contendedModel(128, "a"), "a")
		var gs []Grant
		for range c.n {
			gs = append(gs, mustAcquire(t, p, 0, "a"))
		}
		done := ends(p, at(10))
		for _, g := range gs {
			if d := done[g.ID()]; d.Startup() != c.want || d.Exec() != time.Second {
				t.Errorf("%d restores: %s start-up %v, execution %v; want %v and 1 s", c.n, g.InstanceID(), d.Startup(), d.Exec(), c.want)
			}
		}
	}
	// T-RDMA: the first 40 % of a first execution is paged in over the
	// link. Four switches at once: each first execution pages in 400 ms
	// at half rate (800 msec), then runs its 600 msec on its thread: 1.4 s.
	// A second execution on the same instance pages nothing in.
	cfg := DefaultConfig(MethodTrEnv)
	cfg.Pool, cfg.IdleNum = PoolRDMA, 4
	p := platformOf(t, cfg, contendedModel(128, "a"), "a")
	var gs []Grant
	for range 4 {
		gs = append(gs, mustAcquire(t, p, 0, "a"))
	}
	done := ends(p, at(10))
	for _, g := range gs {
		if d := done[g.ID()]; g.Kind != results.StartSwitch || d.Exec() != 1400*msec {
			t.Errorf("%s (%s): first execution %v, want 1.4 s", g.InstanceID(), g.Kind, d.Exec())
		}
	}
	g := mustAcquire(t, p, at(10), "a")
	if d := ends(p, at(20))[g.ID()]; g.Kind != results.StartReuse || d.Exec() != time.Second {
		t.Errorf("%s: %s execution %v, want a reuse of 1 s", g.InstanceID(), g.Kind, d.Exec())
	}
}

// TestVMThreads: a function of 4 threads, 1 s alone in a container, in a
// FaaSnap guest of 2 vCPUs runs two threads at a time, so it takes 2 s even
// on a host with threads to spare; on a 2-thread host it takes 2 s in
// either (4 threads' work on 2 threads), and two at once take 4 s in a
// container (8 threads on 2) but also 4 s in guests (two guests of 2
// vCPUs on 2 threads).
func TestVMThreads(t *testing.T) {
	for _, c := range []struct {
		host   float64
		method string
		n      int
		want   time.Duration
	}{
		{128, MethodCold, 1, time.Second}, {128, MethodFaaSnap, 1, 2 * time.Second}, {128, MethodREAP, 1, 2 * time.Second},
		{2, MethodCold, 1, 2 * time.Second}, {2, MethodFaaSnap, 1, 2 * time.Second},
		{2, MethodCold, 2, 4 * time.Second}, {2, MethodFaaSnap, 2, 4 * time.Second},
	} {
		m := contendedModel(c.host, "a")
		f := m.Functions["a"]
		f.Threads.Value = 4
		f.Startup = maps.Clone(f.Startup)
		for k, d := range f.Startup {
			d.MedianMs = 1e-3 // start-ups out of the way: 1 µs
			f.Startup[k] = d
		}
		m.Functions["a"] = f
		p := platformOf(t, baseline(c.method, 64<<30), m, "a")
		var gs []Grant
		for range c.n {
			gs = append(gs, mustAcquire(t, p, 0, "a"))
		}
		done := ends(p, at(10))
		for _, g := range gs {
			if d := done[g.ID()]; d.Exec() != c.want {
				t.Errorf("%d × %s on %v threads: execution %v, want %v", c.n, c.method, c.host, d.Exec(), c.want)
			}
		}
	}
}

// TestMemoryGrows: an instance holds resident_at_start × resident_mb from
// its start on and all of it once its first execution ended; a repurposed
// one also holds repurpose_carry of its predecessor.
func TestMemoryGrows(t *testing.T) {
	m := contendedModel(128, "a", "b")
	src := "estimate: test"
	m.Platform.ResidentAtStart = map[string]calibration.Number{}
	for _, k := range calibration.Methods {
		m.Platform.ResidentAtStart[k] = calibration.Number{Value: 1, Source: src}
	}
	m.Platform.ResidentAtStart[calibration.MethodLazy] = calibration.Number{Value: 0.25, Source: src}
	m.Platform.ResidentAtStart[calibration.MethodTrEnvCXL] = calibration.Number{Value: 0, Source: src}
	m.Platform.RepurposeCarry = calibration.Number{Value: 0.5, Source: src}
	// Lazy CRIU: 2.5 of its 10 MB from the start, 10 MB after its first
	// execution (which ends at 1.1 s).
	p := platformOf(t, baseline(MethodLazy, 64<<30), m, "a")
	mustAcquire(t, p, 0, "a")
	if r := p.ResidentBytes(); r != 2_500_000 {
		t.Errorf("lazy while starting: %d bytes, want 2.5 MB", r)
	}
	ends(p, at(1.09))
	if r := p.ResidentBytes(); r != 2_500_000 {
		t.Errorf("lazy during its first execution: %d bytes, want 2.5 MB", r)
	}
	ends(p, at(1.1))
	if r := p.ResidentBytes(); r != 10_000_000 {
		t.Errorf("lazy after its first execution: %d bytes, want 10 MB", r)
	}
	// TrEnv on CXL: one seed (10 MB, the cold start's share 1). The switch
	// frees the seed's process but keeps half of its memory: 5 MB, plus
	// nothing of its own until its first execution has written it: 15 MB.
	cfg := DefaultConfig(MethodTrEnv)
	cfg.IdleNum = 1
	q := platformOf(t, cfg, m, "a")
	if r := q.ResidentBytes(); r != 10_000_000 {
		t.Fatalf("the seed holds %d bytes, want 10 MB", r)
	}
	g := mustAcquire(t, q, 0, "a")
	if r := q.ResidentBytes(); g.Kind != results.StartSwitch || r != 5_000_000 {
		t.Errorf("%s: %d bytes at the switch, want 5 MB kept of the seed", g.Kind, r)
	}
	ends(q, at(10))
	if r := q.ResidentBytes(); r != 15_000_000 {
		t.Errorf("after the first execution: %d bytes, want 15 MB", r)
	}
	// Repurposed again, by another function: half of those 15 MB stay.
	if err := q.Register("b", mb); err != nil {
		t.Fatal(err)
	}
	mustAcquire(t, q, at(10), "b")
	ends(q, at(20))
	if r := q.ResidentBytes(); r != 17_500_000 {
		t.Errorf("repurposed twice: %d bytes, want 7.5 MB kept + 10 MB", r)
	}
}

// TestRepurposeSlowdown: TrEnv's concurrent_start_slowdown applies to a
// repurpose: one that begins while another is in its start-up takes
// start-up × (1 + slowdown).
func TestRepurposeSlowdown(t *testing.T) {
	m := contendedModel(128, "a")
	m.Platform.ConcurrentStartSlowdown = map[string]calibration.Number{calibration.MethodTrEnvCXL: {Value: 0.5, Source: "estimate: test"}}
	cfg := DefaultConfig(MethodTrEnv)
	cfg.IdleNum = 3
	p := platformOf(t, cfg, m, "a")
	g1 := mustAcquire(t, p, 0, "a")
	done := ends(p, time.Millisecond)
	g2 := mustAcquire(t, p, time.Millisecond, "a")
	maps.Copy(done, ends(p, at(0.5)))
	g3 := mustAcquire(t, p, at(0.5), "a") // after both start-ups ended
	maps.Copy(done, ends(p, at(10)))
	for _, c := range []struct {
		g    Grant
		want time.Duration
	}{{g1, 5 * msec}, {g2, 7500 * time.Microsecond}, {g3, 5 * msec}} {
		if d := done[c.g.ID()]; d.Startup() != c.want {
			t.Errorf("%s: start-up %v, want %v", c.g.InstanceID(), d.Startup(), c.want)
		}
	}
}

// TestEngineCPUSamples: the engine records the model host's utilisation
// each second. On a 2-thread host, a request arriving at a in the first
// second busies one thread with its cold start (100 ms) and execution
// (1 s) until a + 1.1 s: second 1 is (1 − a)/2 busy, second 2 (a + 0.1)/2.
// A second request in the third second keeps the run going.
func TestEngineCPUSamples(t *testing.T) {
	cat, err := workloads.ParseCatalog([]byte("functions:\n  - {name: a, base: a, language: python, memory: 1M}\n"), "test")
	if err != nil {
		t.Fatal(err)
	}
	var got []results.CPUSample
	var sent []float64
	rec := &cpuHooks{
		sample:  func(ts, u float64) { got = append(got, results.CPUSample{TimeS: ts, Utilization: u}) },
		request: func(r *results.Request) { sent = append(sent, r.SentS) },
	}
	cfg := EngineConfig{Platform: baseline(MethodCold, 1<<30), Model: contendedModel(2, "a"), Catalog: cat}
	cfg.Platform.NoBgTask = true
	w := workloads.Workload{Test: workloads.Phase{{Function: "a", Counts: []int{1, 0, 1}}}}
	if _, err := Run(context.Background(), cfg, w, rec); err != nil {
		t.Fatal(err)
	}
	if len(got) < 3 || got[0].TimeS != 1 || got[1].TimeS != 2 || len(sent) != 2 {
		t.Fatalf("samples %v (requests sent at %v), want one per second from 1 s", got, sent)
	}
	a := sent[0]
	// results rounds utilisation to 4 places in cpu.csv only; here it is exact.
	if want := (1 - a) / 2; math.Abs(got[0].Utilization-want) > 1e-9 {
		t.Errorf("second 1: %v, want %v", got[0].Utilization, want)
	}
	if want := (a + 0.1) / 2; math.Abs(got[1].Utilization-want) > 1e-9 {
		t.Errorf("second 2: %v, want %v", got[1].Utilization, want)
	}
}

// cpuHooks is a Recorder that hands CPU samples to sample.
type cpuHooks struct {
	results.Discard
	sample  func(ts, u float64)
	request func(r *results.Request)
}

func (h *cpuHooks) CPU(ts, u float64) error          { h.sample(ts, u); return nil }
func (h *cpuHooks) Request(r *results.Request) error { h.request(r); return nil }
