package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"trenv-bench/internal/testtwin"
	"trenv-bench/results"
)

// serveTwinChild starts `sim serve` in a child process on a free loopback
// port, with admin's password in pw, and returns its URL; it is stopped
// at the end of the test.
func serveTwinChild(t *testing.T, pw string, speed string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "sim", "serve", "--method", "trenv", "--addr", "127.0.0.1:0",
		"--password-file", pw, "--speed", speed, "--register=false")
	cmd.Env = append(os.Environ(), "TRENV_BENCH_MAIN=1")
	return testtwin.Serve(t, cmd)
}

// runChildren runs each argument list as `trenv-bench run` in a child
// process, all at once, and returns their errors and stderr.
func runChildren(t *testing.T, argss [][]string) ([]error, []string) {
	t.Helper()
	cmds := make([]*exec.Cmd, len(argss))
	outs := make([]*bytes.Buffer, len(argss))
	for i, args := range argss {
		cmds[i] = exec.Command(os.Args[0], append([]string{"run"}, args...)...)
		cmds[i].Env = append(os.Environ(), "TRENV_BENCH_MAIN=1")
		outs[i] = &bytes.Buffer{}
		cmds[i].Stderr = outs[i]
		if err := cmds[i].Start(); err != nil {
			t.Fatal(err)
		}
	}
	errs := make([]error, len(cmds))
	stderrs := make([]string, len(cmds))
	for i, c := range cmds {
		errs[i] = c.Wait()
		stderrs[i] = outs[i].String()
	}
	return errs, stderrs
}

// requestKeys is every request of the runs' requests.csv files, as phase,
// function and intended send time, sorted.
func requestKeys(t *testing.T, dirs ...string) []string {
	t.Helper()
	var keys []string
	for _, d := range dirs {
		for _, r := range readRequests(t, d) {
			keys = append(keys, fmt.Sprintf("%s|%s|%.6f", r.Phase, r.Function, r.ScheduledS))
		}
	}
	slices.Sort(keys)
	return keys
}

// reportCounts runs `report --format csv` on dirs and returns, per
// function, its count of requests, checking that its ok, failed and
// abandoned requests add up to it. (Whether a request was ok is the
// platform's business, and a loaded machine can make a shard late: the
// counts are what sharding must keep.)
func reportCounts(t *testing.T, dirs ...string) map[string]string {
	t.Helper()
	s, out, errOut := testStreams()
	if code := Main([]string{"report", "--format", "csv", "--runs", strings.Join(dirs, ",")}, s); code != ExitOK {
		t.Fatalf("report %v: exit %d: %s", dirs, code, errOut)
	}
	rows, err := csv.NewReader(strings.NewReader(out.String())).ReadAll()
	if err != nil || len(rows) < 2 {
		t.Fatalf("report csv: %v: %q", err, out)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	counts := map[string]string{}
	for _, row := range rows[1:] {
		n := func(c string) int {
			v, err := strconv.Atoi(row[col[c]])
			if err != nil {
				t.Fatalf("report csv: %s %q: %v", c, row[col[c]], err)
			}
			return v
		}
		if n("ok")+n("failed")+n("abandoned") != n("count") {
			t.Errorf("report %v: %s: ok, failed and abandoned do not add up to its count: %v", dirs, row[col["function"]], row)
		}
		counts[row[col["function"]]] = row[col["count"]]
	}
	return counts
}

// TestRunShards replays one workload unsharded, then as two and as three
// shards in separate processes against one `sim serve` each, with a
// common --start-at: every request of the unsharded run is in exactly one
// shard, only shard 1 took faasd's metrics, and the report of the shards
// counts what the report of the unsharded run counts.
func TestRunShards(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes for several seconds")
	}
	wl := writeWorkload(t, 6)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const speed = "5" // a second of model time is 0.2 s of slack before a phase's deadline
	common := func(url, out string) []string {
		return []string{"--method", "trenv", "--workload-dir", wl, "--gateway", url, "--speed", speed, "--out", out}
	}
	whole := filepath.Join(t.TempDir(), "whole")
	errs, stderrs := runChildren(t, [][]string{append(common(serveTwinChild(t, pw, speed), whole), "--password-file", pw, "--name", "r")})
	if errs[0] != nil {
		t.Fatalf("unsharded run: %v: %s", errs[0], stderrs[0])
	}
	wantKeys := requestKeys(t, filepath.Join(whole, "r"))
	wantCounts := reportCounts(t, filepath.Join(whole, "r"))

	for _, n := range []int{2, 3} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			url := serveTwinChild(t, pw, speed)
			out := t.TempDir()
			startAt := strconv.FormatInt(time.Now().Add(6*time.Second).Unix(), 10)
			var argss [][]string
			for i := 1; i <= n; i++ {
				args := append(common(url, out), "--shard", fmt.Sprintf("%d/%d", i, n), "--start-at", startAt)
				if i == 1 {
					args = append(args, "--password-file", pw)
				}
				argss = append(argss, args)
			}
			errs, stderrs := runChildren(t, argss)
			var dirs []string
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("shard %d/%d: %v: %s", i+1, n, errs[i], stderrs[i])
				}
				found, _ := filepath.Glob(filepath.Join(out, fmt.Sprintf("*-trenv-cxl-gateway-shard%dof%d", i+1, n)))
				if len(found) != 1 {
					t.Fatalf("shard %d/%d: run directories %v in %s", i+1, n, found, out)
				}
				dir := found[0]
				m, err := results.ReadManifest(filepath.Join(dir, "manifest.json"))
				if err != nil {
					t.Fatal(err)
				}
				sh := m.Shard
				if m.Target != results.TargetTwin || sh == nil || sh.Index != i+1 || sh.Count != n || sh.StartAt.Unix() != mustAtoi(t, startAt) {
					t.Fatalf("shard %d/%d: target %s, shard %+v", i+1, n, m.Target, sh)
				}
				if sh.ClockOffsetS == nil || *sh.ClockOffsetS < -*sh.ClockOffsetUncertaintyS-0.05 || *sh.ClockOffsetS > *sh.ClockOffsetUncertaintyS+0.05 {
					t.Errorf("shard %d/%d: clock offset %v ± %v against a gateway on this machine's clock", i+1, n, sh.ClockOffsetS, sh.ClockOffsetUncertaintyS)
				}
				_, errMetrics := os.Stat(filepath.Join(dir, "metrics.output"))
				_, errWarmup := os.Stat(filepath.Join(dir, "warmup_metrics.output"))
				if owner := i == 0; sh.Owner() != owner || (errMetrics == nil) != owner || (errWarmup == nil) != owner {
					t.Errorf("shard %d/%d: owns %v, metrics.output: %v, warmup_metrics.output: %v", i+1, n, sh.Owns, errMetrics, errWarmup)
				}
				dirs = append(dirs, dir)
			}
			if got := requestKeys(t, dirs...); !slices.Equal(got, wantKeys) {
				t.Errorf("the shards' requests (%d) are not the unsharded run's (%d), each once", len(got), len(wantKeys))
			}
			got := reportCounts(t, dirs...)
			for fn, want := range wantCounts {
				if got[fn] != want {
					t.Errorf("%s: sharded report counts %q, unsharded %q", fn, got[fn], want)
				}
			}
			if len(got) != len(wantCounts) {
				t.Errorf("sharded report has %d functions, unsharded %d", len(got), len(wantCounts))
			}
			// Without its last shard the experiment is incomplete, and the
			// report says which shard is missing.
			s, _, errOut := testStreams()
			if code := Main([]string{"report", "--runs", strings.Join(dirs[:n-1], ",")}, s); code == ExitOK ||
				!strings.Contains(errOut.String(), fmt.Sprintf("shard %d/%d missing", n, n)) {
				t.Errorf("report without shard %d/%d: exit %d, %s", n, n, code, errOut)
			}
		})
	}
}

// TestRunShardFailed: a shard interrupted mid-run leaves its directory
// with status interrupted, and the report of the experiment refuses it,
// naming the shard.
func TestRunShardFailed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes for several seconds")
	}
	wl := writeWorkload(t, 6)
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	url := serveTwinChild(t, pw, "10")
	out := t.TempDir()
	start := time.Now().Add(4 * time.Second)
	startAt := start.UTC().Format(time.RFC3339Nano)
	var cmds []*exec.Cmd
	for i := 1; i <= 2; i++ {
		args := []string{"run", "--method", "trenv", "--workload-dir", wl, "--gateway", url, "--speed", "10", "--out", out,
			"--shard", fmt.Sprintf("%d/2", i), "--start-at", startAt}
		if i == 1 {
			args = append(args, "--password-file", pw)
		}
		c := exec.Command(os.Args[0], args...)
		c.Env = append(os.Environ(), "TRENV_BENCH_MAIN=1")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	time.Sleep(time.Until(start.Add(500 * time.Millisecond))) // shard 2 is in its test phase's wait
	cmds[1].Process.Signal(os.Interrupt)
	if err := cmds[0].Wait(); err != nil {
		t.Fatalf("shard 1/2: %v", err)
	}
	if err := cmds[1].Wait(); err == nil {
		t.Fatal("shard 2/2 interrupted: exit 0")
	}
	dirs, _ := filepath.Glob(filepath.Join(out, "*-shard*of2"))
	if len(dirs) != 2 {
		t.Fatalf("run directories %v", dirs)
	}
	s, _, errOut := testStreams()
	if code := Main([]string{"report", "--runs", strings.Join(dirs, ",")}, s); code == ExitOK ||
		!strings.Contains(errOut.String(), "shard 2/2") || !strings.Contains(errOut.String(), "interrupted) not complete") {
		t.Errorf("report with shard 2/2 interrupted: exit %d, %s", code, errOut)
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
