package experiments

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"trenv-bench/baselines"
	"trenv-bench/baselines/faasnap"
	"trenv-bench/internal/testctr"
	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
	"trenv-bench/system"
	"trenv-bench/workloads"
)

// fakeFaasd builds internal/fakes/faasd.
func fakeFaasd(t *testing.T) string {
	return buildFake(t, "faasd", "trenv-bench/internal/fakes/faasd")
}

func buildFake(t *testing.T, name, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), name)
	out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("building the fake %s: %v\n%s", name, err, out)
	}
	return bin
}

// withFaaSnap gives the host the fake FaaSnap daemon, its config and its
// snapshot directory (which the fake faasd reads), with no pauses in the
// preparation; it returns the file the daemon records its calls in.
func withFaaSnap(t *testing.T, h *HostOptions, daemon, cgroup string) string {
	t.Helper()
	root := t.TempDir()
	cfg := filepath.Join(root, "etc/faasnap.json")
	snaps := filepath.Join(root, "mnt/cxl-tmp/faasnap/snapshot")
	os.MkdirAll(filepath.Dir(cfg), 0o755)
	os.MkdirAll(snaps, 0o755)
	if err := os.WriteFile(cfg, []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	h.FaaSnap = &baselines.Daemon{Binary: daemon, Args: []string{"--host=127.0.0.1", fmt.Sprintf("--port=%d", port)}, Dir: root,
		Config: cfg, URL: fmt.Sprintf("http://127.0.0.1:%d", port), SnapshotDir: snaps, PrepareTries: 3}
	h.FaaSnapWaits = &faasnap.Waits{}
	record := filepath.Join(root, "faasnap-calls.jsonl")
	t.Setenv("FAKE_FAASNAP_CONFIG", cfg)
	t.Setenv("FAKE_FAASNAP_RECORD", record)
	t.Setenv("FAKE_FAASD_SNAPSHOT_DIR", snaps)
	// The VMs' memory is charged to the daemon's cgroup.
	t.Setenv("FAKE_FAASD_CGROUP_DIR", filepath.Join(h.CgroupRoot, cgroup))
	return record
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// fakeHostTree is a host laid out in a temporary directory: faasd's state
// with its secrets, the CRIU variants' binaries, a function cgroup the
// fake faasd fills, and a real containerd for the run to start, with a
// root, state, socket and config of its own (internal/testctr).
func fakeHostTree(t *testing.T, faasd string) (*HostOptions, string) {
	t.Helper()
	tools := testctr.Require(t)
	ctr := testctr.NewLayout(t)
	root := t.TempDir()
	mk := func(p, content string) string {
		f := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(f), 0o755)
		if err := os.WriteFile(f, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		return f
	}
	mk("sys/fs/cgroup/cgroup.controllers", "cpu memory pids\n") // v2, as TrEnv needs
	mk("var/lib/faasd/secrets/basic-auth-user", "admin\n")
	mk("var/lib/faasd/secrets/basic-auth-password", "fake-secret\n")
	crius := map[string]string{}
	for _, v := range []string{baselines.CRIUSwitch, baselines.CRIUMaster, baselines.CRIULazy} {
		crius[v] = mk("root/downloads/"+v, "#!/bin/true\n")
	}
	h := &HostOptions{
		Layout: baselines.Layout{FaasdState: filepath.Join(root, "var/lib/faasd"), CRIUDirs: filepath.Join(root, "run/trenv-bench/criu"),
			Path: os.Getenv("PATH"), Port: freePort(t)},
		StateDir: filepath.Join(root, "run/trenv-bench"), CgroupRoot: filepath.Join(root, "sys/fs/cgroup"),
		Faasd: faasd, Containerd: ctr.Args(tools.Containerd), ContainerdSocket: ctr.Socket, Ctr: tools.Ctr, CRIU: crius,
		KdatCache: filepath.Join(root, "run/criu.kdat"),
	}
	h.BootIDFile = mk("proc/sys/kernel/random/boot_id", testBootID+"\n")
	writeMarker(t, h, system.PoolCXL, testBootID)
	record := filepath.Join(root, "faasd-invocations.jsonl")
	t.Setenv("FAKE_FAASD_RECORD", record)
	t.Setenv("FAKE_FAASD_CGROUP_DIR", filepath.Join(h.CgroupRoot, baselines.FunctionCgroup))
	return h, record
}

const testBootID = "2978d0b3-49c2-4cd2-906f-7741095df49a"

// writeMarker writes the marker system prepare leaves beside the
// mm-templates it made for pool in boot.
func writeMarker(t *testing.T, h *HostOptions, pool, boot string) {
	t.Helper()
	m := system.CheckpointMarker{Format: system.CheckpointMarkerFormat, Pool: pool, BootID: boot, Kernel: "6.1.0-rc8+",
		Services: []string{"pyaes", "dynamic-html"}, Created: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)}
	if pool == system.PoolCXL {
		m.DAXDevice = "/dev/dax0.0"
	}
	b, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(h.Layout.FaasdState, "checkpoints")
	os.MkdirAll(dir, 0o755)
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(system.CheckpointMarkerPath)), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// processesUnder lists the live processes whose command line or working
// directory names a path under one of dirs: what a run that used them
// left running.
func processesUnder(dirs ...string) []string {
	var out []string
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		cmd, err := os.ReadFile(filepath.Join(p, "cmdline"))
		if err != nil || len(cmd) == 0 {
			continue // gone, or a zombie
		}
		cwd, _ := os.Readlink(filepath.Join(p, "cwd"))
		args := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
		for _, d := range dirs {
			if strings.HasPrefix(cwd, d+"/") || cwd == d || slices.ContainsFunc(args, func(a string) bool { return strings.Contains(a, d+"/") }) {
				out = append(out, filepath.Base(p)+": "+strings.Join(args, " "))
				break
			}
		}
	}
	return out
}

// startedDaemons reads the run's daemons.json.
func startedDaemons(t *testing.T, runDir string) []system.Daemon {
	t.Helper()
	var ds []system.Daemon
	b, err := os.ReadFile(filepath.Join(runDir, "daemons.json"))
	if err == nil {
		err = json.Unmarshal(b, &ds)
	}
	if err != nil {
		t.Fatalf("daemons.json: %v", err)
	}
	return ds
}

// alive reports whether the daemon's process still runs (its PID with its
// start time, not a zombie).
func alive(d system.Daemon) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(d.PID), "stat"))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	return len(f) > 19 && f[0] != "Z" && f[19] == strconv.FormatUint(d.StartTicks, 10)
}

// hostWorkload is short: a host run is real time.
func hostWorkload() workloads.Workload {
	return workloads.Workload{
		// Requests in the first seconds, then quiet ones, so that every
		// request ends before its phase's deadline (1.1 × its length).
		Warmup: workloads.Phase{{Function: "pyaes", Counts: []int{2, 0, 0, 0}}, {Function: "dynamic-html", Counts: []int{1, 2, 0, 0}}},
		Test:   workloads.Phase{{Function: "pyaes", Counts: []int{3, 1, 0, 0}}, {Function: "dynamic-html", Counts: []int{2, 3, 0, 0}}},
	}
}

func hostSpec(t *testing.T, h *HostOptions, method, pool string, flags results.PlatformFlags) *Spec {
	t.Helper()
	model, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	return &Spec{
		Dir: filepath.Join(t.TempDir(), "run"), Target: results.TargetHost,
		Platform: sim.ConfigFor(method, pool, flags, 1), Model: model, Workload: hostWorkload(),
		Manifest: results.Manifest{Method: method, Pool: pool, Platform: flags}, JitterSeed: 1, Host: h,
	}
}

func readRecords(t *testing.T, path string) []struct {
	Args      []string
	Env       []string
	Dir       string
	OpenFiles uint64 `json:"open_files"`
} {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []struct {
		Args      []string
		Env       []string
		Dir       string
		OpenFiles uint64 `json:"open_files"`
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var r struct {
			Args      []string
			Env       []string
			Dir       string
			OpenFiles uint64 `json:"open_files"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// TestHostRun runs the host target end to end against the fake faasd for
// each method it supports and both pools: faasd is started as test.sh
// starts it (flags, environment) with the listed differences (working
// directory, open-files limit, the CRIU variant first on PATH), the run
// waits for the seeded pool, every request is served, the function
// cgroup's memory is sampled, faasd's log is attached, and nothing is left
// running.
func TestHostRun(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time runs")
	}
	faasd := fakeFaasd(t)
	daemon := buildFake(t, "main", "trenv-bench/internal/fakes/faasnap/daemon")
	for _, tc := range []struct {
		method, pool string
		flags        results.PlatformFlags
	}{
		{results.MethodFaaSnap, "", results.PlatformFlags{MemGB: 32, GCMin: 10, IdleNum: 70}},
		{results.MethodREAP, "", results.PlatformFlags{MemGB: 32, GCMin: 10, IdleNum: 70}},
		{results.MethodTrEnv, "cxl", results.PlatformFlags{MemGB: 64, GCMin: 10, IdleNum: 5}},
		{results.MethodTrEnv, "rdma", results.PlatformFlags{MemGB: 64, GCMin: 10, IdleNum: 70}},
		{results.MethodCold, "", results.PlatformFlags{MemGB: 64, GCMin: 2, IdleNum: 70}},
		{results.MethodCRIU, "", results.PlatformFlags{MemGB: 32, GCMin: 3, IdleNum: 70, NoReuse: true}},
		{results.MethodLazy, "", results.PlatformFlags{MemGB: 64, GCMin: 10, IdleNum: 70, NoBgTask: true}},
	} {
		t.Run(tc.method+"-"+tc.pool, func(t *testing.T) {
			h, record := fakeHostTree(t, faasd)
			facts := tc.method == results.MethodTrEnv && tc.pool == "cxl"
			if facts {
				h.Facts = os.DirFS("/") // this machine's, once
			}
			t.Setenv("FAKE_FAASD_POOL", tc.pool)
			if tc.pool == system.PoolRDMA {
				writeMarker(t, h, tc.pool, testBootID)
			}
			method, _ := baselines.Lookup(tc.method)
			var calls string
			if method.SnapshotMode != "" {
				calls = withFaaSnap(t, h, daemon, method.Cgroup)
			}
			spec := hostSpec(t, h, tc.method, tc.pool, tc.flags)
			m, err := Execute(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			if calls != "" {
				checkFaaSnap(t, h, method, calls, spec.Dir)
			}
			if m.Status != results.RunComplete || m.Target != results.TargetHost || m.Requests.OK != hostWorkload().Test.Requests()+hostWorkload().Warmup.Requests() {
				t.Errorf("manifest: %s on %s, requests %+v", m.Status, m.Target, m.Requests)
			}
			flags, _ := baselines.FlagsFrom(tc.flags)
			recs := readRecords(t, record)
			if len(recs) != 1 {
				t.Fatalf("faasd was started %d times", len(recs))
			}
			r := recs[0]
			if want := append([]string{"faasd"}, method.ProviderArgs(flags)...); !slices.Equal(r.Args, want) {
				t.Errorf("faasd %q\nwant %q", r.Args, want)
			}
			criuDir := filepath.Join(h.Layout.CRIUDirs, method.CRIU)
			for _, e := range []string{"secret_mount_path=" + filepath.Join(h.Layout.FaasdState, "secrets"), "basic_auth=true"} {
				if !slices.Contains(r.Env, e) {
					t.Errorf("faasd's environment lacks %q", e)
				}
			}
			if i := slices.IndexFunc(r.Env, func(e string) bool { return strings.HasPrefix(e, "PATH=") }); i < 0 || !strings.HasPrefix(r.Env[i], "PATH="+criuDir+":") {
				t.Errorf("faasd's PATH does not start with the %s directory", method.CRIU)
			}
			var lim unix.Rlimit
			unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
			if want := min(baselines.OpenFilesLimit, lim.Max); r.Dir != h.Layout.FaasdState || r.OpenFiles != want {
				t.Errorf("faasd ran in %s with %d open files, want %s and %d", r.Dir, r.OpenFiles, h.Layout.FaasdState, want)
			}
			if link, err := os.Readlink(filepath.Join(criuDir, "criu")); err != nil || link != h.CRIU[method.CRIU] {
				t.Errorf("criu in %s is %q (%v), want the %s binary", criuDir, link, err, method.CRIU)
			}
			if _, err := os.Stat(filepath.Join(spec.Dir, "faasd.log")); err != nil {
				t.Errorf("faasd's log is not attached: %v", err)
			}
			// The real containerd the run started, on its own socket,
			// which faasd was told; stopped at the end, as faasd was.
			if !slices.Contains(r.Env, "sock="+h.ContainerdSocket) {
				t.Errorf("faasd's environment lacks sock=%s", h.ContainerdSocket)
			}
			if b, err := os.ReadFile(filepath.Join(spec.Dir, "containerd.log")); err != nil || !strings.Contains(string(b), "containerd successfully booted") {
				t.Errorf("containerd's log is not attached, or it did not boot (%v)", err)
			}
			// The VM baselines' FaaSnap daemon comes first: its
			// snapshots are prepared before faasd registers.
			ds := startedDaemons(t, spec.Dir)
			want := []string{"containerd", "faasd"}
			if calls != "" {
				want = append([]string{"faasnap"}, want...)
			}
			names := make([]string, len(ds))
			for i, d := range ds {
				names[i] = d.Name
			}
			if i := slices.Index(names, "containerd"); !slices.Equal(names, want) ||
				!slices.Equal(ds[i].Argv, append(slices.Clip(h.Containerd), "--address", h.ContainerdSocket)) {
				t.Errorf("daemons started: %+v; want %q, containerd with --address %s", ds, want, h.ContainerdSocket)
			}
			for _, d := range ds {
				if alive(d) {
					t.Errorf("%s (pid %d) is still running after the run", d.Name, d.PID)
				}
			}
			if err := system.ContainerdAnswers(context.Background(), system.ExecRunner{}, h.Ctr, h.ContainerdSocket); err == nil {
				t.Error("containerd still answers after the run")
			}
			if left := processesUnder(filepath.Dir(h.ContainerdSocket), filepath.Dir(filepath.Dir(h.StateDir))); len(left) > 0 {
				t.Errorf("left running: %q", left)
			}
			if facts {
				var rep struct {
					OK     bool `json:"ok"`
					Checks []struct{ ID, Status string }
				}
				b, err := os.ReadFile(filepath.Join(spec.Dir, "doctor.json"))
				if err == nil {
					err = json.Unmarshal(b, &rep)
				}
				if err != nil || rep.OK || !slices.ContainsFunc(rep.Checks, func(c struct{ ID, Status string }) bool {
					return c.ID == "kernel.release" && c.Status == "fail"
				}) {
					t.Errorf("doctor.json: %v; want this machine's report (no TrEnv kernel)", err)
				}
				var st struct {
					Stack    json.RawMessage
					Resolved []struct{ Component string }
				}
				b, err = os.ReadFile(filepath.Join(spec.Dir, "stack-resolved.json"))
				if err == nil {
					err = json.Unmarshal(b, &st)
				}
				if err != nil || len(st.Stack) == 0 || len(st.Resolved) == 0 {
					t.Errorf("stack-resolved.json: %v, %d resolutions", err, len(st.Resolved))
				}
			}
			run, err := results.LoadRun(spec.Dir)
			if err != nil {
				t.Fatal(err)
			}
			samples, err := run.Memory()
			if err != nil || len(samples) == 0 || !slices.ContainsFunc(samples, func(s results.MemorySample) bool { return s.Bytes > 0 }) {
				t.Errorf("memory samples %v (%v): want the function cgroup's, some non-zero", samples, err)
			}
			var eff hostEffective
			if err := json.Unmarshal(run.Manifest.Effective, &eff); err != nil || eff.Engine != "host" || len(eff.Differences) == 0 {
				t.Errorf("effective config %s (%v)", run.Manifest.Effective, err)
			}
			sup, err := system.OpenSupervisor(h.StateDir)
			if err != nil {
				t.Fatalf("the run left the host locked: %v", err)
			}
			defer sup.Close()
			if left, _ := sup.Recorded(); len(left) != 0 {
				t.Errorf("daemons left recorded: %+v", left)
			}
		})
	}
}

// checkFaaSnap checks what a VM baseline's run did with the FaaSnap
// daemon: it was started as configured, snapshots were prepared for every
// function of the workload (which faasd's registration needed), the daemon
// was moved into the method's cgroup after preparing, and its log is
// attached.
func checkFaaSnap(t *testing.T, h *HostOptions, method baselines.Method, calls, dir string) {
	t.Helper()
	b, err := os.ReadFile(calls)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	var first struct{ Args []string }
	json.Unmarshal([]byte(lines[0]), &first)
	if !slices.Equal(first.Args, h.FaaSnap.Args) {
		t.Errorf("the daemon ran with %q, want %q", first.Args, h.FaaSnap.Args)
	}
	snaps, err := os.ReadFile(filepath.Join(h.FaaSnap.SnapshotDir, "snapshots_"+method.SnapshotMode+".json"))
	var ids map[string]string
	if err == nil {
		err = json.Unmarshal(snaps, &ids)
	}
	if err != nil || len(ids) != 2 || ids["pyaes"] == "" || ids["dynamic-html"] == "" {
		t.Errorf("snapshot ids %v (%v), want one per function", ids, err)
	}
	procs, err := os.ReadFile(filepath.Join(h.CgroupRoot, method.Cgroup, "cgroup.procs"))
	if err != nil || len(strings.Fields(string(procs))) != 1 {
		t.Errorf("the daemon was not moved into cgroup %s: %q (%v)", method.Cgroup, procs, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "faasnap.log")); err != nil {
		t.Errorf("the daemon's log is not attached: %v", err)
	}
}

// realFunctionCgroup makes h's function cgroup a real one: a cgroup of the
// test's own (/<prefix>, v1's memory controller's or v2's) bind-mounted
// where h.CgroupRoot keeps that hierarchy, so that the run resets and
// samples <prefix>/openfaas-fn as it does /openfaas-fn on a host, and
// nothing of the host's own openfaas-fn. It returns the cgroup path the
// function containers go to (their parent).
func realFunctionCgroup(t *testing.T, h *HostOptions, name string) string {
	t.Helper()
	prefix := fmt.Sprintf("trenv-bench-%s-%d", name, os.Getpid())
	testctr.RemoveCgroupAtEnd(t, prefix)
	src, dst := filepath.Join(system.DefaultCgroupRoot, "memory", prefix), filepath.Join(h.CgroupRoot, "memory")
	if _, err := os.Stat(filepath.Join(system.DefaultCgroupRoot, "cgroup.controllers")); err == nil {
		src, dst = filepath.Join(system.DefaultCgroupRoot, prefix), h.CgroupRoot // v2 alone
	}
	for _, d := range []string{src, dst} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind-mounting cgroup %s at %s: %v", src, dst, err)
	}
	t.Cleanup(func() { unix.Unmount(dst, unix.MNT_DETACH) })
	return "/" + prefix + "/" + baselines.FunctionCgroup
}

// TestHostRunRealContainers: with the fake faasd's function containers
// made real (one per registered function, through the containerd the run
// started, each holding 16 MiB in the function cgroup), the run's memory
// samples read that real cgroup, and at the end the containers, their
// shims and containerd are gone.
func TestHostRunRealContainers(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time runs")
	}
	faasd := fakeFaasd(t)
	const mib = 16
	for _, tc := range []struct {
		method, pool string
		flags        results.PlatformFlags
	}{
		{results.MethodTrEnv, "cxl", results.PlatformFlags{MemGB: 64, GCMin: 10, IdleNum: 5}},
		{results.MethodCold, "", results.PlatformFlags{MemGB: 64, GCMin: 2, IdleNum: 70}},
	} {
		t.Run(tc.method, func(t *testing.T) {
			h, _ := fakeHostTree(t, faasd)
			parent := realFunctionCgroup(t, h, "host-"+tc.method)
			tools := testctr.Require(t)
			archive := filepath.Join(t.TempDir(), "image.tar")
			f, err := os.Create(archive)
			if err != nil {
				t.Fatal(err)
			}
			const ref = "docker.io/trenv-bench/busybox:test"
			if err := testctr.WriteArchive(f, testctr.Image{Ref: ref, Busybox: tools.Busybox}); err != nil {
				t.Fatal(err)
			}
			f.Close()
			t.Setenv("FAKE_FAASD_CGROUP_DIR", "")
			t.Setenv("FAKE_FAASD_CTR", tools.Ctr)
			t.Setenv("FAKE_FAASD_IMAGE", archive)
			t.Setenv("FAKE_FAASD_IMAGE_REF", ref)
			t.Setenv("FAKE_FAASD_CGROUP_PARENT", parent)
			t.Setenv("FAKE_FAASD_CTR_MIB", strconv.Itoa(mib))
			t.Setenv("FAKE_FAASD_POOL", tc.pool)
			spec := hostSpec(t, h, tc.method, tc.pool, tc.flags)
			m, err := Execute(context.Background(), spec)
			if err != nil || m.Status != results.RunComplete {
				t.Fatalf("status %s: %v", m.Status, err)
			}
			log, _ := os.ReadFile(filepath.Join(spec.Dir, "faasd.log"))
			if n := strings.Count(string(log), "fake: container started in containerd"); n != 2 {
				t.Errorf("faasd started %d containers, want one per function (2); its log:\n%s", n, log)
			}
			run, err := results.LoadRun(spec.Dir)
			if err != nil {
				t.Fatal(err)
			}
			samples, err := run.Memory()
			if err != nil {
				t.Fatal(err)
			}
			var peak int64
			for _, s := range samples {
				peak = max(peak, s.Bytes)
			}
			// Two containers holding 16 MiB each, in a cgroup that
			// charges nothing else (busybox's pages come from the
			// page cache; some may be charged too).
			if peak < 2*(mib-2)<<20 || peak > 2*(mib+16)<<20 {
				t.Errorf("memory samples %v: peak %d bytes, want about 2 × %d MiB from the function cgroup", samples, peak, mib)
			}
			t.Logf("%d samples of the real function cgroup, peak %.1f MiB", len(samples), float64(peak)/(1<<20))
			for _, d := range startedDaemons(t, spec.Dir) {
				if alive(d) {
					t.Errorf("%s (pid %d) is still running after the run", d.Name, d.PID)
				}
			}
			if left := processesUnder(filepath.Dir(h.ContainerdSocket)); len(left) > 0 {
				t.Errorf("left running (containerd or its shims): %q", left)
			}
			procs, _ := filepath.Glob(filepath.Join(h.CgroupRoot, "memory", baselines.FunctionCgroup, "*", "cgroup.procs"))
			for _, p := range procs {
				if b, _ := os.ReadFile(p); len(strings.TrimSpace(string(b))) > 0 {
					t.Errorf("%s still holds %s", p, b)
				}
			}
		})
	}
}

// TestHostRunContainerdRunning: a containerd that answers on the socket
// already is used as it is, not started again, and left running.
func TestHostRunContainerdRunning(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time runs")
	}
	faasd := fakeFaasd(t)
	h, _ := fakeHostTree(t, faasd)
	c := testctr.Start(t)
	h.Containerd, h.ContainerdSocket = nil, c.Socket
	var notes strings.Builder
	spec := hostSpec(t, h, results.MethodCold, "", results.PlatformFlags{MemGB: 64, GCMin: 2, IdleNum: 70})
	spec.Notes = &notes
	m, err := Execute(context.Background(), spec)
	if err != nil || m.Status != results.RunComplete {
		t.Fatalf("status %s: %v", m.Status, err)
	}
	if ds := startedDaemons(t, spec.Dir); len(ds) != 1 || ds[0].Name != "faasd" {
		t.Errorf("daemons started: %+v; want faasd only", ds)
	}
	if !strings.Contains(notes.String(), "containerd answers on "+c.Socket+" already") {
		t.Errorf("notes do not say containerd was running:\n%s", notes.String())
	}
	if err := system.ContainerdAnswers(context.Background(), system.ExecRunner{}, c.Tools.Ctr, c.Socket); err != nil {
		t.Errorf("the running containerd was stopped: %v", err)
	}
	left := processesUnder(c.Dir)
	if !slices.ContainsFunc(left, func(p string) bool { return strings.HasPrefix(p, strconv.Itoa(c.PID())+": ") }) {
		t.Errorf("processes under %s: %q; want the running containerd, pid %d", c.Dir, left, c.PID())
	}
}

// TestHostRunFaults: faasd dying mid-run fails the run with its log
// attached and nothing left running; a second run while one holds the host
// is refused; a missing secret, a taken port and the VM baselines are
// refused before any run directory exists.
func TestHostRunFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("real-time runs")
	}
	faasd := fakeFaasd(t)
	flags := results.PlatformFlags{MemGB: 64, GCMin: 10, IdleNum: 3}

	t.Run("faasd dies", func(t *testing.T) {
		h, _ := fakeHostTree(t, faasd)
		t.Setenv("FAKE_FAASD_EXIT_AFTER", "1500ms")
		spec := hostSpec(t, h, results.MethodTrEnv, "cxl", flags)
		m, err := Execute(context.Background(), spec)
		if err == nil || !strings.Contains(err.Error(), "faasd exited") || m.Status != results.RunFailed {
			t.Fatalf("status %s, error %v: want a failed run naming faasd", m.Status, err)
		}
		if b, err := os.ReadFile(filepath.Join(spec.Dir, "faasd.log")); err != nil || !strings.Contains(string(b), "fake crash") {
			t.Errorf("faasd's log is not attached with its last words (%v)", err)
		}
		if m.Requests.Scheduled != m.Requests.OK+m.Requests.Failed+m.Requests.Abandoned {
			t.Errorf("requests not all accounted for: %+v", m.Requests)
		}
	})
	t.Run("second run", func(t *testing.T) {
		h, _ := fakeHostTree(t, faasd)
		sup, err := system.OpenSupervisor(h.StateDir)
		if err != nil {
			t.Fatal(err)
		}
		defer sup.Close()
		spec := hostSpec(t, h, results.MethodTrEnv, "cxl", flags)
		if _, err := Execute(context.Background(), spec); !errors.Is(err, system.ErrBusy) {
			t.Errorf("error %v, want ErrBusy", err)
		}
		if _, err := os.Stat(spec.Dir); err == nil {
			t.Error("a refused run left a run directory")
		}
	})
	t.Run("no secrets", func(t *testing.T) {
		h, _ := fakeHostTree(t, faasd)
		os.RemoveAll(filepath.Join(h.Layout.FaasdState, "secrets"))
		spec := hostSpec(t, h, results.MethodCold, "", flags)
		if _, err := Execute(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "basic") {
			t.Errorf("error %v, want faasd's missing basic-auth secret", err)
		}
		if _, err := os.Stat(spec.Dir); err == nil {
			t.Error("a refused run left a run directory")
		}
	})
	t.Run("port taken", func(t *testing.T) {
		h, _ := fakeHostTree(t, faasd)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		h.Layout.Port = ln.Addr().(*net.TCPAddr).Port
		spec := hostSpec(t, h, results.MethodCold, "", flags)
		if _, err := Execute(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "faasd") {
			t.Errorf("error %v, want faasd's failure to listen", err)
		}
	})
	t.Run("containerd fails to start", func(t *testing.T) {
		h, _ := fakeHostTree(t, faasd)
		bad := filepath.Join(t.TempDir(), "config.toml")
		os.WriteFile(bad, []byte("version = 2\n[grpc\n"), 0o644)
		h.Containerd = []string{h.Containerd[0], "--config", bad}
		spec := hostSpec(t, h, results.MethodTrEnv, "cxl", flags)
		_, err := Execute(context.Background(), spec)
		if err == nil || !strings.Contains(err.Error(), "containerd exited") || !strings.Contains(err.Error(), "containerd's log ends:") ||
			!strings.Contains(err.Error(), bad) {
			t.Fatalf("error %v: want containerd's exit with its log, which names the bad config", err)
		}
		t.Logf("the pre-flight says: %v", err)
		if _, err := os.Stat(spec.Dir); err == nil {
			t.Error("a refused run left a run directory")
		}
		sup, err := system.OpenSupervisor(h.StateDir)
		if err != nil {
			t.Fatal(err)
		}
		defer sup.Close()
		if rec, _ := sup.Recorded(); len(rec) != 0 {
			t.Errorf("daemons left recorded: %+v", rec)
		}
		if left := processesUnder(filepath.Dir(filepath.Dir(h.StateDir))); len(left) > 0 {
			t.Errorf("left running: %q", left)
		}
	})
	t.Run("templates", func(t *testing.T) {
		h, _ := fakeHostTree(t, faasd)
		spec := hostSpec(t, h, results.MethodTrEnv, system.PoolRDMA, flags)
		if _, err := Execute(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "made for the cxl pool") ||
			!strings.Contains(err.Error(), "system prepare --mem-pool rdma") {
			t.Errorf("templates of another pool: %v", err)
		}
		writeMarker(t, h, system.PoolRDMA, "00000000-49c2-4cd2-906f-7741095df49a")
		if _, err := Execute(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "earlier boot") {
			t.Errorf("templates of an earlier boot: %v", err)
		}
		os.Remove(filepath.Join(h.Layout.FaasdState, "checkpoints", filepath.Base(system.CheckpointMarkerPath)))
		if _, err := Execute(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "no mm-templates") {
			t.Errorf("no templates: %v", err)
		}
		if _, err := os.Stat(spec.Dir); err == nil {
			t.Error("a refused run left a run directory")
		}
	})
	t.Run("snapshots keep failing", func(t *testing.T) {
		h, _ := fakeHostTree(t, faasd)
		withFaaSnap(t, h, buildFake(t, "main", "trenv-bench/internal/fakes/faasnap/daemon"), results.MethodREAP)
		t.Setenv("FAKE_FAASNAP_FAIL_SNAPSHOTS", "100")
		spec := hostSpec(t, h, results.MethodREAP, "", flags)
		_, err := Execute(context.Background(), spec)
		if err == nil || !strings.Contains(err.Error(), "failed 3 times") || !strings.Contains(err.Error(), "connection reset by peer") {
			t.Errorf("error %v, want the preparation's attempts and the daemon's message", err)
		}
		if _, err := os.Stat(spec.Dir); err == nil {
			t.Error("a refused run left a run directory")
		}
		sup, err := system.OpenSupervisor(h.StateDir)
		if err != nil {
			t.Fatalf("the run left the host locked: %v", err)
		}
		defer sup.Close()
		if left, _ := sup.Recorded(); len(left) != 0 {
			t.Errorf("daemons left recorded: %+v", left)
		}
	})
	t.Run("no faasnap config", func(t *testing.T) {
		h, _ := fakeHostTree(t, faasd)
		withFaaSnap(t, h, "/nonexistent/main", results.MethodFaaSnap)
		os.Remove(h.FaaSnap.Config)
		spec := hostSpec(t, h, results.MethodFaaSnap, "", flags)
		if _, err := Execute(context.Background(), spec); err == nil || !strings.Contains(err.Error(), "config") {
			t.Errorf("error %v, want the missing config named", err)
		}
	})
}
