package replay

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// retryNote is an attempt that failed and is retried, as the Recorder got it.
type retryNote struct {
	function string
	atS      float64 // run clock
	attempt  int     // 0-based
	msg      string
}

// sink is the Recorder of the tests: it keeps what a Run hands out, and the
// order of its phase and request events; safe for concurrent use.
type sink struct {
	mu       sync.Mutex
	records  []results.Request
	retries  []retryNote
	events   []string // "START <phase>", "END <phase>", "ok" (consecutive ones once), "metrics <phase>"
	phases   []results.PhaseSpan
	metrics  map[string][]byte
	health   results.MetricsHealth
	memory   []results.MemorySample
	progress []Progress
	// failOn, when not 0, makes the failOn-th Request call fail with errFail.
	failOn  int
	errFail error
	calls   int
}

var _ results.Recorder = (*sink)(nil)

func (s *sink) config(c Config) Config {
	c.Recorder = s
	c.Control = Control{Backoff: time.Millisecond, Timeout: time.Second}
	c.Progress = func(p Progress) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.progress = append(s.progress, p)
	}
	return c
}

func (s *sink) event(e string) {
	if e == "ok" && len(s.events) > 0 && s.events[len(s.events)-1] == "ok" {
		return
	}
	s.events = append(s.events, e)
}

func (s *sink) Start(time.Time) error { return nil }
func (s *sink) PhaseStart(phase string, atS float64, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phases = append(s.phases, results.PhaseSpan{Name: phase, StartS: atS, Scheduled: n})
	s.event("START " + phase)
	return nil
}
func (s *sink) PhaseEnd(phase string, atS float64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phases[len(s.phases)-1].EndS = &atS
	s.event("END " + phase)
	return nil
}
func (s *sink) Request(r *results.Request) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.failOn != 0 && s.calls == s.failOn {
		return s.errFail
	}
	s.records = append(s.records, *r)
	if r.Status == results.StatusOK {
		s.event("ok")
	}
	return nil
}
func (s *sink) Retry(phase, fn string, atS float64, attempt int, msg string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retries = append(s.retries, retryNote{function: fn, atS: atS, attempt: attempt, msg: msg})
	return nil
}
func (s *sink) Memory(atS float64, b int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.memory = append(s.memory, results.MemorySample{TimeS: atS, Bytes: b})
	return nil
}
func (s *sink) CPU(float64, float64) error { return nil }
func (s *sink) Metrics(phase string, raw []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.metrics == nil {
		s.metrics = map[string][]byte{}
	}
	s.metrics[phase] = raw
	s.event("metrics " + phase)
	return nil
}
func (s *sink) MetricsFailed(phase string, op results.MetricsOp, err error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if op == results.MetricsReset {
		s.health.ResetError = err.Error()
	} else {
		s.health.Missing = append(s.health.Missing, phase+": "+err.Error())
	}
	return nil
}
func (s *sink) Attach(string, io.Reader) error { return nil }

// count returns how many records have the status.
func (s *sink) count(st results.Status) int {
	n := 0
	for _, r := range s.records {
		if r.Status == st {
			n++
		}
	}
	return n
}

// key identifies a request: its phase, function and scheduled time.
type key struct {
	phase, function string
	scheduledUs     int64
}

func keyOf(r results.Request) key {
	return key{r.Phase, r.Function, int64(math.Round(r.ScheduledS * 1e6))}
}

// planned returns the keys of every request of the workload, from
// workloads.NewSchedule (not from plan: the test checks plan is it).
func planned(w workloads.Workload, seed uint64) []key {
	var keys []key
	for _, ph := range []struct {
		name string
		p    workloads.Phase
	}{{PhaseWarmup, w.Warmup}, {PhaseTest, w.Test}} {
		s := workloads.NewSchedule(ph.p, seed)
		for {
			sec, ok := s.Next()
			if !ok {
				break
			}
			for _, a := range sec {
				keys = append(keys, key{ph.name, ph.p[a.Function].Function, int64(math.Round(a.At.Seconds() * 1e6))})
			}
		}
	}
	return keys
}

func sortedKeys(rs []results.Request) []key {
	keys := make([]key, len(rs))
	for i, r := range rs {
		keys[i] = keyOf(r)
	}
	slices.SortFunc(keys, cmpKey)
	return keys
}

func cmpKey(a, b key) int {
	return strings.Compare(fmt.Sprint(a.phase, a.function, a.scheduledUs+1e12), fmt.Sprint(b.phase, b.function, b.scheduledUs+1e12))
}

// checkOneRecordEach fails unless the records are exactly one per planned
// request, with consistent fields.
func checkOneRecordEach(t *testing.T, w workloads.Workload, seed uint64, recs []results.Request) {
	t.Helper()
	want := planned(w, seed)
	slices.SortFunc(want, cmpKey)
	if got := sortedKeys(recs); !slices.Equal(got, want) {
		t.Errorf("records (phase, function, scheduled) = %v\nwant one per request of the schedule: %v", got, want)
	}
	for _, r := range recs {
		var buf bytes.Buffer
		if err := results.NewRequestWriter(&buf).Write(&r); err != nil {
			t.Errorf("record %+v does not write: %v", r, err)
		}
		switch r.Status {
		case results.StatusOK:
			// Error keeps the last failed attempt's message, if any.
			if r.Attempts < 1 || r.Attempts > MaxRetries+1 || math.IsNaN(r.E2EMs) || math.IsNaN(r.DoneS) ||
				math.IsNaN(r.FuncMs) || (r.Error != "") != (r.Attempts > 1) || r.SentS < r.ScheduledS || r.DoneS < r.SentS {
				t.Errorf("bad ok record %+v", r)
			}
			if d := r.TotalMs - (r.DoneS-r.ScheduledS)*1000; math.Abs(d) > 1e-6 {
				t.Errorf("total_ms %v is not done − scheduled in %+v", r.TotalMs, r)
			}
		case results.StatusFailed:
			if r.Error == "" || !math.IsNaN(r.E2EMs) || math.IsNaN(r.DoneS) {
				t.Errorf("bad failed record %+v", r)
			}
		case results.StatusAbandoned:
			if r.Error == "" || !math.IsNaN(r.DoneS) || !math.IsNaN(r.TotalMs) || (r.Attempts == 0) != math.IsNaN(r.SentS) {
				t.Errorf("bad abandoned record %+v", r)
			}
		}
	}
}

// TestRunTwin replays a short workload against the twin, at 20× speed:
// the warmup, then a metrics reset, then the test; every request recorded
// once; the ok count of the test phase is the twin's invoke-count.
func TestRunTwin(t *testing.T) {
	const speed = 20
	model, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	twin, err := sim.NewTwin(sim.TwinConfig{Platform: sim.DefaultConfig(sim.MethodTrEnv), Model: model,
		Password: testPassword, Speed: speed})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(twin.Handler())
	defer srv.Close()

	w := workloads.Workload{
		Warmup: workloads.Phase{
			{Function: "pyaes", Counts: []int{2, 1, 0, 0, 0}},
			{Function: "image-processing", Counts: []int{0, 1, 0, 0, 0}},
		},
		Test: workloads.Phase{
			{Function: "pyaes", Counts: []int{3, 0, 2, 0, 0, 0, 0, 0}},
			{Function: "dynamic-html", Counts: []int{0, 6, 0, 0, 0, 0, 0, 0}},
			{Function: "image-processing", Counts: []int{1, 0, 1, 0, 0, 0, 0, 0}},
		},
	}
	g := &Gateway{URL: srv.URL, Password: testPassword}
	if err := g.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pyaes", "dynamic-html", "image-processing"} {
		if err := g.Register(context.Background(), lookup(t, name)); err != nil {
			t.Fatal(err)
		}
	}
	var s sink
	const seed = 42
	sum, err := Run(context.Background(), s.config(Config{Target: g, Speed: speed, JitterSeed: seed}), w)
	if err != nil {
		t.Fatal(err)
	}
	checkOneRecordEach(t, w, seed, s.records)

	okIn := map[string]int{}
	for _, r := range s.records {
		if r.Status != results.StatusOK {
			t.Errorf("not ok: %+v", r)
		}
		if !r.StartKind.Valid() || r.StartKind == results.StartUnknown {
			t.Errorf("no start kind from the twin: %+v", r)
		}
		okIn[r.Phase]++
	}
	for phase, want := range map[string]PhaseSummary{
		PhaseWarmup: {Ran: true, Scheduled: 4, Sent: 4, OK: 4},
		PhaseTest:   {Ran: true, Scheduled: 13, Sent: 13, OK: 13},
	} {
		got := map[string]PhaseSummary{PhaseWarmup: sum.Warmup, PhaseTest: sum.Test}[phase]
		if got.Scheduled != want.Scheduled || got.Sent != want.Sent || got.OK != want.OK || got.Failed+got.Abandoned != 0 ||
			got.PeakInFlight < 1 || !got.Ran {
			t.Errorf("%s summary %+v, want %+v", phase, got, want)
		}
	}

	// The metrics: the warmup's before the reset, the test's after it.
	for phase, raw := range s.metrics {
		m, err := results.ParseMetrics(bytes.NewReader(raw), phase)
		if err != nil {
			t.Fatalf("%s metrics: %v", phase, err)
		}
		if m.InvokeCount != okIn[phase] {
			t.Errorf("%s: invoke-count %d, want the %d ok requests (was the warmup reset?)", phase, m.InvokeCount, okIn[phase])
		}
	}
	if len(s.metrics) != 2 {
		t.Errorf("metrics of %d phases, want 2", len(s.metrics))
	}

	// The recorder sees each phase start, its requests, its end, then
	// its metrics.
	wantEvents := []string{"START warmup", "ok", "END warmup", "metrics warmup", "START test", "ok", "END test", "metrics test"}
	if !slices.Equal(s.events, wantEvents) {
		t.Errorf("events %q\nwant %q", s.events, wantEvents)
	}
	if n := s.count(results.StatusOK); n != 17 || len(s.retries) != 0 {
		t.Errorf("%d ok records and %d retries, want 17 and none", n, len(s.retries))
	}
	if len(s.phases) != 2 || s.phases[1].StartS < *s.phases[0].EndS || s.phases[0].Scheduled != 4 || s.phases[1].Scheduled != 13 {
		t.Errorf("phases %+v: want warmup (4) then test (13), in order on the run clock", s.phases)
	}

	// Progress ends with every request completed.
	var last Progress
	for _, p := range s.progress {
		if p.Phase == PhaseTest {
			last = p
		}
	}
	if last.Completed != 13 || last.Scheduled != 13 || last.Sent != 13 || last.InFlight != 0 || last.Failed != 0 {
		t.Errorf("last test progress %+v", last)
	}
}

// faulty is a gateway with scripted invocation answers: answer(n) is
// called for the n-th invocation (from 0) and does what it likes. It
// records when each invocation arrived.
type faulty struct {
	srv     *httptest.Server
	mu      sync.Mutex
	arrived []time.Time
	deletes int
	answer  func(n int, w http.ResponseWriter, r *http.Request)
	release chan struct{} // closed when the test ends: stuck handlers return
	// client is the Gateway's Client: nil for its own (internal/h1 for
	// invocations), NewClient() for net/http's.
	client *http.Client
}

func newFaulty(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *faulty {
	f := &faulty{answer: answer, release: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, "/invoke/"):
			io.Copy(io.Discard, r.Body)
			f.mu.Lock()
			n := len(f.arrived)
			f.arrived = append(f.arrived, time.Now())
			f.mu.Unlock()
			f.answer(n, w, r)
		case r.URL.Path == "/system/metrics" && r.Method == http.MethodDelete:
			f.mu.Lock()
			f.deletes++
			f.mu.Unlock()
		case r.URL.Path == "/system/metrics":
			io.WriteString(w, "Metrics:\n")
		}
	}))
	t.Cleanup(f.srv.Close)
	t.Cleanup(func() { close(f.release) }) // runs first
	return f
}

func (f *faulty) invocations() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.arrived)
}

func (f *faulty) gateway() *Gateway { return &Gateway{URL: f.srv.URL, Client: f.client} }

// clients are the two ways a Gateway invokes: its own HTTP/1.1 client
// (internal/h1) and net/http's (a Client given to it).
var clients = []struct {
	name string
	make func() *http.Client
}{{"h1", func() *http.Client { return nil }}, {"net/http", NewClient}}

// Scripted answers.
func answerOK(w http.ResponseWriter) { io.WriteString(w, `{"latency": 0.25}`) }

func answer500(w http.ResponseWriter) {
	http.Error(w, "Failed to make ctr instance for pyaes: reach memory limitation", http.StatusInternalServerError)
}

func hangUp(t *testing.T, w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	conn.Close()
}

// stall answers nothing until the client gives up (or the test ends).
func (f *faulty) stall(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-f.release:
	}
}

// TestRunRetries covers upstream's retry policy against a faulty gateway,
// one request per case: attempts, back-off gaps (≥ 0.5, 1, 2 s in model
// time), the log events, the final status. Speed 100 turns the back-offs
// into 5, 10 and 20 ms.
func TestRunRetries(t *testing.T) {
	const speed = 100
	type want struct {
		status   results.Status
		attempts int
		errHas   string // in the record's error
		retries  int    // WARNING events
		giveUps  int    // ERROR events
	}
	for _, tc := range []struct {
		name    string
		timeout time.Duration // Config.AttemptTimeout (model time); 0 = default
		answer  func(f *faulty, t *testing.T, n int, w http.ResponseWriter, r *http.Request)
		want    want
	}{
		{name: "ok at once",
			answer: func(f *faulty, t *testing.T, n int, w http.ResponseWriter, r *http.Request) { answerOK(w) },
			want:   want{results.StatusOK, 1, "", 0, 0}},
		{name: "500 twice then ok",
			answer: func(f *faulty, t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				if n < 2 {
					answer500(w)
					return
				}
				answerOK(w)
			},
			want: want{results.StatusOK, 3, "[500 Internal Server Error]", 2, 0}},
		{name: "500 always: fails after 4 attempts",
			answer: func(f *faulty, t *testing.T, n int, w http.ResponseWriter, r *http.Request) { answer500(w) },
			want: want{results.StatusFailed, 4,
				"[500 Internal Server Error] Failed to make ctr instance for pyaes: reach memory limitation", 3, 1}},
		{name: "connection closed once",
			answer: func(f *faulty, t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				if n == 0 {
					hangUp(t, w)
					return
				}
				answerOK(w)
			},
			want: want{results.StatusOK, 2, "EOF", 1, 0}},
		{name: "connection closed always",
			answer: func(f *faulty, t *testing.T, n int, w http.ResponseWriter, r *http.Request) { hangUp(t, w) },
			want:   want{results.StatusFailed, 4, "EOF", 3, 1}},
		{name: "slow beyond the attempt timeout once", timeout: 2 * time.Second,
			answer: func(f *faulty, t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				if n == 0 {
					f.stall(r)
					return
				}
				answerOK(w)
			},
			want: want{results.StatusOK, 2, "attempt timed out after 2s", 1, 0}},
		{name: "slow always", timeout: 2 * time.Second,
			answer: func(f *faulty, t *testing.T, n int, w http.ResponseWriter, r *http.Request) { f.stall(r) },
			want:   want{results.StatusFailed, 4, "attempt timed out after 2s", 3, 1}},
		{name: "201 is a failure",
			answer: func(f *faulty, t *testing.T, n int, w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusCreated)
				answerOK(w)
			},
			want: want{results.StatusFailed, 4, "[201 Created]", 3, 1}},
	} {
		for _, cl := range clients {
			t.Run(cl.name+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				var f *faulty
				f = newFaulty(t, func(n int, w http.ResponseWriter, r *http.Request) { tc.answer(f, t, n, w, r) })
				f.client = cl.make()
				// One request in a 60 s phase: deadline 72 s, 0.72 s of wall time.
				counts := make([]int, 60)
				counts[0] = 1
				w := workloads.Workload{Test: workloads.Phase{{Function: "pyaes", Counts: counts}}}
				var s sink
				_, err := Run(context.Background(), s.config(Config{Target: f.gateway(), Speed: speed,
					AttemptTimeout: tc.timeout}), w)
				if err != nil {
					t.Fatal(err)
				}
				checkOneRecordEach(t, w, 0, s.records)
				if len(s.records) != 1 {
					t.Fatalf("%d records", len(s.records))
				}
				r := s.records[0]
				if r.Status != tc.want.status || r.Attempts != tc.want.attempts || !strings.Contains(r.Error, tc.want.errHas) ||
					(tc.want.errHas == "") != (r.Error == "") {
					t.Errorf("record %+v\nwant %+v", r, tc.want)
				}
				if n := f.invocations(); n != tc.want.attempts {
					t.Errorf("the gateway saw %d attempts, want %d", n, tc.want.attempts)
				}
				giveUps := s.count(results.StatusFailed)
				if len(s.retries) != tc.want.retries || giveUps != tc.want.giveUps {
					t.Errorf("%d retries and %d failed records, want %d and %d", len(s.retries), giveUps, tc.want.retries, tc.want.giveUps)
				}
				for k, e := range s.retries {
					if e.attempt != k || e.function != "pyaes" || e.msg == "" {
						t.Errorf("retry %d: %+v", k, e)
					}
				}
				if r.Status == results.StatusOK && r.FuncMs != 250 {
					t.Errorf("ok record %+v, want func_ms 250", r)
				}
				// Back-off: attempt k+1 arrives ≥ Backoff(k) after attempt k
				// (model time), the wait upstream sleeps.
				for k := 0; k+1 < len(f.arrived); k++ {
					gap := time.Duration(float64(f.arrived[k+1].Sub(f.arrived[k])) * speed)
					if gap < Backoff(k) {
						t.Errorf("attempts %d and %d %v apart (model time), want ≥ %v", k, k+1, gap, Backoff(k))
					}
				}
			})
		}
	}
}

// TestRunNoLatency: a 200 without a usable latency fails at once, without
// retry and without a log line, as upstream.
func TestRunNoLatency(t *testing.T) {
	for _, body := range []string{``, `not json`, `{"data": 1}`, `{"latency": null}`, `{"latency": "1"}`} {
		t.Run(body, func(t *testing.T) {
			t.Parallel()
			f := newFaulty(t, func(n int, w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })
			w := workloads.Workload{Test: workloads.Phase{{Function: "image-processing", Counts: []int{1}}}}
			var s sink
			sum, err := Run(context.Background(), s.config(Config{Target: f.gateway(), Speed: 10}), w)
			if err != nil {
				t.Fatal(err)
			}
			r := s.records[0]
			if r.Status != results.StatusFailed || r.Attempts != 1 || !strings.Contains(r.Error, "latency") ||
				f.invocations() != 1 || sum.Test.Failed != 1 {
				t.Errorf("record %+v (%d invocations), want failed after one attempt", r, f.invocations())
			}
			if len(s.retries) != 0 {
				t.Errorf("retries %+v, want none for this request", s.retries)
			}
		})
	}
}

// TestRunRandomFailures: seeded random 500s over many requests; every
// request is recorded once, its attempts add up to what the gateway saw,
// and only requests that failed 4 times are failed.
func TestRunRandomFailures(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	var mu sync.Mutex
	var served200 int
	f := newFaulty(t, func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		fail := rng.Float64() < 0.6
		if !fail {
			served200++
		}
		mu.Unlock()
		if fail {
			answer500(w)
			return
		}
		answerOK(w)
	})
	w := workloads.Workload{Test: workloads.Phase{
		{Function: "pyaes", Counts: []int{20, 10, 0, 0, 0, 0, 0, 0, 0, 0}},
		{Function: "crypto", Counts: []int{5, 15, 0, 0, 0, 0, 0, 0, 0, 0}},
	}}
	var s sink
	sum, err := Run(context.Background(), s.config(Config{Target: f.gateway(), Speed: 100, JitterSeed: 3}), w)
	if err != nil {
		t.Fatal(err)
	}
	checkOneRecordEach(t, w, 3, s.records)
	attempts, ok, failed := 0, 0, 0
	for _, r := range s.records {
		attempts += r.Attempts
		switch r.Status {
		case results.StatusOK:
			ok++
		case results.StatusFailed:
			failed++
			if r.Attempts != MaxRetries+1 {
				t.Errorf("failed after %d attempts: %+v", r.Attempts, r)
			}
		default:
			t.Errorf("abandoned: %+v", r)
		}
	}
	if attempts != f.invocations() || ok != served200 || ok != sum.Test.OK || failed != sum.Test.Failed {
		t.Errorf("attempts %d (gateway saw %d), ok %d (gateway answered 200 %d times, summary %d), failed %d (summary %d)",
			attempts, f.invocations(), ok, served200, sum.Test.OK, failed, sum.Test.Failed)
	}
	if failed == 0 || ok == 0 {
		t.Errorf("ok %d, failed %d: the seed should give both", ok, failed)
	}
	if got, want := len(s.retries), attempts-len(s.records); got != want {
		t.Errorf("%d retries, want %d (failed attempts that were retried)", got, want)
	}
}

// TestRunDeadline: requests unfinished at the phase deadline (int(1.2 × 1 s)
// = 1 s) are abandoned, not dropped, whether waiting for an answer or for
// a back-off.
func TestRunDeadline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answer   func(f *faulty, w http.ResponseWriter, r *http.Request)
		attempts int // at least
		errHas   string
	}{
		{"no answer", func(f *faulty, w http.ResponseWriter, r *http.Request) { f.stall(r) }, 1, "phase deadline passed"},
		// 500s: back-offs of 0.5 and 1 s outlast the 1 s phase.
		{"backing off", func(f *faulty, w http.ResponseWriter, r *http.Request) { answer500(w) }, 1,
			"phase deadline passed (last failure: [500 Internal Server Error]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var f *faulty
			f = newFaulty(t, func(n int, w http.ResponseWriter, r *http.Request) { tc.answer(f, w, r) })
			w := workloads.Workload{Test: workloads.Phase{{Function: "pyaes", Counts: []int{3}}}}
			var s sink
			sum, err := Run(context.Background(), s.config(Config{Target: f.gateway(), Speed: 10}), w)
			if err != nil {
				t.Fatal(err)
			}
			checkOneRecordEach(t, w, 0, s.records)
			for _, r := range s.records {
				if r.Status != results.StatusAbandoned || r.Attempts < tc.attempts || r.Attempts > 2 || !strings.HasPrefix(r.Error, tc.errHas) {
					t.Errorf("record %+v, want abandoned after %d attempts: %q", r, tc.attempts, tc.errHas)
				}
			}
			if sum.Test.Abandoned != 3 || !sum.Test.DeadlineHit {
				t.Errorf("summary %+v", sum.Test)
			}
			if wall := sum.Test.Wall; wall > 5*time.Second {
				t.Errorf("the phase took %v: it did not stop at its deadline (0.1 s)", wall)
			}
		})
	}
}

// TestRunResetFails: when DELETE /system/metrics still fails after its
// retries, the failure is recorded and the test phase runs all the same
// (upstream skips it silently), its metrics marked as mixed.
func TestRunResetFails(t *testing.T) {
	var mu sync.Mutex
	invoked := map[string]int{}
	deletes := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasPrefix(r.URL.Path, "/invoke/"):
			invoked[strings.TrimPrefix(r.URL.Path, "/invoke/")]++
			answerOK(w)
		case r.Method == http.MethodDelete:
			deletes++
			http.Error(w, "boom", http.StatusInternalServerError)
		default:
			io.WriteString(w, "Metrics:\n")
		}
	}))
	defer srv.Close()
	w := workloads.Workload{
		Warmup: workloads.Phase{{Function: "pyaes", Counts: []int{2}}},
		Test:   workloads.Phase{{Function: "dynamic-html", Counts: []int{3}}},
	}
	var s sink
	sum, err := Run(context.Background(), s.config(Config{Target: &Gateway{URL: srv.URL}, Speed: 10}), w)
	if err != nil {
		t.Fatal(err)
	}
	if invoked["dynamic-html"] != 3 || invoked["pyaes"] != 2 || deletes != DefaultControl.Tries {
		t.Errorf("invocations %v, %d resets: want both phases and %d reset attempts", invoked, deletes, DefaultControl.Tries)
	}
	if len(s.records) != 5 || !sum.Test.Ran || sum.Test.OK != 3 {
		t.Errorf("%d records, summary %+v", len(s.records), sum)
	}
	if !strings.Contains(s.health.ResetError, "boom") || len(s.metrics) != 2 {
		t.Errorf("health %+v, metrics of %d phases: want the reset's failure and both snapshots", s.health, len(s.metrics))
	}
}

// TestRunCancel: cancelling the context stops dispatching at once; the
// requests never sent and those still in flight after the grace period
// are recorded as abandoned; Run returns an error wrapping
// context.Canceled.
func TestRunCancel(t *testing.T) {
	for _, tc := range []struct {
		name   string
		grace  time.Duration
		warmup bool // cancel during the warmup (the test phase never starts)
		// in flight at the cancel: "interrupted" after the grace, or ok
		// when they answer within it
		inFlight results.Status
	}{
		{"test phase, no grace left", 20 * time.Millisecond, false, results.StatusAbandoned},
		{"warmup, no grace left", 20 * time.Millisecond, true, results.StatusAbandoned},
		{"answers within the grace", 5 * time.Second, false, results.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var f *faulty
			f = newFaulty(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 4 {
					cancel() // the fifth request cancels the run
				}
				select {
				case <-ctx.Done():
				case <-r.Context().Done():
					return
				}
				if tc.inFlight == results.StatusOK {
					time.Sleep(10 * time.Millisecond)
					answerOK(w)
					return
				}
				f.stall(r)
			})
			ph := workloads.Phase{{Function: "pyaes", Counts: []int{10, 10, 10, 10, 10}}}
			w := workloads.Workload{Test: ph}
			if tc.warmup {
				w = workloads.Workload{Warmup: ph, Test: workloads.Phase{{Function: "crypto", Counts: []int{5}}}}
			}
			var s sink
			sum, err := Run(ctx, s.config(Config{Target: f.gateway(), Speed: 10, Grace: tc.grace}), w)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error %v, want context.Canceled", err)
			}
			// Every request of the workload has its record, the test
			// phase's too when the warmup was interrupted.
			checkOneRecordEach(t, w, 0, s.records)
			var notSent, inFlight, notStarted int
			for _, r := range s.records {
				switch {
				case tc.warmup && r.Phase == PhaseTest:
					notStarted++
					if r.Status != results.StatusAbandoned || r.Error != "interrupted before the phase started" || r.Attempts != 0 {
						t.Errorf("test phase after an interrupted warmup: %+v", r)
					}
				case r.Attempts == 0:
					notSent++
					if r.Status != results.StatusAbandoned || r.Error != "interrupted before sending" {
						t.Errorf("never sent: %+v", r)
					}
				default:
					inFlight++
					if r.Status != tc.inFlight || tc.inFlight == results.StatusAbandoned && r.Error != "interrupted" {
						t.Errorf("in flight: %+v, want %s", r, tc.inFlight)
					}
				}
			}
			if notSent == 0 || inFlight < 5 || tc.warmup && notStarted != 5 {
				t.Errorf("%d never sent, %d in flight, %d of a phase not started; want some of each", notSent, inFlight, notStarted)
			}
			ps := sum.Test
			if tc.warmup {
				ps = sum.Warmup
				if sum.Test.Ran {
					t.Error("the test phase ran")
				}
			}
			if ps.Scheduled != 50 || ps.OK+ps.Failed+ps.Abandoned != 50 || ps.Sent != inFlight {
				t.Errorf("summary %+v", ps)
			}
			if _, ok := s.metrics[PhaseTest]; ok || tc.warmup && len(s.metrics) != 0 {
				t.Errorf("metrics fetched after the interruption: %v", s.metrics)
			}
		})
	}
}

// TestRunRecordError: a recording error stops the run and is returned; no
// record is handed to the recorder after it.
func TestRunRecordError(t *testing.T) {
	f := newFaulty(t, func(n int, w http.ResponseWriter, r *http.Request) { answerOK(w) })
	errDisk := errors.New("disk full")
	s := sink{failOn: 3, errFail: errDisk}
	w := workloads.Workload{Test: workloads.Phase{{Function: "pyaes", Counts: []int{5, 5, 5, 5}}}}
	_, err := Run(context.Background(), s.config(Config{Target: f.gateway(), Speed: 10}), w)
	if !errors.Is(err, errDisk) || s.calls != 3 {
		t.Errorf("error %v after %d calls, want disk full after 3", err, s.calls)
	}
}

// TestRunSpeed: with Speed 10, a 30 ms (wall) answer reads as ≥ 300 ms
// (model time); the scheduled times are the model's.
func TestRunSpeed(t *testing.T) {
	f := newFaulty(t, func(n int, w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond)
		io.WriteString(w, `{"latency": 0.3}`)
	})
	w := workloads.Workload{Test: workloads.Phase{{Function: "pyaes", Counts: []int{1, 1, 0}}}}
	var s sink
	start := time.Now()
	if _, err := Run(context.Background(), s.config(Config{Target: f.gateway(), Speed: 10, JitterSeed: 5}), w); err != nil {
		t.Fatal(err)
	}
	if wall := time.Since(start); wall >= 3*time.Second {
		t.Errorf("a 3 s phase at speed 10 took %v", wall)
	}
	checkOneRecordEach(t, w, 5, s.records)
	for _, r := range s.records {
		if r.E2EMs < 300 || r.TotalMs < r.E2EMs || r.FuncMs != 300 {
			t.Errorf("record %+v: want e2e ≥ 300 ms of model time and func 300 ms", r)
		}
	}

}

// TestRunServedAccount: when the target gives its own account of a request
// in model time (the twin's served_model_s), the record keeps it rather than
// the wall clock × speed, and the summary measures the overhead outside the
// target from served_wall_s.
func TestRunServedAccount(t *testing.T) {
	f := newFaulty(t, func(n int, w http.ResponseWriter, r *http.Request) {
		time.Sleep(30 * time.Millisecond) // 300 ms of model time at speed 10, outside the account
		io.WriteString(w, `{"latency": 0.2, "served_model_s": 0.25, "served_wall_s": 0.001}`)
	})
	w := workloads.Workload{Test: workloads.Phase{{Function: "pyaes", Counts: []int{1, 1, 1}}}}
	var s sink
	sum, err := Run(context.Background(), s.config(Config{Target: f.gateway(), Speed: 10, JitterSeed: 5}), w)
	if err != nil {
		t.Fatal(err)
	}
	checkOneRecordEach(t, w, 5, s.records)
	for _, r := range s.records {
		if r.E2EMs != 250 || math.Abs((r.DoneS-r.SentS)*1000-250) > 1e-6 || r.FuncMs != 200 {
			t.Errorf("record %+v: want e2e 250 ms, done − sent 250 ms and func 200 ms, the target's account", r)
		}
	}
	if sum.Test.Overheads != 3 || sum.Test.OverheadP50 < 25*time.Millisecond || sum.Test.OverheadP50 > time.Second {
		t.Errorf("overhead: median %v over %d answers, want about 29 ms over 3", sum.Test.OverheadP50, sum.Test.Overheads)
	}
	if sum.Test.LatenessP50 < 0 || sum.Test.LatenessP99 < sum.Test.LatenessP50 {
		t.Errorf("lateness p50 %v p99 %v", sum.Test.LatenessP50, sum.Test.LatenessP99)
	}
	if got, want := sum.Test.ModelShift(10), 10*(sum.Test.LatenessP50+sum.Test.OverheadP50); got != want {
		t.Errorf("model shift %v, want %v", got, want)
	}
}

// TestRunValidation: bad configurations and workloads are refused before
// anything is sent.
func TestRunValidation(t *testing.T) {
	f := newFaulty(t, func(n int, w http.ResponseWriter, r *http.Request) { answerOK(w) })
	g := f.gateway()
	good := workloads.Phase{{Function: "pyaes", Counts: []int{1, 1}}}
	for _, tc := range []struct {
		name  string
		cfg   Config
		w     workloads.Workload
		isErr error // besides ErrConfig
	}{
		{"lengths differ", Config{Target: g}, workloads.Workload{Test: workloads.Phase{
			{Function: "pyaes", Counts: []int{1, 1}}, {Function: "crypto", Counts: []int{1}}}}, workloads.ErrLengthMismatch},
		{"lengths differ in the warmup", Config{Target: g}, workloads.Workload{Warmup: workloads.Phase{
			{Function: "pyaes", Counts: []int{1}}, {Function: "crypto", Counts: []int{1, 0}}}, Test: good}, workloads.ErrLengthMismatch},
		{"unknown function", Config{Target: g}, workloads.Workload{Test: workloads.Phase{
			{Function: "no-such-function", Counts: []int{1}}}}, workloads.ErrUnknownFunc},
		{"negative count", Config{Target: g}, workloads.Workload{Test: workloads.Phase{
			{Function: "pyaes", Counts: []int{1, -1}}}}, workloads.ErrNegativeCount},
		{"no target", Config{}, workloads.Workload{Test: good}, nil},
		{"negative speed", Config{Target: g, Speed: -1}, workloads.Workload{Test: good}, nil},
		{"NaN speed", Config{Target: g, Speed: math.NaN()}, workloads.Workload{Test: good}, nil},
		{"infinite speed", Config{Target: g, Speed: math.Inf(1)}, workloads.Workload{Test: good}, nil},
		{"speed over MaxSpeed", Config{Target: g, Speed: MaxSpeed * 1.001}, workloads.Workload{Test: good}, nil},
		{"count over the limit", Config{Target: g}, workloads.Workload{Test: workloads.Phase{
			{Function: "pyaes", Counts: []int{1, workloads.MaxCount + 1}}}}, workloads.ErrCountLimit},
		{"negative timeout", Config{Target: g, AttemptTimeout: -time.Second}, workloads.Workload{Test: good}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Run(context.Background(), tc.cfg, tc.w)
			if !errors.Is(err, ErrConfig) || tc.isErr != nil && !errors.Is(err, tc.isErr) {
				t.Errorf("error %v, want ErrConfig and %v", err, tc.isErr)
			}
		})
	}
	if n := f.invocations(); n != 0 {
		t.Errorf("%d invocations sent", n)
	}
}
