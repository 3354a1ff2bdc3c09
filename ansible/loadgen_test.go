package ansible

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"trenv-bench/internal/testtwin"
	"trenv-bench/results"
	"trenv-bench/workloads"
)

// TestLoadgenPlay runs loadgen.yml for real on two load hosts (both this
// machine, through the local connection, each with its own directory)
// against a `trenv-bench sim serve` twin: both shards start at the T the
// play picked, only shard 1 gets the password, both run directories come
// back to the controller and merge into one complete experiment with
// every request of the workload. Then the play's refusals (a second run
// of the same name, a --limit that would leave a shard out), --check,
// and shards that fail.
func TestLoadgenPlay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds trenv-bench and runs a twin for about a minute")
	}
	need(t, "ansible-playbook", "go")
	ctx := context.Background()
	work := t.TempDir()
	bin := filepath.Join(work, "trenv-bench")
	run(t, ctx, "..", []string{"CGO_ENABLED=0"}, "go", "build", "-o", bin, "./cmd/trenv-bench")

	pw := filepath.Join(work, "pw")
	writeFile(t, pw, "secret\n")
	const speed = "10"
	gateway := serveTwin(t, ctx, bin, pw, speed)

	// A small workload, in gen's layout: 3 functions over 6 s of test
	// phase (0.6 s of wall time at speed 10).
	wl := filepath.Join(work, "w-small")
	w := workloads.Workload{
		Warmup: workloads.Phase{{Function: "pyaes", Counts: []int{2, 0}}, {Function: "dynamic-html", Counts: []int{3, 0}}},
		Test: workloads.Phase{
			{Function: "pyaes", Counts: []int{3, 0, 3, 0, 3, 0}},
			{Function: "dynamic-html", Counts: []int{3, 3, 3, 3, 3, 3}},
			{Function: "json-serde_1", Counts: []int{3, 0, 0, 3, 0, 0}},
		},
	}
	if err := workloads.WriteDir(wl, w, false); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, ph := range []workloads.Phase{w.Warmup, w.Test} {
		for _, f := range ph {
			for _, c := range f.Counts {
				total += c
			}
		}
	}

	hosts := []string{"lg1", "lg2"}
	var inv strings.Builder
	inv.WriteString("[loadgen]\n")
	for _, h := range hosts {
		fmt.Fprintf(&inv, "%s loadgen_remote_dir=%s\n", h, filepath.Join(work, h))
	}
	inv.WriteString("\n[loadgen:vars]\nansible_connection=local\nansible_python_interpreter=/usr/bin/python3\n")
	invFile := filepath.Join(work, "inventory.ini")
	writeFile(t, invFile, inv.String())
	resultsDir := filepath.Join(work, "results")
	const lead = 8
	varsFile := filepath.Join(work, "vars.json")
	writeJSON(t, varsFile, map[string]any{
		"loadgen_method": "trenv", "loadgen_workload_dir": wl, "loadgen_gateway": gateway, "loadgen_password_file": pw,
		"loadgen_name": "small", "loadgen_lead_s": lead, "loadgen_timeout_s": 120, "loadgen_poll_s": 1,
		"loadgen_binary": bin, "loadgen_results_dir": resultsDir, "loadgen_run_flags": []string{"--speed", speed},
	})
	play := func(extra ...string) (string, error) {
		args := append([]string{"-i", invFile, "loadgen.yml", "-e", "@" + varsFile}, extra...)
		return runErr(ctx, ".", []string{"ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0"}, "ansible-playbook", args...)
	}

	before := time.Now()
	out, err := play()
	if err != nil {
		t.Fatalf("loadgen.yml: %v\n%s", err, tail(failures(out), 8000))
	}
	rc, err := parseRecap(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hosts {
		if rc[h].failed != 0 || rc[h].unreachable != 0 || rc[h].ok == 0 {
			t.Errorf("%s: %+v", h, rc[h])
		}
	}

	// Both shards' run directories, gathered under results/NAME/.
	var dirs []string
	var startAt time.Time
	for i := range hosts {
		dir := filepath.Join(resultsDir, "small", fmt.Sprintf("small-shard%dof2", i+1))
		m, err := results.ReadManifest(filepath.Join(dir, results.ManifestFile))
		if err != nil {
			t.Fatalf("shard %d/2 not fetched: %v", i+1, err)
		}
		sh := m.Shard
		if sh == nil || sh.Index != i+1 || sh.Count != 2 || m.Status != results.RunComplete {
			t.Fatalf("shard %d/2: status %s, shard %+v", i+1, m.Status, sh)
		}
		if i == 0 {
			startAt = sh.StartAt
		} else if !sh.StartAt.Equal(startAt) {
			t.Errorf("shard 2 started at %s, shard 1 at %s", sh.StartAt, startAt)
		}
		if sh.Owner() != (i == 0) {
			t.Errorf("shard %d/2 owns %v", i+1, sh.Owns)
		}
		dirs = append(dirs, dir)
	}
	// T is picked by the play, loadgen_lead_s after the hosts had their
	// files: after the play began, and no earlier than lead seconds after.
	if startAt.Before(before.Add(lead*time.Second).Truncate(time.Second)) || startAt.After(time.Now()) {
		t.Errorf("T = %s; the play ran from %s to %s with loadgen_lead_s %d", startAt, before, time.Now(), lead)
	}
	runs, err := results.LoadRuns(dirs)
	if err != nil {
		t.Fatalf("merging the fetched shards: %v", err)
	}
	if len(runs) != 1 || len(runs[0].ShardDirs()) != 2 {
		t.Fatalf("the shards merge into %d runs", len(runs))
	}
	if got := runs[0].Manifest.Requests; got.Scheduled != total || got.OK+got.Failed+got.Abandoned != total || got.OK == 0 {
		t.Errorf("merged experiment's requests %+v, the workload has %d", got, total)
	}
	// Only shard 1's host holds the password.
	if fi, err := os.Stat(filepath.Join(work, "lg1", "password")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lg1's password file: %v %v", fi, err)
	}
	if _, err := os.Stat(filepath.Join(work, "lg2", "password")); !os.IsNotExist(err) {
		t.Errorf("lg2 has a password file: %v", err)
	}
	// trenv-bench report reads the experiment's folder as one run.
	if out, err := runErr(ctx, work, nil, bin, "report", "--runs", filepath.Join(resultsDir, "small"), "-o", filepath.Join(work, "report.md")); err != nil {
		t.Errorf("trenv-bench report --runs %s: %v\n%s", filepath.Join(resultsDir, "small"), err, out)
	}

	// The same name again stops every host before T, naming the directory.
	out, err = play()
	if err == nil || !strings.Contains(out, "small-shard1of2 exists from an earlier run") {
		t.Errorf("a second run of the same name: %v\n%s", err, tail(out, 3000))
	}
	// A play that leaves a shard's host out refuses to start.
	out, err = play("--limit", "lg1", "-e", "loadgen_name=other")
	if err == nil || !strings.Contains(out, "a shard would be missing") {
		t.Errorf("--limit lg1: %v\n%s", err, tail(out, 3000))
	}
	if _, err := os.Stat(filepath.Join(work, "lg1", "runs", "other-shard1of2")); !os.IsNotExist(err) {
		t.Errorf("--limit lg1 ran a shard: %v", err)
	}
	// --check stages nothing and runs nothing.
	if out, err := play("--check", "-e", "loadgen_name=checked"); err != nil {
		t.Errorf("loadgen.yml --check: %v\n%s", err, tail(failures(out), 3000))
	}
	if _, err := os.Stat(filepath.Join(work, "lg1", "workloads", "checked")); !os.IsNotExist(err) {
		t.Errorf("--check staged a workload: %v", err)
	}
	// Shards that fail (no gateway answers) fail the play, each named.
	out, err = play("-e", "loadgen_name=down", "-e", "loadgen_gateway=http://127.0.0.1:1", "-e", "loadgen_lead_s=4")
	if err == nil || !strings.Contains(out, "shard 1/2 on lg1: trenv-bench run exited") {
		t.Errorf("shards against no gateway: %v\n%s", err, tail(failures(out), 3000))
	}
}

// serveTwin starts `trenv-bench sim serve` on a free loopback port and
// returns its URL; the test's cleanup stops it by its PID.
func serveTwin(t *testing.T, ctx context.Context, bin, pw, speed string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, "sim", "serve", "--method", "trenv", "--addr", "127.0.0.1:0",
		"--password-file", pw, "--speed", speed, "--register=false")
	return testtwin.Serve(t, cmd)
}
