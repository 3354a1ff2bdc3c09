package system_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"trenv-bench/internal/testctr"
	"trenv-bench/system"
)

// These tests run a real containerd (internal/testctr) with runc and a
// busybox image, in cgroups of their own: containerd puts a container at
// /<namespace>/<id> by default (faasd's at /openfaas-fn/<id>); here they
// go to /<prefix>/openfaas-fn/<id> (ctr run --cgroup), the same function
// cgroup one level down, so that a test neither reads nor removes the
// host's openfaas-fn, which a parallel test or a real faasd may use.

const imageRef = "docker.io/trenv-bench/busybox:test"

// functionCgroup is a test's function cgroup, relative to the
// hierarchies, removed (with its parent) at the test's end.
func functionCgroup(t *testing.T, name string) string {
	t.Helper()
	prefix := fmt.Sprintf("trenv-bench-%s-%d", name, os.Getpid())
	testctr.RemoveCgroupAtEnd(t, prefix)
	return prefix + "/openfaas-fn"
}

// allocMiB is what the allocating process holds: dd reads it from
// /dev/zero into one buffer (touching every page), then blocks writing it
// into a FIFO that only it holds open for reading, and never reads. One
// process, so that killing it frees the memory.
const allocMiB = 48

func allocArgs() []string {
	return []string{"sh", "-c", fmt.Sprintf("mkfifo /tmp/hold && exec 3<>/tmp/hold && exec dd if=/dev/zero bs=%dM count=1 of=/tmp/hold", allocMiB)}
}

// waitMemory polls the cgroup's memory until ok holds or 15 s pass, and
// returns the last value read.
func waitMemory(t *testing.T, cg string, ok func(int64) bool) (int64, bool) {
	t.Helper()
	var v int64
	deadline := time.Now().Add(15 * time.Second)
	for {
		var err error
		v, _, err = system.CgroupMemory(system.DefaultCgroupRoot, cg)
		if err != nil {
			t.Fatal(err)
		}
		if ok(v) {
			return v, true
		}
		if time.Now().After(deadline) {
			return v, false
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCgroupMemoryOfContainer runs a container in openfaas-fn and reads
// the function cgroup's memory with CgroupMemory: the container's task is
// in that cgroup, and the value grows by what a process in the container
// allocates, and falls back when that process is killed.
func TestCgroupMemoryOfContainer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fn := functionCgroup(t, "mem")
	c := testctr.Start(t)
	if err := c.Import(ctx, "openfaas-fn", testctr.Image{Ref: imageRef}); err != nil {
		t.Fatal(err)
	}
	pid, err := c.Run(ctx, "openfaas-fn", imageRef, "fn-1", testctr.RunOptions{Cgroup: "/" + fn + "/fn-1", Args: []string{"sleep", "100000"}})
	if err != nil {
		t.Fatal(err)
	}
	cgs, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(cgs), "/"+fn+"/fn-1\n") {
		t.Fatalf("the container's task is not in the function cgroup:\n%s", cgs)
	}
	before, file, err := system.CgroupMemory(system.DefaultCgroupRoot, fn)
	if err != nil {
		t.Fatal(err)
	}
	if v1, v2 := filepath.Join(system.DefaultCgroupRoot, "memory", fn, "memory.usage_in_bytes"), filepath.Join(system.DefaultCgroupRoot, fn, "memory.current"); file != v1 && file != v2 {
		t.Errorf("read %s, want the function cgroup's %s or %s", file, v1, v2)
	}
	if _, err := c.Ctr(ctx, "openfaas-fn", append([]string{"tasks", "exec", "-d", "--exec-id", "alloc", "fn-1"}, allocArgs()...)...); err != nil {
		t.Fatal(err)
	}
	grown, ok := waitMemory(t, fn, func(v int64) bool { return v-before >= (allocMiB-4)<<20 })
	if !ok {
		t.Fatalf("%s: %d bytes before, %d after allocating %d MiB in the container", file, before, grown, allocMiB)
	}
	t.Logf("%s: %d bytes before, %d with %d MiB allocated", file, before, grown, allocMiB)
	if _, err := c.Ctr(ctx, "openfaas-fn", "tasks", "kill", "--exec-id", "alloc", "-s", "SIGKILL", "fn-1"); err != nil {
		t.Fatal(err)
	}
	if after, ok := waitMemory(t, fn, func(v int64) bool { return grown-v >= (allocMiB-4)<<20 }); !ok {
		t.Errorf("%s: %d bytes after the allocating process was killed (%d with it)", file, after, grown)
	}
}

// recorder runs programs with ExecRunner and records each command line.
type recorder struct {
	ran []string
}

func (r *recorder) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	r.ran = append(r.ran, system.CommandLine(name, args...))
	return system.ExecRunner{}.Run(ctx, name, args...)
}

// TestCleanRealContainerd: system clean's Clean, with the real ctr,
// kills and removes the tasks and containers of openfaas-fn (running,
// and created without a task), kills a process left in the function
// cgroup outside containerd (a switched process), and removes the
// function cgroup; a container in another namespace, its process and its
// cgroup are left alone, and every ctr command names openfaas-fn.
func TestCleanRealContainerd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	fn := functionCgroup(t, "clean")
	other := fmt.Sprintf("trenv-bench-other-%d", os.Getpid())
	testctr.RemoveCgroupAtEnd(t, other)
	c := testctr.Start(t)
	for _, ns := range []string{"openfaas-fn", other} {
		if err := c.Import(ctx, ns, testctr.Image{Ref: imageRef}); err != nil {
			t.Fatal(err)
		}
	}
	sleep := testctr.RunOptions{Args: []string{"sleep", "100000"}}
	var fnPIDs []int
	for _, id := range []string{"pyaes-1", "h-hello-world-2"} {
		o := sleep
		o.Cgroup = "/" + fn + "/" + id
		pid, err := c.Run(ctx, "openfaas-fn", imageRef, id, o)
		if err != nil {
			t.Fatal(err)
		}
		fnPIDs = append(fnPIDs, pid)
	}
	if _, err := c.Ctr(ctx, "openfaas-fn", "containers", "create", "--snapshotter", c.Snapshotter, imageRef, "chameleon-3"); err != nil {
		t.Fatal(err)
	}
	o := sleep
	o.Cgroup = "/" + other + "/keep-1"
	otherPID, err := c.Run(ctx, other, imageRef, "keep-1", o)
	if err != nil {
		t.Fatal(err)
	}
	// A process in the function cgroup that containerd does not know,
	// as a switched process is: in every v1 controller's copy (or v2's).
	stray := exec.Command("sleep", "100000")
	if err := stray.Start(); err != nil {
		t.Fatal(err)
	}
	defer stray.Process.Kill()
	strayDone := make(chan struct{})
	go func() { stray.Wait(); close(strayDone) }()
	dirs, _ := filepath.Glob(filepath.Join(system.DefaultCgroupRoot, "*", fn))
	if len(dirs) == 0 {
		dirs = []string{filepath.Join(system.DefaultCgroupRoot, fn)}
	}
	for _, d := range dirs {
		if err := os.WriteFile(filepath.Join(d, "cgroup.procs"), []byte(strconv.Itoa(stray.Process.Pid)), 0o644); err != nil {
			t.Fatalf("moving a process into %s: %v", d, err)
		}
	}

	r := &recorder{}
	var said []string
	err = system.Clean(ctx, system.CleanOptions{Runner: r, Address: c.Socket, Namespace: "openfaas-fn",
		CgroupRoot: system.DefaultCgroupRoot, Cgroups: []string{fn}, Grace: 2 * time.Second,
		Say: func(s string) { said = append(said, s) }})
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(said, "\n"))
	}
	t.Logf("clean said:\n%s", strings.Join(said, "\n"))

	for _, what := range []string{"tasks", "containers"} {
		if out, err := c.Ctr(ctx, "openfaas-fn", what, "ls", "-q"); err != nil || strings.TrimSpace(string(out)) != "" {
			t.Errorf("openfaas-fn's %s after clean: %q (%v)", what, out, err)
		}
	}
	for _, pid := range fnPIDs {
		if err := waitGone(pid); err != nil {
			t.Error(err)
		}
	}
	select {
	case <-strayDone:
	case <-time.After(5 * time.Second):
		t.Error("the process left in the function cgroup is still running")
	}
	for _, d := range append(dirs, filepath.Join(system.DefaultCgroupRoot, fn)) {
		if _, err := os.Stat(d); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("the function cgroup %s is still there (%v)", d, err)
		}
	}
	if out, err := c.Ctr(ctx, other, "containers", "ls", "-q"); err != nil || strings.TrimSpace(string(out)) != "keep-1" {
		t.Errorf("the other namespace's containers after clean: %q (%v), want keep-1", out, err)
	}
	if pid, err := c.TaskPID(ctx, other, "keep-1"); err != nil || pid != otherPID || syscall.Kill(pid, 0) != nil {
		t.Errorf("the other namespace's task: pid %d (%v), want %d running", pid, err, otherPID)
	}
	if _, _, err := system.CgroupMemory(system.DefaultCgroupRoot, other+"/keep-1"); err != nil {
		t.Errorf("the other container's cgroup: %v", err)
	}
	for _, cmd := range r.ran {
		if !strings.HasPrefix(cmd, "ctr -a "+c.Socket+" -n openfaas-fn ") && cmd != "ctr --connect-timeout 1s -a "+c.Socket+" version" {
			t.Errorf("clean ran %q: beyond the function namespace", cmd)
		}
	}
	if !slices.ContainsFunc(r.ran, func(s string) bool { return strings.HasSuffix(s, "containers delete chameleon-3") }) {
		t.Errorf("clean did not delete the container without a task (ran %q)", r.ran)
	}
}

// TestCleanRecordedContainerd: when the harness recorded containerd
// (a run that died left it), clean removes the function containers
// through it before it stops it, so that no shim outlives it.
func TestCleanRecordedContainerd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tools := testctr.Require(t)
	fn := functionCgroup(t, "recorded")
	l := testctr.NewLayout(t)
	sup, err := system.OpenSupervisor(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	d, err := sup.Start(ctx, system.ContainerdDaemon, l.Args(tools.Containerd), nil, "/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Stop(context.Background()) })
	if err := testctr.WaitReady(ctx, tools.Ctr, l.Socket, d.Exited()); err != nil {
		t.Fatalf("%v\n%s", err, system.LogTail(d.Log, 20))
	}
	c := testctr.Connect(t, tools, l, d.Log)
	if err := c.Import(ctx, "openfaas-fn", testctr.Image{Ref: imageRef}); err != nil {
		t.Fatal(err)
	}
	pid, err := c.Run(ctx, "openfaas-fn", imageRef, "pyaes-1", testctr.RunOptions{Cgroup: "/" + fn + "/pyaes-1", Args: []string{"sleep", "100000"}})
	if err != nil {
		t.Fatal(err)
	}
	shims := c.ShimPIDs()
	if len(shims) == 0 {
		t.Fatal("no shim recorded in the bundle")
	}
	var said []string
	err = system.Clean(ctx, system.CleanOptions{Supervisor: sup, Runner: system.ExecRunner{}, Address: l.Socket, Namespace: "openfaas-fn",
		CgroupRoot: system.DefaultCgroupRoot, Cgroups: []string{fn}, Grace: 5 * time.Second, Say: func(s string) { said = append(said, s) }})
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(said, "\n"))
	}
	deleted := slices.Index(said, "delete container pyaes-1 (namespace openfaas-fn)")
	stopped := slices.IndexFunc(said, func(s string) bool { return strings.HasPrefix(s, "stop containerd ") })
	if deleted < 0 || stopped < deleted {
		t.Errorf("clean said:\n%s\nwant the container deleted, then containerd stopped", strings.Join(said, "\n"))
	}
	select {
	case <-d.Exited():
	case <-time.After(10 * time.Second):
		t.Error("containerd is still running")
	}
	for _, p := range append(shims, pid) {
		if err := waitGone(p); err != nil {
			t.Error(err)
		}
	}
	if rec, _ := sup.Recorded(); len(rec) != 0 {
		t.Errorf("records left: %+v", rec)
	}
}

// waitGone waits up to 5 s for pid to be gone (or a zombie).
func waitGone(pid int) error {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return nil
		}
		if f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:])); len(f) > 0 && f[0] == "Z" {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("pid %d is still running", pid)
}
