package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"trenv-bench/results"
	"trenv-bench/workloads"
)

// TestMain lets a test run the command in a child process (for signals):
// with TRENV_BENCH_MAIN=1 the test binary is trenv-bench.
func TestMain(m *testing.M) {
	if os.Getenv("TRENV_BENCH_MAIN") == "1" {
		os.Exit(int(Main(os.Args[1:], SystemStreams())))
	}
	os.Exit(m.Run())
}

func TestNewCmdRun(t *testing.T) {
	cases := []struct {
		line    string
		check   func(o *runOptions) bool
		wantErr string
	}{
		{line: "--method trenv -w 1", check: func(o *runOptions) bool {
			return o.Target == "sim" && o.Workload == "1" && o.platform.Pool == "cxl" && o.runName() == "w1-trenv-cxl-sim" && o.OutDir == "runs"
		}},
		{line: "--method reap -w 2 --mem 32 --gc 3 --target twin --speed 20 --name x --out /tmp/r", check: func(o *runOptions) bool {
			return o.platform.MemBytes == 32<<30 && o.platform.GC == 3*time.Minute && o.Speed == 20 && o.runName() == "x"
		}},
		{line: "--method cold --workload-dir runs/w1 --gateway http://127.0.0.1:8081", check: func(o *runOptions) bool {
			return o.WorkloadDir == "runs/w1" && o.Target == results.TargetGateway && o.runName() == "runs_w1-cold-gateway"
		}},
		{line: "--method cold -w 1 --gateway http://127.0.0.1:8081 --target twin", wantErr: "it takes no --target"},
		{line: "--method cold -w 1 --gateway http://127.0.0.1:8081 --target host", wantErr: "it takes no --target"},
		{line: "--method cold -w 1 --password-file pw", wantErr: "--password-file registers the functions at --gateway"},
		{line: "--method trenv", wantErr: "give exactly one of -w KIND"},
		{line: "--method trenv -w 1 --workload-dir d", wantErr: "give exactly one of -w KIND"},
		{line: "--method trenv -w 9", wantErr: `-w "9"`},
		{line: "--method trenv --workload 1", check: func(o *runOptions) bool { return o.Workload == "1" && o.WorkloadDir == "" }},
		{line: "--method trenv -w .", wantErr: `. is a directory: pass it as --workload-dir`},
		{line: "-w 1", wantErr: "--method is required"},
		{line: "--method trenv -w 1 --target cloud", wantErr: `--target "cloud"`},
		{line: "--method trenv -w 1 --speed 10", wantErr: "--speed compresses the twin's real time"},
		{line: "--method trenv -w 1 --name ../x", wantErr: "--name"},
		{line: "--method trenv -w 1 --dataset d", wantErr: "--dataset is only read by"},
		{line: "--method trenv -w 1 --client-procs 0", wantErr: "--client-procs 0: expected 1 to"},
		{line: "--method trenv -w 1 --client-procs 2", check: func(o *runOptions) bool { return o.ClientProcs == 2 }},
		{line: "--method cold -w 1 --gateway http://127.0.0.1:8081 --shard 2/3 --start-at 4102444800", check: func(o *runOptions) bool {
			return o.shard.Index == 2 && o.shard.Count == 3 && o.startAt.Equal(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)) && o.runName() == "w1-cold-gateway-shard2of3"
		}},
		{line: "--method cold -w 1 --target twin --start-at 2100-01-01T00:00:00.5Z", check: func(o *runOptions) bool {
			return o.startAt.Equal(time.Date(2100, 1, 1, 0, 0, 0, 5e8, time.UTC)) && o.shard.Whole()
		}},
		{line: "--method cold -w 1 --shard 1/2 --start-at 4102444800", wantErr: "--shard 1/2 splits the load on a faasd"},
		{line: "--method cold -w 1 --gateway http://127.0.0.1:8081 --shard 1/2", wantErr: "needs --start-at T"},
		{line: "--method cold -w 1 --gateway http://127.0.0.1:8081 --shard 3/2 --start-at 4102444800", wantErr: "--shard: shard 3/2"},
		{line: "--method cold -w 1 --gateway http://127.0.0.1:8081 --shard 1/2 --start-at 1000", wantErr: "--start-at 1000 passed"},
		{line: "--method cold -w 1 --gateway http://127.0.0.1:8081 --start-at tomorrow", wantErr: `--start-at "tomorrow": expected an RFC 3339 time`},
		{line: "--method cold -w 1 --start-at 4102444800", wantErr: "for --target twin or --gateway, not sim"},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			s, _, _ := testStreams()
			var got *runOptions
			cmd := newCmdRun(s, func(_ context.Context, o *runOptions) error { got = o; return nil })
			err := execLine(cmd, c.line)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil || got == nil || !c.check(got) {
				t.Fatalf("err %v, options %+v", err, got)
			}
		})
	}
}

// writeWorkload writes a short workload directory: a few functions over a
// few seconds.
func writeWorkload(t *testing.T, seconds int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "wl")
	counts := func(every int) []int {
		c := make([]int, seconds)
		for i := 0; i < seconds; i += every {
			c[i] = 3
		}
		return c
	}
	w := workloads.Workload{
		Warmup: workloads.Phase{{Function: "pyaes", Counts: []int{2, 0}}, {Function: "dynamic-html", Counts: []int{5, 0}}},
		Test: workloads.Phase{
			{Function: "pyaes", Counts: counts(2)},
			{Function: "dynamic-html", Counts: counts(1)},
			{Function: "json-serde_1", Counts: counts(3)},
		},
	}
	if err := workloads.WriteDir(dir, w, false); err != nil {
		t.Fatal(err)
	}
	return dir
}

// readRequests reads a run's requests.csv.
func readRequests(t *testing.T, dir string) []results.Request {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "requests.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := results.NewRequestReader(f, "requests.csv")
	var out []results.Request
	for r.Next() {
		out = append(out, r.Request())
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRunTargets runs a short workload on the simulator and on the twin:
// every request of the workload is in requests.csv exactly once, and the
// manifest and summary agree.
func TestRunTargets(t *testing.T) {
	wl := writeWorkload(t, 6)
	w, err := workloads.ReadDir(wl, workloads.DefaultCatalog())
	if err != nil {
		t.Fatal(err)
	}
	want := w.Warmup.Requests() + w.Test.Requests()
	for _, target := range []string{"sim", "twin"} {
		out := t.TempDir()
		args := []string{"run", "--method", "criu", "--workload-dir", wl, "--target", target, "--out", out, "--name", "r"}
		if target == "twin" {
			args = append(args, "--speed", "20")
		}
		s, _, errOut := testStreams()
		if code := Main(args, s); code != ExitOK {
			t.Fatalf("%s: exit %d: %s", target, code, errOut)
		}
		dir := filepath.Join(out, "r")
		recs := readRequests(t, dir)
		per := map[string]int{}
		for _, r := range recs {
			per[r.Phase+"/"+r.Function]++
			if r.Status != results.StatusOK {
				t.Errorf("%s: %+v", target, r)
			}
		}
		for _, ph := range []struct {
			name  string
			phase workloads.Phase
		}{{"warmup", w.Warmup}, {"test", w.Test}} {
			for _, s := range ph.phase {
				if n := (workloads.Phase{s}).Requests(); per[ph.name+"/"+s.Function] != n {
					t.Errorf("%s: %s %s: %d records, %d requests", target, ph.name, s.Function, per[ph.name+"/"+s.Function], n)
				}
			}
		}
		m, err := results.ReadManifest(filepath.Join(dir, "manifest.json"))
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != results.RunComplete || m.Requests.Scheduled != want || m.Requests.OK != want || len(recs) != want {
			t.Errorf("%s: manifest %+v, %d records, want %d", target, m.Requests, len(recs), want)
		}
		sf, _ := os.Open(filepath.Join(dir, "summary.csv"))
		rows, _ := csv.NewReader(sf).ReadAll()
		sf.Close()
		total := 0
		for _, row := range rows[1:] {
			var n int
			for _, c := range row[3] {
				n = n*10 + int(c-'0')
			}
			total += n
		}
		if total != want {
			t.Errorf("%s: summary ok column sums to %d, want %d", target, total, want)
		}
		for _, f := range []string{"metrics.output", "warmup_metrics.output", "metrics.json", "test.log", "memory.csv"} {
			if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
				t.Errorf("%s: %s missing or empty", target, f)
			}
		}
		// The same run directory again is refused without --force.
		if code := Main(args, s); code != ExitError || !strings.Contains(errOut.String(), "exists") {
			t.Errorf("%s: second run into the same directory: exit %d", target, code)
		}
	}
}

func TestRunHostSaysWhatIsMissing(t *testing.T) {
	s, _, errOut := testStreams()
	code := Main([]string{"run", "--method", "trenv", "-w", "func", "--target", "host", "--out", t.TempDir()}, s)
	if code != ExitError || !strings.Contains(errOut.String(), "faasd is not installed") || !strings.Contains(errOut.String(), "system doctor") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestRunGatewayDown: a gateway that does not answer fails the pre-flight,
// after its retries, naming the URL, and leaves no run directory behind.
func TestRunGatewayDown(t *testing.T) {
	s, _, errOut := testStreams()
	out := t.TempDir()
	code := Main([]string{"run", "--method", "trenv", "-w", "func", "--gateway", "http://127.0.0.1:1", "--out", out}, s)
	if code != ExitError || !strings.Contains(errOut.String(), "127.0.0.1:1") || !strings.Contains(errOut.String(), "4 attempts") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a failed pre-flight left %v in --out", entries)
	}
}

// TestRunInterrupted sends SIGINT to a twin run in a child process: it
// exits 130 and leaves a complete, parseable run directory with status
// interrupted.
func TestRunInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process for a few seconds")
	}
	wl := writeWorkload(t, 60)
	out := t.TempDir()
	cmd := exec.Command(os.Args[0], "run", "--method", "trenv", "--workload-dir", wl, "--target", "twin", "--speed", "5", "--out", out, "--name", "r")
	cmd.Env = append(os.Environ(), "TRENV_BENCH_MAIN=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(out, "r")
	// Wait until the test phase is under way, then interrupt.
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if data, _ := os.ReadFile(filepath.Join(dir, "warmup_metrics.output")); len(data) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != int(ExitInterrupted) {
		t.Fatalf("exit: %v, want %d", err, ExitInterrupted)
	}
	m, err := results.ReadManifest(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	recs := readRequests(t, dir)
	if m.Status != results.RunInterrupted || len(recs) == 0 || m.Requests.Scheduled != len(recs) {
		t.Errorf("manifest %s %+v, %d records", m.Status, m.Requests, len(recs))
	}
	abandoned := 0
	for _, r := range recs {
		if r.Status == results.StatusAbandoned {
			abandoned++
		}
	}
	if abandoned == 0 || abandoned != m.Requests.Abandoned {
		t.Errorf("%d abandoned records, manifest says %d", abandoned, m.Requests.Abandoned)
	}
}

// TestRunSecondInterrupt: a first interrupt waits for the requests in
// flight (here: never answered, so for the whole grace period); a second
// one quits at once.
func TestRunSecondInterrupt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	invoked := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/invoke/") {
			select {
			case invoked <- struct{}{}:
			default:
			}
			select { // no answer while the child runs
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		io.WriteString(w, "Metrics:\n")
	}))
	defer srv.Close()
	defer close(release)
	wl := writeWorkload(t, 60)
	cmd := exec.Command(os.Args[0], "run", "--method", "trenv", "--workload-dir", wl, "--gateway", srv.URL, "--out", t.TempDir(), "--name", "r")
	cmd.Env = append(os.Environ(), "TRENV_BENCH_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-invoked:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("no request reached the gateway: %s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGINT)
	time.Sleep(200 * time.Millisecond)
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	took := time.Since(sent)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != int(ExitInterrupted) {
		t.Fatalf("exit: %v, want %d; stderr %s", err, ExitInterrupted, stderr.String())
	}
	// replay.DefaultGrace is 5 s: quitting at once is well under it.
	if took > 2*time.Second || !strings.Contains(stderr.String(), "quitting at once") {
		t.Errorf("exited %v after the second interrupt; stderr %s", took, stderr.String())
	}
}

// TestRunSaysSample: -w huawei without --dataset says once that the data is
// the built-in synthetic sample, and the manifest records it.
func TestRunSaysSample(t *testing.T) {
	out := t.TempDir()
	s, _, errOut := testStreams()
	if code := Main([]string{"run", "--method", "trenv", "-w", "huawei", "--target", "sim", "--out", out, "--name", "h"}, s); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(errOut.String(), "run: workload huawei: no --dataset given: using the built-in synthetic sample"); n != 1 {
		t.Errorf("the sample is named %d times on stderr, want once:\n%s", n, errOut)
	}
	m, err := results.ReadManifest(filepath.Join(out, "h", results.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Workload.Synthetic || m.Workload.Dataset != results.DatasetBuiltInSample || m.CalibrationSHA256 == "" {
		t.Errorf("manifest workload %+v, calibration %q", m.Workload, m.CalibrationSHA256)
	}
}

// TestClientProcs: one processor for a light run against another process
// on this machine, unless --client-procs or GOMAXPROCS says otherwise; the
// twin and the simulator, whose model runs in this process, keep them all.
func TestClientProcs(t *testing.T) {
	phase := func(perSecond int) workloads.Phase {
		return workloads.Phase{{Function: "a", Counts: []int{1, perSecond / 2}}, {Function: "b", Counts: []int{0, perSecond - perSecond/2}}}
	}
	light := workloads.Workload{Warmup: phase(10), Test: phase(oneProcPeakRate)}
	heavy := workloads.Workload{Warmup: phase(10), Test: phase(oneProcPeakRate + 1)}
	heavyWarmup := workloads.Workload{Warmup: phase(oneProcPeakRate + 1), Test: phase(10)}
	for _, tc := range []struct {
		target results.Target
		flag   int
		env    string
		w      workloads.Workload
		want   int
	}{
		{results.TargetGateway, 0, "", light, 1},
		{results.TargetHost, 0, "", light, 1},
		{results.TargetGateway, 0, "", heavy, 0},
		{results.TargetGateway, 0, "", heavyWarmup, 0},
		{results.TargetGateway, 0, "2", light, 0},
		{results.TargetGateway, 3, "2", light, 3},
		{results.TargetGateway, 2, "", heavy, 2},
		{results.TargetTwin, 0, "", light, 0},
		{results.TargetSim, 0, "", light, 0},
		{results.TargetSim, 1, "", light, 1},
	} {
		o := &runOptions{Target: tc.target, ClientProcs: tc.flag}
		if got := o.clientProcs(tc.w, tc.env); got != tc.want {
			t.Errorf("target %s, --client-procs %d, GOMAXPROCS=%q, peak %d: %d processors, want %d",
				tc.target, tc.flag, tc.env, tc.w.Test.PeakRate(), got, tc.want)
		}
	}
}
