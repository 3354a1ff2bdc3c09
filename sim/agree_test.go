package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

const (
	// agreeSpeed compresses the twin's time, to exercise its scaling (the
	// clock is synctest's fake one: speed costs no accuracy).
	agreeSpeed       = 60.0
	agreeJitterSeed  = uint64(workloads.DefaultSeed)
	agreePlatformRNG = 1
	// agreeFailed counts requests that failed after all retries.
	agreeFailed results.StartKind = "failed"
)

// agreeKinds are the outcomes compared, in report order.
var agreeKinds = []results.StartKind{results.StartCold, results.StartRestore, results.StartSwitch, results.StartReuse, agreeFailed}

// agreeCounts counts requests by function and outcome.
type agreeCounts map[string]map[results.StartKind]int

// agreeLatencies holds the end-to-end latencies of the requests served, in
// seconds of model time, by function.
type agreeLatencies map[string][]float64

func (c agreeCounts) add(fn string, k results.StartKind) {
	if c[fn] == nil {
		c[fn] = map[results.StartKind]int{}
	}
	c[fn][k]++
}

// count sums the counts of fn over outcomes.
func (c agreeCounts) count(fn string) int {
	n := 0
	for _, v := range c[fn] {
		n += v
	}
	return n
}

// total sums the counts of outcome k over functions ("" = every outcome).
func (c agreeCounts) total(k results.StartKind) int {
	n := 0
	for _, byKind := range c {
		for kind, v := range byKind {
			if k == "" || kind == k {
				n += v
			}
		}
	}
	return n
}

// agreeWorkload is the test phase of workload kind as upstream generates
// it, without the warmup (the test phase already starts from a fresh
// platform, and repeats the warmup's bursts).
func agreeWorkload(t *testing.T, kind string) workloads.Workload {
	t.Helper()
	res, err := workloads.Generate(context.Background(), kind, workloads.Options{Seed: workloads.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	return workloads.Workload{Test: res.Workload.Test}
}

// agreeEngine runs w in virtual time; it returns the requests' outcomes,
// the summary, and faasd's metrics at the end of the test phase.
func agreeEngine(t *testing.T, cfg Config, model *calibration.Model, w workloads.Workload) (agreeCounts, agreeLatencies, Summary, *results.Metrics) {
	t.Helper()
	counts := agreeCounts{}
	e2e := agreeLatencies{}
	var metrics *results.Metrics
	sum, err := Run(context.Background(), EngineConfig{Platform: cfg, Model: model, JitterSeed: agreeJitterSeed}, w,
		hooks{
			request: func(r *results.Request) error {
				switch r.Status {
				case results.StatusOK:
					counts.add(r.Function, r.StartKind)
					e2e[r.Function] = append(e2e[r.Function], r.E2EMs/1000)
				case results.StatusFailed:
					counts.add(r.Function, agreeFailed)
				default:
					t.Errorf("engine: %s ended %s", r.Function, r.Status)
				}
				return nil
			},
			metrics: func(phase string, m *results.Metrics) error {
				if phase == results.PhaseTest {
					metrics = m
				}
				return nil
			},
		})
	if err != nil {
		t.Fatal(err)
	}
	if metrics == nil {
		t.Fatal("engine: no metrics at the end of the test phase")
	}
	return counts, e2e, sum, metrics
}

// agreeReplay is a small open-loop client: it replays the phase's schedule
// (the engine's, same seed) against a twin at speed, one goroutine per
// request started at its time, retrying as upstream's driver does (and the
// engine models), and counts the requests' outcomes. It returns the
// outcomes, the number of requests sent, any answer that was neither a
// usable 200 nor an HTTP error, and the twin's metrics at the end.
//
// It must run inside a synctest bubble: the twin's clock, its timers and the
// client's sleeps are the bubble's fake clock, which moves only when every
// goroutine waits, and the HTTP connections are in-memory pipes (a real
// socket would not let the clock move). So the twin serves each request at
// its exact model time whatever the machine's load, as the engine does; what
// remains to compare is the twin's own logic (handlers, locking, releases,
// background task, speed scaling), not the scheduler's lateness.
func agreeReplay(t *testing.T, cfg Config, model *calibration.Model, phase workloads.Phase, speed float64) (agreeCounts, agreeLatencies, int, []string, *results.Metrics) {
	t.Helper()
	twin, err := NewTwin(TwinConfig{Platform: cfg, Model: model, Speed: speed})
	if err != nil {
		t.Fatal(err)
	}
	cat := workloads.DefaultCatalog()
	for _, s := range phase {
		fn, ok := cat.Lookup(s.Function)
		if !ok {
			t.Fatalf("%s is not in the catalog", s.Function)
		}
		charge, err := fn.MemoryBytes()
		if err == nil {
			err = twin.Register(fn.Name, charge)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	// The schedule's time 0 is the twin's model time 0. (Nothing has read
	// the twin's clock yet.)
	t0 := time.Now()
	twin.start = t0
	pn := newPipeNet()
	srv := &http.Server{Handler: twin.Handler()}
	served := make(chan struct{})
	go func() { srv.Serve(pn); close(served) }()
	ctx, cancel := context.WithCancel(context.Background())
	bg := make(chan struct{})
	go func() { twin.RunBackground(ctx); close(bg) }()

	tr := &http.Transport{DialContext: pn.DialContext, MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}
	client := &http.Client{Transport: tr, Timeout: time.Duration(float64(workloads.DriverAttemptTimeout) / speed)}
	defer func() {
		tr.CloseIdleConnections()
		srv.Close()
		<-served
		cancel()
		<-bg
	}()

	var (
		mu       sync.Mutex
		counts   = agreeCounts{}
		e2e      = agreeLatencies{}
		oddities []string
		wg       sync.WaitGroup
		sent     int
	)
	send := func(fn string, at time.Duration) {
		defer wg.Done()
		kind := agreeFailed
		for attempt := 0; ; attempt++ {
			k, served, status, err := agreeInvoke(client, "http://twin/invoke/"+fn)
			if err == nil {
				kind = k
				mu.Lock()
				e2e[fn] = append(e2e[fn], served)
				mu.Unlock()
				break
			}
			if status == 0 {
				mu.Lock()
				oddities = append(oddities, fmt.Sprintf("%s at %v: %v", fn, at, err))
				mu.Unlock()
			}
			if attempt == workloads.DriverMaxRetries {
				break
			}
			// The twin answered after the model's HTTP overhead, as
			// the engine does; the back-off starts there.
			time.Sleep(time.Duration(float64(workloads.DriverBackoffBase<<attempt) / speed))
		}
		mu.Lock()
		counts.add(fn, kind)
		mu.Unlock()
	}
	sched := workloads.NewSchedule(phase, agreeJitterSeed)
	var last time.Duration
	for {
		arr, ok := sched.Next()
		if !ok {
			break
		}
		for _, a := range arr {
			if sent > 0 && a.At == last {
				t.Fatalf("two arrivals at %v: exact agreement needs distinct instants", a.At)
			}
			last = a.At
			if d := time.Until(t0.Add(time.Duration(float64(a.At) / speed))); d > 0 {
				time.Sleep(d)
			}
			wg.Add(1)
			sent++
			go send(phase[a.Function].Function, a.At)
		}
	}
	wg.Wait()
	twin.lock()
	metrics := twin.p.Metrics()
	twin.mu.Unlock()
	return counts, e2e, sent, oddities, metrics
}

// agreeInvoke sends one invocation and returns the answer's start kind and
// served model time (seconds), or an error with the HTTP status (0: no
// usable HTTP answer).
func agreeInvoke(client *http.Client, url string) (results.StartKind, float64, int, error) {
	resp, err := client.Post(url, "application/json", strings.NewReader(`{}`))
	if err != nil {
		return "", 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", 0, 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return "", 0, resp.StatusCode, fmt.Errorf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var ir InvokeResponse
	if err := json.Unmarshal(body, &ir); err != nil {
		return "", 0, 0, err
	}
	if !results.StartKind(ir.StartKind).Valid() || ir.StartKind == "" {
		return "", 0, 0, fmt.Errorf("start kind %q", ir.StartKind)
	}
	if !(ir.ServedModelS > 0) {
		return "", 0, 0, fmt.Errorf("served_model_s %v, want > 0", ir.ServedModelS)
	}
	return results.StartKind(ir.StartKind), ir.ServedModelS, http.StatusOK, nil
}

// pipeNet is an in-memory network for one HTTP server: a net.Listener
// whose connections are the server ends of net.Pipe pairs made by
// DialContext. Inside a synctest bubble, goroutines waiting on it are
// durably blocked, so the bubble's clock can move.
type pipeNet struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeNet() *pipeNet {
	return &pipeNet{conns: make(chan net.Conn), closed: make(chan struct{})}
}

// DialContext hands the server end of a new pipe to Accept.
func (n *pipeNet) DialContext(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	select {
	case n.conns <- server:
		return client, nil
	case <-n.closed:
		return nil, net.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (n *pipeNet) Accept() (net.Conn, error) {
	select {
	case c := <-n.conns:
		return c, nil
	case <-n.closed:
		return nil, net.ErrClosed
	}
}

func (n *pipeNet) Close() error {
	n.once.Do(func() { close(n.closed) })
	return nil
}

func (n *pipeNet) Addr() net.Addr { return pipeAddr{} }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "twin" }

// TestAgreeTwinEngine replays the same workloads through the engine (in
// virtual time) and through a sped-up twin on a fake clock, for every start
// method with the artifact's settings and under memory pressure, and checks
// that both serve every request once, obtain their instances the same way,
// fail the same requests, and end with the same faasd metrics.
func TestAgreeTwinEngine(t *testing.T) {
	model, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	with := func(method string, f func(*Config)) Config {
		c := DefaultConfig(method)
		c.Seed = agreePlatformRNG
		f(&c)
		return c
	}
	w1 := func(c *Config) { c.GC = 2 * time.Minute } // test.sh's W1 settings
	w2 := func(c *Config) { c.MemBytes, c.GC = 32<<30, 3*time.Minute }
	tight := func(c *Config) { c.MemBytes, c.GC = 2<<30, 2*time.Minute } // evictions and "reach memory limitation"
	rdma := func(c *Config) { c.Pool = PoolRDMA }
	// A host of 8 threads, so that executions and start-ups share it
	// (the default's 128 rarely fill); the RDMA link and the CXL tmpfs
	// are shared under the default already (T-RDMA, CRIU, REAP+ bursts).
	small := *model
	small.Platform.HostThreads.Value = 8
	cases := []struct {
		name, workload string
		cfg            Config
		model          *calibration.Model
	}{
		{"w1/trenv", "1", with(MethodTrEnv, w1), nil},
		{"w1/trenv-rdma", "1", with(MethodTrEnv, rdma), nil},
		{"w1/cold", "1", with(MethodCold, w1), nil},
		{"w1/criu", "1", with(MethodCRIU, w1), nil},
		{"w1/lazy", "1", with(MethodLazy, w1), nil},
		{"w1/faasnap", "1", with(MethodFaaSnap, w1), nil},
		{"w1/reap", "1", with(MethodREAP, w1), nil},
		{"w2/trenv", "2", with(MethodTrEnv, w2), nil},
		{"w2/reap", "2", with(MethodREAP, w2), nil},
		{"w1/cold-2GiB", "1", with(MethodCold, tight), nil},
		{"w1/faasnap-2GiB", "1", with(MethodFaaSnap, tight), nil},
		{"w1/trenv-8-threads", "1", with(MethodTrEnv, w1), &small},
		{"w1/criu-8-threads", "1", with(MethodCRIU, w1), &small},
	}
	workload := map[string]workloads.Workload{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := workload[tc.workload]
			if !ok {
				w = agreeWorkload(t, tc.workload)
				workload[tc.workload] = w
			}
			m := model
			if tc.model != nil {
				m = tc.model
			}
			want, wantE2E, sum, wantMetrics := agreeEngine(t, tc.cfg, m, w)
			if sum.Abandoned != 0 || sum.OK+sum.Failed != w.Test.Requests() {
				t.Fatalf("engine: %+v, want all %d requests ok or failed", sum, w.Test.Requests())
			}
			synctest.Test(t, func(t *testing.T) {
				got, gotE2E, sent, oddities, gotMetrics := agreeReplay(t, tc.cfg, m, w.Test, agreeSpeed)
				for _, o := range oddities {
					t.Errorf("twin: %s", o)
				}
				// Every request served once, by both.
				if sent != sum.Scheduled || got.total("") != sent {
					t.Errorf("twin: %d sent, %d ended; engine: %d scheduled", sent, got.total(""), sum.Scheduled)
				}
				for _, s := range w.Test {
					n := workloads.Phase{s}.Requests()
					if e, g := want.count(s.Function), got.count(s.Function); e != n || g != n {
						t.Errorf("%s: engine served %d, twin %d, of %d", s.Function, e, g, n)
					}
				}
				agreeCompare(t, want, got)
				agreeCompareLatencies(t, wantE2E, gotE2E)
				agreeCompareMetrics(t, wantMetrics, gotMetrics)
			})
		})
	}
}

// agreeCompare reports the outcomes of both runs side by side and checks
// that they are the same per function and outcome.
//
// Exactly the same: on the fake clock the twin decides each request at the
// model time the engine does, and no two arrivals share an instant (U[0,1)
// jitter at nanosecond resolution; agreeReplay checks it), so which
// goroutine runs first decides nothing. (An invocation that ends on the
// very nanosecond of an arrival could still be ordered differently; at
// nanosecond resolution that has not happened.) (On a real clock, at 60x, the
// twin's goroutines woke 1-2 ms of wall time late, 60-120 ms of model time,
// and moved up to 26 of 865 requests between a start kind and reuse on a
// loaded machine; a policy that differs moves whole bursts.)
func agreeCompare(t *testing.T, engine, twin agreeCounts) {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "%-20s", "engine/twin")
	for _, k := range agreeKinds {
		fmt.Fprintf(&b, " %9s", k)
	}
	b.WriteByte('\n')
	row := func(name string, get func(k results.StartKind) (int, int)) {
		fmt.Fprintf(&b, "%-20s", name)
		for _, k := range agreeKinds {
			e, w := get(k)
			fmt.Fprintf(&b, " %9s", fmt.Sprintf("%d/%d", e, w))
		}
		b.WriteByte('\n')
	}
	names := slices.Sorted(maps.Keys(engine))
	for fn := range twin {
		if engine[fn] == nil {
			t.Errorf("the twin served %s, which the engine never did", fn)
		}
	}
	for _, fn := range names {
		row(fn, func(k results.StartKind) (int, int) { return engine[fn][k], twin[fn][k] })
	}
	row("all", func(k results.StartKind) (int, int) { return engine.total(k), twin.total(k) })
	t.Logf("outcomes:\n%s", b.String())
	for _, fn := range names {
		for _, k := range agreeKinds {
			if e, w := engine[fn][k], twin[fn][k]; e != w {
				t.Errorf("%s %s: engine %d, twin %d (of %d)", fn, k, e, w, engine.count(fn))
			}
		}
	}
}

// agreeCompareMetrics checks that the twin's faasd metrics at the end of
// the test phase are the engine's: the same counters and invocations, the
// same peak, and the same latencies per label and function up to the
// rounding of the twin's speed scaling (a model duration divided by the
// speed and multiplied back loses under a microsecond).
func agreeCompareMetrics(t *testing.T, engine, twin *results.Metrics) {
	t.Helper()
	if engine.InvokeCount != twin.InvokeCount || engine.PeakMem != twin.PeakMem {
		t.Errorf("invoke-count %d, peak-mem %d; engine: %d, %d", twin.InvokeCount, twin.PeakMem, engine.InvokeCount, engine.PeakMem)
	}
	if !maps.EqualFunc(engine.Counts, twin.Counts, maps.Equal) {
		t.Errorf("counters %v; engine: %v", twin.Counts, engine.Counts)
	}
	for label, byKey := range engine.LatencyMs {
		for key, want := range byKey {
			got := twin.LatencyMs[label][key]
			if len(got) != len(want) {
				t.Errorf("%s %s: %d latencies, engine %d", label, key, len(got), len(want))
				continue
			}
			want, got = slices.Sorted(slices.Values(want)), slices.Sorted(slices.Values(got))
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > 0.005 {
					t.Errorf("%s %s: latency %d is %g ms, engine %g ms", label, key, i, got[i], want[i])
					break
				}
			}
		}
	}
	for label, byKey := range twin.LatencyMs {
		for key := range byKey {
			if _, ok := engine.LatencyMs[label][key]; !ok {
				t.Errorf("%s %s: latencies on the twin only", label, key)
			}
		}
	}
}

// agreeCompareLatencies checks that the twin's served model times are the
// engine's end-to-end latencies, request for request (each function's
// sorted), within a microsecond: the engine's e2e_ms runs from the attempt
// to its answer after the HTTP overhead, and so does served_model_s.
func agreeCompareLatencies(t *testing.T, engine, twin agreeLatencies) {
	t.Helper()
	for _, fn := range slices.Sorted(maps.Keys(engine)) {
		e, w := slices.Sorted(slices.Values(engine[fn])), slices.Sorted(slices.Values(twin[fn]))
		if len(e) != len(w) {
			t.Errorf("%s: engine served %d, twin %d", fn, len(e), len(w))
			continue
		}
		bad := 0
		for i := range e {
			if math.Abs(e[i]-w[i]) > 1e-6 {
				if bad < 3 {
					t.Errorf("%s: the %d-th fastest took %.6f s in the engine, %.6f s on the twin", fn, i+1, e[i], w[i])
				}
				bad++
			}
		}
		if bad > 3 {
			t.Errorf("%s: %d latencies of %d differ", fn, bad, len(e))
		}
	}
}
