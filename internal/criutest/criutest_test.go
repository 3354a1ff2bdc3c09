package criutest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// envCounter makes the test binary a counter process (see counter)
// instead of running the tests: its value is the file to write.
const envCounter = "TRENV_CRIUTEST_COUNTER"

// counterEvery is how often the counter counts.
const counterEvery = 20 * time.Millisecond

func TestMain(m *testing.M) {
	if p := os.Getenv(envCounter); p != "" {
		counter(p)
	}
	os.Exit(m.Run())
}

// counter counts in memory for ever and, after each step, replaces file
// p with "PID N" (rename, so a reader never sees half a line). It never
// reads p back: after a restore it can only go on from the N it holds.
func counter(p string) {
	for n := 1; ; n++ {
		tmp := p + ".tmp"
		if err := os.WriteFile(tmp, fmt.Appendf(nil, "%d %d\n", os.Getpid(), n), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := os.Rename(tmp, p); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		time.Sleep(counterEvery)
	}
}

// reading is one state of the counter's file.
type reading struct{ pid, n int }

func readCounter(p string) (reading, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return reading{}, err
	}
	var r reading
	if _, err := fmt.Sscanf(string(b), "%d %d\n", &r.pid, &r.n); err != nil {
		return reading{}, fmt.Errorf("%s: %q: %w", p, b, err)
	}
	return r, nil
}

// waitCounter polls the counter's file until ok accepts a reading, and
// returns it; it fails the test when ctx ends first.
func waitCounter(ctx context.Context, t *testing.T, p string, ok func(reading) bool) reading {
	t.Helper()
	var last reading
	var lastErr error
	for {
		r, err := readCounter(p)
		if err == nil && ok(r) {
			return r
		}
		last, lastErr = r, err
		select {
		case <-ctx.Done():
			t.Fatalf("counter %s: last reading %+v (%v): %v", p, last, lastErr, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

func TestCheckPasses(t *testing.T) {
	c := Current(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	out, err := c.Check(ctx)
	if err != nil {
		t.Fatalf("CRIU %s: %v", c.Version, err)
	}
	if !strings.Contains(out, "Looks good") {
		t.Errorf("criu check printed %q, want \"Looks good.\"", out)
	}
}

// TestDumpRestore checkpoints a real process (a counter, in its own
// session), lets CRIU kill it, restores it and checks that it goes on
// counting from where it was, under its PID, and not from 1.
func TestDumpRestore(t *testing.T) {
	c := Current(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	images := filepath.Join(dir, "images")
	if err := os.Mkdir(images, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "count")
	out, err := os.Create(filepath.Join(dir, "counter.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envCounter+"="+file)
	cmd.Stdout, cmd.Stderr = out, out // a file: CRIU restores it; a pipe to the test it could not
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	waited := false
	t.Cleanup(func() {
		if !waited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	waitCounter(ctx, t, file, func(r reading) bool { return r.pid == pid && r.n >= 10 })

	if err := c.Dump(ctx, pid, images); err != nil {
		t.Fatal(err)
	}
	// CRIU kills the dumped tree; reap it, so that its PID is free for
	// the restore.
	err = cmd.Wait()
	waited = true
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("the dumped counter ended with %v, want killed by CRIU (SIGKILL)", err)
	}
	dumped, err := readCounter(file)
	if err != nil {
		t.Fatal(err)
	}

	restored, err := c.Restore(ctx, images)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Kill(context.Background(), restored); err != nil {
			t.Errorf("stopping the restored counter: %v", err)
		}
	})
	if restored != pid {
		t.Errorf("restored PID %d, want the dumped %d (CRIU restores PIDs)", restored, pid)
	}
	// The first new reading must continue the count. A restart would
	// write 1 first (the file is polled ten times per step); the slack
	// of 25 steps is for a loaded machine.
	next := waitCounter(ctx, t, file, func(r reading) bool { return r != dumped })
	if next.pid != pid || next.n <= dumped.n || next.n > dumped.n+25 {
		t.Fatalf("after the restore the counter wrote %+v; dumped at %+v: want PID %d counting on from %d",
			next, dumped, pid, dumped.n)
	}
	later := waitCounter(ctx, t, file, func(r reading) bool { return r.n >= next.n+5 })
	if later.pid != pid {
		t.Errorf("counter PID %d, want %d", later.pid, pid)
	}

	if err := Kill(ctx, restored); err != nil {
		t.Fatal(err)
	}
	if err := unix.Kill(restored, 0); err == nil {
		// Exited is enough: its new parent (init, or a subreaper)
		// reaps it; until then /proc/PID says it is a zombie.
		if st, _ := os.ReadFile("/proc/" + strconv.Itoa(restored) + "/stat"); !strings.Contains(string(st), ") Z ") {
			t.Errorf("PID %d still runs after Kill: %s", restored, st)
		}
	}
}

func TestBookwormVersion(t *testing.T) {
	c := Bookworm(t)
	if !strings.HasPrefix(c.Version, "3.") {
		t.Errorf("bookworm criu version %q", c.Version)
	}
}

func TestAtLeast(t *testing.T) {
	for _, tc := range []struct {
		v            string
		major, minor int
		want         bool
	}{
		{"4.1.1", 4, 1, true},
		{"4.1", 4, 1, true},
		{"4.0", 4, 1, false},
		{"3.17.1", 4, 1, false},
		{"3.18", 3, 17, true},
		{"10.0", 4, 1, true},
		{"4.10-rc1", 4, 2, true},
		{"4", 4, 0, false},
		{"", 3, 0, false},
		{"x.1", 0, 0, false},
	} {
		if got := AtLeast(tc.v, tc.major, tc.minor); got != tc.want {
			t.Errorf("AtLeast(%q, %d, %d) = %v, want %v", tc.v, tc.major, tc.minor, got, tc.want)
		}
	}
}

// TestKill stops a counter of the test's own by PID and returns once it
// has exited.
func TestKill(t *testing.T) {
	file := filepath.Join(t.TempDir(), "count")
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envCounter+"="+file)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	waitCounter(ctx, t, file, func(r reading) bool { return r.n >= 1 })
	if err := Kill(ctx, cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	// Exited already: the pidfd said so; Wait only reaps it.
	err := cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("counter ended with %v, want SIGKILL", err)
	}
}

// TestPinsAgree: the version and checksum .ci/build-criu builds from are
// the ones stack.yaml's comment records, and DefaultPath is its prefix.
func TestPinsAgree(t *testing.T) {
	script, err := os.ReadFile("../../.ci/build-criu")
	if err != nil {
		t.Fatal(err)
	}
	stack, err := os.ReadFile("../../system/stack.yaml")
	if err != nil {
		t.Fatal(err)
	}
	assign := func(name string) string {
		for _, line := range strings.Split(string(script), "\n") {
			if v, ok := strings.CutPrefix(line, name+"="); ok {
				return v
			}
		}
		t.Fatalf(".ci/build-criu: no %s=", name)
		return ""
	}
	version, sum := assign("CRIU_VERSION"), assign("CRIU_ORIG_SHA256")
	for _, want := range []string{"criu_" + version + ".orig.tar.xz", "sha256 " + sum, "/opt/criu-" + version} {
		if !strings.Contains(string(stack), want) {
			t.Errorf("system/stack.yaml does not record %q (.ci/build-criu's pin)", want)
		}
	}
	if want := "/opt/criu-" + version + "/sbin/criu"; DefaultPath != want {
		t.Errorf("DefaultPath %s, but .ci/build-criu installs %s", DefaultPath, want)
	}
}
