package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// W1's shape (workloads/params/w1.yaml): 12 cycles of 143 s (the sum of the
// functions' slots), the first 2 of them the warmup.
const (
	agreeCycleS     = 143
	agreeTestCycles = 10
	agreeKeptCycles = 2
	// agreeSpeed runs the kept 286 s of model time in ≈ 4.8 s of wall
	// time, so both runs fit in ≈ 10 s.
	agreeSpeed       = 60.0
	agreeJitterSeed  = uint64(workloads.DefaultSeed)
	agreePlatformRNG = 1
)

// agreeKinds are the start kinds compared, in report order.
var agreeKinds = []results.StartKind{results.StartCold, results.StartRestore, results.StartSwitch, results.StartReuse}

// agreeCounts counts answered requests by function and start kind.
type agreeCounts map[string]map[results.StartKind]int

func (c agreeCounts) add(fn string, k results.StartKind) {
	if c[fn] == nil {
		c[fn] = map[results.StartKind]int{}
	}
	c[fn][k]++
}

// count sums the counts of fn over kinds.
func (c agreeCounts) count(fn string) int {
	n := 0
	for _, v := range c[fn] {
		n += v
	}
	return n
}

// total sums the counts of kind k over functions ("" = every kind).
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

// agreeWorkload is W1 as upstream generates it, cut to the first two
// cycles of its test phase, without the warmup.
//
// Two cycles, because the second is where state carries over: TrEnv's idle
// instances of cycle 1 are reused or repurposed, and a baseline's are
// killed by the 2-minute keep-alive (every function's last call of cycle 1
// ends ≥ 130 s before its first of cycle 2, so a scan every 5 s has
// removed it by then whatever its phase). The warmup is dropped: it is two more cycles of
// the same bursts, exercising no other path (the test phase's first cycle
// already starts from a fresh platform), and keeping it would double the
// wall time — or the speed-up, and with it the twin's timing error.
func agreeWorkload(t *testing.T) workloads.Workload {
	t.Helper()
	res, err := workloads.Generate(context.Background(), "1", workloads.Options{Seed: workloads.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	test := res.Workload.Test
	if got, want := test.Seconds(), agreeTestCycles*agreeCycleS; got != want {
		t.Fatalf("W1's test phase lasts %d s, want %d (%d cycles of %d s)", got, want, agreeTestCycles, agreeCycleS)
	}
	short := make(workloads.Phase, len(test))
	for i, s := range test {
		short[i] = workloads.Series{Function: s.Function, Counts: s.Counts[:agreeKeptCycles*agreeCycleS]}
	}
	return workloads.Workload{Test: short}
}

// agreeEngine runs w in virtual time and counts its test-phase requests.
func agreeEngine(t *testing.T, cfg Config, model *calibration.Model, w workloads.Workload) (agreeCounts, Summary) {
	t.Helper()
	counts := agreeCounts{}
	sum, err := Run(context.Background(), EngineConfig{Platform: cfg, Model: model, JitterSeed: agreeJitterSeed}, w,
		Sinks{Request: func(r *results.Request) error {
			if r.Status == results.StatusOK {
				counts.add(r.Function, r.StartKind)
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return counts, sum
}

// agreeReplay is a small open-loop client: it replays the phase's schedule
// (the engine's, same seed) against a twin at speed, one goroutine per
// request started at its time, and counts the answers' start kinds. It
// returns the counts, the number of requests sent, the failures and the
// twin's invoke-count.
func agreeReplay(t *testing.T, cfg Config, model *calibration.Model, phase workloads.Phase, speed float64) (agreeCounts, int, []string, int) {
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
	// The schedule's time 0 is the twin's model time 0, a little ahead so
	// that the server and the background task are up by then: arrivals
	// are due at the engine's model times. (Nothing has read the twin's
	// clock yet.)
	t0 := time.Now().Add(50 * time.Millisecond)
	twin.start = t0
	srv := httptest.NewServer(twin.Handler())
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	bg := make(chan struct{})
	go func() { twin.RunBackground(ctx); close(bg) }()
	defer func() { cancel(); <-bg }()

	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: time.Minute}

	var (
		mu       sync.Mutex
		counts   = agreeCounts{}
		failures []string
		wg       sync.WaitGroup
		sent     int
	)
	send := func(fn string, at time.Duration) {
		defer wg.Done()
		kind, err := agreeInvoke(client, srv.URL+"/invoke/"+fn)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			failures = append(failures, fmt.Sprintf("%s at %v: %v", fn, at, err))
			return
		}
		counts.add(fn, kind)
	}
	sched := workloads.NewSchedule(phase, agreeJitterSeed)
	for {
		arr, ok := sched.Next()
		if !ok {
			break
		}
		for _, a := range arr {
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
	invoked := twin.p.Metrics().InvokeCount
	twin.mu.Unlock()
	return counts, sent, failures, invoked
}

// agreeInvoke sends one invocation and returns the answer's start kind.
func agreeInvoke(client *http.Client, url string) (results.StartKind, error) {
	resp, err := client.Post(url, "application/json", strings.NewReader(`{}`))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%d %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var ir InvokeResponse
	if err := json.Unmarshal(body, &ir); err != nil {
		return "", err
	}
	if !results.StartKind(ir.StartKind).Valid() || ir.StartKind == "" {
		return "", fmt.Errorf("start kind %q", ir.StartKind)
	}
	return results.StartKind(ir.StartKind), nil
}

// TestAgreeTwinEngine replays the same shortened W1 through the engine (in
// virtual time) and through a sped-up twin, for TrEnv and for CRIU with W1's
// keep-alive (--gc 2), and checks that both serve every request once and
// obtain their instances the same way, within a tolerance.
func TestAgreeTwinEngine(t *testing.T) {
	if testing.Short() {
		t.Skip("replays 286 s of W1 in real time at 60x (≈ 10 s)")
	}
	model, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	w := agreeWorkload(t)
	criu := DefaultConfig(MethodCRIU)
	criu.GC = 2 * time.Minute // W1's --gc 2
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"trenv", DefaultConfig(MethodTrEnv)},
		{"criu", criu},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Seed = agreePlatformRNG
			want, sum := agreeEngine(t, tc.cfg, model, w)
			if sum.Failed != 0 || sum.Abandoned != 0 || sum.OK != w.Test.Requests() {
				t.Fatalf("engine: %+v, want all %d requests ok", sum, w.Test.Requests())
			}
			start := time.Now()
			got, sent, failures, invoked := agreeReplay(t, tc.cfg, model, w.Test, agreeSpeed)
			t.Logf("twin at %gx: %d requests in %v", agreeSpeed, sent, time.Since(start).Round(time.Millisecond))
			for _, f := range failures {
				t.Errorf("twin: %s", f)
			}
			// Every request answered once, by both.
			if sent != sum.Scheduled || got.total("") != sum.OK || invoked != sum.OK {
				t.Errorf("twin: %d sent, %d answered, invoke-count %d; engine: %d scheduled, %d ok",
					sent, got.total(""), invoked, sum.Scheduled, sum.OK)
			}
			for _, s := range w.Test {
				n := workloads.Phase{s}.Requests()
				if e, g := want.count(s.Function), got.count(s.Function); e != n || g != n {
					t.Errorf("%s: engine answered %d, twin %d, of %d", s.Function, e, g, n)
				}
			}
			// The race detector slows the twin several times over, and its
			// timing error with it: then the run still exercises the twin's
			// concurrency and checks the totals above, and the start kinds
			// are only reported.
			fail := t.Errorf
			if agreeRace() {
				t.Logf("race detector on: differences beyond the tolerance are reported, not failed")
				fail = t.Logf
			}
			agreeCompare(t, want, got, fail)
		})
	}
}

// agreeCompare reports the start kinds of both runs side by side and
// checks that they agree per function and overall, within the tolerance.
//
// The tolerance. The engine makes every decision at its exact model time;
// the twin makes it when its goroutines wake, and the Go runtime sleeps in
// whole milliseconds when idle (its netpoller waits at least 1 ms), so the
// dispatcher's sends, the start-slot retries (every 50 ms of model time,
// 0.8 ms of wall time at 60×) and the loopback round trips are up to
// ~1–2 ms of wall time late: 60–120 ms of model time. (Instances are freed
// at their exact model end since twin.go releases pending invocations
// whenever it locks the platform; before that the twin also freed them a
// timer's lateness late, and started up to twice as many instances of
// dynamic-html as the engine.) A decision flips only when an instance frees
// within that window of an arrival, and each flip moves one request of
// one function between a start kind and reuse. How many requests straddle
// grows with the function's requests in a burst — for dynamic-html 200 in
// a second, 5 ms apart, each executing in ~1 ms — plus a few at any burst's
// edge. Hence the bounds: per function and kind 6 + 5 % of its requests,
// overall per kind 5 + 4 % of all requests. Observed on an idle machine
// over 12 runs: at most 11 of 397 (dynamic-html), 4 of 41 (chameleon) and
// 2 for every other function, 13 of 865 overall; with both cores kept busy
// by other processes, 5 of 41 (chameleon) and 26 overall. A policy that
// differs moves whole bursts instead: without the keep-alive scan, CRIU's
// second cycle reuses what the engine restores, tens of requests per
// function. (The late-release bias itself is pinned down exactly by
// TestTwinReleaseAtModelEnd.)
//
// fail reports a difference beyond the tolerance.
func agreeCompare(t *testing.T, engine, twin agreeCounts, fail func(format string, args ...any)) {
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
	t.Logf("start kinds:\n%s", b.String())

	all := engine.total("")
	for _, k := range agreeKinds {
		if d, tol := agreeAbs(engine.total(k)-twin.total(k)), 5+all*4/100; d > tol {
			fail("%s: engine %d, twin %d: off by %d, more than %d", k, engine.total(k), twin.total(k), d, tol)
		}
	}
	for _, fn := range names {
		n := engine.count(fn)
		for _, k := range agreeKinds {
			if d, tol := agreeAbs(engine[fn][k]-twin[fn][k]), 6+n*5/100; d > tol {
				fail("%s %s: engine %d, twin %d (of %d): off by %d, more than %d", fn, k, engine[fn][k], twin[fn][k], n, d, tol)
			}
		}
	}
}

func agreeAbs(x int) int { return max(x, -x) }

// agreeRace reports whether the test binary was built with -race.
func agreeRace() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}
