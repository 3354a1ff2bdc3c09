package sim

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
)

// StartKind says how an invocation got its instance; the same words as
// requests.csv's start_kind.
type StartKind = results.StartKind

// Errors of Acquire, with the faasd behaviour they stand for.
var (
	// ErrNotFound: the function is not registered (faasd: 500 "… do not found").
	ErrNotFound = errors.New("do not found")
	// ErrMemoryLimit: eviction cannot make room under --mem (faasd: 500
	// "… reach memory limitation").
	ErrMemoryLimit = errors.New("reach memory limitation")
	// ErrStartBusy: every start worker is busy and the channel is full; the
	// caller retries the whole decision after StartRetry.
	ErrStartBusy = errors.New("start workers busy")
	// ErrDeadline: the request waited ServerDeadline for a start slot.
	ErrDeadline = errors.New("context deadline exceeded")
)

// instance is one sandbox: starting, busy or idle.
type instance struct {
	n      int // faasd's number of the instance: its id is "<function>-<n>"
	fn     *function
	cost   string // cost-model key of how it started (calibration.Method*)
	key    int8   // index of cost in calibration.Methods
	charge int64  // declared memory charged against --mem, bytes
	// Resident memory, bytes: carry is what the sandbox kept of the
	// instance it was repurposed from, own what this instance holds of its
	// own (atStart·full until its first execution has paged its memory in
	// or written it, then full). resident = carry + own.
	resident, carry, own, full int64
	uses                       int // completed invocations
	// idle bookkeeping: lastActive orders the heaps; seq breaks ties.
	lastActive time.Duration
	seq        uint64
	poolIdx    int // index in its function's idle heap, -1 if not idle
	lruIdx     int // index in the global LRU, -1 if not idle
	liveIdx    int // index in Platform.live
}

// id names the instance as faasd does: "<function>-<n>".
func (inst *instance) id() string { return inst.fn.name + "-" + strconv.Itoa(inst.n) }

// function is a registered function's model state.
type function struct {
	name    string
	charge  int64
	cost    calibration.Function
	variant float64 // exec factor of a copy (1 for a base)
	threads int32   // an execution's weight on the host's threads
	keys    [numKeys]keyCost
	idle    idleHeap
	nextID  int
	m       fnMetrics
}

// numKeys is the number of cost-model method keys.
const numKeys = 7

// keyCost is what the resource model derives for a function and a method
// key: its memory, and where and how much of its start-up or first
// execution pages memory in.
type keyCost struct {
	startup     calibration.Dist
	first, warm float64 // first_exec_factor, warm_exec_factor × the copy's variant
	full        int64   // resident_mb, bytes
	atStart     int64   // held from the start-up on, bytes
	dev         *psResource
	weight      int32   // the page-in stream's weight on dev: its MB/s
	phi         float64 // share of the start-up (or first execution) that pages in
	inExec      bool    // the page-in is in the first execution, not the start-up
}

// fnMetrics are one function's faasd metrics: one record per ended
// invocation, in order, which Metrics splits by decision class (start-new,
// switch, reuse). One list, not seven, so that Reserve can size it.
type fnMetrics struct {
	recs  []metricRec
	count [3]int
}

// metricRec is one invocation's metrics, in ms as results.DurationMs
// converts.
type metricRec struct {
	startup, exec, e2e float32
	class              uint8
}

// Decision classes of fnMetrics, and their metric labels.
const (
	classStartNew = iota
	classSwitch
	classReuse
)

var classLabels = [3][3]string{
	{results.LabelStartNewLatency, results.LabelStartNewExecLatency, results.LabelStartNewCount},
	{results.LabelSwitchLatency, results.LabelSwitchExecLatency, results.LabelSwitchCount},
	{results.LabelReuseLatency, results.LabelReuseExecLatency, results.LabelReuseCount},
}

// Grant is what Acquire gives an invocation: how it got its instance, and
// the invocation, which then runs in the platform until it ends (Step).
type Grant struct {
	Kind StartKind
	id   int32
	gen  uint32    // the invocation slot's generation: a stale grant is told apart
	fn   *function // and the instance's number: its id, kept when the instance is gone
	n    int
}

// grant is the Grant of invocation id on instance inst.
func (p *Platform) grant(kind StartKind, id int32, inst *instance) Grant {
	return Grant{Kind: kind, id: id, gen: p.invs[id].gen, fn: inst.fn, n: inst.n}
}

// InstanceID names the instance as faasd does: "<function>-<n>".
func (g Grant) InstanceID() string { return g.fn.name + "-" + strconv.Itoa(g.n) }

// ID is the invocation's number, the same in its Done. Numbers of ended
// invocations are used again.
func (g Grant) ID() int32 { return g.id }

// Done is an invocation that ended: its grant and its times, as the
// callers' clock gives them. Its start-up counts from its arrival at faasd
// (so it includes start-slot waits and queueing for a start worker).
type Done struct {
	Grant
	// Since is when the request arrived at faasd, ExecStart when the
	// function began to execute, End when it finished.
	Since, ExecStart, End time.Duration
}

// Startup is faasd's start-up time of the invocation.
func (d Done) Startup() time.Duration { return d.ExecStart - d.Since }

// Exec is the function's execution time.
func (d Done) Exec() time.Duration { return d.End - d.ExecStart }

// Platform is the policy core: instances, idle pools, the global LRU,
// memory accounting, start workers and metrics, and the resource model its
// invocations run on — the host's hardware threads and the devices memory
// is paged in from, shared by processor sharing (resource.go), so an
// invocation's end depends on what else runs. It has no clock, goroutine or
// I/O: callers pass the current (virtual or real) time to every call,
// serialise calls, and move the platform on through its own events (Next,
// Step, Advance) up to the time of each call. The Engine and the Twin drive
// it.
type Platform struct {
	cfg      Config
	model    *calibration.Model
	rng      *rand.Rand
	funcs    map[string]*function
	lru      idleHeap
	workers  *startWorkers
	charged  int64
	resident int64
	live     []*instance // live instances (starting, busy or idle), by liveIdx
	slab     []instance  // instances are allocated from here, a chunk at a time
	deadInst []*instance // killed instances, whose memory newInstance uses again
	seq      uint64
	// faasd's metrics: per-function lists live in function.m (no map
	// look-ups on the hot path); Metrics builds the results form.
	invokes int
	peak    int64

	// The resource model. cpu is the host's hardware threads; devices the
	// devices page-ins use, by name. vmThreads caps an execution's threads
	// at once (a FaaSnap/REAP guest's vCPUs, see execThreads), 0 for none.
	cpu       *psResource
	devices   map[string]*psResource
	devList   []*psResource // devices in name order, for Next's ties
	vmThreads int32
	startKey  int8 // the cost-model key of a new instance's start
	switchKey int8 // and of TrEnv's repurposing
	carry     float64
	slowdown  [numKeys]float64
	invs      []invocation
	freeInv   []int32
	timers    timerHeap
	switching int // repurposes in their start-up
}

// NewPlatform returns a platform running cfg with the cost model. In TrEnv
// mode without NoBgTask it seeds cfg.IdleNum generic sandboxes at time 0.
// Functions must be registered before they are invoked.
//
// A model without the resource model's entries (HostThreads 0, no
// devices) runs without contention: every start-up and execution takes its
// uncontended time.
func NewPlatform(cfg Config, model *calibration.Model) (*Platform, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n, throttle := cfg.startWorkers()
	pm := model.Platform
	p := &Platform{
		cfg:      cfg,
		model:    model,
		rng:      rand.New(rand.NewPCG(cfg.Seed, 0x7472656e76)),
		funcs:    map[string]*function{},
		workers:  newStartWorkers(n, throttle),
		cpu:      newPSResource(pm.HostThreads.Value),
		devices:  map[string]*psResource{},
		carry:    pm.RepurposeCarry.Value,
		startKey: keyOf(cfg.startCost()), switchKey: keyOf(cfg.switchCost()),
	}
	if cfg.Method == MethodFaaSnap || cfg.Method == MethodREAP {
		p.vmThreads = int32(pm.VMVCPUs.Value)
	}
	for i, k := range calibration.Methods {
		p.slowdown[i] = pm.ConcurrentStartSlowdown[k].Value
	}
	for _, k := range []string{cfg.startCost(), cfg.switchCost()} {
		if pi, ok := pm.PageIn[k]; ok && p.devices[pi.Device] == nil {
			p.devices[pi.Device] = newPSResource(pm.DeviceMBps[pi.Device].Value)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.devices)) {
		p.devList = append(p.devList, p.devices[name])
	}
	p.lru.global = true
	if cfg.trenv() && !cfg.NoBgTask && cfg.IdleNum > 0 {
		// The idle-pool task registers h-hello-world itself, charged 256M.
		f, err := p.register(SeedFunction, SeedChargeBytes)
		if err != nil {
			return nil, err
		}
		for i := 0; i < cfg.IdleNum; i++ {
			inst := p.newInstance(f, keyOf(calibration.MethodCold), 0)
			p.charge(inst.charge)
			p.makeIdle(inst, 0)
		}
	}
	return p, nil
}

// Register makes a function invocable, charged chargeBytes per instance
// (its declared memory limit). As faasd, the first registration of a name
// wins; later ones change nothing. The cost model must know the function.
func (p *Platform) Register(name string, chargeBytes int64) error {
	if _, ok := p.funcs[name]; ok {
		return nil
	}
	_, err := p.register(name, chargeBytes)
	return err
}

func (p *Platform) register(name string, charge int64) (*function, error) {
	cost, variant, err := p.model.Cost(name)
	if err != nil {
		return nil, err
	}
	threads, stretch := execThreads(cost, p.vmThreads)
	f := &function{name: name, charge: charge, cost: cost, variant: variant, threads: threads}
	pm := p.model.Platform
	for i, k := range calibration.Methods {
		kc := &f.keys[i]
		kc.startup = cost.Startup[k]
		kc.first, kc.warm = cost.FirstExecFactor[k].Value*variant*stretch, cost.WarmExecFactor[k].Value*variant*stretch
		kc.full = int64(cost.ResidentMB[k].Value * 1e6)
		kc.atStart = kc.full
		if s, ok := pm.ResidentAtStart[k]; ok {
			kc.atStart = int64(s.Value * float64(kc.full))
		}
		pi, ok := pm.PageIn[k]
		dev := p.devices[pi.Device]
		if !ok || dev == nil {
			continue
		}
		kc.inExec = pi.Phase == calibration.PhaseFirstExec
		phase := cost.Startup[k].MedianMs
		if kc.inExec {
			phase = cost.Exec.MedianMs * cost.FirstExecFactor[k].Value
		}
		if ms := cost.PageInMs[k].Value; ms > 0 && phase > 0 {
			kc.dev, kc.weight, kc.phi = dev, max(1, int32(pi.StreamMBps.Value)), min(1, ms/phase)
		}
	}
	p.funcs[name] = f
	return f, nil
}

// execThreads is the weight of an execution of a function with cost on
// the host's threads, and how many times longer than its uncontended time
// it takes alone: a function runs cost.Threads threads at once, except in
// a FaaSnap/REAP guest of vcpus vCPUs (0: not in a guest), which runs at
// most vcpus of them at once, so a function of more threads than that
// takes threads/vcpus as long in it, page faults included, even alone.
func execThreads(cost calibration.Function, vcpus int32) (int32, float64) {
	threads := max(1, int32(cost.Threads.Value))
	if vcpus > 0 && threads > vcpus {
		return vcpus, float64(threads) / float64(vcpus)
	}
	return threads, 1
}

// Registered reports whether name is registered.
func (p *Platform) Registered(name string) bool { _, ok := p.funcs[name]; return ok }

// Acquire makes faasd's decision for an invocation of fn at now, for a
// request that arrived at since (earlier when it is retried after
// ErrStartBusy): reuse an idle instance of fn; in TrEnv mode repurpose the
// globally least recently used idle instance; otherwise start one, evicting
// idle instances in global-LRU order to stay under the memory bound. The
// invocation then runs in the platform: the caller learns its end from
// Step or Advance (or ends it itself with Release). The platform must have
// been advanced to now.
func (p *Platform) Acquire(now, since time.Duration, fn string) (Grant, error) {
	f, ok := p.funcs[fn]
	if !ok {
		return Grant{}, fmt.Errorf("service %s: [LambdaManager] %w", fn, ErrNotFound)
	}
	return p.acquire(now, since, f)
}

// Handle is a registered function, for callers that invoke by handle
// instead of by name (the engine: no map look-up per invocation).
type Handle struct{ f *function }

// Handle returns the handle of a registered function.
func (p *Platform) Handle(name string) (Handle, bool) {
	f, ok := p.funcs[name]
	return Handle{f}, ok
}

// AcquireHandle is Acquire for a function's handle.
func (p *Platform) AcquireHandle(now, since time.Duration, h Handle) (Grant, error) {
	return p.acquire(now, since, h.f)
}

func (p *Platform) acquire(now, since time.Duration, f *function) (Grant, error) {
	fn := f.name
	if now-since >= ServerDeadline {
		return Grant{}, fmt.Errorf("timeout MakeCtrInstanceFor %s spent more than 30 seconds: %w", fn, ErrDeadline)
	}
	// 1. Reuse the longest-idle instance of the same function.
	if !p.cfg.NoReuse && f.idle.Len() > 0 {
		inst := f.idle.items[0]
		p.takeIdle(inst)
		reuse := p.draw(p.model.Platform.Reuse)
		id := p.newInvocation(inst, results.StartReuse, since)
		inv := &p.invs[id]
		inv.work = p.execWork(f, inst)
		inv.phase = phReuse
		p.timers.push(timer{at: now + reuse, id: id, gen: inv.gen, kind: timerReuse})
		return p.grant(results.StartReuse, id, inst), nil
	}
	// 2. TrEnv: repurpose the globally least recently used idle instance.
	if p.cfg.trenv() && p.lru.Len() > 0 {
		old := p.lru.items[0]
		p.takeIdle(old)
		carry := int64(p.carry * float64(old.resident))
		p.remove(old)
		inst := p.newInstance(f, p.switchKey, carry)
		p.charge(inst.charge) // no bound check on this path
		startup := p.draw(f.keys[inst.key].startup)
		id := p.newInvocation(inst, results.StartSwitch, since)
		inv := &p.invs[id]
		inv.work = p.execWork(f, inst)
		others := p.switching
		p.switching++
		inv.switching = true
		p.beginStartup(now, id, slow(startup, p.slowdown[inst.key], others))
		return p.grant(results.StartSwitch, id, inst), nil
	}
	// 3. Start a new instance, evicting idle ones to fit under the bound.
	var victims []*instance
	for p.charged+f.charge > p.cfg.MemBytes {
		if p.lru.Len() == 0 {
			for _, v := range victims {
				p.charge(v.charge)
				p.makeIdle(v, v.lastActive)
			}
			suffix := " (cold start)"
			if !p.cfg.trenv() {
				suffix = ""
			}
			return Grant{}, fmt.Errorf("findKillingInstanceFor %s%s failed: %w", fn, suffix, ErrMemoryLimit)
		}
		v := p.lru.items[0]
		p.takeIdle(v)
		p.uncharge(v.charge)
		victims = append(victims, v)
	}
	p.charge(f.charge) // charged at decision time: the peak sees it
	id := p.newInvocation(nil, "", since)
	wi, begun, ok := p.workers.accept(now, id)
	if !ok {
		p.freeInvocation(id)
		p.uncharge(f.charge)
		for _, v := range victims {
			p.charge(v.charge)
			p.makeIdle(v, v.lastActive)
		}
		return Grant{}, ErrStartBusy
	}
	for _, v := range victims {
		p.kill(v) // already uncharged
	}
	inst := p.newInstance(f, p.startKey, 0) // already charged
	kind := results.StartRestore
	if inst.cost == calibration.MethodCold {
		kind = results.StartCold
	}
	inv := &p.invs[id]
	inv.inst, inv.kind, inv.first = inst, kind, true
	inv.draw = p.draw(f.keys[inst.key].startup)
	inv.work = p.execWork(f, inst)
	if begun {
		p.beginStart(now, id, wi)
	} else {
		inv.phase = phQueued
	}
	return p.grant(kind, id, inst), nil
}

// slow stretches a start-up by the slowdown of others concurrent starts.
func slow(d time.Duration, slowdown float64, others int) time.Duration {
	if slowdown == 0 || others == 0 {
		return d
	}
	return time.Duration(float64(d) * (1 + slowdown*float64(others)))
}

// classOf maps a decision to its metrics class.
func classOf(k StartKind) int {
	switch k {
	case results.StartSwitch:
		return classSwitch
	case results.StartReuse:
		return classReuse
	}
	return classStartNew
}

// GC runs the baseline keep-alive scan at now: idle instances whose
// lastActive is more than cfg.GC ago are killed, oldest first. It does
// nothing in TrEnv mode, with NoBgTask, or when GC is 0.
func (p *Platform) GC(now time.Duration) int {
	if p.cfg.trenv() || p.cfg.NoBgTask || p.cfg.GC <= 0 {
		return 0
	}
	n := 0
	for p.lru.Len() > 0 && now-p.lru.items[0].lastActive > p.cfg.GC {
		v := p.lru.items[0]
		p.takeIdle(v)
		p.remove(v)
		n++
	}
	return n
}

// KillAll kills every idle instance (faasd's /danger/kill; busy ones finish
// first in the model) and returns how many.
func (p *Platform) KillAll() int {
	n := 0
	for p.lru.Len() > 0 {
		v := p.lru.items[0]
		p.takeIdle(v)
		p.remove(v)
		n++
	}
	return n
}

// Metrics returns faasd's metrics as the platform recorded them.
// The result is a copy.
func (p *Platform) Metrics() *results.Metrics {
	out := &results.Metrics{InvokeCount: p.invokes, PeakMem: p.peak, LatencyMs: map[string]map[string][]float32{}}
	// Each function's lists go in whole (built here, so the result is a
	// copy): one map entry per list, not an AddLatencyMs per value.
	put := func(label, name string, v []float32) {
		byKey := out.LatencyMs[label]
		if byKey == nil {
			byKey = map[string][]float32{}
			out.LatencyMs[label] = byKey
		}
		byKey[name] = v
	}
	var lists [3][2][]float32
	var e2e []float32
	for name, f := range p.funcs {
		for c := range lists {
			lists[c][0], lists[c][1] = make([]float32, 0, f.m.count[c]), make([]float32, 0, f.m.count[c])
		}
		e2e = make([]float32, 0, len(f.m.recs))
		for _, r := range f.m.recs {
			l := &lists[r.class]
			l[0], l[1] = append(l[0], r.startup), append(l[1], r.exec)
			e2e = append(e2e, r.e2e)
		}
		for c, labels := range classLabels {
			if f.m.count[c] == 0 {
				continue
			}
			if len(lists[c][0]) > 0 {
				put(labels[0], name, lists[c][0])
			}
			if len(lists[c][1]) > 0 {
				put(labels[1], name, lists[c][1])
			}
			out.AddCount(labels[2], name, f.m.count[c])
		}
		if len(e2e) > 0 {
			put(results.LabelEndToEndLatency, name, e2e)
		}
	}
	return out
}

// Reserve makes room in a function's metrics for n more invocations, so
// that recording them does not grow its list (the engine reserves a
// phase's requests).
func (p *Platform) Reserve(h Handle, n int) {
	h.f.m.recs = slices.Grow(h.f.m.recs, n)
}

// ResetMetrics clears faasd's metric lists and counters but not the peak
// (DELETE /system/metrics).
func (p *Platform) ResetMetrics() {
	for _, f := range p.funcs {
		f.m = fnMetrics{recs: f.m.recs[:0]}
	}
	p.invokes = 0
}

// ResidentBytes is the resident memory of all live instances: what the
// function cgroup's memory.current would show.
func (p *Platform) ResidentBytes() int64 { return p.resident }

// ChargedBytes is the sum of declared limits of live instances (faasd's
// accounting against --mem).
func (p *Platform) ChargedBytes() int64 { return p.charged }

// Live is the number of live instances (starting, busy or idle).
func (p *Platform) Live() int { return len(p.live) }

// Instances lists the live instances' ids (starting, busy or idle), sorted.
func (p *Platform) Instances() []string {
	ids := make([]string, 0, len(p.live))
	for _, inst := range p.live {
		ids = append(ids, inst.id())
	}
	slices.Sort(ids)
	return ids
}

// IdleInstances lists the idle instances' ids, least recently used first.
func (p *Platform) IdleInstances() []string {
	idle := slices.Clone(p.lru.items)
	slices.SortFunc(idle, func(a, b *instance) int {
		if a.lastActive != b.lastActive {
			return cmp.Compare(a.lastActive, b.lastActive)
		}
		return cmp.Compare(a.seq, b.seq)
	})
	ids := make([]string, len(idle))
	for i, inst := range idle {
		ids[i] = inst.id()
	}
	return ids
}

// keyOf is the index of a method key in calibration.Methods.
func keyOf(cost string) int8 { return int8(slices.Index(calibration.Methods, cost)) }

func (p *Platform) newInstance(f *function, key int8, carry int64) *instance {
	f.nextID++
	kc := &f.keys[key]
	var inst *instance
	switch n := len(p.deadInst); {
	case n > 0:
		// A killed instance's slot: nothing refers to it any more (grants
		// keep the function and number, not the instance).
		inst, p.deadInst = p.deadInst[n-1], p.deadInst[:n-1]
	default:
		if len(p.slab) == 0 {
			// One allocation per chunk of instances, not per instance.
			p.slab = make([]instance, instanceChunk)
		}
		inst, p.slab = &p.slab[0], p.slab[1:]
	}
	*inst = instance{
		n: f.nextID, fn: f, cost: calibration.Methods[key], key: key,
		charge: f.charge, carry: carry, own: kc.atStart, full: kc.full, poolIdx: -1, lruIdx: -1,
		liveIdx: len(p.live),
	}
	inst.resident = carry + inst.own
	p.resident += inst.resident
	p.live = append(p.live, inst)
	return inst
}

// remove kills an instance that is not idle and uncharges it.
func (p *Platform) remove(inst *instance) {
	p.uncharge(inst.charge)
	p.kill(inst)
}

// kill drops an instance's resident memory; its charge is the caller's.
func (p *Platform) kill(inst *instance) {
	p.resident -= inst.resident
	last := len(p.live) - 1
	moved := p.live[last]
	p.live[inst.liveIdx], moved.liveIdx = moved, inst.liveIdx
	p.live[last] = nil
	p.live = p.live[:last]
	*inst = instance{liveIdx: -1}
	p.deadInst = append(p.deadInst, inst)
}

// instanceChunk is how many instances newInstance allocates at once.
const instanceChunk = 256

func (p *Platform) charge(b int64) {
	p.charged += b
	p.peak = max(p.peak, p.charged)
}

func (p *Platform) uncharge(b int64) { p.charged -= b }

func (p *Platform) makeIdle(inst *instance, lastActive time.Duration) {
	p.seq++
	inst.lastActive, inst.seq = lastActive, p.seq
	inst.fn.idle.push(inst)
	p.lru.push(inst)
}

func (p *Platform) takeIdle(inst *instance) {
	inst.fn.idle.remove(inst.poolIdx)
	p.lru.remove(inst.lruIdx)
}

// idleHeap orders idle instances by lastActive, then by when they became
// idle. One type serves the per-function pools and the global LRU; global
// says which index field it maintains. It is container/heap's algorithm
// written out for *instance, which the engine's hot path calls directly.
type idleHeap struct {
	items  []*instance
	global bool
}

func (h *idleHeap) Len() int { return len(h.items) }

func (h *idleHeap) less(i, j int) bool {
	a, b := h.items[i], h.items[j]
	if a.lastActive != b.lastActive {
		return a.lastActive < b.lastActive
	}
	return a.seq < b.seq
}

func (h *idleHeap) setIdx(i, v int) {
	if h.global {
		h.items[i].lruIdx = v
	} else {
		h.items[i].poolIdx = v
	}
}

func (h *idleHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	h.setIdx(i, i)
	h.setIdx(j, j)
}

func (h *idleHeap) push(inst *instance) {
	h.items = append(h.items, inst)
	n := len(h.items) - 1
	h.setIdx(n, n)
	h.up(n)
}

// remove takes out the item at index i.
func (h *idleHeap) remove(i int) {
	n := len(h.items) - 1
	if i != n {
		h.swap(i, n)
	}
	h.setIdx(n, -1)
	h.items[n] = nil
	h.items = h.items[:n]
	if i != n && !h.down(i) {
		h.up(i)
	}
}

func (h *idleHeap) up(j int) {
	for j > 0 {
		i := (j - 1) / 2
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		j = i
	}
}

func (h *idleHeap) down(i0 int) bool {
	i, n := i0, len(h.items)
	for {
		j := 2*i + 1
		if j >= n {
			break
		}
		if r := j + 1; r < n && h.less(r, j) {
			j = r
		}
		if !h.less(j, i) {
			break
		}
		h.swap(i, j)
		i = j
	}
	return i > i0
}
