package experiments

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"trenv-bench/baselines"
	"trenv-bench/baselines/faasnap"
	"trenv-bench/replay"
	"trenv-bench/results"
	"trenv-bench/system"
	"trenv-bench/system/doctor"
	"trenv-bench/workloads"
)

// HostOptions say how a host run finds and starts the TrEnv stack; zero
// fields take a provisioned host's defaults (DefaultHostOptions).
type HostOptions struct {
	// Layout is where faasd's state, the CRIU variant directories and
	// PATH are (baselines.Layout).
	Layout baselines.Layout
	// StateDir is the supervisor's state directory (its lock, the
	// daemons' records and logs).
	StateDir string
	// CgroupRoot is where the cgroup hierarchies are mounted.
	CgroupRoot string
	// Faasd is the faasd binary (a path, or a name looked up on PATH).
	Faasd string
	// Containerd starts containerd (program first, with its flags: -l
	// debug, or --config FILE for another root and state) when nothing
	// answers on ContainerdSocket; the run adds --address
	// ContainerdSocket, so that containerd serves the socket the run
	// waits on and faasd connects to. Nil means containerd must be
	// running already.
	Containerd []string
	// ContainerdSocket is containerd's socket (faasd's `sock`, set in
	// its environment when it is not faasd's default).
	ContainerdSocket string
	// Ctr is containerd's ctr, which asks it for its version: containerd
	// is ready when its server answers.
	Ctr string
	// CRIU maps each CRIU variant (a stack component) to its binary.
	CRIU map[string]string
	// KdatCache is CRIU's kernel-feature cache (/run/criu.kdat), which a
	// run fills from, and saves back to, one copy per variant in
	// StateDir/kdat.
	KdatCache string
	// FaaSnap is the FaaSnap/REAP daemon the VM baselines start; nil
	// means the provisioned host's (baselines.Method.Daemon).
	FaaSnap *baselines.Daemon
	// FaaSnapWaits are snapshot preparation's pauses; nil means
	// upstream's (faasnap.UpstreamWaits).
	FaaSnapWaits *faasnap.Waits
	// BootIDFile holds the current boot's id, which the mm-templates'
	// marker must name; "" means system.BootIDPath.
	BootIDFile string
	// Facts is the host's root for what a run records of it: the stack's
	// unpinned components as resolved there (stack-resolved.json) and
	// doctor's report for the run's method and pool (doctor.json); nil
	// records neither.
	Facts fs.FS
}

// DefaultHostOptions are the paths of a host the artifact or the Ansible
// playbook provisioned, the CRIU variants where stack.yaml installs them.
func DefaultHostOptions() HostOptions {
	crius := map[string]string{}
	stack := system.DefaultStack()
	for _, c := range stack.Providers("criu") {
		if len(c.Install) > 0 {
			crius[c.Name] = c.Install[0]
		}
	}
	return HostOptions{Layout: baselines.DefaultLayout(), StateDir: system.DefaultStateDir, CgroupRoot: system.DefaultCgroupRoot,
		Faasd: "/usr/local/bin/faasd", Containerd: []string{"/usr/local/bin/containerd", "-l", "debug"},
		ContainerdSocket: system.DefaultContainerdSocket, Ctr: "/usr/local/bin/ctr", CRIU: crius, KdatCache: "/run/criu.kdat", Facts: os.DirFS("/")}
}

// hostEngine runs a workload on a real TrEnv host: it starts containerd
// (when it is not running) and `faasd provider` with the method's flags
// under a supervisor, waits for faasd's background tasks, replays the
// workload through the replay engine, samples the function cgroup, and
// stops what it started.
type hostEngine struct {
	*replayEngine
	h       HostOptions
	method  baselines.Method
	launch  baselines.Launch
	sup     *system.Supervisor
	notes   io.Writer
	facts   map[string][]byte // attached to the run directory
	started []*system.Daemon  // in start order
	faasd   *system.Daemon
}

// startHost prepares the host for one run and starts its daemons: the
// pre-flight of a host run (nothing is written to the run directory
// before it succeeds).
func startHost(ctx context.Context, o *Spec) (_ *hostEngine, err error) {
	h := o.Host
	if h == nil {
		d := DefaultHostOptions()
		h = &d
	}
	method, err := baselines.Lookup(o.Platform.Method)
	if err != nil {
		return nil, err
	}
	if _, err := exec.LookPath(h.Faasd); err != nil {
		return nil, fmt.Errorf("--target host: TrEnv's faasd is not installed (%w): provision the host (ansible/site.yml) "+
			"and check it with trenv-bench system doctor", err)
	}
	flags, err := baselines.FlagsFrom(o.Manifest.Platform)
	if err != nil {
		return nil, err
	}
	if method.Name == results.MethodTrEnv {
		if err := checkTemplates(h, o.Platform.Pool); err != nil {
			return nil, err
		}
	}
	sup, err := system.OpenSupervisor(h.StateDir)
	if err != nil {
		return nil, err
	}
	e := &hostEngine{h: *h, method: method, sup: sup, notes: o.notes()}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if err := e.cleanRecorded(ctx); err != nil {
		return nil, err
	}
	if err := system.ResetCgroup(h.CgroupRoot, method.Cgroup); err != nil {
		return nil, err
	}
	if err := e.selectCRIU(); err != nil {
		return nil, err
	}
	if err := e.startFaaSnap(ctx, workloadFunctions(o.Workload)); err != nil {
		return nil, err
	}
	if err := e.startContainerd(ctx); err != nil {
		return nil, err
	}
	e.launch = method.Provider(flags, h.Layout)
	if h.ContainerdSocket != "" && h.ContainerdSocket != system.DefaultContainerdSocket {
		e.launch.Env = append(e.launch.Env, "sock="+h.ContainerdSocket)
	}
	if err := e.startFaasd(ctx, flags); err != nil {
		return nil, err
	}
	password, err := os.ReadFile(filepath.Join(h.Layout.FaasdState, "secrets", "basic-auth-password"))
	if err != nil {
		return nil, fmt.Errorf("faasd's admin password: %w", err)
	}
	port := h.Layout.Port
	if port == 0 {
		port = 8081
	}
	gw := &replay.Gateway{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Password: strings.TrimSpace(string(password)), Warn: notef(o.notes())}
	e.replayEngine = &replayEngine{o: o, gw: gw, tgt: results.TargetHost, speed: 1, eff: e.effectiveConfig(),
		memory: func(context.Context) (int64, bool) {
			v, _, err := system.CgroupMemory(h.CgroupRoot, method.Cgroup)
			return v, err == nil
		}}
	if err := e.register(ctx); err != nil {
		return nil, fmt.Errorf("registering the functions with faasd: %w", err)
	}
	e.facts = hostFacts(ctx, h.Facts, method.Name, o.Platform.Pool, flags.MemGB)
	return e, nil
}

// checkTemplates refuses a TrEnv run on mm-templates made for another pool
// or in an earlier boot (they live in kernel memory and the pool, and
// vanish at reboot, while their image directories may not): the marker
// system prepare writes beside them must name this pool and this boot.
func checkTemplates(h *HostOptions, pool string) error {
	path := filepath.Join(h.Layout.FaasdState, "checkpoints", filepath.Base(system.CheckpointMarkerPath))
	remedy := fmt.Sprintf("trenv-bench system prepare --mem-pool %s", pool)
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--target host --method trenv: no mm-templates for this boot (%w): %s", err, remedy)
	}
	m, err := system.ParseCheckpointMarker(b)
	if err != nil {
		return fmt.Errorf("--target host: %s: %w", path, err)
	}
	bootFile := h.BootIDFile
	if bootFile == "" {
		bootFile = system.BootIDPath
	}
	boot, err := os.ReadFile(bootFile)
	if err != nil {
		return fmt.Errorf("--target host: the boot id: %w", err)
	}
	switch {
	case m.Pool != pool:
		return fmt.Errorf("--target host --pool %s: the mm-templates were made for the %s pool (%s): %s", pool, m.Pool, path, remedy)
	case m.BootID != strings.TrimSpace(string(boot)):
		return fmt.Errorf("--target host: the mm-templates were made in an earlier boot (%s, made %s): %s", path, m.Created.Format(time.RFC3339), remedy)
	}
	return nil
}

// factsTimeout bounds what recording the host's facts may take.
const factsTimeout = 2 * time.Minute

// hostFacts returns the files a host run attaches about its host: the
// stack as pinned with its unpinned components resolved, and doctor's
// report scoped to the run. A fact that cannot be had is recorded as its
// error, in the same file.
func hostFacts(ctx context.Context, root fs.FS, method, pool string, memGiB int) map[string][]byte {
	if root == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, factsTimeout)
	defer cancel()
	stack := system.DefaultStack()
	out := map[string][]byte{}
	res, err := system.Resolver{Runner: system.ExecRunner{}, Root: root}.Resolve(ctx, stack)
	out["stack-resolved.json"] = mustJSON(struct {
		Stack    *system.Stack       `json:"stack"`
		Resolved []system.Resolution `json:"resolved"`
		Error    string              `json:"error,omitempty"`
	}{stack, res, errText(err)})
	sc := doctor.Scope{Methods: []string{method}, Pool: pool, MemGiB: memGiB}
	rep, err := doctor.Run(ctx, doctor.Host{Root: root, Runner: system.ExecRunner{}, Path: filepath.SplitList(os.Getenv("PATH"))}, stack, sc)
	if err != nil {
		out["doctor.json"] = mustJSON(map[string]string{"error": err.Error()})
	} else {
		out["doctor.json"] = mustJSON(rep)
	}
	return out
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// cleanRecorded stops daemons an earlier run left recorded.
func (e *hostEngine) cleanRecorded(ctx context.Context) error {
	rec, err := e.sup.Recorded()
	if err != nil {
		return err
	}
	for _, d := range rec {
		stopped, err := e.sup.StopRecorded(ctx, d, system.StopGrace)
		if err != nil {
			return err
		}
		if stopped {
			fmt.Fprintf(e.notes, "run: stopped %s (pid %d), left running by an earlier run\n", d.Name, d.PID)
		}
	}
	return nil
}

// selectCRIU makes the method's CRIU variant the "criu" of its directory,
// which the launch puts first on PATH, and primes CRIU's kernel-feature
// cache with the variant's own copy.
func (e *hostEngine) selectCRIU() error {
	bin, ok := e.h.CRIU[e.method.CRIU]
	if !ok {
		return fmt.Errorf("CRIU variant %s: no binary is configured for it", e.method.CRIU)
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("CRIU variant %s: %w (install it: see system lock)", e.method.CRIU, err)
	}
	dir := filepath.Join(e.h.Layout.CRIUDirs, e.method.CRIU)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	link := filepath.Join(dir, "criu")
	if cur, err := os.Readlink(link); err != nil || cur != bin {
		os.Remove(link)
		if err := os.Symlink(bin, link); err != nil {
			return fmt.Errorf("selecting CRIU variant %s: %w", e.method.CRIU, err)
		}
	}
	if e.h.KdatCache == "" {
		return nil
	}
	cached := filepath.Join(e.h.StateDir, "kdat", e.method.CRIU+".kdat")
	if b, err := os.ReadFile(cached); err == nil {
		return os.WriteFile(e.h.KdatCache, b, 0o644)
	}
	os.Remove(e.h.KdatCache) // another variant's: let this one probe afresh
	return nil
}

// saveKdat keeps the variant's kernel-feature cache for its next run.
func (e *hostEngine) saveKdat() {
	if e.h.KdatCache == "" {
		return
	}
	if b, err := os.ReadFile(e.h.KdatCache); err == nil {
		dir := filepath.Join(e.h.StateDir, "kdat")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, e.method.CRIU+".kdat"), b, 0o644)
	}
}

func (e *hostEngine) path() string {
	return "PATH=" + filepath.Join(e.h.Layout.CRIUDirs, e.method.CRIU) + ":" + e.h.Layout.Path
}

// faasnapReady bounds the wait for the FaaSnap daemon's API.
const faasnapReady = 30 * time.Second

// startFaaSnap starts the FaaSnap/REAP daemon a VM baseline needs, prepares
// the snapshots of the workload's functions through its API (retried as
// the daemon's Daemon.PrepareTries allows), and then moves the daemon into
// the method's cgroup, as test.sh does after preparing so that the
// snapshots' tmpfs pages are not charged to it (its VMs, its children,
// are).
func (e *hostEngine) startFaaSnap(ctx context.Context, fns []workloads.Function) error {
	if e.method.SnapshotMode == "" {
		return nil
	}
	dm, _ := e.method.Daemon()
	if e.h.FaaSnap != nil {
		dm = *e.h.FaaSnap
	}
	for what, p := range map[string]string{"its config": dm.Config, "the snapshot directory": dm.SnapshotDir} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("the FaaSnap daemon's %s: %w (provision the baselines: ansible/site.yml, then trenv-bench system prepare)", what, err)
		}
	}
	d, err := e.sup.Start(ctx, "faasnap", append([]string{dm.Binary}, dm.Args...), []string{"PATH=" + e.h.Layout.Path}, dm.Dir)
	if err != nil {
		return err
	}
	e.started = append(e.started, d)
	c := &faasnap.Client{URL: dm.URL}
	withLog := func(err error) error {
		return fmt.Errorf("%w; the FaaSnap daemon's log ends:\n%s", err, system.LogTail(d.Log, 10))
	}
	if err := waitFor(ctx, d, faasnapReady, func() bool {
		ctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return c.Ping(ctx) == nil
	}, "the FaaSnap daemon's API at "+dm.URL); err != nil {
		return withLog(err)
	}
	waits := faasnap.UpstreamWaits
	if e.h.FaaSnapWaits != nil {
		waits = *e.h.FaaSnapWaits
	}
	_, err = faasnap.Prepare(ctx, c, faasnap.Options{Mode: e.method.SnapshotMode, Dir: dm.SnapshotDir, Functions: snapshotFuncs(fns),
		VCPU: 2, Tries: dm.PrepareTries, Waits: waits, Progress: notef(e.notes)})
	if err != nil {
		return withLog(err)
	}
	if err := system.MoveToCgroup(e.h.CgroupRoot, e.method.Cgroup, d.PID); err != nil {
		return err
	}
	return nil
}

// snapshotFuncs are the functions a FaaSnap daemon prepares: one per
// lambda name (what faasd looks a snapshot up by), guest image by
// language, warmed with the function's own request body.
func snapshotFuncs(fns []workloads.Function) []faasnap.Func {
	var out []faasnap.Func
	seen := map[string]bool{}
	for _, fn := range fns {
		name, _, _ := strings.Cut(fn.Name, "_")
		if seen[name] {
			continue
		}
		seen[name] = true
		image := "debian-python"
		if fn.Language == "node" {
			image = "debian-nodejs"
		}
		out = append(out, faasnap.Func{Name: name, Image: image, Params: fn.Payload})
	}
	return out
}

// containerdTimeout bounds containerd's start, until its server answers.
const containerdTimeout = 30 * time.Second

// startContainerd starts containerd, with the method's CRIU first on its
// PATH (runc runs criu from there), unless one answers on its socket
// already; it waits until the new one answers. A containerd that exits
// or does not answer in time fails the run with the end of its log.
func (e *hostEngine) startContainerd(ctx context.Context) error {
	ctr := e.h.Ctr
	if ctr == "" {
		ctr = "ctr"
	}
	sock := e.h.ContainerdSocket
	if sock == "" {
		sock = system.DefaultContainerdSocket
	}
	probe := func() error { return system.ContainerdAnswers(ctx, system.ExecRunner{}, ctr, sock) }
	if err := probe(); err == nil {
		fmt.Fprintf(e.notes, "run: containerd answers on %s already; the run uses it and leaves it running\n", sock)
		return nil
	} else if len(e.h.Containerd) == 0 {
		return fmt.Errorf("containerd is not running and the host options say no command to start it: %w", err)
	}
	argv := append(slices.Clip(e.h.Containerd), "--address", sock)
	d, err := e.sup.Start(ctx, system.ContainerdDaemon, argv, []string{e.path()}, "/")
	if err != nil {
		return err
	}
	e.started = append(e.started, d)
	var last error
	if err := waitFor(ctx, d, containerdTimeout, func() bool { last = probe(); return last == nil }, "containerd answered on "+sock); err != nil {
		select {
		case <-d.Exited():
		default:
			if ctx.Err() == nil {
				err = fmt.Errorf("%w (last: %v)", err, last)
			}
		}
		return fmt.Errorf("starting containerd (%s): %w; containerd's log ends:\n%s", system.CommandLine(argv[0], argv[1:]...), err, system.LogTail(d.Log, 15))
	}
	return nil
}

// startFaasd starts `faasd provider` as the method launches it, and waits
// for /healthz and for its background tasks (baselines.Readiness).
func (e *hostEngine) startFaasd(ctx context.Context, flags baselines.Flags) error {
	if err := os.MkdirAll(e.launch.Dir, 0o755); err != nil {
		return err
	}
	n, err := raiseOpenFiles(e.launch.OpenFiles)
	if err != nil {
		return err
	}
	if n < e.launch.OpenFiles {
		fmt.Fprintf(e.notes, "run: warning: faasd gets an open-files limit of %d, not %d: this process's hard limit holds it\n", n, e.launch.OpenFiles)
	}
	e.launch.OpenFiles = n
	argv := append([]string{e.h.Faasd}, e.launch.Args...)
	d, err := e.sup.Start(ctx, "faasd", argv, e.launch.Env, e.launch.Dir)
	if err != nil {
		return err
	}
	e.started = append(e.started, d)
	e.faasd = d
	port := e.h.Layout.Port
	if port == 0 {
		port = 8081
	}
	healthz := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	if err := waitFor(ctx, d, time.Minute, func() bool { return answers(ctx, healthz) }, "faasd's /healthz"); err != nil {
		return e.withLog(err)
	}
	r := e.method.Readiness(flags)
	if r.Count == 0 {
		return nil
	}
	var failed string
	err = waitFor(ctx, d, r.Timeout, func() bool {
		n, fail := countLog(d.Log, r.Line, r.Failures)
		failed = fail
		return n >= r.Count || fail != ""
	}, fmt.Sprintf("%d lines %q in faasd's log", r.Count, r.Line))
	if err == nil && failed != "" {
		err = fmt.Errorf("faasd's background task failed: %s", failed)
	}
	return e.withLog(err)
}

// raiseOpenFiles sets this process's RLIMIT_NOFILE, which the daemons it
// starts inherit, to want, raising the hard limit if it may; where it may
// not, to the hard limit. It returns the limit set.
func raiseOpenFiles(want uint64) (uint64, error) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("reading the open-files limit: %w", err)
	}
	if lim.Max < want {
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: want, Max: want}); err == nil {
			return want, nil
		}
		want = lim.Max
	}
	if lim.Cur < want {
		if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: want, Max: lim.Max}); err != nil {
			return 0, fmt.Errorf("raising the open-files limit to %d: %w", want, err)
		}
	}
	return want, nil
}

// answers reports whether GET url answers 200 within a second.
func answers(ctx context.Context, url string) bool {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// withLog adds the end of faasd's log to err.
func (e *hostEngine) withLog(err error) error {
	if err == nil || e.faasd == nil {
		return err
	}
	return fmt.Errorf("%w; faasd's log ends:\n%s", err, system.LogTail(e.faasd.Log, 10))
}

// waitFor polls ok until it holds, d exits, ctx ends or timeout passes.
func waitFor(ctx context.Context, d *system.Daemon, timeout time.Duration, ok func() bool, what string) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-d.Exited():
			return fmt.Errorf("%s exited (%v) before %s", d.Name, d.ExitErr(), what)
		case <-deadline.C:
			return fmt.Errorf("waited %v for %s", timeout, what)
		case <-tick.C:
		}
	}
	return nil
}

// countLog counts the lines of a log that contain line, and returns the
// first that contains any of failures.
func countLog(path, line string, failures []string) (int, string) {
	f, err := os.Open(path)
	if err != nil {
		return 0, ""
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		t := sc.Text()
		if strings.Contains(t, line) {
			n++
		}
		for _, fail := range failures {
			if strings.Contains(t, fail) {
				return n, t
			}
		}
	}
	return n, ""
}

// hostEffective is what a host run records as its effective configuration:
// how faasd was started.
type hostEffective struct {
	Engine    string   `json:"engine"`
	Faasd     []string `json:"faasd"`
	Env       []string `json:"env"`
	Dir       string   `json:"dir"`
	OpenFiles uint64   `json:"open_files"`
	CRIU      string   `json:"criu"`
	Cgroup    string   `json:"cgroup"`
	// Differences are the deliberate differences from test.sh.
	Differences []string `json:"differences_from_test_sh"`
}

func (e *hostEngine) effectiveConfig() json.RawMessage {
	var diffs []string
	for _, d := range baselines.Differences() {
		diffs = append(diffs, d.What+": "+d.Here+" (test.sh: "+d.Upstream+")")
	}
	return mustJSON(hostEffective{Engine: "host", Faasd: append([]string{e.h.Faasd}, e.launch.Args...), Env: e.launch.Env,
		Dir: e.launch.Dir, OpenFiles: e.launch.OpenFiles, CRIU: e.method.CRIU, Cgroup: e.method.Cgroup, Differences: diffs})
}

func (e *hostEngine) run(ctx context.Context, rec results.Recorder, m *results.Manifest) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	for _, d := range e.started {
		go func() {
			select {
			case <-d.Exited():
				cancel(fmt.Errorf("%s exited during the run (%v); its log ends:\n%s", d.Name, d.ExitErr(), system.LogTail(d.Log, 10)))
			case <-ctx.Done():
			}
		}()
	}
	err := e.replayEngine.run(ctx, rec, m)
	if cause := context.Cause(ctx); err != nil && cause != nil && !errors.Is(cause, context.Canceled) {
		err = cause
	}
	e.stopDaemons()
	if aerr := rec.Attach("daemons.json", bytes.NewReader(mustJSON(e.started))); aerr != nil && err == nil {
		err = aerr
	}
	for _, name := range slices.Sorted(maps.Keys(e.facts)) {
		if aerr := rec.Attach(name, bytes.NewReader(e.facts[name])); aerr != nil && err == nil {
			err = aerr
		}
	}
	for _, d := range e.started {
		if b, rerr := os.ReadFile(d.Log); rerr == nil {
			if aerr := rec.Attach(d.Name+".log", bytes.NewReader(b)); aerr != nil && err == nil {
				err = aerr
			}
		}
	}
	return err
}

// stopDaemons stops what the run started, newest first.
func (e *hostEngine) stopDaemons() {
	for i := len(e.started) - 1; i >= 0; i-- {
		e.started[i].Stop(context.Background())
	}
	e.saveKdat()
}

func (e *hostEngine) close() {
	e.stopDaemons()
	e.started = nil
	if e.sup != nil {
		e.sup.Close()
		e.sup = nil
	}
}
