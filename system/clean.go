package system

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CleanOptions say what Clean stops and removes.
type CleanOptions struct {
	// Supervisor holds the records of the daemons the harness started.
	Supervisor *Supervisor
	// Runner runs ctr.
	Runner Runner
	// Address is containerd's socket, which ctr is pointed at (-a).
	Address string
	// Namespace is containerd's namespace of the function containers
	// (openfaas-fn); only its tasks and containers are removed.
	Namespace string
	// CgroupRoot and Cgroups: the function cgroups (openfaas-fn, and the
	// VM baselines' faasnap and reap), whose processes (switched
	// processes live outside containerd) are killed by PID and which are
	// then removed.
	CgroupRoot string
	Cgroups    []string
	// AppDir is faasd's overlay directory (/var/lib/faasd/app): its
	// upper/ and work/ are emptied, its merged/ mounts detached.
	AppDir string
	// MountsFile lists the mounts (/proc/self/mounts).
	MountsFile string
	// Grace is how long a process has between SIGTERM and SIGKILL.
	Grace time.Duration
	// DryRun says what would be done, and does nothing.
	DryRun bool
	// Say receives one line per action.
	Say func(string)
}

// DefaultCleanOptions are a TrEnv host's paths.
func DefaultCleanOptions(sup *Supervisor, r Runner) CleanOptions {
	return CleanOptions{Supervisor: sup, Runner: r, Address: DefaultContainerdSocket, Namespace: "openfaas-fn", CgroupRoot: DefaultCgroupRoot,
		Cgroups: []string{"openfaas-fn", "faasnap", "reap"}, AppDir: "/var/lib/faasd/app", MountsFile: "/proc/self/mounts",
		Grace: 2 * time.Second}
}

// ContainerdDaemon is the name the harness records containerd under.
const ContainerdDaemon = "containerd"

// Clean stops what the harness started and what those started in turn, and
// nothing else: the daemons recorded by the supervisor (by PID and start
// time), the tasks and containers of the function namespace (through
// containerd, when it answers), the processes left in the function cgroups
// (by PID, from cgroup.procs), then removes those cgroups, detaches the
// function overlays and empties their upper and work directories. A
// containerd the harness recorded is stopped after the containers, which
// are removed through it (its shims outlive it otherwise). Other
// namespaces, other processes and firewall rules are not touched. It goes
// on after a failed action and returns every failure.
func Clean(ctx context.Context, o CleanOptions) error {
	say := o.Say
	if say == nil {
		say = func(string) {}
	}
	var errs []error
	fail := func(err error) {
		if err != nil {
			errs = append(errs, err)
			say("  failed: " + err.Error())
		}
	}
	var recs []Daemon
	if o.Supervisor != nil {
		var err error
		recs, err = o.Supervisor.Recorded()
		fail(err)
	}
	stop := func(containerd bool) {
		for _, d := range recs {
			if (d.Name == ContainerdDaemon) != containerd {
				continue
			}
			say(fmt.Sprintf("stop %s (pid %d, recorded by the harness)", d.Name, d.PID))
			if !o.DryRun {
				_, err := o.Supervisor.StopRecorded(ctx, d, o.Grace)
				fail(err)
			}
		}
	}
	// 1. The harness's own daemons, containerd last.
	stop(false)
	// 2. Function containers, through containerd.
	if o.Runner != nil && o.Namespace != "" {
		fail(cleanContainers(ctx, o, say))
	}
	stop(true)
	// 3. What is left in the function cgroups, then the cgroups.
	for _, cg := range o.Cgroups {
		for _, dir := range cgroupDirs(o.CgroupRoot, cg) {
			pids, err := cgroupProcs(dir)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			fail(err)
			for _, pid := range pids {
				say(fmt.Sprintf("kill pid %d (in cgroup %s)", pid, dir))
				if !o.DryRun {
					fail(killPID(ctx, pid, o.Grace))
				}
			}
			say("remove cgroup " + dir)
			if !o.DryRun {
				fail(removeCgroup(ctx, dir))
			}
		}
	}
	// 4. The function overlays.
	if o.AppDir != "" {
		fail(cleanOverlays(o, say))
	}
	return errors.Join(errs...)
}

// cleanContainers kills and removes the tasks and containers of the
// function namespace, through the containerd at o.Address.
func cleanContainers(ctx context.Context, o CleanOptions, say func(string)) error {
	addr := o.Address
	if addr == "" {
		addr = DefaultContainerdSocket
	}
	if err := ContainerdAnswers(ctx, o.Runner, "ctr", addr); err != nil {
		say(err.Error() + ": no containers to remove through it")
		return nil
	}
	ns := []string{"-a", addr, "-n", o.Namespace}
	out, err := o.Runner.Run(ctx, "ctr", append(ns, "tasks", "ls", "-q")...)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range strings.Fields(string(out)) {
		say("kill and delete task " + id + " (namespace " + o.Namespace + ")")
		if o.DryRun {
			continue
		}
		o.Runner.Run(ctx, "ctr", append(ns, "tasks", "kill", "-s", "SIGKILL", id)...)
		if _, err := o.Runner.Run(ctx, "ctr", append(ns, "tasks", "delete", "-f", id)...); err != nil {
			errs = append(errs, err)
		}
	}
	out, err = o.Runner.Run(ctx, "ctr", append(ns, "containers", "ls", "-q")...)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, id := range strings.Fields(string(out)) {
		say("delete container " + id + " (namespace " + o.Namespace + ")")
		if o.DryRun {
			continue
		}
		if _, err := o.Runner.Run(ctx, "ctr", append(ns, "containers", "delete", id)...); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// cgroupDirs are cgroup's directories: v2's, and v1's per controller.
func cgroupDirs(root, cgroup string) []string {
	dirs := []string{filepath.Join(root, cgroup)}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if e.IsDir() {
			if d := filepath.Join(root, e.Name(), cgroup); isDir(d) {
				dirs = append(dirs, d)
			}
		}
	}
	var out []string
	for _, d := range dirs {
		if isDir(d) {
			out = append(out, d)
		}
	}
	return out
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// cgroupProcs lists the processes of a cgroup and its descendants.
func cgroupProcs(dir string) ([]int, error) {
	if !isDir(dir) {
		return nil, fs.ErrNotExist
	}
	var pids []int
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			pid, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
			if err == nil && pid > 1 && pid != os.Getpid() && !slices.Contains(pids, pid) {
				pids = append(pids, pid)
			}
		}
		return nil
	})
	return pids, err
}

// killPID sends SIGTERM, then SIGKILL after grace, to one process.
func killPID(ctx context.Context, pid int, grace time.Duration) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); errors.Is(err, syscall.ESRCH) {
		return nil
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if _, zombie, err := procStart("/proc", pid); err != nil || zombie {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("system: killing pid %d: %w", pid, err)
	}
	return nil
}

// removeCgroup removes a cgroup directory and its children, deepest first,
// retrying briefly while the kernel lets go of killed processes.
func removeCgroup(ctx context.Context, dir string) error {
	var dirs []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	slices.Reverse(dirs)
	for _, d := range dirs {
		var err error
		for i := 0; i < 50; i++ {
			if err = os.Remove(d); err == nil || errors.Is(err, fs.ErrNotExist) {
				err = nil
				break
			}
			if ctx.Err() != nil {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("system: removing cgroup %s: %w", d, err)
		}
	}
	return nil
}

// cleanOverlays detaches the mounts under app/merged and empties app/upper
// and app/work (faasd's function overlays).
func cleanOverlays(o CleanOptions, say func(string)) error {
	var errs []error
	merged := filepath.Join(o.AppDir, "merged") + "/"
	if b, err := os.ReadFile(o.MountsFile); err == nil {
		var targets []string
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) >= 2 && strings.HasPrefix(f[1], merged) {
				targets = append(targets, f[1])
			}
		}
		slices.Reverse(targets)
		for _, t := range targets {
			say("detach mount " + t)
			if !o.DryRun {
				if err := syscall.Unmount(t, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
					errs = append(errs, fmt.Errorf("system: unmounting %s: %w", t, err))
				}
			}
		}
	}
	for _, sub := range []string{"upper", "work"} {
		dir := filepath.Join(o.AppDir, sub)
		entries, err := os.ReadDir(dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, e := range entries {
			p := filepath.Join(dir, e.Name())
			say("remove " + p)
			if !o.DryRun {
				if err := os.RemoveAll(p); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	return errors.Join(errs...)
}
