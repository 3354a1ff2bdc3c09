package sim

import (
	"cmp"
	"errors"
	"fmt"
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
	id       string
	fn       *function
	cost     string // cost-model key of how it started (calibration.Method*)
	charge   int64  // declared memory charged against --mem, bytes
	resident int64  // resident memory, bytes
	uses     int    // completed invocations
	// idle bookkeeping: lastActive orders the heaps; seq breaks ties.
	lastActive time.Duration
	seq        uint64
	poolIdx    int // index in its function's idle heap, -1 if not idle
	lruIdx     int // index in the global LRU, -1 if not idle
}

// function is a registered function's model state.
type function struct {
	name    string
	charge  int64
	cost    calibration.Function
	variant float64 // exec factor of a copy (1 for a base)
	idle    idleHeap
	nextID  int
	m       fnMetrics
}

// fnMetrics are one function's faasd metrics, by decision class (start-new,
// switch, reuse).
type fnMetrics struct {
	startup, exec [3][]float32 // ms, as results.DurationMs converts
	count         [3]int
	e2e           []float32
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

// Grant is what Acquire gives an invocation: an instance and the modelled
// times. Startup counts from the request's arrival at faasd (so it includes
// start-slot waits and queueing); Exec is the function's own execution.
type Grant struct {
	Kind    StartKind
	Startup time.Duration
	Exec    time.Duration
	inst    *instance
}

// InstanceID names the instance as faasd does: "<function>-<n>".
func (g Grant) InstanceID() string { return g.inst.id }

// Platform is the policy core: instances, idle pools, the global LRU,
// memory accounting, start workers and metrics. It has no clock, goroutine
// or I/O: callers pass the current (virtual or real) time to every call and
// serialise calls. The Engine and the Twin drive it.
type Platform struct {
	cfg      Config
	model    *calibration.Model
	rng      *rand.Rand
	funcs    map[string]*function
	lru      idleHeap
	workers  *startWorkers
	charged  int64
	resident int64
	live     map[*instance]struct{}
	seq      uint64
	// faasd's metrics: per-function lists live in function.m (no map
	// look-ups on the hot path); Metrics builds the results form.
	invokes int
	peak    int64
}

// NewPlatform returns a platform running cfg with the cost model. In TrEnv
// mode without NoBgTask it seeds cfg.IdleNum generic sandboxes at time 0.
// Functions must be registered before they are invoked.
func NewPlatform(cfg Config, model *calibration.Model) (*Platform, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n, throttle := cfg.startWorkers()
	p := &Platform{
		cfg:     cfg,
		model:   model,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x7472656e76)),
		funcs:   map[string]*function{},
		live:    map[*instance]struct{}{},
		workers: newStartWorkers(n, throttle),
	}
	p.lru.global = true
	if cfg.trenv() && !cfg.NoBgTask && cfg.IdleNum > 0 {
		// The idle-pool task registers h-hello-world itself, charged 256M.
		f, err := p.register(SeedFunction, SeedChargeBytes)
		if err != nil {
			return nil, err
		}
		for i := 0; i < cfg.IdleNum; i++ {
			inst := p.newInstance(f, calibration.MethodCold)
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
	f := &function{name: name, charge: charge, cost: cost, variant: variant}
	p.funcs[name] = f
	return f, nil
}

// Registered reports whether name is registered.
func (p *Platform) Registered(name string) bool { _, ok := p.funcs[name]; return ok }

// Acquire makes faasd's decision for an invocation of fn at now, for a
// request that arrived at since (earlier when it is retried after
// ErrStartBusy): reuse an idle instance of fn; in TrEnv mode repurpose the
// globally least recently used idle instance; otherwise start one, evicting
// idle instances in global-LRU order to stay under the memory bound.
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
	waited := now - since
	// 1. Reuse the longest-idle instance of the same function.
	if !p.cfg.NoReuse && f.idle.Len() > 0 {
		inst := f.idle.items[0]
		p.takeIdle(inst)
		return Grant{
			Kind:    results.StartReuse,
			Startup: waited + p.draw(p.model.Platform.Reuse),
			Exec:    p.exec(f, inst),
			inst:    inst,
		}, nil
	}
	// 2. TrEnv: repurpose the globally least recently used idle instance.
	if p.cfg.trenv() && p.lru.Len() > 0 {
		old := p.lru.items[0]
		p.takeIdle(old)
		p.remove(old)
		inst := p.newInstance(f, p.cfg.switchCost())
		p.charge(inst.charge) // no bound check on this path
		startup := p.draw(f.cost.Startup[inst.cost])
		return Grant{Kind: results.StartSwitch, Startup: waited + startup, Exec: p.exec(f, inst), inst: inst}, nil
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
	begin, others, ok := p.workers.tryAccept(now)
	if !ok {
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
	cost := p.cfg.startCost()
	inst := p.newInstance(f, cost) // already charged
	startup := p.draw(f.cost.Startup[cost])
	if s, ok := p.model.Platform.ConcurrentStartSlowdown[cost]; ok {
		startup = time.Duration(float64(startup) * (1 + s.Value*float64(others)))
	}
	p.workers.commit(now, begin, startup)
	kind := results.StartRestore
	if cost == calibration.MethodCold {
		kind = results.StartCold
	}
	return Grant{Kind: kind, Startup: waited + (begin - now) + startup, Exec: p.exec(f, inst), inst: inst}, nil
}

// Release ends a successful invocation at now: it records faasd's metrics
// for it and returns the instance to the idle pools with lastActive = now.
func (p *Platform) Release(now time.Duration, g Grant) {
	inst := g.inst
	inst.uses++
	c := classOf(g.Kind)
	m := &inst.fn.m
	m.startup[c] = append(m.startup[c], results.DurationMs(g.Startup))
	m.exec[c] = append(m.exec[c], results.DurationMs(g.Exec))
	m.count[c]++
	m.e2e = append(m.e2e, results.DurationMs(g.Startup+g.Exec))
	p.invokes++
	p.makeIdle(inst, now)
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
	out := &results.Metrics{InvokeCount: p.invokes, PeakMem: p.peak}
	for name, f := range p.funcs {
		for c, labels := range classLabels {
			if f.m.count[c] == 0 {
				continue
			}
			for _, v := range f.m.startup[c] {
				out.AddLatencyMs(labels[0], name, v)
			}
			for _, v := range f.m.exec[c] {
				out.AddLatencyMs(labels[1], name, v)
			}
			out.AddCount(labels[2], name, f.m.count[c])
		}
		for _, v := range f.m.e2e {
			out.AddLatencyMs(results.LabelEndToEndLatency, name, v)
		}
	}
	return out
}

// ResetMetrics clears faasd's metric lists and counters but not the peak
// (DELETE /system/metrics).
func (p *Platform) ResetMetrics() {
	for _, f := range p.funcs {
		f.m = fnMetrics{}
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
	for inst := range p.live {
		ids = append(ids, inst.id)
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
		ids[i] = inst.id
	}
	return ids
}

func (p *Platform) newInstance(f *function, cost string) *instance {
	f.nextID++
	mb := f.cost.ResidentMB[cost].Value
	inst := &instance{
		id: f.name + "-" + strconv.Itoa(f.nextID), fn: f, cost: cost,
		charge: f.charge, resident: int64(mb * 1e6), poolIdx: -1, lruIdx: -1,
	}
	p.resident += inst.resident
	p.live[inst] = struct{}{}
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
	delete(p.live, inst)
}

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

// exec draws the execution time of the instance's next invocation.
func (p *Platform) exec(f *function, inst *instance) time.Duration {
	factor := f.cost.WarmExecFactor[inst.cost].Value
	if inst.uses == 0 {
		factor = f.cost.FirstExecFactor[inst.cost].Value
	}
	return time.Duration(float64(p.draw(f.cost.Exec)) * factor * f.variant)
}

// draw samples a log-normal duration.
func (p *Platform) draw(d calibration.Dist) time.Duration {
	return d.FromNormal(p.rng.NormFloat64())
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
