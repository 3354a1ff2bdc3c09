package criutest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"trenv-bench/baselines"
	"trenv-bench/internal/testctr"
	"trenv-bench/results"
	"trenv-bench/system"
)

// containerCounter counts in a shell variable and appends each count to
// /tmp/count every 50 ms; it never reads the file back, so after a
// restore it can only go on from the count it holds in memory.
const containerCounter = `i=0; while :; do i=$((i+1)); echo $i >> /tmp/count; sleep 0.05; done`

// functionNS is faasd's containerd namespace; the tests use it in a
// containerd of their own.
const functionNS = "openfaas-fn"

// readContainerCounts reads the whole lines of the counter file of the
// container whose task is pid, through the task's root.
func readContainerCounts(pid int) ([]int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/root/tmp/count", pid))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(string(b), "\n")
	lines = lines[:len(lines)-1] // the last is empty or being written
	counts := make([]int, len(lines))
	for i, l := range lines {
		if counts[i], err = strconv.Atoi(l); err != nil {
			return nil, fmt.Errorf("/tmp/count of task %d, line %d: %q: %w", pid, i+1, l, err)
		}
	}
	return counts, nil
}

// waitContainerCounts polls the counter file until ok accepts it.
func waitContainerCounts(ctx context.Context, t *testing.T, pid int, ok func([]int) bool) []int {
	t.Helper()
	var last []int
	var lastErr error
	for {
		counts, err := readContainerCounts(pid)
		if err == nil && ok(counts) {
			return counts
		}
		last, lastErr = counts, err
		select {
		case <-ctx.Done():
			t.Fatalf("the counter of task %d: %d counts (%v): %v", pid, len(last), lastErr, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// selectVariant puts bin first on the PATH of the containerd the test
// starts next, as a host run of the criu method does (baselines' launch:
// a directory of the variant's own holding "criu", first on PATH, where
// runc looks for it), and returns that directory.
func selectVariant(t *testing.T, bin string) string {
	t.Helper()
	method, err := baselines.Lookup(results.MethodCRIU)
	if err != nil {
		t.Fatal(err)
	}
	layout := baselines.Layout{FaasdState: t.TempDir(), CRIUDirs: t.TempDir(), Path: os.Getenv("PATH")}
	launch := method.Provider(baselines.Flags{MemGB: 1}, layout)
	if err := os.MkdirAll(launch.CRIUDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(bin, filepath.Join(launch.CRIUDir, "criu")); err != nil {
		t.Fatal(err)
	}
	for _, kv := range launch.Env {
		if p, ok := strings.CutPrefix(kv, "PATH="); ok {
			t.Setenv("PATH", p) // containerd, its shims and runc inherit it
		}
	}
	// CRIU locks a dumped network namespace with iptables-restore unless
	// told otherwise; this machine has no iptables, and CRIU 4.1.1 is
	// built with libnftables: lock with nftables (inside the container's
	// own namespace, as the iptables lock would be). runc runs criu swrk
	// with its environment, which CRIU reads the config file's name from.
	conf := filepath.Join(t.TempDir(), "criu.conf")
	if err := os.WriteFile(conf, []byte("network-lock nftables\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CRIU_CONFIG_FILE", conf)
	if got, err := exec.LookPath("criu"); err != nil || got != filepath.Join(launch.CRIUDir, "criu") {
		t.Fatalf("criu on PATH is %q (%v), want the criu method's variant in %s", got, err, launch.CRIUDir)
	}
	return launch.CRIUDir
}

// startCounter starts a containerd of the test's own and, in its
// openfaas-fn namespace, container counter-1 running containerCounter in
// cgroup /<test's>/counter-1; it returns the containerd and the task's
// PID once the counter has counted to 10.
func startCounter(ctx context.Context, t *testing.T) (*testctr.Containerd, int) {
	t.Helper()
	cgroup := fmt.Sprintf("trenv-bench-criutest-%d", os.Getpid())
	testctr.RemoveCgroupAtEnd(t, cgroup)
	c := testctr.Start(t)
	ref := "docker.io/trenv-bench/counter:test"
	img := testctr.Image{Ref: ref, Applets: []string{"sh", "sleep", "echo"}, Entrypoint: []string{"/bin/sh", "-c"}, Cmd: []string{containerCounter}}
	if err := c.Import(ctx, functionNS, img); err != nil {
		t.Fatal(err)
	}
	pid, err := c.Run(ctx, functionNS, ref, "counter-1", testctr.RunOptions{Cgroup: cgroup + "/counter-1"})
	if err != nil {
		t.Fatal(err)
	}
	waitContainerCounts(ctx, t, pid, func(n []int) bool { return len(n) >= 10 })
	return c, pid
}

// checkpointImage is the image `ctr containers checkpoint` writes.
const checkpointImage = "docker.io/trenv-bench/counter-checkpoint:test"

// TestContainerCheckpointRestore checkpoints a real container in
// openfaas-fn through a real containerd with CRIU 4.1.1, selected as a
// host run selects the criu method's variant, and restores it under a
// new name from the checkpoint (its memory, and its writable layer as it
// was at the checkpoint): the restored container counts on from where it
// was, so the counts in its file run 1, 2, … without a restart at 1.
func TestContainerCheckpointRestore(t *testing.T) {
	criu := Current(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	selectVariant(t, criu.Path)
	c, pid := startCounter(ctx, t)

	// Checkpoint the task and its writable layer into an image in
	// containerd's content store (containerd pauses the task; runc
	// checkpoint --leave-running, i.e. CRIU dump; resumed after), then
	// stop it. The checkpoint holds count D, before ≤ D ≤ atStop.
	before, _ := readContainerCounts(pid)
	if _, err := c.Ctr(ctx, functionNS, "containers", "checkpoint", "--task", "--rw", "counter-1", checkpointImage); err != nil {
		log := filepath.Join(c.State, "io.containerd.runtime.v2.task", functionNS, "counter-1", "criu-dump.log")
		t.Fatalf("%v\nCRIU's log %s ends:\n%s", err, log, system.LogTail(log, 25))
	}
	stopped := waitContainerCounts(ctx, t, pid, func(n []int) bool { return len(n) > len(before) })
	if _, err := c.Ctr(ctx, functionNS, "tasks", "kill", "-s", "SIGKILL", "counter-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Ctr(ctx, functionNS, "tasks", "delete", "-f", "counter-1"); err != nil {
		t.Fatal(err)
	}
	atStop := len(stopped) + 1 // it may have written one more before the kill
	t.Logf("checkpointed after count %d (ran on after it), stopped by count %d", len(before), atStop)

	// `ctr containers restore --rw --live` makes container counter-2 from
	// the checkpoint (its writable layer too) and starts its task from
	// CRIU's images. It stays attached to the task's I/O, which a task
	// started from a checkpoint never closes, so the test stops it by PID
	// once the task is stopped.
	restoreLog := filepath.Join(t.TempDir(), "ctr-restore.log")
	logf, err := os.Create(restoreLog)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	restore := exec.Command(c.Tools.Ctr, "-a", c.Socket, "-n", functionNS, "containers", "restore", "--rw", "--live", "counter-2", checkpointImage)
	restore.Stdout, restore.Stderr = logf, logf // files: Wait waits for no pipe
	if err := restore.Start(); err != nil {
		t.Fatal(err)
	}
	// restoreDone is closed once ctr has exited and been reaped, and
	// restoreErr then says how; stopRestore runs at the end and again as
	// a cleanup (after a failure).
	restoreDone := make(chan struct{})
	var restoreErr error
	go func() { restoreErr = restore.Wait(); close(restoreDone) }()
	stopRestore := func() {
		select {
		case <-restoreDone:
			return
		default:
		}
		restore.Process.Kill()
		select {
		case <-restoreDone:
		case <-time.After(10 * time.Second):
			t.Errorf("ctr containers restore (PID %d) not reaped 10 s after SIGKILL", restore.Process.Pid)
		}
	}
	t.Cleanup(stopRestore)
	var restored int
	var first []int
	for restored == 0 {
		if p, err := c.TaskPID(ctx, functionNS, "counter-2"); err == nil && p > 0 {
			if counts, err := readContainerCounts(p); err == nil {
				restored, first = p, counts
				break
			}
		}
		select {
		case <-restoreDone:
			t.Fatalf("ctr containers restore ended (%v) before the task ran:\n%s", restoreErr, system.LogTail(restoreLog, 20))
		case <-ctx.Done():
			t.Fatalf("no restored task counter-2: %v:\n%s", ctx.Err(), system.LogTail(restoreLog, 20))
		case <-time.After(20 * time.Millisecond):
		}
	}
	// The first reading is the checkpoint's layer (counts 1..D), perhaps
	// with a count or two the restored task has added since.
	if len(first) < len(before) || len(first) > atStop+2 {
		t.Errorf("the restored container's file first holds %d counts: want the checkpoint's, between %d and %d", len(first), len(before), atStop)
	}
	later := waitContainerCounts(ctx, t, restored, func(n []int) bool { return len(n) >= len(first)+10 })
	for i, n := range later {
		if n != i+1 {
			t.Fatalf("the restored container's counts go %v at line %d: want %d (it counts on from its checkpoint, not from 1)", later[max(0, i-3):min(len(later), i+3)], i+1, i+1)
		}
	}
	t.Logf("restored as task %d with %d counts, then counted on to %d", restored, len(first), len(later))

	if _, err := c.Ctr(ctx, functionNS, "tasks", "kill", "-s", "SIGKILL", "counter-2"); err != nil {
		t.Fatal(err)
	}
	if err := Kill(ctx, restored); err != nil { // waits until it has exited
		t.Fatal(err)
	}
	stopRestore()
}

// TestContainerCheckpointBookworm: with bookworm's CRIU 3.17.1 first on
// containerd's PATH instead, checkpointing the same container fails on a
// kernel from 6.13 on, on the vDSO: the variant on PATH is the one runc
// runs, and CRIU < 4.1 cannot work here (what doctor reports).
func TestContainerCheckpointBookworm(t *testing.T) {
	criu := Bookworm(t)
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	if kernel := unix.ByteSliceToString(u.Release[:]); !AtLeast(kernel, 6, 13) {
		t.Skipf("kernel %s: CRIU %s reads the vDSO of kernels before 6.13", kernel, criu.Version)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	selectVariant(t, criu.Path)
	c, _ := startCounter(ctx, t)
	_, err := c.Ctr(ctx, functionNS, "containers", "checkpoint", "--task", "counter-1", checkpointImage)
	log := filepath.Join(c.State, "io.containerd.runtime.v2.task", functionNS, "counter-1", "criu-dump.log")
	b, _ := os.ReadFile(log)
	if err == nil || !strings.Contains(err.Error()+string(b), "Unexpected rt vDSO area bounds") {
		t.Fatalf("checkpoint with CRIU %s: %v; want CRIU's vDSO failure. CRIU's log %s ends:\n%s", criu.Version, err, log, system.LogTail(log, 15))
	}
	t.Logf("checkpoint with CRIU %s fails: %v", criu.Version, err)
}
