package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trenv-bench/experiments"
	"trenv-bench/results"
	"trenv-bench/sim/calibration"
)

// TestNewCmdSimCalibrate checks how command lines become options.
func TestNewCmdSimCalibrate(t *testing.T) {
	cases := []struct {
		line    string
		want    simCalibrateOptions
		wantErr string
	}{
		{line: "--from runs/w1-criu-host -o t.yaml", want: simCalibrateOptions{From: "runs/w1-criu-host", Out: "t.yaml"}},
		{line: "--from r -o t.yaml --method trenv --pool rdma --base b.yaml --keep-exec --allow-simulated --force",
			want: simCalibrateOptions{From: "r", Out: "t.yaml", Method: "trenv", Pool: "rdma", Base: "b.yaml",
				KeepExec: true, AllowSimulated: true, Force: true}},
		{line: "-o t.yaml", wantErr: "--from RUN_DIR and -o FILE are required"},
		{line: "--from r", wantErr: "--from RUN_DIR and -o FILE are required"},
		{line: "--from r -o t.yaml --pool nvme", wantErr: `--pool "nvme": expected cxl or rdma`},
	}
	for _, c := range cases {
		t.Run(c.line, func(t *testing.T) {
			s, _, _ := testStreams()
			var got *simCalibrateOptions
			err := execLine(newCmdSimCalibrate(s, func(_ context.Context, o *simCalibrateOptions) error { got = o; return nil }), c.line)
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, c.wantErr)
				}
				if got != nil {
					t.Error("ran despite the error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c.want.Streams = s
			if *got != c.want {
				t.Errorf("options %+v, want %+v", *got, c.want)
			}
		})
	}
}

// simRun makes a run directory with `run` on the simulator and returns it.
func simRun(t *testing.T, args ...string) string {
	t.Helper()
	out := t.TempDir()
	s, _, errOut := testStreams()
	args = append([]string{"run", "-w", "1", "--target", "sim", "--gc", "2", "--out", out}, args...)
	if code := Main(args, s); code != ExitOK {
		t.Fatalf("%v: exit %d: %s", args, code, errOut)
	}
	dirs, err := filepath.Glob(filepath.Join(out, "*"))
	if err != nil || len(dirs) != 1 {
		t.Fatalf("run made %v (%v)", dirs, err)
	}
	return dirs[0]
}

// kindCounts counts a run's ok requests per function and start kind.
func kindCounts(t *testing.T, dir string) map[string]map[results.StartKind]int {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, results.RequestsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[string]map[results.StartKind]int{}
	rr := results.NewRequestReader(f, f.Name())
	for rr.Next() {
		r := rr.Request()
		if r.Status == results.StatusOK {
			if counts[r.Function] == nil {
				counts[r.Function] = map[results.StartKind]int{}
			}
			counts[r.Function][r.StartKind]++
		}
	}
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	return counts
}

// asHostRun rewrites a simulated run directory into what a run against a
// real faasd leaves: target host, and no start kinds in requests.csv.
func asHostRun(t *testing.T, dir string) {
	t.Helper()
	mpath := filepath.Join(dir, results.ManifestFile)
	m, err := results.ReadManifest(mpath)
	if err != nil {
		t.Fatal(err)
	}
	m.Target = results.TargetHost
	if err := m.WriteFile(mpath); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, results.RequestsFile)
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var recs []results.Request
	rr := results.NewRequestReader(in, path)
	for rr.Next() {
		r := rr.Request()
		r.StartKind = results.StartUnknown
		recs = append(recs, r)
	}
	in.Close()
	if err := rr.Err(); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := results.NewRequestWriter(out)
	for i := range recs {
		if err := w.Write(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out.Close()
}

func TestSimCalibrateRun(t *testing.T) {
	run := simRun(t, "--method", "criu")
	out := filepath.Join(t.TempDir(), "fitted.yaml")
	s, _, errOut := testStreams()

	// A run of the model itself is refused, and nothing is written.
	if code := Main([]string{"sim", "calibrate", "--from", run, "-o", out}, s); code != ExitError ||
		!strings.Contains(errOut.String(), `target "sim"`) || !strings.Contains(errOut.String(), "--allow-simulated") {
		t.Fatalf("simulated run without --allow-simulated: exit %d, %q", code, errOut)
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("wrote a file after refusing")
	}

	errOut.Reset()
	if code := Main([]string{"sim", "calibrate", "--from", run, "-o", out, "--allow-simulated"}, s); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// It says, per function, from how many requests of each kind it fitted.
	for fn, kinds := range kindCounts(t, run) {
		want := fmt.Sprintf("%-18s %6d %7d %6d %6d  exec ", fn, 0, kinds[results.StartRestore], 0, kinds[results.StartReuse])
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("report has no line %q:\n%s", want, errOut)
		}
	}
	model, err := loadModel(out)
	if err != nil {
		t.Fatalf("fitted model is not a valid --calibration: %v", err)
	}
	exec := model.Functions["pyaes"].Exec
	if !strings.HasPrefix(exec.Source, calibration.FittedPrefix+" "+run+" (criu, target sim): func_ms of ") {
		t.Errorf("exec source %q does not name the run", exec.Source)
	}
	def, _ := calibration.Default()
	if st := model.Functions["pyaes"].Startup[calibration.MethodCRIU]; st == def.Functions["pyaes"].Startup[calibration.MethodCRIU] {
		t.Error("CRIU start-up not fitted")
	}
	if model.Functions["pyaes"].Startup[calibration.MethodREAP] != def.Functions["pyaes"].Startup[calibration.MethodREAP] {
		t.Error("a CRIU run changed REAP's start-up")
	}

	// Without --force an existing file stays.
	errOut.Reset()
	if code := Main([]string{"sim", "calibrate", "--from", run, "-o", out, "--allow-simulated"}, s); code != ExitError ||
		!strings.Contains(errOut.String(), "already exists") {
		t.Errorf("overwrite without --force: exit %d, %q", code, errOut)
	}

	// The wrong method shows in the records.
	errOut.Reset()
	code := Main([]string{"sim", "calibrate", "--from", run, "-o", out, "--allow-simulated", "--force", "--method", "trenv"}, s)
	if code != ExitError || !strings.Contains(errOut.String(), filepath.Join(run, results.RequestsFile)+":") ||
		!strings.Contains(errOut.String(), `start_kind "restore", which a trenv run does not produce`) {
		t.Errorf("--method trenv on a CRIU run: exit %d, %q", code, errOut)
	}

	// --pool belongs to TrEnv only; a bad --method says where it came from.
	for _, c := range []struct{ args, want string }{
		{"--pool rdma", "--pool is TrEnv's memory pool; the run's method criu has none"},
		{"--method firecracker", `--method: method "firecracker"`},
	} {
		errOut.Reset()
		args := append([]string{"sim", "calibrate", "--from", run, "-o", out, "--allow-simulated", "--force"}, strings.Fields(c.args)...)
		if code := Main(args, s); code == ExitOK || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%s: exit %d, %q, want %q", c.args, code, errOut, c.want)
		}
	}

	// What a real faasd leaves: no start kinds. The fit reads the metrics.
	asHostRun(t, run)
	errOut.Reset()
	if code := Main([]string{"sim", "calibrate", "--from", run, "-o", out, "--force"}, s); code != ExitOK {
		t.Fatalf("host run: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"fitted from faasd's metrics", "include waits for a start worker"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("host run's report lacks %q:\n%s", want, errOut)
		}
	}

	// Not a run directory.
	errOut.Reset()
	if code := Main([]string{"sim", "calibrate", "--from", t.TempDir(), "-o", out, "--force"}, s); code != ExitError ||
		!strings.Contains(errOut.String(), "expected a run directory written by trenv-bench run") {
		t.Errorf("no manifest: exit %d, %q", code, errOut)
	}
}

// TestSimCalibrateExample: every directory the help's examples calibrate
// from is the one the example's run command before it creates.
func TestSimCalibrateExample(t *testing.T) {
	s, _, _ := testStreams()
	example := newCmdSimCalibrate(s, nil).Example
	last := ""
	checked := 0
	for _, line := range strings.Split(example, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "trenv-bench" {
			continue
		}
		flag := func(names ...string) string {
			for i := 0; i+1 < len(f); i++ {
				for _, n := range names {
					if f[i] == n {
						return f[i+1]
					}
				}
			}
			return ""
		}
		switch {
		case f[1] == "run":
			pool, target := flag("--pool"), flag("--target")
			if pool == "" {
				pool = "cxl"
			}
			if target == "" {
				target = string(results.TargetSim)
			}
			last = filepath.Join("runs", experiments.RunDirName(flag("-w"), flag("--method"), pool, results.Target(target)))
		case f[1] == "sim" && f[2] == "calibrate":
			if from := flag("--from"); from != last {
				t.Errorf("example calibrates from %s; the run before it writes %s", from, last)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Errorf("no calibrate example in %q", example)
	}
}
