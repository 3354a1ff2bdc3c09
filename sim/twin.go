package sim

import (
	"container/heap"
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
type Twin struct {
	cfg TwinConfig
	mu  sync.Mutex // guards p and running
	p   *Platform
	// running holds the invocations in progress by their end in model
	// time. An instance returns to the pools at that end exactly, as in
	// the engine, whoever next locks the platform (see lock): the
	// handler's timer wakes late, and ~1 ms of wall time is Speed ms of
	// model time.
	running releaseQueue
	start   time.Time
	// overhead is the model's HTTP overhead (the calibration's
	// http_overhead_ms): an answer leaves the twin that long, in model
	// time, after the invocation ends, as it reaches the client in the
	// engine.
	overhead time.Duration
	// now returns the wall clock; a test may replace it.
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
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
	t := &Twin{cfg: cfg, p: p, now: time.Now, sleep: sleepCtx,
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

// lock locks the platform and brings it to the model time now, which it
// returns: every invocation that has ended by now releases its instance.
func (t *Twin) lock() time.Duration {
	t.mu.Lock()
	now := t.modelNow()
	t.releaseUntil(now)
	return now
}

// releaseUntil releases the instances of the invocations that end by at,
// each at its end, in end order. t.mu must be held.
func (t *Twin) releaseUntil(at time.Duration) {
	for t.running.Len() > 0 && t.running.items[0].end <= at {
		r := heap.Pop(&t.running).(release)
		t.p.Release(r.end, r.g)
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
	var g Grant
	var end time.Duration
	for {
		now := t.lock()
		var err error
		g, err = t.p.Acquire(now, since, name)
		if err == nil {
			end = since + g.Startup + g.Exec
			t.running.seq++
			heap.Push(&t.running, release{end: end, seq: t.running.seq, g: g})
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
	// The invocation runs to its end whether or not the client waits. Its
	// instance is released at end, by an earlier lock or here (where the
	// wall time, rounded down to the nanosecond, may stop a hair short).
	if d := end - t.modelNow(); d > 0 {
		t.sleep(context.Background(), t.wall(d))
	}
	t.lock()
	t.releaseUntil(end)
	t.mu.Unlock()
	// The answer leaves after the model's HTTP overhead.
	if d := end + t.overhead - t.modelNow(); d > 0 {
		t.sleep(r.Context(), t.wall(d))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(InvokeResponse{
		Latency:      g.Exec.Seconds(),
		StartKind:    string(g.Kind),
		StartupS:     g.Startup.Seconds(),
		Instance:     g.InstanceID(),
		ServedModelS: (end + t.overhead - since).Seconds(),
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
}

func (t *Twin) handleMemory(w http.ResponseWriter, r *http.Request) {
	now := t.lock()
	st := MemoryState{ModelTimeS: now.Seconds(), ResidentBytes: t.p.ResidentBytes(),
		ChargedBytes: t.p.ChargedBytes(), Instances: t.p.Live()}
	t.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(st)
}

// release is an invocation in progress: its grant and its end in model
// time.
type release struct {
	end time.Duration
	seq uint64 // breaks ties in start order
	g   Grant
}

// releaseQueue is a min-heap of releases by (end, seq).
type releaseQueue struct {
	items []release
	seq   uint64
}

func (q releaseQueue) Len() int { return len(q.items) }
func (q releaseQueue) Less(i, j int) bool {
	a, b := q.items[i], q.items[j]
	return a.end < b.end || a.end == b.end && a.seq < b.seq
}
func (q releaseQueue) Swap(i, j int) { q.items[i], q.items[j] = q.items[j], q.items[i] }
func (q *releaseQueue) Push(x any)   { q.items = append(q.items, x.(release)) }
func (q *releaseQueue) Pop() any {
	x := q.items[len(q.items)-1]
	q.items = q.items[:len(q.items)-1]
	return x
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
