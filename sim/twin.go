package sim

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"trenv-bench/internal/ctxsleep"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// MaxRequestBody bounds the bodies the twin reads (register payloads and
// invocation bodies), in bytes; larger ones get 413.
const MaxRequestBody = 1 << 20

// TwinConfig configures a Twin.
type TwinConfig struct {
	Platform Config
	Model    *calibration.Model
	// Password is the basic-auth password of user "admin" for
	// /system/register (faasd reads it from basic-auth-password). Empty
	// refuses every registration.
	Password string
	// Speed compresses time: the model runs Speed× faster than the wall
	// clock (1 = real time). Latencies the twin reports are model time.
	Speed float64
}

// Twin serves the platform model behind the faasd provider API that the
// harness and upstream's driver use, in real (optionally compressed) time.
// It wraps the same Platform as the engine, as raft's Node wraps RawNode.
//
// The platform decides when an invocation ends (it shares the model
// host's threads and devices among everything running), so a handler
// waits for its invocation's end: a clock goroutine, running while any
// invocation does, sleeps until the platform's next event and moves the
// platform on to it; whoever locks the platform first moves it on to the
// present (see lock), so every decision sees the platform as it is at its
// model time, as in the engine, however late a timer wakes.
type Twin struct {
	cfg TwinConfig
	mu  sync.Mutex // guards p, waiting, clockOn
	p   *Platform
	// waiting holds the handlers waiting for their invocation's end, by
	// Grant.ID.
	waiting map[int32]chan Done
	clockOn bool
	kick    chan struct{} // tells the clock the platform's next event moved
	start   time.Time
	// overhead is the model's HTTP overhead (the calibration's
	// http_overhead_ms): an answer leaves the twin that long, in model
	// time, after the invocation ends, as it reaches the client in the
	// engine.
	overhead time.Duration
	// now returns the wall clock; a test may replace it, and sleep (the
	// handlers' waits) and clockSleep (the clock's: it returns early when
	// kick has a value).
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
	clockSleep func(d time.Duration, kick <-chan struct{})
	// cpuAt and cpuBusy are the model time and the host's busy
	// thread-ns at the last CPU sample (CPUSampler).
	cpuAt   time.Duration
	cpuBusy float64
}

// NewTwin returns a twin whose model clock starts now.
func NewTwin(cfg TwinConfig) (*Twin, error) {
	if cfg.Speed == 0 {
		cfg.Speed = 1
	}
	if !(cfg.Speed > 0) || math.IsInf(cfg.Speed, 0) {
		return nil, fmt.Errorf("%w: speed %v: expected a positive number", ErrConfig, cfg.Speed)
	}
	p, err := NewPlatform(cfg.Platform, cfg.Model)
	if err != nil {
		return nil, err
	}
	t := &Twin{cfg: cfg, p: p, now: time.Now, sleep: ctxsleep.Sleep, clockSleep: sleepKick,
		waiting: map[int32]chan Done{}, kick: make(chan struct{}, 1),
		overhead: time.Duration(cfg.Model.Platform.HTTPOverheadMs.Value * float64(time.Millisecond))}
	t.start = t.now()
	return t, nil
}

// modelNow is the model time: wall time since start × Speed.
func (t *Twin) modelNow() time.Duration {
	return time.Duration(float64(t.now().Sub(t.start)) * t.cfg.Speed)
}

// wall converts a model duration into wall time.
func (t *Twin) wall(d time.Duration) time.Duration {
	return time.Duration(float64(d) / t.cfg.Speed)
}

// wallUntil is the wall time from now until model time at, rounded up so
// that the model clock has reached at when it has passed.
func (t *Twin) wallUntil(at time.Duration) time.Duration {
	w := t.start.Add(time.Duration(math.Ceil(float64(at) / t.cfg.Speed)))
	return w.Sub(t.now())
}

// lock locks the platform and brings it to the model time now, which it
// returns: every event of the platform up to now has happened, and the
// handlers of the invocations that ended are told.
func (t *Twin) lock() time.Duration {
	t.mu.Lock()
	now := t.modelNow()
	t.advance(now)
	return now
}

// advance moves the platform on to model time now. t.mu must be held.
func (t *Twin) advance(now time.Duration) {
	t.p.Advance(now, t.deliver)
}

// deliver tells an ended invocation's handler, if one waits. t.mu must be
// held.
func (t *Twin) deliver(d Done) {
	if ch, ok := t.waiting[d.ID()]; ok {
		delete(t.waiting, d.ID())
		ch <- d // buffered: a handler whose client left does not block it
	}
}

// wait registers a handler waiting for invocation id and makes sure the
// clock runs. t.mu must be held.
func (t *Twin) wait(id int32) <-chan Done {
	ch := make(chan Done, 1)
	t.waiting[id] = ch
	if !t.clockOn {
		t.clockOn = true
		go t.clock()
	} else {
		select {
		case t.kick <- struct{}{}:
		default:
		}
	}
	return ch
}

// clock moves the platform on through its events while handlers wait: it
// sleeps until the next event's model time (or until a new invocation may
// have moved it), then locks, which moves the platform on. It stops when no
// handler waits.
func (t *Twin) clock() {
	for {
		t.lock()
		if len(t.waiting) == 0 {
			t.clockOn = false
			t.mu.Unlock()
			return
		}
		next, ok := t.p.Next()
		d := time.Hour // handlers wait for invocations no event ends: cannot happen
		if ok {
			d = t.wallUntil(next)
		}
		t.mu.Unlock()
		if d > 0 {
			t.clockSleep(d, t.kick)
		}
	}
}

// Register registers a function directly (as a successful
// /system/register would).
func (t *Twin) Register(name string, chargeBytes int64) error {
	t.lock()
	defer t.mu.Unlock()
	return t.p.Register(name, chargeBytes)
}

// Memory returns the model's resident and charged bytes now.
func (t *Twin) Memory() (resident, charged int64) {
	t.lock()
	defer t.mu.Unlock()
	return t.p.ResidentBytes(), t.p.ChargedBytes()
}

// CPU returns the model host's CPU utilisation, 0 to 1, since the
// previous call (the first call: since the twin started), as cpu.csv
// records it; false when the model's host has no finite number of threads
// or no model time has passed.
func (t *Twin) CPU() (float64, bool) {
	now := t.lock()
	defer t.mu.Unlock()
	c := t.p.HostThreads()
	if c <= 0 || now <= t.cpuAt {
		return 0, false
	}
	busy := t.p.CPUBusy(now)
	u := (busy - t.cpuBusy) / (c * float64(now-t.cpuAt))
	t.cpuAt, t.cpuBusy = now, busy
	return min(1, max(0, u)), true
}

// RunBackground runs the background tasks (the baseline keep-alive scan
// every GCInterval of model time) until ctx ends.
func (t *Twin) RunBackground(ctx context.Context) {
	tick := time.NewTicker(t.wall(GCInterval))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			now := t.lock()
			t.p.GC(now)
			t.mu.Unlock()
		}
	}
}

// invokeName is what faasd's router accepts as a function name.
var invokeName = regexp.MustCompile(`^[-a-zA-Z_0-9.]+$`)

// Handler returns the HTTP API: /invoke/<name>, /system/register,
// /system/metrics (GET, DELETE), /system/functions, /danger/kill,
// /healthz, /sim/memory (the model's memory, JSON) and /sim/info (its
// EffectiveConfig; neither is faasd's). Every answer carries TwinHeader.
func (t *Twin) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/invoke/", t.handleInvoke)
	mux.HandleFunc("POST /system/register", t.handleRegister)
	mux.HandleFunc("GET /system/metrics", t.handleMetrics)
	mux.HandleFunc("DELETE /system/metrics", t.handleMetrics)
	mux.HandleFunc("GET /system/functions", t.handleFunctions)
	mux.HandleFunc("/danger/kill", t.handleKill)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	mux.HandleFunc("GET /sim/memory", t.handleMemory)
	mux.HandleFunc("GET /sim/info", t.handleInfo)
	return announce(mux)
}

// InvokeResponse is the body of a successful invocation, shaped like the
// benchmark functions' answers plus what the model knows.
type InvokeResponse struct {
	// Latency is the function's execution time in seconds (model time).
	Latency float64 `json:"latency"`
	// StartKind is how the instance was obtained: cold|restore|switch|reuse.
	StartKind string `json:"start_kind"`
	// StartupS is faasd's startup time for this invocation, seconds.
	StartupS float64 `json:"startup_s"`
	// Instance is the instance's id, "<function>-<n>".
	Instance string `json:"instance"`
	// ServedModelS is the invocation's end-to-end latency in model time,
	// seconds: from the request's arrival to its answer (start-up,
	// execution and the model's HTTP overhead), what the engine records
	// as e2e_ms. The client keeps it in place of its own wall-clock
	// measurement × speed, which would multiply the real HTTP overhead
	// and the handler's timer lateness by the speed.
	ServedModelS float64 `json:"served_model_s"`
	// ServedWallS is the wall time the handler held the request, seconds:
	// the client's wall-clock e2e minus it is the overhead outside the
	// model (client, kernel, HTTP), which a run measures to tell whether
	// its speed is too high for the model's decisions to hold.
	ServedWallS float64 `json:"served_wall_s"`
}

func (t *Twin) handleInvoke(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/invoke/")
	name, _, _ := strings.Cut(rest, "/")
	if !invokeName.MatchString(name) {
		http.Error(w, "404 page not found", http.StatusNotFound)
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	// The request reaches the model now: its body is read in model time
	// zero, as the engine has it arrive with its attempt.
	arrived := t.now()
	since := t.modelNow()
	if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, MaxRequestBody)); err != nil {
		http.Error(w, "request body too large: at most 1 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	var done <-chan Done
	for {
		now := t.lock()
		g, err := t.p.Acquire(now, since, name)
		if err == nil {
			done = t.wait(g.ID())
		}
		t.mu.Unlock()
		if err == nil {
			break
		}
		switch {
		case errors.Is(err, ErrStartBusy):
			if t.sleep(r.Context(), t.wall(StartRetry)) != nil {
				return // the client went away
			}
			continue
		case errors.Is(err, ErrNotFound):
			// faasd answers 500 here; 404 says more (a deliberate difference).
			http.Error(w, fmt.Sprintf("function %q is not registered (POST /system/register first)", name), http.StatusNotFound)
		default:
			// The engine answers a failure after the HTTP overhead too.
			t.sleep(r.Context(), t.wall(t.overhead))
			http.Error(w, "Failed to make ctr instance for "+name+": "+err.Error(), http.StatusInternalServerError)
		}
		return
	}
	// The invocation runs to its end whether or not the client waits; its
	// instance is released at that end, by the clock or any lock.
	var d Done
	select {
	case d = <-done:
	case <-r.Context().Done():
		return // the client went away; the invocation goes on
	}
	// The answer leaves after the model's HTTP overhead.
	if wait := d.End + t.overhead - t.modelNow(); wait > 0 {
		t.sleep(r.Context(), t.wall(wait))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(InvokeResponse{
		Latency:      d.Exec().Seconds(),
		StartKind:    string(d.Kind),
		StartupS:     d.Startup().Seconds(),
		Instance:     d.InstanceID(),
		ServedModelS: (d.End + t.overhead - since).Seconds(),
		ServedWallS:  t.now().Sub(arrived).Seconds(),
	})
}

// functionDeployment is the part of faas-provider's FunctionDeployment the
// twin reads (encoding/json matches keys case-insensitively, as faasd).
type functionDeployment struct {
	Service string `json:"service"`
	Limits  *struct {
		Memory string `json:"memory"`
	} `json:"limits"`
}

func (t *Twin) handleRegister(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != "admin" || t.cfg.Password == "" ||
		subtle.ConstantTimeCompare([]byte(pass), []byte(t.cfg.Password)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="Restricted"`)
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, "invalid credentials")
		return
	}
	var fd functionDeployment
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBody))
	if err != nil {
		http.Error(w, "request body too large: at most 1 MiB", http.StatusRequestEntityTooLarge)
		return
	}
	if err := json.Unmarshal(body, &fd); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !workloads.ValidName(fd.Service) {
		http.Error(w, fmt.Sprintf("fill app overlay for %s failed: service name must be lower-case letters, digits and '-', with an optional _N suffix", fd.Service), http.StatusBadRequest)
		return
	}
	charge := int64(workloads.DefaultMemoryBytes)
	if fd.Limits != nil && fd.Limits.Memory != "" {
		if charge, err = (workloads.Function{Memory: fd.Limits.Memory}).MemoryBytes(); err != nil {
			http.Error(w, fmt.Sprintf("parse memory limit %s failed: %v", fd.Limits.Memory, err), http.StatusBadRequest)
			return
		}
	}
	if err := t.Register(fd.Service, charge); err != nil {
		http.Error(w, fmt.Sprintf("fill app overlay for %s failed: %v", fd.Service, err), http.StatusBadRequest)
		return
	}
}

func (t *Twin) handleMetrics(w http.ResponseWriter, r *http.Request) {
	t.lock()
	defer t.mu.Unlock()
	if r.Method == http.MethodDelete {
		t.p.ResetMetrics()
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	t.p.Metrics().WriteTo(w)
}

// functionStatus is an entry of GET /system/functions: faasd lists one per
// tracked instance, with only the name filled in.
type functionStatus struct {
	Name      string `json:"name"`
	Image     string `json:"image"`
	Namespace string `json:"namespace"`
	Replicas  int    `json:"replicas"`
}

func (t *Twin) handleFunctions(w http.ResponseWriter, r *http.Request) {
	t.lock()
	ids := t.p.Instances()
	t.mu.Unlock()
	list := make([]functionStatus, len(ids))
	for i, id := range ids {
		list[i] = functionStatus{Name: id, Namespace: "openfaas-fn"}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(list)
}

func (t *Twin) handleKill(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut:
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	t.lock()
	t.p.KillAll()
	t.mu.Unlock()
}

// MemoryState is the body of GET /sim/memory.
type MemoryState struct {
	// ModelTimeS is the model's clock, seconds since the twin started.
	ModelTimeS float64 `json:"model_time_s"`
	// ResidentBytes is what the function cgroup's memory.current would show.
	ResidentBytes int64 `json:"resident_bytes"`
	// ChargedBytes is faasd's accounting of declared limits.
	ChargedBytes int64 `json:"charged_bytes"`
	// Instances is the number of live instances.
	Instances int `json:"instances"`
	// HostThreads is the model host's hardware threads (0: unlimited), and
	// CPUBusyS the thread-seconds of model time they have been busy since
	// the twin started: a client's utilisation over an interval is the
	// growth of CPUBusyS ÷ (HostThreads × the model seconds between).
	HostThreads float64 `json:"host_threads"`
	CPUBusyS    float64 `json:"cpu_busy_s"`
}

func (t *Twin) handleMemory(w http.ResponseWriter, r *http.Request) {
	now := t.lock()
	st := MemoryState{ModelTimeS: now.Seconds(), ResidentBytes: t.p.ResidentBytes(),
		ChargedBytes: t.p.ChargedBytes(), Instances: t.p.Live(),
		HostThreads: t.p.HostThreads(), CPUBusyS: t.p.CPUBusy(now) / float64(time.Second)}
	t.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

// sleepKick sleeps for d or until kick has a value.
func sleepKick(d time.Duration, kick <-chan struct{}) {
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-kick:
	}
}
