// Package testtwin starts `trenv-bench sim serve` in a child process for
// tests that need a twin in another process, and says where it listens.
package testtwin

import (
	"bufio"
	"os/exec"
	"regexp"
	"testing"
	"time"
)

// listening is sim serve's line saying where it serves.
var listening = regexp.MustCompile(`on (http://127\.0\.0\.1:[0-9]+)`)

// Serve starts cmd, a `trenv-bench sim serve … --addr 127.0.0.1:0`
// command, and returns the URL it says it serves on; the test's cleanup
// kills it by its PID and reaps it. It fails the test when sim serve has
// not said so within 30 s.
func Serve(t *testing.T, cmd *exec.Cmd) string {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", cmd, err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
				break
			}
		}
		for sc.Scan() { // keep the pipe drained
		}
	}()
	select {
	case u := <-addr:
		return u
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not say where it listens", cmd)
		return ""
	}
}
