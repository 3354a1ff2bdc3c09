package system

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ctrFake answers ctr as a containerd holding two tasks and three
// containers in openfaas-fn would, and records what it was asked.
type ctrFake struct{ ran []string }

func (c *ctrFake) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := strings.Join(append([]string{name}, args...), " ")
	c.ran = append(c.ran, cmd)
	switch {
	case strings.HasSuffix(cmd, "tasks ls -q"):
		return []byte("pyaes-1\nh-hello-world-3\n"), nil
	case strings.HasSuffix(cmd, "containers ls -q"):
		return []byte("pyaes-1\nh-hello-world-3\nchameleon-2\n"), nil
	case strings.HasSuffix(cmd, " version"):
		return []byte("Client:\n  Version: 1.6.20\n\nServer:\n  Version: 1.6.20\n"), nil
	}
	return nil, nil
}

// TestClean stops a recorded daemon, the processes left in a real function
// cgroup, and the function containers of openfaas-fn through ctr, removes
// the cgroup and the overlays' upper and work contents, and leaves alone a
// process outside all of them.
func TestClean(t *testing.T) {
	sleep := sleepBinary(t)
	cgName := fmt.Sprintf("trenv-bench-clean-%d", os.Getpid())
	cgDir := filepath.Join(DefaultCgroupRoot, "memory", cgName)
	if err := os.Mkdir(cgDir, 0o755); err != nil {
		cgDir = filepath.Join(DefaultCgroupRoot, cgName)
		if err := os.Mkdir(cgDir, 0o755); err != nil {
			t.Skipf("cannot make a cgroup here: %v", err)
		}
	}
	t.Cleanup(func() { os.Remove(cgDir) })
	inCgroup := exec.Command(sleep, "1000")
	if err := inCgroup.Start(); err != nil {
		t.Fatal(err)
	}
	defer inCgroup.Process.Kill()
	go inCgroup.Wait()
	if err := os.WriteFile(filepath.Join(cgDir, "cgroup.procs"), []byte(strconv.Itoa(inCgroup.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	outsider := exec.Command(sleep, "1000")
	if err := outsider.Start(); err != nil {
		t.Fatal(err)
	}
	defer outsider.Process.Kill()

	state := t.TempDir()
	sup, err := OpenSupervisor(state)
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	d, err := sup.Start(context.Background(), "faasd", []string{sleep, "1000"}, nil, state)
	if err != nil {
		t.Fatal(err)
	}
	app := t.TempDir()
	for _, p := range []string{"upper/pyaes-1/home", "work/pyaes-1/work", "merged/pyaes-1"} {
		os.MkdirAll(filepath.Join(app, p), 0o755)
	}
	ctr := &ctrFake{}
	sock := filepath.Join(t.TempDir(), "c.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var said []string
	o := CleanOptions{Supervisor: sup, Runner: ctr, Address: sock, Namespace: "openfaas-fn", CgroupRoot: DefaultCgroupRoot, Cgroups: []string{cgName},
		AppDir: app, MountsFile: "/proc/self/mounts", Grace: time.Second, Say: func(s string) { said = append(said, s) }}

	// A dry run says all of it and does none of it.
	o.DryRun = true
	if err := Clean(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if len(said) < 8 || inCgroup.ProcessState != nil || syscall.Kill(inCgroup.Process.Pid, 0) != nil {
		t.Fatalf("dry run said %q and touched the processes", said)
	}
	for _, c := range ctr.ran {
		if strings.Contains(c, "delete") || strings.Contains(c, "kill") {
			t.Errorf("dry run ran %q", c)
		}
	}
	ctr.ran, said = nil, nil

	o.DryRun = false
	if err := Clean(context.Background(), o); err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(said, "\n"))
	}
	select {
	case <-d.Exited():
	case <-time.After(5 * time.Second):
		t.Error("the recorded daemon is still running")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, zombie, err := procStart("/proc", inCgroup.Process.Pid)
		if err != nil || zombie {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the process in the function cgroup is still running")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(cgDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the function cgroup is still there: %v", err)
	}
	if err := outsider.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("a process outside the harness was killed: %v", err)
	}
	for _, want := range []string{
		"ctr -a " + sock + " -n openfaas-fn tasks kill -s SIGKILL pyaes-1", "ctr -a " + sock + " -n openfaas-fn tasks delete -f h-hello-world-3",
		"ctr -a " + sock + " -n openfaas-fn containers delete chameleon-2",
	} {
		if !slices.Contains(ctr.ran, want) {
			t.Errorf("did not run %q (ran %q)", want, ctr.ran)
		}
	}
	for _, c := range ctr.ran {
		if !strings.HasPrefix(c, "ctr -a "+sock+" -n openfaas-fn ") && c != "ctr --connect-timeout 1s -a "+sock+" version" {
			t.Errorf("%q reaches beyond the function namespace", c)
		}
	}
	for _, p := range []string{"upper/pyaes-1", "work/pyaes-1"} {
		if _, err := os.Stat(filepath.Join(app, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s is still there", p)
		}
	}
	if rec, _ := sup.Recorded(); len(rec) != 0 {
		t.Errorf("records left: %+v", rec)
	}
}
