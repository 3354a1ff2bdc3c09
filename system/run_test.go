package system

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHelperProcess is the program ExecRunner's tests run: the test binary
// itself, told what to do by its arguments after "--".
func TestHelperProcess(t *testing.T) {
	if os.Getenv("SYSTEM_TEST_HELPER") != "1" {
		return
	}
	args := os.Args
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	args = args[1:]
	switch args[0] {
	case "echo":
		fmt.Print(strings.Join(args[1:], " "))
		os.Exit(0)
	case "fail":
		code, _ := strconv.Atoi(args[1])
		fmt.Fprintln(os.Stderr, "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds")
		fmt.Fprintln(os.Stderr, "Error (criu/crtools.c:260): Could not initialize kernel features detection.")
		os.Exit(code)
	case "spew":
		n, _ := strconv.Atoi(args[1])
		fmt.Fprint(os.Stderr, "HEAD"+strings.Repeat("x", n)+"TAIL")
		os.Exit(1)
	case "sleep":
		time.Sleep(time.Minute)
	}
	os.Exit(2)
}

func helper(t *testing.T) (ExecRunner, string, []string) {
	t.Setenv("SYSTEM_TEST_HELPER", "1")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return ExecRunner{}, exe, []string{"-test.run=^TestHelperProcess$", "--"}
}

func TestSystemExecRunnerStdout(t *testing.T) {
	r, exe, pre := helper(t)
	out, err := r.Run(context.Background(), exe, append(pre, "echo", "Version:", "3.18")...)
	if err != nil || string(out) != "Version: 3.18" {
		t.Fatalf("out %q, err %v", out, err)
	}
}

// TestExecRunnerExitError: a non-zero exit is a *CmdError with the exit
// code and stderr, and its message ends with stderr's last line.
func TestSystemExecRunnerExitError(t *testing.T) {
	r, exe, pre := helper(t)
	_, err := r.Run(context.Background(), exe, append(pre, "fail", "3")...)
	var ce *CmdError
	if !errors.As(err, &ce) {
		t.Fatalf("err %v (%T): want *CmdError", err, err)
	}
	if ce.ExitCode != 3 || !strings.Contains(ce.Stderr, "Unexpected rt vDSO area bounds") {
		t.Errorf("exit %d, stderr %q", ce.ExitCode, ce.Stderr)
	}
	if !strings.HasSuffix(err.Error(), "Could not initialize kernel features detection.") || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("message %q", err)
	}
	if NotInstalled(err) {
		t.Error("an exit error counted as not installed")
	}
}

// TestExecRunnerBoundsStderr: a long stderr keeps its head and tail and
// says how much was left out.
func TestSystemExecRunnerBoundsStderr(t *testing.T) {
	r, exe, pre := helper(t)
	_, err := r.Run(context.Background(), exe, append(pre, "spew", "100000")...)
	var ce *CmdError
	if !errors.As(err, &ce) {
		t.Fatalf("err %v", err)
	}
	if !strings.HasPrefix(ce.Stderr, "HEAD") || !strings.HasSuffix(ce.Stderr, "TAIL") || !strings.Contains(ce.Stderr, "… omitting") {
		t.Errorf("stderr not bounded head+tail: %d bytes", len(ce.Stderr))
	}
	if len(ce.Stderr) > StderrHead+StderrTail+64 {
		t.Errorf("stderr kept %d bytes", len(ce.Stderr))
	}
	want := 4 + 100000 + 4 - StderrHead - StderrTail
	if !strings.Contains(ce.Stderr, fmt.Sprintf("omitting %d bytes", want)) {
		t.Errorf("omitted count wrong: %q", ce.Stderr[StderrHead:StderrHead+40])
	}
}

func TestSystemExecRunnerNotInstalled(t *testing.T) {
	r := ExecRunner{}
	for _, name := range []string{"trenv-bench-no-such-program", "/nonexistent/criu"} {
		_, err := r.Run(context.Background(), name, "check")
		var ce *CmdError
		if !errors.As(err, &ce) || !NotInstalled(err) || ce.ExitCode != -1 {
			t.Errorf("%s: err %v: want a CmdError that NotInstalled recognises", name, err)
		}
	}
}

func TestSystemExecRunnerContext(t *testing.T) {
	r, exe, pre := helper(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := r.Run(ctx, exe, append(pre, "sleep")...)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v: want the context's error", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v after the deadline", d)
	}
}

func TestSystemPrefixSuffix(t *testing.T) {
	w := &prefixSuffix{head: 3, tail: 4}
	for _, chunk := range []string{"ab", "cdefg", "hij", "klmno"} {
		w.Write([]byte(chunk))
	}
	if got := w.String(); got != "abc\n… omitting 8 bytes …\nlmno" {
		t.Errorf("got %q", got)
	}
	short := &prefixSuffix{head: 3, tail: 4}
	short.Write([]byte("abcdef"))
	if got := short.String(); got != "abcdef" {
		t.Errorf("got %q", got)
	}
}

func TestSystemCommandLine(t *testing.T) {
	if got := CommandLine("rdma", "-j", "link show", ""); got != `rdma -j "link show" ""` {
		t.Errorf("got %s", got)
	}
}
