// Package testctr runs a real containerd for a test, as containerd's own
// integration tests do: its own root, state, socket and config under a
// temporary directory, started as a child process tracked by PID, ready
// once its socket answers `ctr version`, and at the test's end its
// containers' tasks killed and deleted, then it stopped and reaped, its
// mounts detached; its log goes to the test's output when the test fails.
// Images are built in Go (an OCI layout holding a static busybox) and
// imported with `ctr images import`: no registry, no network.
//
// It needs containerd, ctr, containerd-shim-runc-v2, runc and a static
// busybox (Debian: containerd runc busybox-static; .ci/containerd
// installs them) and root: without them a test skips, or fails when
// CI=true.
package testctr

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"trenv-bench/system"
)

// Tools are the programs a real containerd needs.
type Tools struct {
	Containerd, Ctr, Shim, Runc, Busybox string
}

// FindTools looks the tools up on PATH; busybox must be statically linked
// (it runs alone in the image).
func FindTools() (Tools, error) {
	var t Tools
	var missing []string
	for _, p := range []struct {
		name string
		dst  *string
	}{
		{"containerd", &t.Containerd}, {"ctr", &t.Ctr}, {"containerd-shim-runc-v2", &t.Shim}, {"runc", &t.Runc}, {"busybox", &t.Busybox},
	} {
		path, err := exec.LookPath(p.name)
		if err != nil {
			missing = append(missing, p.name)
			continue
		}
		*p.dst = path
	}
	if len(missing) > 0 {
		return t, fmt.Errorf("testctr: not on PATH: %s", strings.Join(missing, ", "))
	}
	if err := CheckStatic(t.Busybox); err != nil {
		return t, err
	}
	return t, nil
}

// Require returns the tools, or skips t when one is missing or the test
// does not run as root; on CI (CI=true), where .ci/containerd installs
// them, it fails t instead.
func Require(t testing.TB) Tools {
	t.Helper()
	tools, err := FindTools()
	if err == nil && os.Geteuid() != 0 {
		err = errors.New("testctr: a real containerd needs root")
	}
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v: .ci/containerd installs containerd, runc and busybox-static", err)
		}
		t.Skipf("%v; skipping the real-containerd test (apt-get install containerd runc busybox-static)", err)
	}
	return tools
}

// Layout is where a test's containerd keeps everything: all of it under
// Dir, a short temporary directory (a unix socket's path is limited to
// 108 bytes, which t.TempDir's long names can exceed).
type Layout struct {
	Dir, Root, State, Socket, Config string
}

// NewLayout makes a layout and writes its config.toml: a version 2
// config with the layout's root, state and socket, the CRI plugin
// disabled (nothing here speaks CRI) and the opt plugin's directory
// inside the layout instead of /opt/containerd. The directory is removed
// at the test's end, after any mount left below it is detached.
func NewLayout(t testing.TB) Layout {
	t.Helper()
	dir, err := os.MkdirTemp("", "trenv-ctr-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		detachMounts(dir)
		if err := os.RemoveAll(dir); err != nil {
			t.Errorf("testctr: removing %s: %v", dir, err)
		}
	})
	l := Layout{Dir: dir, Root: filepath.Join(dir, "root"), State: filepath.Join(dir, "state"),
		Socket: filepath.Join(dir, "containerd.sock"), Config: filepath.Join(dir, "config.toml")}
	if err := os.WriteFile(l.Config, []byte(l.config()), 0o644); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l Layout) config() string {
	q := strconv.Quote
	return fmt.Sprintf(`version = 2
root = %s
state = %s
disabled_plugins = ["io.containerd.grpc.v1.cri"]

[grpc]
  address = %s

[debug]
  level = "debug"

[plugins."io.containerd.internal.v1.opt"]
  path = %s
`, q(l.Root), q(l.State), q(l.Socket), q(filepath.Join(l.Dir, "opt")))
}

// Args is the command that starts containerd on this layout.
func (l Layout) Args(containerd string) []string {
	return []string{containerd, "--config", l.Config}
}

// Containerd is a running containerd of a test's own.
type Containerd struct {
	Layout
	Tools
	// Snapshotter is the one images are unpacked with: overlayfs (what
	// faasd's switching needs) where containerd's overlayfs plugin loads
	// on this file system, else native.
	Snapshotter string
	// Log is containerd's stdout and stderr.
	Log string

	t    testing.TB
	cmd  *exec.Cmd
	done chan struct{}
}

// ReadyTimeout bounds how long Start waits for containerd to answer.
const ReadyTimeout = 30 * time.Second

// Start starts a containerd of t's own and waits until it answers; it is
// stopped at t's end.
func Start(t testing.TB) *Containerd {
	t.Helper()
	tools := Require(t)
	l := NewLayout(t)
	c := &Containerd{Layout: l, Tools: tools, Log: filepath.Join(l.Dir, "containerd.log"), t: t, done: make(chan struct{})}
	logf, err := os.Create(c.Log)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	c.cmd = exec.Command(tools.Containerd, "--config", l.Config)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.cmd.Start(); err != nil {
		t.Fatalf("testctr: starting %s: %v", tools.Containerd, err)
	}
	go func() { c.cmd.Wait(); close(c.done) }()
	t.Cleanup(c.stop)
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	defer cancel()
	if err := WaitReady(ctx, tools.Ctr, l.Socket, c.done); err != nil {
		t.Fatalf("testctr: %v; containerd's log ends:\n%s", err, system.LogTail(c.Log, 30))
	}
	c.pickSnapshotter(ctx)
	return c
}

// Connect returns a handle on a containerd that something else started
// on layout l (a system.Supervisor, the host engine) and that answers
// already. At t's end the handle removes the tasks and containers left,
// if containerd still answers, and kills the shims left running; the
// process itself is its starter's to stop. PID is 0 and Exited nil.
func Connect(t testing.TB, tools Tools, l Layout, log string) *Containerd {
	t.Helper()
	c := &Containerd{Layout: l, Tools: tools, Log: log, t: t}
	t.Cleanup(c.stop)
	ctx, cancel := context.WithTimeout(context.Background(), ReadyTimeout)
	defer cancel()
	if err := system.ContainerdAnswers(ctx, system.ExecRunner{}, tools.Ctr, l.Socket); err != nil {
		t.Fatalf("testctr: %v", err)
	}
	c.pickSnapshotter(ctx)
	return c
}

func (c *Containerd) pickSnapshotter(ctx context.Context) {
	c.Snapshotter = "native"
	if out, err := c.Ctr(ctx, "", "plugins", "ls"); err == nil && pluginOK(out, "io.containerd.snapshotter.v1", "overlayfs") {
		c.Snapshotter = "overlayfs"
	}
}

// PID is containerd's process id (0 for a Connect handle).
func (c *Containerd) PID() int {
	if c.cmd == nil {
		return 0
	}
	return c.cmd.Process.Pid
}

// Exited is closed once containerd has exited (and been reaped); nil for
// a Connect handle.
func (c *Containerd) Exited() <-chan struct{} { return c.done }

// WaitReady waits until containerd answers on socket (the socket exists
// and `ctr version` gets the server's version), exited closes, or ctx
// ends.
func WaitReady(ctx context.Context, ctr, socket string, exited <-chan struct{}) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if system.ContainerdAnswers(ctx, system.ExecRunner{}, ctr, socket) == nil {
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("containerd exited before it answered on %s", socket)
		case <-ctx.Done():
			return fmt.Errorf("containerd did not answer on %s: %w", socket, ctx.Err())
		case <-tick.C:
		}
	}
}

// pluginOK reports whether `ctr plugins ls` lists plugin typ/id as ok.
func pluginOK(out []byte, typ, id string) bool {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[0] == typ && f[1] == id && f[len(f)-1] == "ok" {
			return true
		}
	}
	return false
}

// Ctr runs ctr against this containerd in namespace ns ("" = ctr's
// default) and returns its stdout; an error carries its stderr.
func (c *Containerd) Ctr(ctx context.Context, ns string, args ...string) ([]byte, error) {
	argv := []string{"-a", c.Socket}
	if ns != "" {
		argv = append(argv, "-n", ns)
	}
	argv = append(argv, args...)
	cmd := exec.CommandContext(ctx, c.Tools.Ctr, argv...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("ctr %s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// Import builds img's OCI archive and imports it into namespace ns,
// unpacked with the snapshotter.
func (c *Containerd) Import(ctx context.Context, ns string, img Image) error {
	if img.Busybox == "" {
		img.Busybox = c.Tools.Busybox
	}
	f, err := os.CreateTemp(c.Dir, "image-*.tar")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := WriteArchive(f, img); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	_, err = c.Ctr(ctx, ns, "images", "import", "--snapshotter", c.Snapshotter, f.Name())
	return err
}

// RunOptions are a container's.
type RunOptions struct {
	// Cgroup is its cgroup path (ctr run --cgroup); "" leaves
	// containerd's default, /<namespace>/<id>.
	Cgroup string
	// Args replace the image's command.
	Args []string
}

// Run creates container id from image ref in namespace ns and starts its
// task detached, its standard streams on /dev/null, in a network
// namespace of its own with only loopback (no CNI, no host network); it
// returns the task's PID.
func (c *Containerd) Run(ctx context.Context, ns, ref, id string, o RunOptions) (int, error) {
	args := []string{"run", "-d", "--null-io", "--snapshotter", c.Snapshotter}
	if o.Cgroup != "" {
		args = append(args, "--cgroup", o.Cgroup)
	}
	args = append(append(args, ref, id), o.Args...)
	if _, err := c.Ctr(ctx, ns, args...); err != nil {
		return 0, err
	}
	return c.TaskPID(ctx, ns, id)
}

// TaskPID is the PID of container id's task in namespace ns.
func (c *Containerd) TaskPID(ctx context.Context, ns, id string) (int, error) {
	out, err := c.Ctr(ctx, ns, "tasks", "ls")
	if err != nil {
		return 0, err
	}
	return ParseTaskPID(out, id)
}

// ParseTaskPID finds id's PID in `ctr tasks ls` output (TASK PID STATUS).
func ParseTaskPID(out []byte, id string) (int, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == id {
			return strconv.Atoi(f[1])
		}
	}
	return 0, fmt.Errorf("testctr: no task %s in ctr tasks ls:\n%s", id, out)
}

// stop deletes every task and container containerd holds (when it
// answers), stops it (SIGTERM, SIGKILL after 10 s) and reaps it if it is
// Start's, then kills any shim of its left running (by PID), and shows its log when the test failed.
func (c *Containerd) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	shims := c.ShimPIDs()
	if system.ContainerdAnswers(ctx, system.ExecRunner{}, c.Tools.Ctr, c.Socket) == nil {
		if err := c.deleteAll(ctx); err != nil {
			c.t.Errorf("testctr: removing the test's containers: %v", err)
		}
	}
	if c.cmd != nil {
		select {
		case <-c.done:
		default:
			syscall.Kill(-c.PID(), syscall.SIGTERM)
			select {
			case <-c.done:
			case <-time.After(10 * time.Second):
				syscall.Kill(-c.PID(), syscall.SIGKILL)
				<-c.done
			}
		}
	}
	for _, pid := range shims {
		if slices.Contains(c.ShimPIDs(), pid) { // the same process still
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if c.t.Failed() {
		c.t.Logf("containerd's log (%s) ends:\n%s", c.Log, system.LogTail(c.Log, 60))
	}
}

// deleteAll kills and deletes the tasks and deletes the containers of
// every namespace.
func (c *Containerd) deleteAll(ctx context.Context) error {
	out, err := c.Ctr(ctx, "", "namespaces", "ls", "-q")
	if err != nil {
		return err
	}
	var errs []error
	for _, ns := range strings.Fields(string(out)) {
		tasks, err := c.Ctr(ctx, ns, "tasks", "ls", "-q")
		errs = append(errs, err)
		for _, id := range strings.Fields(string(tasks)) {
			c.Ctr(ctx, ns, "tasks", "kill", "-s", "SIGKILL", id)
			_, err := c.Ctr(ctx, ns, "tasks", "delete", "-f", id)
			errs = append(errs, err)
		}
		ctrs, err := c.Ctr(ctx, ns, "containers", "ls", "-q")
		errs = append(errs, err)
		for _, id := range strings.Fields(string(ctrs)) {
			_, err := c.Ctr(ctx, ns, "containers", "delete", id)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ShimPIDs are the PIDs of this containerd's shims: the processes whose
// arguments name its socket after -address (each shim is told the
// containerd it serves), which no other containerd's shim does.
func (c *Containerd) ShimPIDs() []int {
	var pids []int
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		b, err := os.ReadFile(filepath.Join(p, "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(b), "\x00")
		if i := slices.Index(args, "-address"); i >= 0 && i+1 < len(args) && args[i+1] == c.Socket {
			if pid, err := strconv.Atoi(filepath.Base(p)); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// detachMounts lazily unmounts every mount below dir, deepest first.
func detachMounts(dir string) {
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		return
	}
	var targets []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && strings.HasPrefix(f[1], dir+"/") {
			targets = append(targets, f[1])
		}
	}
	slices.Reverse(targets)
	for _, t := range targets {
		syscall.Unmount(t, syscall.MNT_DETACH)
	}
}

// RemoveCgroupAtEnd removes cgroup rel (relative to the hierarchies under
// /sys/fs/cgroup: v2's and each v1 controller's) at t's end, children
// first, once it is empty: runc removes a container's own cgroup with its
// task, not the parents it made. Call it before Start, so that it runs
// after containerd has stopped.
func RemoveCgroupAtEnd(t testing.TB, rel string) {
	t.Cleanup(func() {
		dirs := []string{filepath.Join("/sys/fs/cgroup", rel)}
		more, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", rel))
		for _, d := range append(dirs, more...) {
			var sub []string
			filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
				if err == nil && e.IsDir() {
					sub = append(sub, p)
				}
				return nil
			})
			slices.Reverse(sub)
			for _, s := range sub {
				if err := os.Remove(s); err != nil && !errors.Is(err, os.ErrNotExist) {
					t.Errorf("testctr: removing cgroup %s: %v", s, err)
				}
			}
		}
	})
}
