// Package criutest gives tests the real CRIU binaries of the machine they
// run on, and runs them.
//
// Two binaries matter here:
//
//   - Current: CRIU ≥ 4.1, which .ci/build-criu builds from Debian
//     trixie's source into DefaultPath (TRENV_TEST_CRIU names another).
//     It runs on kernels from 6.13 on; the tests checkpoint and restore
//     real processes and containers with it.
//   - Bookworm: Debian bookworm's criu 3.17 (BookwormPath), which fails
//     `criu check` on kernels from 6.13 on ("Unexpected rt vDSO area
//     bounds"), as the 3.18-based TrEnv forks do; doctor must say so.
//
// A missing binary skips the test with the reason, except on CI
// (CI=true), where .ci/build-criu provides both and a missing one fails.
//
// Dump and Restore run `criu dump` and `criu restore -d` the way the
// tests need them (a shell job, its log in the images directory, quoted
// in the error when CRIU fails); Kill stops a restored process by PID.
package criutest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"trenv-bench/system"
)

const (
	// EnvBinary names a CRIU ≥ 4.1 binary to use instead of DefaultPath.
	EnvBinary = "TRENV_TEST_CRIU"
	// DefaultPath is where .ci/build-criu installs CRIU 4.1.1.
	DefaultPath = "/opt/criu-4.1.1/sbin/criu"
	// BookwormPath is Debian bookworm's criu (package criu, 3.17.1).
	BookwormPath = "/usr/sbin/criu"
	// DumpLog and RestoreLog are CRIU's logs in the images directory.
	DumpLog    = "dump.log"
	RestoreLog = "restore.log"
	// RestorePIDFile is where Restore has CRIU write the restored PID,
	// in the images directory.
	RestorePIDFile = "restore.pid"
)

// CRIU is one criu binary.
type CRIU struct {
	// Path is the binary.
	Path string
	// Version is what `criu --version` says ("4.1.1").
	Version string
}

// Current returns CRIU ≥ 4.1: $TRENV_TEST_CRIU, or DefaultPath. Without
// it the test is skipped, or fails on CI.
func Current(t testing.TB) CRIU {
	t.Helper()
	p, from := os.Getenv(EnvBinary), "$"+EnvBinary
	if p == "" {
		p, from = DefaultPath, "the default path"
	}
	c, err := Open(t.Context(), p)
	if err == nil && !AtLeast(c.Version, 4, 1) {
		err = fmt.Errorf("%s is CRIU %s: want 4.1 or later", p, c.Version)
	}
	if err != nil {
		missing(t, fmt.Errorf("no CRIU ≥ 4.1 at %s (%s): %w", p, from, err))
	}
	return c
}

// Bookworm returns Debian bookworm's criu 3.x at BookwormPath. Without it
// the test is skipped, or fails on CI.
func Bookworm(t testing.TB) CRIU {
	t.Helper()
	c, err := Open(t.Context(), BookwormPath)
	if err == nil && (AtLeast(c.Version, 4, 0) || !AtLeast(c.Version, 3, 0)) {
		err = fmt.Errorf("%s is CRIU %s: want bookworm's 3.x", BookwormPath, c.Version)
	}
	if err != nil {
		missing(t, fmt.Errorf("no bookworm criu: %w", err))
	}
	return c
}

// missing skips t for err, or fails it on CI.
func missing(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %v: .ci/run provides it (.ci/build-criu)", err)
	}
	t.Skipf("%v; skipping (.ci/build-criu provides it)", err)
}

// Open asks the binary at path for its version.
func Open(ctx context.Context, path string) (CRIU, error) {
	out, err := system.ExecRunner{}.Run(ctx, path, "--version")
	if err != nil {
		return CRIU{}, err
	}
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Version:"); ok {
			return CRIU{Path: path, Version: strings.TrimSpace(v)}, nil
		}
	}
	return CRIU{}, fmt.Errorf("%s --version: no \"Version:\" line in %q", path, out)
}

// AtLeast reports whether version ("4.1.1", "3.17") is major.minor or
// later; false when it does not start with two numbers.
func AtLeast(version string, major, minor int) bool {
	var a, b int
	if n, _ := fmt.Sscanf(version, "%d.%d", &a, &b); n < 2 {
		return false
	}
	return a > major || a == major && b >= minor
}

// Check runs `criu check` and returns what it printed ("Looks good.").
func (c CRIU) Check(ctx context.Context) (string, error) {
	out, err := system.ExecRunner{}.Run(ctx, c.Path, "check")
	return strings.TrimSpace(string(out)), err
}

// Dump checkpoints the process tree rooted at pid into images (which must
// exist) as a shell job; CRIU kills the tree once it is dumped.
func (c CRIU) Dump(ctx context.Context, pid int, images string) error {
	_, err := system.ExecRunner{}.Run(ctx, c.Path, "dump", "--tree", strconv.Itoa(pid), "--images-dir", images,
		"--shell-job", "-v4", "--log-file", DumpLog)
	if err != nil {
		return withLog(fmt.Errorf("criu dump of PID %d into %s: %w", pid, images, err), filepath.Join(images, DumpLog))
	}
	return nil
}

// Restore restores the tree dumped into images, detached (`criu restore
// -d`: CRIU exits once it runs, and the tree is no child of the caller),
// and returns its root's PID.
func (c CRIU) Restore(ctx context.Context, images string) (int, error) {
	pidFile := filepath.Join(images, RestorePIDFile)
	_, err := system.ExecRunner{}.Run(ctx, c.Path, "restore", "--restore-detached", "--images-dir", images,
		"--shell-job", "-v4", "--log-file", RestoreLog, "--pidfile", pidFile)
	if err != nil {
		return 0, withLog(fmt.Errorf("criu restore from %s: %w", images, err), filepath.Join(images, RestoreLog))
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, fmt.Errorf("criu restore from %s: %w", images, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("criu restore from %s: %s holds %q: expected a PID", images, pidFile, b)
	}
	return pid, nil
}

// logTail is how much of CRIU's log an error quotes.
const logTail = 15

// withLog appends the last lines of CRIU's log to err.
func withLog(err error, log string) error {
	b, rerr := os.ReadFile(log)
	if rerr != nil {
		return fmt.Errorf("%w (no log: %v)", err, rerr)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > logTail {
		lines = lines[len(lines)-logTail:]
	}
	return fmt.Errorf("%w; the end of %s:\n%s", err, log, strings.Join(lines, "\n"))
}

// pollEvery is how often Kill looks whether the process has exited.
const pollEvery = 10 * time.Millisecond

// Kill sends SIGKILL to process pid through a pidfd, so that a recycled
// PID is never signalled once the pidfd is open, and waits until it has
// exited (a process that is not the caller's child cannot be waited for;
// its parent reaps it). A process already gone is no error.
func Kill(ctx context.Context, pid int) error {
	fd, err := unix.PidfdOpen(pid, 0)
	if errors.Is(err, unix.ESRCH) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pidfd_open(%d): %w", pid, err)
	}
	defer unix.Close(fd)
	if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && !errors.Is(err, unix.ESRCH) {
		return fmt.Errorf("killing PID %d: %w", pid, err)
	}
	// A pidfd polls readable once its process has exited.
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(pollEvery/time.Millisecond))
		if err != nil && !errors.Is(err, unix.EINTR) {
			return fmt.Errorf("waiting for PID %d: %w", pid, err)
		}
		if n > 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("waiting for PID %d to exit: %w", pid, err)
		}
	}
}
