package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// faultyGateway is a faasd that misbehaves in every way the replayer must
// survive. Its control plane fails first and then answers (healthz: 503
// twice; register: one reset connection per function), its metrics are
// never available and never reset, and each invocation draws, from a
// seeded source, one of: a 500, a reset connection, a stall past the phase
// deadline, a garbage body, a latency that is negative, out of range, a
// string or far too large, or a proper answer.
type faultyGateway struct {
	mu        sync.Mutex
	rng       *rand.Rand
	healthz   int
	registers int
	kinds     map[string]int // invocation outcomes served
	release   chan struct{}
}

var invokeFaults = []string{"500", "reset", "stall", "garbage", "negative", "1e400", "string", "huge", "ok", "ok", "ok"}

func newFaultyGateway(t *testing.T) (*httptest.Server, *faultyGateway) {
	f := &faultyGateway{rng: rand.New(rand.NewPCG(7, 11)), kinds: map[string]int{},
		release: make(chan struct{})}
	srv := httptest.NewServer(f)
	t.Cleanup(func() { close(f.release); srv.Close() })
	return srv, f
}

func (f *faultyGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	f.mu.Lock()
	switch {
	case r.URL.Path == "/healthz":
		f.healthz++
		n := f.healthz
		f.mu.Unlock()
		if n <= 2 {
			http.Error(w, "starting", http.StatusServiceUnavailable)
		}
		return
	case r.URL.Path == "/system/register":
		f.registers++
		n := f.registers
		f.mu.Unlock()
		if n%2 == 1 { // each function's first attempt: the retry gets through
			hangUp(w)
		}
		return
	case r.URL.Path == "/system/metrics":
		f.mu.Unlock()
		if r.Method == http.MethodGet {
			io.WriteString(w, "<html>proxy error</html>") // not faasd's format
			return
		}
		http.Error(w, "metrics store is read-only", http.StatusInternalServerError)
		return
	case strings.HasPrefix(r.URL.Path, "/invoke/"):
	default:
		f.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	kind := invokeFaults[f.rng.IntN(len(invokeFaults))]
	f.kinds[kind]++
	f.mu.Unlock()
	switch kind {
	case "500":
		http.Error(w, "Failed to make ctr instance", http.StatusInternalServerError)
	case "reset":
		hangUp(w)
	case "stall":
		select {
		case <-r.Context().Done():
		case <-f.release:
		}
	case "garbage":
		io.WriteString(w, "\x00\xff{not json")
	case "negative":
		io.WriteString(w, `{"latency": -0.5}`)
	case "1e400":
		io.WriteString(w, `{"latency": 1e400}`)
	case "string":
		io.WriteString(w, `{"latency": "NaN"}`)
	case "huge":
		io.WriteString(w, `{"latency": 1e17}`)
	default:
		io.WriteString(w, `{"latency": 0.002}`)
	}
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // a reset, not a clean close
			}
			c.Close()
		}
	}
}

// TestRunAgainstFaultyGateway drives `run --gateway` at the faulty gateway
// on a short workload: the run completes within its deadlines, every
// scheduled request of each phase is in requests.csv exactly once, the
// manifest's counts are the file's, the answers that cannot be right are
// failed with their reason, and the manifest says the server-side metrics
// are missing and were not reset.
func TestRunAgainstFaultyGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("a few seconds of real-time replay")
	}
	srv, f := newFaultyGateway(t)
	wl := filepath.Join(t.TempDir(), "wl")
	w := workloads.Workload{
		Warmup: workloads.Phase{{Function: "pyaes", Counts: []int{3, 3}}},
		Test: workloads.Phase{
			{Function: "dynamic-html", Counts: []int{8, 8, 8}},
			{Function: "json-serde", Counts: []int{4, 0, 4}},
		},
	}
	if err := workloads.WriteDir(wl, w, false); err != nil {
		t.Fatal(err)
	}
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	s, _, errOut := testStreams()
	start := time.Now()
	code := Main([]string{"run", "--method", "cold", "--workload-dir", wl, "--gateway", srv.URL,
		"--password-file", pw, "--out", out, "--name", "f"}, s)
	took := time.Since(start)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// Phase deadlines are int(1.2 × 2 s) = 2 s and int(1.2 × 3 s) = 3 s;
	// the control plane's retries take a few seconds more.
	if took > 30*time.Second {
		t.Errorf("the run took %v", took)
	}
	dir := filepath.Join(out, "f")
	recs := readRequests(t, dir)
	got := map[string]int{}
	byStatus := map[results.Status]int{}
	for _, r := range recs {
		got[r.Phase+"/"+r.Function]++
		byStatus[r.Status]++
		if r.Status == results.StatusOK && (r.FuncMs < 0 || r.FuncMs > 60e3) {
			t.Errorf("ok record with an impossible latency: %+v", r)
		}
		if r.Status == results.StatusFailed && r.Error == "" {
			t.Errorf("failed record without a reason: %+v", r)
		}
	}
	for name, ph := range map[string]workloads.Phase{results.PhaseWarmup: w.Warmup, results.PhaseTest: w.Test} {
		for _, s := range ph {
			if n := (workloads.Phase{s}).Requests(); got[name+"/"+s.Function] != n {
				t.Errorf("%s/%s: %d records, the workload has %d", name, s.Function, got[name+"/"+s.Function], n)
			}
		}
	}
	if byStatus[results.StatusOK] == 0 || byStatus[results.StatusFailed] == 0 || byStatus[results.StatusAbandoned] == 0 {
		t.Errorf("outcomes %v: the faults should give ok, failed and abandoned requests", byStatus)
	}
	m, err := results.ReadManifest(filepath.Join(dir, results.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	c := m.Requests
	if m.Status != results.RunComplete || c.Scheduled != len(recs) || c.OK != byStatus[results.StatusOK] ||
		c.Failed != byStatus[results.StatusFailed] || c.Abandoned != byStatus[results.StatusAbandoned] {
		t.Errorf("manifest %s %+v, the file %d rows %v", m.Status, c, len(recs), byStatus)
	}
	if m.Target != results.TargetGateway || m.Metrics.Usable() || m.Metrics.ResetError == "" || len(m.Metrics.Missing) != 2 {
		t.Errorf("manifest target %s, metrics %+v: want gateway, the reset's failure and both snapshots missing", m.Target, m.Metrics)
	}
	for _, reason := range []string{"latency", "phase deadline"} {
		if !anyError(recs, reason) {
			t.Errorf("no record gives %q as its reason", reason)
		}
	}
	// Retried attempts are in test.log as upstream writes them, and every
	// kind of fault served shows in the records or the log.
	log, _ := os.ReadFile(filepath.Join(dir, results.TestLogFile))
	if !strings.Contains(string(log), "try 0th failed: ") {
		t.Errorf("test.log has no retried attempt:\n%s", log)
	}
	f.mu.Lock()
	served := f.kinds
	f.mu.Unlock()
	for kind, trace := range map[string]string{"500": "[500 Internal Server Error] Failed to make ctr instance",
		"reset": "connection reset by peer", "negative": "latency -0.5 s", "1e400": "latency 1e400 is out of range",
		"string": `latency is "NaN"`, "huge": "latency 1e17 s", "garbage": "not valid JSON"} {
		if served[kind] > 0 && !strings.Contains(string(log), trace) && !anyError(recs, trace) {
			t.Errorf("the gateway served %d %q faults, but neither test.log nor requests.csv says %q", served[kind], kind, trace)
		}
	}
	if strings.Contains(fmt.Sprint(m.CommandLine), "secret") {
		t.Errorf("the password reached the manifest: %v", m.CommandLine)
	}
}

func anyError(recs []results.Request, sub string) bool {
	for _, r := range recs {
		if strings.Contains(r.Error, sub) {
			return true
		}
	}
	return false
}

// TestRunGatewayAtTwin: `run --gateway` at a `sim serve` is recorded as a
// twin run, with the twin's own configuration, never as a measurement; a
// --speed that differs from the twin's is refused before anything runs.
func TestRunGatewayAtTwin(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	s, _, errOut := testStreams()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	model, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	cfg := sim.TwinConfig{Platform: sim.DefaultConfig(sim.MethodREAP), Model: model, Speed: 40, Password: "pw"}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- serveTwin(ctx, &simServeOptions{Streams: s, Register: true}, cfg, ln) }()
	defer func() { cancel(); <-served }()
	url := "http://" + ln.Addr().String()

	wl := writeWorkload(t, 4)
	out := t.TempDir()
	if code := Main([]string{"run", "--method", "reap", "--workload-dir", wl, "--gateway", url, "--speed", "3", "--out", out, "--name", "slow"}, s); code != ExitError ||
		!strings.Contains(errOut.String(), "speed 40") {
		t.Errorf("a mismatched --speed: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(out, "slow")); err == nil {
		t.Error("the refused run left a run directory")
	}
	errOut.Reset()
	if code := Main([]string{"run", "--method", "reap", "--workload-dir", wl, "--gateway", url, "--speed", "40", "--out", out, "--name", "r"}, s); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m, err := results.ReadManifest(filepath.Join(out, "r", results.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var eff sim.EffectiveConfig
	if err := json.Unmarshal(m.Effective, &eff); err != nil {
		t.Fatal(err)
	}
	if m.Target != results.TargetTwin || !m.Target.Simulated() || eff.Engine != "twin" || eff.Method != sim.MethodREAP || eff.Speed != 40 {
		t.Errorf("manifest target %s, effective %+v: want the twin's", m.Target, eff)
	}
	if m.Requests.OK == 0 || m.Requests.OK != m.Requests.Scheduled {
		t.Errorf("requests %+v", m.Requests)
	}
	// The twin is another process: the replayer ran on one processor
	// (unless GOMAXPROCS says otherwise), and the test's own afterwards.
	if m.Harness == nil || m.Harness.CPUSeconds <= 0 || (os.Getenv("GOMAXPROCS") == "" && m.Harness.Procs != 1) {
		t.Errorf("manifest harness %+v: want one processor and the CPU time it used", m.Harness)
	}
	if n := runtime.GOMAXPROCS(0); n != procs {
		t.Errorf("GOMAXPROCS %d after the run, %d before", n, procs)
	}
}
