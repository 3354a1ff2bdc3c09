package sim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// twTestPassword is admin's basic-auth password of the test twins.
const twTestPassword = "s3cret"

// twNew returns a twin of pcfg at speed with the default cost model, every
// named catalog function registered as the harness does (charged its
// declared limit), and a loopback server in front of it.
func twNew(t testing.TB, pcfg Config, speed float64, register ...string) (*Twin, *httptest.Server) {
	t.Helper()
	model, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	twin, err := NewTwin(TwinConfig{Platform: pcfg, Model: model, Password: twTestPassword, Speed: speed})
	if err != nil {
		t.Fatal(err)
	}
	cat := workloads.DefaultCatalog()
	for _, name := range register {
		fn, ok := cat.Lookup(name)
		if !ok {
			t.Fatalf("%s is not in the catalog", name)
		}
		charge, err := fn.MemoryBytes()
		if err != nil {
			t.Fatal(err)
		}
		if err := twin.Register(name, charge); err != nil {
			t.Fatalf("Register(%s): %v", name, err)
		}
	}
	srv := httptest.NewServer(twin.Handler())
	t.Cleanup(srv.Close)
	return twin, srv
}

// twDo sends a request to the test server and returns the status and body.
func twDo(t testing.TB, srv *httptest.Server, method, path, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, string(b)
}

// twInvoke invokes fn and returns the decoded answer; any status but 200 fails.
func twInvoke(t testing.TB, srv *httptest.Server, fn string) InvokeResponse {
	t.Helper()
	resp, body := twDo(t, srv, http.MethodPost, "/invoke/"+fn, `{"n":1}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke %s: %d %q, want 200", fn, resp.StatusCode, body)
	}
	var ir InvokeResponse
	if err := json.Unmarshal([]byte(body), &ir); err != nil {
		t.Fatalf("invoke %s: %v in %q", fn, err, body)
	}
	return ir
}

// twMemory returns GET /sim/memory.
func twMemory(t testing.TB, srv *httptest.Server) MemoryState {
	t.Helper()
	resp, body := twDo(t, srv, http.MethodGet, "/sim/memory", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sim/memory: %d %q", resp.StatusCode, body)
	}
	var st MemoryState
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatalf("GET /sim/memory: %v in %q", err, body)
	}
	return st
}

// twMetrics returns GET /system/metrics, parsed.
func twMetrics(t testing.TB, srv *httptest.Server) (*results.Metrics, string) {
	t.Helper()
	resp, body := twDo(t, srv, http.MethodGet, "/system/metrics", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /system/metrics: %d %q", resp.StatusCode, body)
	}
	m, err := results.ParseMetrics(strings.NewReader(body), "GET /system/metrics")
	if err != nil {
		t.Fatalf("GET /system/metrics: %v\n%s", err, body)
	}
	return m, body
}

// twBaseline is a baseline platform without the keep-alive GC: the tests
// see exactly the instances they made.
func twBaseline(method string) Config {
	c := DefaultConfig(method)
	c.NoBgTask = true
	return c
}

func TestTwinHealthz(t *testing.T) {
	_, srv := twNew(t, twBaseline(MethodCold), 1000)
	resp, body := twDo(t, srv, http.MethodGet, "/healthz", "")
	if resp.StatusCode != http.StatusOK || body != "" {
		t.Errorf("GET /healthz: %d %q, want 200 and an empty body", resp.StatusCode, body)
	}
}

func TestTwinInvoke(t *testing.T) {
	_, srv := twNew(t, twBaseline(MethodCRIU), 1000, "pyaes")
	resp, body := twDo(t, srv, http.MethodPost, "/invoke/pyaes", `{"n":1}`)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("invoke: %d %q, want 200", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var got InvokeResponse
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("%v in %q", err, body)
	}
	if !(got.Latency > 0) || !(got.StartupS > 0) {
		t.Errorf("latency %v s, startup %v s: want both > 0", got.Latency, got.StartupS)
	}
	if got.StartKind != string(results.StartRestore) || got.Instance != "pyaes-1" {
		t.Errorf("start kind %q on %q, want restore on pyaes-1", got.StartKind, got.Instance)
	}
	// The raw keys are what upstream's driver and the replayer read.
	var raw map[string]any
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"latency", "start_kind", "startup_s", "instance"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("answer %s lacks %q", body, k)
		}
	}
	// The same function again, after the first has ended: a warm reuse of
	// the same instance, via a sub-path and a GET as faasd's routes allow.
	resp, body = twDo(t, srv, http.MethodGet, "/invoke/pyaes/some/params?x=1", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("second invoke: %d %q", resp.StatusCode, body)
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.StartKind != string(results.StartReuse) || got.Instance != "pyaes-1" {
		t.Errorf("second invoke: %q on %q, want reuse on pyaes-1", got.StartKind, got.Instance)
	}
}

func TestTwinInvokeErrors(t *testing.T) {
	_, srv := twNew(t, twBaseline(MethodCold), 1000, "pyaes")
	for _, tc := range []struct {
		name, method, path string
		status             int
		body               string // substring of the body; "" = empty body
	}{
		{"unknown function", http.MethodPost, "/invoke/no-such-fn", http.StatusNotFound, `"no-such-fn" is not registered`},
		{"bad characters", http.MethodPost, "/invoke/a%20b", http.StatusNotFound, "404 page not found"},
		{"empty name", http.MethodPost, "/invoke/", http.StatusNotFound, "404 page not found"},
		{"method", "TRACE", "/invoke/pyaes", http.StatusMethodNotAllowed, ""},
		{"method on kill", "PATCH", "/danger/kill", http.StatusMethodNotAllowed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := twDo(t, srv, tc.method, tc.path, "")
			if resp.StatusCode != tc.status {
				t.Errorf("%s %s: status %d, want %d (body %q)", tc.method, tc.path, resp.StatusCode, tc.status, body)
			}
			if tc.body == "" && body != "" || !strings.Contains(body, tc.body) {
				t.Errorf("%s %s: body %q, want it to contain %q", tc.method, tc.path, body, tc.body)
			}
		})
	}
}

func TestTwinInvokeBodyTooLarge(t *testing.T) {
	twin, _ := twNew(t, twBaseline(MethodCold), 1000, "pyaes")
	h := twin.Handler()
	for _, tc := range []struct {
		size   int
		status int
	}{
		{MaxRequestBody, http.StatusOK},
		{MaxRequestBody + 1, http.StatusRequestEntityTooLarge},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/invoke/pyaes", strings.NewReader(strings.Repeat("x", tc.size))))
		if rec.Code != tc.status {
			t.Errorf("body of %d bytes: %d %q, want %d", tc.size, rec.Code, rec.Body, tc.status)
		}
	}
	// Register's body has the same bound.
	req := httptest.NewRequest(http.MethodPost, "/system/register",
		strings.NewReader(`{"service":"pyaes","x":"`+strings.Repeat("x", MaxRequestBody)+`"}`))
	req.SetBasicAuth("admin", twTestPassword)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("register with a body over 1 MiB: %d %q, want 413", rec.Code, rec.Body)
	}
}

func TestTwinRegister(t *testing.T) {
	_, srv := twNew(t, twBaseline(MethodCold), 1000)
	auth := func(user, pass string) []string {
		req, _ := http.NewRequest(http.MethodGet, "/", nil)
		req.SetBasicAuth(user, pass)
		return []string{"Authorization", req.Header.Get("Authorization")}
	}
	good := auth("admin", twTestPassword)
	for _, tc := range []struct {
		name, body string
		hdr        []string
		status     int
		want       string // the exact body, or with a leading "~" a substring
	}{
		{"no credentials", `{"service":"pyaes"}`, nil, http.StatusUnauthorized, "invalid credentials"},
		{"wrong password", `{"service":"pyaes"}`, auth("admin", "guess"), http.StatusUnauthorized, "invalid credentials"},
		{"wrong user", `{"service":"pyaes"}`, auth("root", twTestPassword), http.StatusUnauthorized, "invalid credentials"},
		{"empty body", ``, good, http.StatusBadRequest, "unexpected end of JSON input\n"},
		{"malformed JSON", `{"service":`, good, http.StatusBadRequest, "unexpected end of JSON input\n"},
		{"bad JSON type", `{"service":1}`, good, http.StatusBadRequest, "~cannot unmarshal number"},
		{"bad service name", `{"service":"Py AES"}`, good, http.StatusBadRequest, "~fill app overlay for Py AES failed"},
		{"no service name", `{}`, good, http.StatusBadRequest, "~fill app overlay for  failed"},
		{"unknown to the model", `{"service":"not-a-benchmark"}`, good, http.StatusBadRequest, "~fill app overlay for not-a-benchmark failed"},
		{"bad memory limit", `{"service":"pyaes","limits":{"memory":"12X"}}`, good, http.StatusBadRequest, "~parse memory limit 12X failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := twDo(t, srv, http.MethodPost, "/system/register", tc.body, tc.hdr...)
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d (body %q)", resp.StatusCode, tc.status, body)
			}
			if sub, ok := strings.CutPrefix(tc.want, "~"); ok && !strings.Contains(body, sub) || !ok && body != tc.want {
				t.Errorf("body %q, want %q", body, tc.want)
			}
			if tc.status == http.StatusUnauthorized {
				if got := resp.Header.Get("WWW-Authenticate"); got != `Basic realm="Restricted"` {
					t.Errorf("WWW-Authenticate %q, want Basic realm=\"Restricted\"", got)
				}
			}
		})
	}
	// None of the failures registered anything.
	if resp, body := twDo(t, srv, http.MethodPost, "/invoke/pyaes", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("invoke after failed registrations: %d %q, want 404", resp.StatusCode, body)
	}

	// Success: 200, empty body; the function becomes invocable. Keys match
	// case-insensitively, as faasd's decoder.
	resp, body := twDo(t, srv, http.MethodPost, "/system/register",
		`{"Service":"pyaes","image":"jialianghuang/pyaes:latest","limits":{"memory":"300M"}}`, good...)
	if resp.StatusCode != http.StatusOK || body != "" {
		t.Fatalf("register: %d %q, want 200 and an empty body", resp.StatusCode, body)
	}
	// A second registration of the name succeeds and changes nothing.
	resp, body = twDo(t, srv, http.MethodPost, "/system/register",
		`{"service":"pyaes","limits":{"memory":"500M"}}`, good...)
	if resp.StatusCode != http.StatusOK || body != "" {
		t.Fatalf("second register: %d %q, want 200 and an empty body", resp.StatusCode, body)
	}
	// No limit: faasd's default 1G.
	if resp, body := twDo(t, srv, http.MethodPost, "/system/register", `{"service":"crypto"}`, good...); resp.StatusCode != http.StatusOK {
		t.Fatalf("register crypto: %d %q", resp.StatusCode, body)
	}
	if got := twInvoke(t, srv, "pyaes"); got.StartKind != string(results.StartCold) {
		t.Errorf("first invoke of pyaes: %q, want cold", got.StartKind)
	}
	if st := twMemory(t, srv); st.ChargedBytes != 300_000_000 || st.Instances != 1 {
		t.Errorf("after one pyaes instance: %d bytes charged in %d instances, want 300000000 (the first registration's limit) in 1",
			st.ChargedBytes, st.Instances)
	}
	twInvoke(t, srv, "crypto")
	if st := twMemory(t, srv); st.ChargedBytes != 300_000_000+workloads.DefaultMemoryBytes {
		t.Errorf("with crypto: %d bytes charged, want %d", st.ChargedBytes, 300_000_000+workloads.DefaultMemoryBytes)
	}
}

func TestTwinRegisterWithoutPassword(t *testing.T) {
	model, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	twin, err := NewTwin(TwinConfig{Platform: twBaseline(MethodCold), Model: model, Speed: 1000})
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/system/register", strings.NewReader(`{"service":"pyaes"}`))
	req.SetBasicAuth("admin", "")
	rec := httptest.NewRecorder()
	twin.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || rec.Body.String() != "invalid credentials" {
		t.Errorf("register on a twin without a password: %d %q, want 401 invalid credentials", rec.Code, rec.Body)
	}
}

func TestTwinMetrics(t *testing.T) {
	_, srv := twNew(t, twBaseline(MethodCRIU), 1000, "pyaes", "json-serde")
	sent := map[string]int{"pyaes": 3, "json-serde": 2}
	for fn, n := range sent {
		for range n {
			twInvoke(t, srv, fn)
		}
	}
	resp, body := twDo(t, srv, http.MethodGet, "/system/metrics", "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /system/metrics: %d %q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain" {
		t.Errorf("Content-Type %q, want text/plain", ct)
	}
	if first, _, _ := strings.Cut(body, "\n"); first != results.MetricsHeader {
		t.Errorf("first line %q, want %q", first, results.MetricsHeader)
	}
	if strings.HasSuffix(body, "\n") {
		t.Errorf("the dump ends in a newline; faasd's does not")
	}
	if n := strings.Count(body, "\n"); n != len(results.Labels())+1 {
		t.Errorf("%d lines, want the header, %d metrics and peak-mem", n+1, len(results.Labels()))
	}
	m, err := results.ParseMetrics(strings.NewReader(body), "GET /system/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if m.InvokeCount != 5 {
		t.Errorf("invoke-count %d, want 5", m.InvokeCount)
	}
	for fn, n := range sent {
		// One restore (criu), then warm reuses of the same instance.
		if got := m.Counts[results.LabelStartNewCount][fn]; got != 1 {
			t.Errorf("start-new-count[%s] = %d, want 1", fn, got)
		}
		if got := m.Counts[results.LabelReuseCount][fn]; got != n-1 {
			t.Errorf("reuse-count[%s] = %d, want %d", fn, got, n-1)
		}
		if got := len(m.LatencyMs[results.LabelEndToEndLatency][fn]); got != n {
			t.Errorf("%d end-to-end latencies of %s, want %d", got, fn, n)
		}
	}
	wantPeak := int64(64_000_000 + 100_000_000) // pyaes 64M + json-serde 100M
	if m.PeakMem != wantPeak {
		t.Errorf("peak-mem %d, want %d", m.PeakMem, wantPeak)
	}

	// DELETE resets everything but peak-mem.
	resp, body = twDo(t, srv, http.MethodDelete, "/system/metrics", "")
	if resp.StatusCode != http.StatusOK || body != "" {
		t.Fatalf("DELETE /system/metrics: %d %q, want 200 and an empty body", resp.StatusCode, body)
	}
	m, _ = twMetrics(t, srv)
	if m.InvokeCount != 0 || len(m.Counts) != 0 || len(m.LatencyMs) != 0 {
		t.Errorf("after DELETE: invoke-count %d, counts %v, latencies %v; want all empty", m.InvokeCount, m.Counts, m.LatencyMs)
	}
	if m.PeakMem != wantPeak {
		t.Errorf("after DELETE: peak-mem %d, want %d kept", m.PeakMem, wantPeak)
	}
	twInvoke(t, srv, "pyaes")
	if m, _ = twMetrics(t, srv); m.InvokeCount != 1 || m.Counts[results.LabelReuseCount]["pyaes"] != 1 {
		t.Errorf("one invoke after DELETE: invoke-count %d, reuse-count %v; want 1 reuse of pyaes", m.InvokeCount, m.Counts)
	}
}

func TestTwinFunctionsAndKill(t *testing.T) {
	_, srv := twNew(t, twBaseline(MethodCold), 1000, "pyaes", "json-serde")
	list := func() []functionStatus {
		t.Helper()
		resp, body := twDo(t, srv, http.MethodGet, "/system/functions", "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /system/functions: %d %q", resp.StatusCode, body)
		}
		var l []functionStatus
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Fatalf("%v in %q", err, body)
		}
		return l
	}
	if l := list(); len(l) != 0 {
		t.Errorf("functions before any invoke: %v, want none", l)
	}
	twInvoke(t, srv, "pyaes")
	twInvoke(t, srv, "json-serde")
	twInvoke(t, srv, "pyaes") // reuses pyaes-1
	var names []string
	for _, f := range list() {
		names = append(names, f.Name)
		if f.Namespace != "openfaas-fn" || f.Image != "" || f.Replicas != 0 {
			t.Errorf("entry %+v: want only the name and namespace openfaas-fn", f)
		}
	}
	if want := []string{"json-serde-1", "pyaes-1"}; !slices.Equal(names, want) {
		t.Errorf("functions %v, want %v", names, want)
	}
	if st := twMemory(t, srv); st.Instances != 2 || st.ResidentBytes <= 0 {
		t.Errorf("memory %+v: want 2 instances with resident memory", st)
	}

	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodPut} {
		twInvoke(t, srv, "pyaes")
		resp, body := twDo(t, srv, method, "/danger/kill", "")
		if resp.StatusCode != http.StatusOK || body != "" {
			t.Fatalf("%s /danger/kill: %d %q, want 200 and an empty body", method, resp.StatusCode, body)
		}
		if st := twMemory(t, srv); st.Instances != 0 || st.ChargedBytes != 0 || st.ResidentBytes != 0 {
			t.Errorf("after %s /danger/kill: %+v, want no instance and nothing charged or resident", method, st)
		}
		if l := list(); len(l) != 0 {
			t.Errorf("functions after %s /danger/kill: %v, want none", method, l)
		}
	}
	// Registrations survive: the next invoke starts a new instance.
	if got := twInvoke(t, srv, "pyaes"); got.StartKind != string(results.StartCold) || got.Instance == "pyaes-1" {
		t.Errorf("invoke after kill: %q on %q, want a cold start of a new instance", got.StartKind, got.Instance)
	}
}

func TestTwinKillTrEnvSeeds(t *testing.T) {
	cfg := DefaultConfig(MethodTrEnv)
	cfg.IdleNum = 5
	_, srv := twNew(t, cfg, 1000, "pyaes")
	if st := twMemory(t, srv); st.Instances != 5 || st.ChargedBytes != 5*SeedChargeBytes {
		t.Fatalf("seeded twin: %+v, want 5 seeds of %d bytes", st, SeedChargeBytes)
	}
	if got := twInvoke(t, srv, "pyaes"); got.StartKind != string(results.StartSwitch) {
		t.Errorf("first pyaes with idle seeds: %q, want switch", got.StartKind)
	}
	twDo(t, srv, http.MethodPost, "/danger/kill", "")
	if st := twMemory(t, srv); st.Instances != 0 || st.ChargedBytes != 0 {
		t.Errorf("after /danger/kill: %+v, want the seeds and pyaes gone", st)
	}
	if got := twInvoke(t, srv, "pyaes"); got.StartKind != string(results.StartCold) {
		t.Errorf("pyaes with nothing idle: %q, want cold", got.StartKind)
	}
}

func TestTwinMemoryLimit(t *testing.T) {
	cfg := twBaseline(MethodCold)
	cfg.MemBytes = 100e6
	_, srv := twNew(t, cfg, 1000, "pyaes", "chameleon") // 64M and 300M
	resp, body := twDo(t, srv, http.MethodPost, "/invoke/chameleon", "")
	if resp.StatusCode != http.StatusInternalServerError {
		t.Fatalf("chameleon (300M) under a 100 MB bound: %d %q, want 500", resp.StatusCode, body)
	}
	for _, want := range []string{"Failed to make ctr instance for chameleon", "reach memory limitation"} {
		if !strings.Contains(body, want) {
			t.Errorf("body %q lacks %q", body, want)
		}
	}
	if strings.Contains(body, "(cold start)") {
		t.Errorf("body %q: a baseline's message has no \" (cold start)\"", body)
	}
	// What fits still runs, and the failure charged nothing.
	twInvoke(t, srv, "pyaes")
	if st := twMemory(t, srv); st.ChargedBytes != 64e6 {
		t.Errorf("charged %d bytes, want pyaes's 64000000 only", st.ChargedBytes)
	}
	if m, _ := twMetrics(t, srv); m.InvokeCount != 1 || m.PeakMem != 64e6 {
		t.Errorf("invoke-count %d, peak-mem %d; want 1 and 64000000 (faasd-side 500s record nothing)", m.InvokeCount, m.PeakMem)
	}
}

// TestTwinClientGone checks that an invocation runs to its end when its
// client disconnects, and returns its instance to the pool.
func TestTwinClientGone(t *testing.T) {
	// At speed 10 a CRIU restore of pyaes plus its first execution (≈ 290
	// + 330 ms of model time) takes ≈ 60 ms of wall time; the client gives
	// up after 10 ms.
	_, srv := twNew(t, twBaseline(MethodCRIU), 10, "pyaes")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/invoke/pyaes", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("the invocation answered %d within 10 ms; want the client to give up first", resp.StatusCode)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("client: %v, want a deadline", err)
	}
	// The instance is busy, then released: invoke-count counts releases.
	deadline := time.Now().Add(5 * time.Second)
	for {
		m, _ := twMetrics(t, srv)
		if m.InvokeCount == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the abandoned invocation never ended")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got := twInvoke(t, srv, "pyaes"); got.StartKind != string(results.StartReuse) || got.Instance != "pyaes-1" {
		t.Errorf("invoke after the client left: %q on %q, want reuse of pyaes-1", got.StartKind, got.Instance)
	}
	if st := twMemory(t, srv); st.Instances != 1 {
		t.Errorf("%d instances, want 1", st.Instances)
	}
}

// TestTwinClientGoneWhileWaiting checks that a request waiting for a start
// slot stops waiting when its client leaves, and leaves nothing behind.
func TestTwinClientGoneWhileWaiting(t *testing.T) {
	twin, _ := twNew(t, twBaseline(MethodCRIU), 1, "pyaes")
	// Fill every start worker and the channel: the next start is refused.
	twin.mu.Lock()
	for range StartWorkers + StartQueueSlots {
		if _, err := twin.p.Acquire(twin.modelNow(), twin.modelNow(), "pyaes"); err != nil {
			twin.mu.Unlock()
			t.Fatal(err)
		}
	}
	twin.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	rec := httptest.NewRecorder()
	done := make(chan struct{})
	go func() {
		defer close(done)
		twin.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/invoke/pyaes", nil).WithContext(ctx))
	}()
	time.Sleep(3 * StartRetry) // a few refused decisions
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting request did not end when its client left")
	}
	twin.mu.Lock()
	defer twin.mu.Unlock()
	if n := twin.p.Live(); n != StartWorkers+StartQueueSlots {
		t.Errorf("%d live instances, want the %d started before", n, StartWorkers+StartQueueSlots)
	}
	if n := twin.p.Metrics().InvokeCount; n != 0 {
		t.Errorf("invoke-count %d, want 0", n)
	}
}

func TestTwinBackgroundGC(t *testing.T) {
	cfg := DefaultConfig(MethodCRIU)
	cfg.GC = 10 * time.Second
	// Speed 1000: the 5 s scan runs every 5 ms of wall time.
	twin, srv := twNew(t, cfg, 1000, "pyaes")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { twin.RunBackground(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	twInvoke(t, srv, "pyaes")
	deadline := time.Now().Add(5 * time.Second)
	for twMemory(t, srv).Instances != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the idle instance outlived the keep-alive")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, charged := twin.Memory(); charged != 0 {
		t.Errorf("charged %d bytes after GC, want 0", charged)
	}
}

func TestNewTwinSpeed(t *testing.T) {
	model, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, speed := range []float64{-1, math.Inf(1), math.NaN()} {
		if _, err := NewTwin(TwinConfig{Platform: twBaseline(MethodCold), Model: model, Speed: speed}); !errors.Is(err, ErrConfig) {
			t.Errorf("speed %v: %v, want ErrConfig", speed, err)
		}
	}
	twin, err := NewTwin(TwinConfig{Platform: twBaseline(MethodCold), Model: model})
	if err != nil {
		t.Fatal(err)
	}
	if twin.cfg.Speed != 1 {
		t.Errorf("speed 0 became %v, want 1 (real time)", twin.cfg.Speed)
	}
	if _, err := NewTwin(TwinConfig{Platform: Config{Method: "bogus", MemBytes: 1}, Model: model}); !errors.Is(err, ErrConfig) {
		t.Errorf("bad method: %v, want ErrConfig", err)
	}
}

// TestTwinReleaseAtModelEnd checks that an instance is free from its
// invocation's end in model time, even while the clock's timer has not
// fired yet (timers wake late; at speed S a millisecond late is S ms of
// model time): the next request moves the platform on to its own time.
func TestTwinReleaseAtModelEnd(t *testing.T) {
	twin, _ := twNew(t, twBaseline(MethodCRIU), 1, "pyaes")
	var mu sync.Mutex
	clock := time.Unix(1e9, 0)
	twin.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	twin.start = clock
	twin.sleep = func(ctx context.Context, d time.Duration) error { return nil }
	sleeping := make(chan time.Duration)
	wake := make(chan struct{})
	twin.clockSleep = func(d time.Duration, kick <-chan struct{}) {
		select {
		case sleeping <- d:
			<-wake // a timer that fires only when the test says
		case <-wake: // from then on, every timer has fired
		}
	}
	h := twin.Handler()
	invoke := func() <-chan *httptest.ResponseRecorder {
		out := make(chan *httptest.ResponseRecorder, 1)
		go func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/invoke/pyaes", nil))
			out <- rec
		}()
		return out
	}
	first := invoke()
	if d := <-sleeping; d <= 0 || d > 10*time.Second {
		t.Fatalf("the clock sleeps %v, want until the first invocation's next phase", d)
	}
	// Its end passes in model time; the clock's timer has not fired.
	mu.Lock()
	clock = clock.Add(10 * time.Second)
	mu.Unlock()
	second := invoke()
	recs := []*httptest.ResponseRecorder{<-first, nil}
	// The second ends when the model's clock passes its end, too.
	mu.Lock()
	clock = clock.Add(10 * time.Second)
	mu.Unlock()
	close(wake)
	recs[1] = <-second
	for i, rec := range recs {
		var got InvokeResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("invocation %d: %d %q: %v", i+1, rec.Code, rec.Body, err)
		}
		want := []InvokeResponse{{StartKind: "restore", Instance: "pyaes-1"}, {StartKind: "reuse", Instance: "pyaes-1"}}[i]
		if got.StartKind != want.StartKind || got.Instance != want.Instance {
			t.Errorf("invocation %d: %s on %s, want %s on %s", i+1, got.StartKind, got.Instance, want.StartKind, want.Instance)
		}
	}
	twin.mu.Lock()
	defer twin.mu.Unlock()
	if n, m := twin.p.Live(), twin.p.Metrics().InvokeCount; n != 1 || m != 2 {
		t.Errorf("%d instances, invoke-count %d; want 1 and 2", n, m)
	}
	if ids := twin.p.IdleInstances(); !slices.Equal(ids, []string{"pyaes-1"}) {
		t.Errorf("idle %v, want pyaes-1", ids)
	}
}

// TestTwinCPU: the twin reports the model host's utilisation since its
// last reading, and GET /sim/memory the busy thread-seconds: one cold
// start and execution keep one of the 128 threads busy from its arrival
// to its end.
func TestTwinCPU(t *testing.T) {
	twin, srv := twNew(t, twBaseline(MethodCold), 1, "pyaes")
	var mu sync.Mutex
	clock := time.Unix(1e9, 0)
	twin.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	twin.start = clock
	now := twin.lock()
	if _, err := twin.p.Acquire(now, now, "pyaes"); err != nil {
		t.Fatal(err)
	}
	var end time.Duration
	twin.p.Advance(time.Hour, func(d Done) { end = d.End })
	twin.mu.Unlock()
	mu.Lock()
	clock = clock.Add(10 * time.Second)
	mu.Unlock()
	u, ok := twin.CPU()
	if want := end.Seconds() / (128 * 10); !ok || math.Abs(u-want) > 1e-12 {
		t.Errorf("utilisation %v, %v; want %v (busy %v of 10 s on 1 of 128 threads)", u, ok, want, end)
	}
	if u, ok := twin.CPU(); ok {
		t.Errorf("no model time since the last reading: %v, want none", u)
	}
	if st := twMemory(t, srv); st.HostThreads != 128 || math.Abs(st.CPUBusyS-end.Seconds()) > 1e-9 {
		t.Errorf("/sim/memory: %v threads, %v busy thread-s; want 128 and %v", st.HostThreads, st.CPUBusyS, end.Seconds())
	}
}
