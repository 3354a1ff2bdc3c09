package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"trenv-bench/results"
	"trenv-bench/system"
)

// fixturePath lists the directories searched for criu on fixture hosts.
var fixturePath = []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"}

// command is one entry of a fixture's commands.yaml.
type command struct {
	Argv   []string `yaml:"argv"`
	Stdout string   `yaml:"stdout"`
	Stderr string   `yaml:"stderr"`
	Exit   int      `yaml:"exit"`
}

// fakeRunner answers the commands of a fixture host by command line; any
// other command is not installed.
type fakeRunner map[string]command

func (f fakeRunner) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	c, ok := f[system.CommandLine(name, args...)]
	if !ok {
		return nil, &system.CmdError{Name: name, Args: args, ExitCode: -1, Err: exec.ErrNotFound}
	}
	if c.Exit != 0 {
		return []byte(c.Stdout), &system.CmdError{Name: name, Args: args, ExitCode: c.Exit, Stderr: c.Stderr, Err: fmt.Errorf("exit status %d", c.Exit)}
	}
	return []byte(c.Stdout), nil
}

// set makes the command line answer with stdout (exit 0).
func (f fakeRunner) set(stdout string, argv ...string) {
	f[system.CommandLine(argv[0], argv[1:]...)] = command{Argv: argv, Stdout: stdout}
}

func loadRunner(t *testing.T, host string) fakeRunner {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/hosts", host, "commands.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cmds []command
	if err := yaml.Unmarshal(b, &cmds); err != nil {
		t.Fatalf("%s/commands.yaml: %v", host, err)
	}
	f := fakeRunner{}
	for _, c := range cmds {
		f[system.CommandLine(c.Argv[0], c.Argv[1:]...)] = c
	}
	return f
}

// fixture is a fixture host copied to a temporary directory, so a test
// can change it.
type fixture struct {
	t      *testing.T
	dir    string
	runner fakeRunner
}

func newFixture(t *testing.T, host string) *fixture {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata/hosts", host, "root"))); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, dir: dir, runner: loadRunner(t, host)}
}

func (f *fixture) host() Host {
	return Host{Root: os.DirFS(f.dir), Runner: f.runner, Path: fixturePath}
}

func (f *fixture) write(p, content string) {
	f.t.Helper()
	full := filepath.Join(f.dir, p)
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		f.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) remove(p string) {
	f.t.Helper()
	if err := os.RemoveAll(filepath.Join(f.dir, p)); err != nil {
		f.t.Fatal(err)
	}
}

// replace edits file p, which must contain old.
func (f *fixture) replace(p, old, new string) {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, p))
	if err != nil {
		f.t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		f.t.Fatalf("%s does not contain %q", p, old)
	}
	f.write(p, strings.Replace(string(b), old, new, 1))
}

func (f *fixture) run(sc Scope) *Report {
	f.t.Helper()
	rep, err := Run(context.Background(), f.host(), system.DefaultStack(), sc)
	if err != nil {
		f.t.Fatal(err)
	}
	return rep
}

func mustCheck(t *testing.T, rep *Report, id string) Check {
	t.Helper()
	c, ok := rep.Check(id)
	if !ok {
		t.Fatalf("no check %s in the report", id)
	}
	return c
}

func dump(rep *Report) string {
	var b bytes.Buffer
	rep.WriteTable(&b)
	return b.String()
}

// TestTrEnvHostPasses: a host prepared as upstream's scripts leave it
// passes every check for every method (pool cxl, faasd's 64 GiB bound).
func TestDoctorTrEnvHostPasses(t *testing.T) {
	rep := newFixture(t, "trenv").run(Scope{MemGiB: 64})
	for _, c := range rep.Checks {
		if c.Status != Pass {
			t.Errorf("%s: %s: %s (fix: %s)", c.ID, c.Status, c.Detail, c.Remedy)
		}
	}
	if !rep.OK || rep.Counts.Pass != len(rep.Checks) {
		t.Errorf("report not OK: %+v", rep.Counts)
	}
	// Every check of the table ran, and every component the runs need.
	for _, ci := range Checks() {
		if strings.HasSuffix(ci.ID, ".*") || ci.ID == "pool.rdma-link" || ci.ID == "pool.rdma-server" || ci.ID == "pool.rdma-module" {
			continue
		}
		mustCheck(t, rep, ci.ID)
	}
	for _, name := range []string{"runc", "containerd", "faasd", "faas-cli", "criu-switch", "criu-master", "criu-lazy", "faasnap", "firecracker", "function-images", "function-pkgs"} {
		mustCheck(t, rep, "stack."+name)
	}
	if _, ok := rep.Check("stack.rdma-server"); ok {
		t.Error("rdma-server checked for pool cxl")
	}
	if c := mustCheck(t, rep, "pool.dax"); !strings.Contains(c.Detail, "target node 2") {
		t.Errorf("pool.dax detail %q: want the target node", c.Detail)
	}
	if c := mustCheck(t, rep, "criu.active"); !strings.Contains(c.Detail, "is criu-switch") {
		t.Errorf("criu.active: %q: want the switch variant recognised", c.Detail)
	}
}

// TestTrEnvHostForRDMA: the same host checked for T-RDMA passes the RDMA
// pool's checks, skips the DAX device, and fails only because its
// checkpoints were converted into the cxl pool.
func TestDoctorTrEnvHostForRDMA(t *testing.T) {
	rep := newFixture(t, "trenv").run(Scope{Methods: []string{MethodTrEnv}, Pool: system.PoolRDMA, MemGiB: 64})
	if _, ok := rep.Check("pool.dax"); ok {
		t.Error("pool.dax checked for pool rdma")
	}
	for _, id := range []string{"pool.rdma-link", "pool.rdma-server", "pool.rdma-module", "stack.rdma-server"} {
		if c := mustCheck(t, rep, id); c.Status != Pass {
			t.Errorf("%s: %s %s", id, c.Status, c.Detail)
		}
	}
	failed := rep.Failed()
	if len(failed) != 1 || failed[0].ID != "checkpoints.marker" || !strings.Contains(failed[0].Detail, "made for the cxl pool, not rdma") {
		t.Errorf("failed %+v: want only checkpoints.marker (made for cxl)", failed)
	}
	if !strings.Contains(failed[0].Remedy, "--mem-pool rdma") {
		t.Errorf("remedy %q", failed[0].Remedy)
	}
}

// TestThisMachine: the project's machine kind fails what it lacks, and
// says why in its own terms: not the TrEnv kernel, cgroup v1 hybrid, no
// device-DAX, too little memory for 64 GiB, a VM in a container, and a
// Debian CRIU that cannot read kernel 6.18's vDSO.
func TestDoctorThisMachine(t *testing.T) {
	f := newFixture(t, "this-machine")
	rep := f.run(Scope{MemGiB: 64})
	if rep.OK {
		t.Fatal("report OK")
	}
	want := []struct {
		id     string
		status Status
		detail string
	}{
		{"host.cpu", Pass, "GenuineIntel"},
		{"host.bare-metal", Warn, "a virtual machine (the CPU's hypervisor flag) and a Docker container"},
		{"kernel.release", Fail, "running 6.18.44-fc-v1045; TrEnv needs 6.1.0-rc8"},
		{"kernel.pseudo-mm", Fail, "/dev/pseudo_mm missing"},
		{"kernel.config", Fail, "/proc/config.gz: required by TrEnv's README: DEV_DAX not set (want y)"},
		{"cgroup.v2", Fail, "cgroup v1 hybrid: v1 hierarchies cpu, cpuacct, cpuset, memory"},
		{"cgroup.controllers", Fail, "/sys/fs/cgroup/unified offers hugetlb; missing cpu, memory"},
		{"pool.dax", Fail, "no device-DAX dax0.0 (daxctl list: no devices)"},
		{"memory.available", Fail, "--mem 64 GiB: faasd's bound would exceed"},
		{"stack.faasd", Fail, "not installed: no /usr/local/bin/faasd"},
		{"selfcheck.criu-switch", Skip, "not installed"},
		{"criu.active", Warn, "CRIU 3.17.1 cannot run on kernel 6.18.44-fc-v1045: CRIU before 4.1 does not understand the vDSO layout of kernels from 6.13 on"},
		{"faasd.layout", Fail, "no /var/lib/faasd"},
		{"checkpoints.tmpfs", Fail, "not a mount point"},
		{"checkpoints.marker", Fail, "no /var/lib/faasd/checkpoints/trenv-bench-checkpoints.json"},
		{"stack.function-images", Skip, "containerd is not running"},
		{"faasnap.kvm", Pass, "/dev/kvm present"},
		{"noise.governor", Skip, "no cpufreq"},
		{"noise.smt", Skip, "notsupported"},
		{"noise.thp", Pass, "madvise"},
		{"noise.swap", Pass, "no swap"},
	}
	for _, w := range want {
		c := mustCheck(t, rep, w.id)
		if c.Status != w.status || !strings.Contains(c.Detail, w.detail) {
			t.Errorf("%s: %s %q\n want %s containing %q", w.id, c.Status, c.Detail, w.status, w.detail)
		}
		if (c.Status == Fail || c.Status == Warn) && c.Remedy == "" {
			t.Errorf("%s: %s without a remedy", w.id, c.Status)
		}
	}
	if c := mustCheck(t, rep, "criu.active"); !strings.Contains(c.Remedy, "CRIU ≥ 4.1") || !strings.Contains(c.Remedy, "TrEnv kernel") {
		t.Errorf("criu.active remedy %q", c.Remedy)
	}
	if c := mustCheck(t, rep, "cgroup.v2"); !strings.Contains(c.Detail, "a process sits in 10 hierarchies") {
		t.Errorf("cgroup.v2 detail %q: want /proc/self/cgroup's count", c.Detail)
	}
	// The baselines alone do not need the TrEnv kernel: a warning then.
	cold := f.run(Scope{Methods: []string{MethodCold}, MemGiB: 16})
	if c := mustCheck(t, cold, "kernel.release"); c.Status != Warn || c.Required {
		t.Errorf("cold: kernel.release %s required=%v, want a warning", c.Status, c.Required)
	}
	if _, ok := cold.Check("kernel.pseudo-mm"); ok {
		t.Error("cold: pseudo_mm checked")
	}
	if c := mustCheck(t, cold, "memory.available"); c.Status != Pass {
		t.Errorf("cold, --mem 16: memory.available %s %s", c.Status, c.Detail)
	}
}

func readTool(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/tools", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTrEnvHostBroken: one thing wrong on an otherwise ready host fails
// (or warns) exactly the check that looks at it, with what was found.
func TestDoctorTrEnvHostBroken(t *testing.T) {
	const checkpoints = "var/lib/faasd/checkpoints"
	cases := []struct {
		name   string
		scope  Scope
		edit   func(*fixture)
		id     string
		status Status
		detail string
	}{
		{"stale boot", Scope{}, func(f *fixture) {
			f.write("proc/sys/kernel/random/boot_id", "0d3c4a9e-1b2f-4c5d-8e7f-9a0b1c2d3e4f\n")
		}, "checkpoints.marker", Fail, "made in boot 5b1f3c2e-8a4d-4e6f-9b0a-1c2d3e4f5a6b, this is 0d3c4a9e-1b2f-4c5d-8e7f-9a0b1c2d3e4f: mm-templates vanish at reboot"},
		{"other dax device", Scope{DAXDevice: "/dev/dax1.0"}, func(f *fixture) {
			f.runner.set(readTool(t, "daxctl-one-device.json"), "daxctl", "list")
			f.write("dev/dax1.0", "")
		}, "checkpoints.marker", Fail, "converted into /dev/dax0.0, not /dev/dax1.0"},
		{"dax alignment 2M", Scope{}, func(f *fixture) {
			f.runner.set(readTool(t, "daxctl-align-2m.json"), "daxctl", "list")
		}, "pool.dax", Fail, "alignment 2097152, not 4096"},
		{"dax system-ram", Scope{}, func(f *fixture) {
			f.runner.set(readTool(t, "daxctl-system-ram.json"), "daxctl", "list")
		}, "pool.dax", Fail, "mode system-ram, not devdax"},
		{"dax disabled", Scope{}, func(f *fixture) {
			f.runner.set(readTool(t, "daxctl-disabled.json"), "daxctl", "list")
		}, "pool.dax", Fail, "disabled"},
		{"pmem in fsdax", Scope{}, func(f *fixture) {
			f.runner.set("", "daxctl", "list")
			f.runner.set(readTool(t, "ndctl-fsdax.json"), "ndctl", "list", "--namespaces")
		}, "pool.dax", Fail, "no device-DAX dax0.0 (daxctl list: no devices); ndctl: namespace0.0 fsdax (pmem0)"},
		{"no daxctl", Scope{}, func(f *fixture) {
			delete(f.runner, "daxctl list")
		}, "pool.dax", Fail, "daxctl is not installed"},
		{"tmpfs on the wrong node", Scope{}, func(f *fixture) {
			f.replace("proc/self/mounts", "size=16777216k,inode64,mpol=bind:2", "size=16777216k,inode64,mpol=bind:1")
		}, "checkpoints.tmpfs", Fail, "tmpfs bound to node 1, but the far memory is node 2 (the DAX device's target node)"},
		{"tmpfs unbound, criu", Scope{Methods: []string{MethodCRIU}}, func(f *fixture) {
			f.replace("proc/self/mounts", ",mpol=bind:2 0 0\ntmpfs /mnt", " 0 0\ntmpfs /mnt")
		}, "checkpoints.tmpfs", Warn, "tmpfs without mpol=bind"},
		{"no checkpoint tmpfs", Scope{}, func(f *fixture) {
			f.replace("proc/self/mounts", "tmpfs /var/lib/faasd/checkpoints tmpfs rw,relatime,size=16777216k,inode64,mpol=bind:2 0 0\n", "")
		}, "checkpoints.tmpfs", Fail, "/var/lib/faasd/checkpoints is not a mount point"},
		{"unconverted checkpoint", Scope{}, func(f *fixture) {
			f.remove(checkpoints + "/images/pyaes_2/pseudo_mm_id-1")
		}, "checkpoints.images", Fail, "not converted to mm-templates (no pseudo_mm_id-*): pyaes_2"},
		{"missing checkpoint", Scope{Methods: []string{MethodCRIU}}, func(f *fixture) {
			f.remove(checkpoints + "/images/pagerank_1")
		}, "checkpoints.images", Fail, "no checkpoint for pagerank_1"},
		{"no marker", Scope{}, func(f *fixture) {
			f.remove(checkpoints + "/trenv-bench-checkpoints.json")
		}, "checkpoints.marker", Fail, "nothing says which pool and boot"},
		{"containerd at another commit", Scope{}, func(f *fixture) {
			f.runner.set("containerd github.com/containerd/containerd v1.6.20 2806fc1057397dbaeefbea0e4e17bddfbd388f38\n", "/usr/local/bin/containerd", "--version")
		}, "stack.containerd", Fail, "reports commit 2806fc1057397dbaeefbea0e4e17bddfbd388f38, not the pinned 684e67c3315b"},
		{"faasd without a commit", Scope{}, func(f *fixture) {
			f.runner.set("faasd version: dev\tcommit: \n", "/usr/local/bin/faasd", "version")
		}, "stack.faasd", Warn, "neither its version output"},
		{"runc missing", Scope{}, func(f *fixture) {
			f.remove("usr/local/sbin/runc")
		}, "stack.runc", Fail, "not installed: no /usr/local/sbin/runc"},
		{"one image missing", Scope{}, func(f *fixture) {
			c := f.runner["ctr --namespace openfaas-fn images ls"]
			lines := strings.Split(c.Stdout, "\n")
			f.runner.set(strings.Join(slices.DeleteFunc(lines, func(l string) bool { return strings.Contains(l, "/pagerank:") }), "\n"), "ctr", "--namespace", "openfaas-fn", "images", "ls")
		}, "stack.function-images", Fail, "1 of 13 images missing from namespace openfaas-fn: docker.io/jialianghuang/pagerank:latest"},
		{"criu check vDSO", Scope{}, func(f *fixture) {
			f.write("proc/sys/kernel/osrelease", "6.14.2\n")
			f.runner["/root/downloads/raw-criu check"] = command{Exit: 1, Stderr: "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\n"}
		}, "selfcheck.criu-master", Fail, "CRIU 3.18 cannot run on kernel 6.14.2: CRIU before 4.1 does not understand the vDSO layout"},
		{"criu check other failure", Scope{}, func(f *fixture) {
			f.runner["/root/downloads/lazy-criu check"] = command{Exit: 1, Stderr: "Error (criu/kerndat.c:88): Can't stat /proc/self/pagemap\n"}
		}, "selfcheck.criu-lazy", Fail, "exit status"},
		{"active criu is not a variant", Scope{}, func(f *fixture) {
			f.write("usr/local/sbin/criu", "another build\n")
		}, "criu.active", Warn, "is none of stack.yaml's CRIU variants (criu check passes)"},
		{"secret missing", Scope{}, func(f *fixture) {
			f.remove("var/lib/faasd/secrets/basic-auth-password")
		}, "faasd.secrets", Fail, "basic-auth-password missing"},
		{"pkgs incomplete", Scope{}, func(f *fixture) {
			f.remove("var/lib/faasd/pkgs/pagerank")
		}, "faasd.pkgs", Fail, "lacks pagerank"},
		{"network.sh for faasnap", Scope{Methods: []string{MethodFaaSnap}}, func(f *fixture) {
			f.remove("var/lib/faasd/network.sh")
		}, "faasd.layout", Fail, "lacks network.sh"},
		{"no snapshot dir", Scope{Methods: []string{MethodREAP}}, func(f *fixture) {
			f.remove("mnt/cxl-tmp/faasnap")
		}, "faasnap.tmpfs", Fail, "no /mnt/cxl-tmp/faasnap/snapshot"},
		{"no kvm", Scope{Methods: []string{MethodREAP}}, func(f *fixture) {
			f.remove("dev/kvm")
		}, "faasnap.kvm", Fail, "no /dev/kvm"},
		{"cgroup without memory", Scope{}, func(f *fixture) {
			f.write("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io pids\n")
		}, "cgroup.controllers", Fail, "missing memory"},
		{"kernel config", Scope{}, func(f *fixture) {
			f.replace("boot/config-6.1.0-rc8+", "CONFIG_DEV_DAX=y", "CONFIG_DEV_DAX=m")
		}, "kernel.config", Fail, "DEV_DAX =m (want y)"},
		{"estimated config only warns", Scope{}, func(f *fixture) {
			f.replace("boot/config-6.1.0-rc8+", "CONFIG_USERFAULTFD=y", "# CONFIG_USERFAULTFD is not set")
		}, "kernel.config", Warn, "USERFAULTFD not set (want y)"},
		{"kernel installed, not booted", Scope{}, func(f *fixture) {
			f.write("proc/sys/kernel/osrelease", "5.15.0-113-generic\n")
		}, "kernel.release", Fail, "running 5.15.0-113-generic"},
		{"little memory", Scope{MemGiB: 200}, func(f *fixture) {
			f.replace("proc/meminfo", "MemAvailable:   255110220 kB", "MemAvailable:   104857600 kB")
		}, "memory.available", Fail, "MemAvailable 100.0 GiB"},
		{"rdma server gone", Scope{Methods: []string{MethodTrEnv}, Pool: system.PoolRDMA}, func(f *fixture) {
			f.remove("proc/4242")
		}, "pool.rdma-server", Fail, "exists but no pseudo-mm-rdma-server process (a stale socket)"},
		{"rdma link down", Scope{Methods: []string{MethodTrEnv}, Pool: system.PoolRDMA}, func(f *fixture) {
			f.runner.set(`[{"ifindex":1,"ifname":"rxe_eth0","port":1,"state":"DOWN","physical_state":"DISABLED","netdev":"eth0"}]`, "rdma", "-j", "link", "show")
		}, "pool.rdma-link", Fail, "no ACTIVE RDMA link: rxe_eth0/1 DOWN over eth0"},
		{"rdma module", Scope{Methods: []string{MethodTrEnv}, Pool: system.PoolRDMA}, func(f *fixture) {
			f.remove("sys/module/pseudo_mm_rdma")
		}, "pool.rdma-module", Fail, "pseudo_mm_rdma is not loaded"},
		{"AMD", Scope{}, func(f *fixture) {
			b, _ := os.ReadFile(filepath.Join(f.dir, "proc/cpuinfo"))
			f.write("proc/cpuinfo", strings.ReplaceAll(string(b), "GenuineIntel", "AuthenticAMD"))
		}, "host.cpu", Warn, "TrEnv was only tested on Intel"},
		{"THP always", Scope{}, func(f *fixture) {
			f.write("sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n")
		}, "noise.thp", Warn, "THP always"},
		{"swap", Scope{}, func(f *fixture) {
			f.write("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/swap.img                               file\t\t8388604\t\t0\t\t-2\n")
		}, "noise.swap", Warn, "swap on: /swap.img"},
		{"powersave", Scope{}, func(f *fixture) {
			f.write("sys/devices/system/cpu/cpu3/cpufreq/scaling_governor", "powersave\n")
		}, "noise.governor", Warn, "performance (3 CPUs), powersave (1 CPUs)"},
		{"SMT off", Scope{}, func(f *fixture) {
			f.write("sys/devices/system/cpu/smt/control", "off\n")
		}, "noise.smt", Warn, "SMT off"},
		{"container", Scope{}, func(f *fixture) {
			f.write(".dockerenv", "")
		}, "host.bare-metal", Warn, "a Docker container (/.dockerenv)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, "trenv")
			c.edit(f)
			rep := f.run(c.scope)
			got := mustCheck(t, rep, c.id)
			if got.Status != c.status || !strings.Contains(got.Detail, c.detail) {
				t.Errorf("%s: %s %q\n want %s containing %q", c.id, got.Status, got.Detail, c.status, c.detail)
			}
			if got.Remedy == "" {
				t.Errorf("%s: no remedy", c.id)
			}
			if rep.OK != (c.status != Fail) {
				t.Errorf("report OK %v with %s %s", rep.OK, c.id, got.Status)
			}
		})
	}
}

// TestBuildInfoFallback: a faasd built with `make local` stamps no
// version; doctor then reads the commit Go recorded in the binary. The
// binary here is built from a scratch repository, so its commit is not
// the pin and the check says which commit it was built from.
func TestDoctorBuildInfoFallback(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go binary")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	goBin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command")
		}
	}
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	src := t.TempDir()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=true", "GOTOOLCHAIN=local", "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	os.WriteFile(filepath.Join(src, "go.mod"), []byte("module faasd\n\ngo 1.21\n"), 0o644)
	os.WriteFile(filepath.Join(src, "main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	run("git", "init", "-q")
	run("git", "-c", "user.name=t", "-c", "user.email=t@example.org", "add", ".")
	run("git", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "faasd")
	head := run("git", "rev-parse", "HEAD")
	f := newFixture(t, "trenv")
	f.remove("usr/local/bin/faasd")
	run(goBin, "build", "-o", filepath.Join(f.dir, "usr/local/bin/faasd"), ".")
	f.runner.set("faasd version: dev\tcommit: \n", "/usr/local/bin/faasd", "version")
	c := mustCheck(t, f.run(Scope{}), "stack.faasd")
	if c.Status != Fail || !strings.Contains(c.Detail, "built from "+head+" (Go build info), not the pinned b8cc47dc") {
		t.Errorf("%s %q: want the binary's own commit %s", c.Status, c.Detail, head)
	}
}

func TestDoctorScope(t *testing.T) {
	f := newFixture(t, "trenv")
	for _, sc := range []Scope{
		{Methods: []string{"switch"}},
		{Pool: "dax"},
		{MemGiB: -1},
		{DAXDevice: "/dev/pmem0"},
	} {
		if _, err := Run(context.Background(), f.host(), system.DefaultStack(), sc); err == nil {
			t.Errorf("%+v accepted", sc)
		}
	}
	rep := f.run(Scope{Methods: []string{MethodCold}})
	for _, id := range []string{"kernel.pseudo-mm", "pool.dax", "checkpoints.marker", "faasnap.kvm", "stack.criu-master", "stack.faasnap"} {
		if _, ok := rep.Check(id); ok {
			t.Errorf("cold: %s checked", id)
		}
	}
	if rep.Scope.Pool != DefaultPool || rep.Scope.DAXDevice != DefaultDAXDevice {
		t.Errorf("defaults not filled: %+v", rep.Scope)
	}
	if c := mustCheck(t, rep, "memory.available"); c.Status != Skip {
		t.Errorf("--mem 0: memory.available %s", c.Status)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, f.host(), system.DefaultStack(), Scope{}); err == nil {
		t.Error("cancelled run returned a report")
	}
}

// TestMethodsAreResults': doctor scopes by results' start methods, in
// results' order.
func TestDoctorMethodsAreResults(t *testing.T) {
	var want []string
	for _, s := range results.Systems() {
		if !slices.Contains(want, s.Method) {
			want = append(want, s.Method)
		}
	}
	if got := Methods(); !slices.Equal(got, want) {
		t.Errorf("Methods() = %v, results' methods %v", got, want)
	}
}

// TestReportOutput: the table fits the width, names every check, and says
// whether the host is ready; the JSON keeps the documented field names.
func TestDoctorReportOutput(t *testing.T) {
	for _, host := range []string{"trenv", "this-machine"} {
		rep := newFixture(t, host).run(Scope{MemGiB: 64})
		out := dump(rep)
		for _, l := range strings.Split(out, "\n") {
			if n := utf8.RuneCountInString(l); n > system.TableWidth {
				t.Errorf("%s: %d columns: %q", host, n, l)
			}
		}
		for _, c := range rep.Checks {
			if !strings.Contains(out, strings.ToUpper(string(c.Status))+"  "+c.ID) {
				t.Errorf("%s: no row for %s", host, c.ID)
			}
		}
		verdict := "the host is ready"
		if !rep.OK {
			verdict = "not ready"
		}
		if !strings.Contains(out, verdict) {
			t.Errorf("%s: no verdict %q", host, verdict)
		}
		var b bytes.Buffer
		if err := rep.WriteJSON(&b); err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
			t.Fatal(err)
		}
		for _, k := range []string{"format", "ok", "scope", "counts", "checks"} {
			if _, ok := doc[k]; !ok {
				t.Errorf("%s: JSON has no %q", host, k)
			}
		}
		first := doc["checks"].([]any)[0].(map[string]any)
		for _, k := range []string{"id", "title", "status", "required", "detail"} {
			if _, ok := first[k]; !ok {
				t.Errorf("%s: check JSON has no %q: %v", host, k, first)
			}
		}
	}
}

// TestRealMachine runs doctor on the machine the tests run on: it
// completes, and unless this is a TrEnv host it reports the missing TrEnv
// kernel and is not ready.
func TestDoctorRealMachine(t *testing.T) {
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		t.Skip("no /proc: not Linux")
	}
	host := Host{Root: os.DirFS("/"), Runner: system.ExecRunner{}, Path: filepath.SplitList(os.Getenv("PATH"))}
	rep, err := Run(context.Background(), host, system.DefaultStack(), Scope{MemGiB: 64})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := system.DefaultStack().Kernel()
	if strings.Contains(string(rel), k.Kernel.Release) {
		t.Skip("this is the TrEnv kernel")
	}
	c := mustCheck(t, rep, "kernel.release")
	if c.Status != Fail || !strings.Contains(c.Detail, strings.TrimSpace(string(rel))) || !strings.Contains(c.Detail, "TrEnv needs "+k.Kernel.Release) {
		t.Errorf("kernel.release: %s %q", c.Status, c.Detail)
	}
	if rep.OK {
		t.Errorf("not a TrEnv host, but OK:\n%s", dump(rep))
	}
	t.Logf("this machine:\n%s", dump(rep))
}
