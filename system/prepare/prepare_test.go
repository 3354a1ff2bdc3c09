package prepare

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"trenv-bench/system"
)

// fakeHost is a host tree with scripted programs: daxctl, rdma and ctr
// answer from its state, which the commands the preparation runs change
// (mount adds a line to /proc/self/mounts, daxctl create-device makes the
// device, ctr images pull adds the image), so Done checks see the work.
type fakeHost struct {
	t    *testing.T
	root string
	mu   sync.Mutex
	ran  [][]string // every command, in order
	// state
	dax        bool // the devdax exists
	images     []string
	containerd bool
	started    []string // daemons started, by name
	stopped    []string
	deployed   []string
	warmed     []string
	auth       []string
}

func newFakeHost(t *testing.T) *fakeHost {
	t.Helper()
	h := &fakeHost{t: t, root: t.TempDir()}
	h.write("/proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n/swapfile file 1024 0 -2\n")
	h.write("/proc/self/mounts", "proc /proc proc rw 0 0\n")
	h.write("/proc/sys/kernel/random/boot_id", "2978d0b3-49c2-4cd2-906f-7741095df49a\n")
	h.write("/proc/sys/kernel/osrelease", "6.1.0-rc8+\n")
	h.write("/dev/pseudo_mm", "")
	h.write("/var/lib/faasd/pkgs/pyaes/index.py", "print(1)\n")
	return h
}

func (h *fakeHost) write(p, content string) {
	h.t.Helper()
	f := filepath.Join(h.root, p)
	if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
		h.t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
}

func (h *fakeHost) appendMount(line string) {
	f := filepath.Join(h.root, "/proc/self/mounts")
	b, _ := os.ReadFile(f)
	os.WriteFile(f, append(b, line+"\n"...), 0o644)
}

func (h *fakeHost) commands() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, c := range h.ran {
		out = append(out, strings.Join(c, " "))
	}
	return out
}

// Run answers as the host's programs would.
func (h *fakeHost) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	argv := append([]string{name}, args...)
	h.ran = append(h.ran, argv)
	cmd := strings.Join(argv, " ")
	fail := func() ([]byte, error) {
		return nil, &system.CmdError{Name: name, Args: args, ExitCode: 1, Err: fmt.Errorf("exit status 1")}
	}
	switch {
	case cmd == "daxctl list":
		if !h.dax {
			return nil, nil
		}
		return []byte(`[{"chardev":"dax0.0","size":17179869184,"target_node":2,"align":4096,"mode":"devdax"}]`), nil
	case strings.HasPrefix(cmd, "daxctl disable-device"), strings.HasPrefix(cmd, "daxctl destroy-device"):
		h.dax = false
	case strings.HasPrefix(cmd, "daxctl create-device"):
		h.dax = true
	case cmd == "rdma -j link show":
		return []byte("[]"), nil
	case strings.HasPrefix(cmd, "modprobe "):
		os.MkdirAll(filepath.Join(h.root, "/sys/module", args[0]), 0o755)
	case cmd == "swapoff -a":
		os.WriteFile(filepath.Join(h.root, "/proc/swaps"), []byte("Filename\tType\tSize\tUsed\tPriority\n"), 0o644)
	case name == "mount":
		h.appendMount(fmt.Sprintf("tmpfs %s tmpfs rw,%s 0 0", args[len(args)-1], args[3]))
	case cmd == "faasd install":
		h.write("/var/lib/faasd/secrets/basic-auth-user", "admin\n")
		h.write("/var/lib/faasd/secrets/basic-auth-password", "s3cret\n")
		h.write("/var/lib/faasd/network.sh", "#!/bin/sh\n")
	case cmd == "ctr version":
		if !h.containerd {
			return fail()
		}
	case cmd == "ctr -n openfaas-fn images ls -q":
		return []byte(strings.Join(h.images, "\n")), nil
	case strings.HasPrefix(cmd, "ctr -n openfaas-fn images pull "):
		h.images = append(h.images, args[len(args)-1])
	case name == "faasd" && len(args) > 0 && args[0] == "checkpoint":
	case cmd == "sysctl -w net.ipv4.ip_forward=1":
	case strings.HasSuffix(name, "/faasnap/network.sh"):
		h.write("/run/netns/fc"+args[0], "")
	default:
		h.t.Errorf("unexpected command %q", cmd)
		return fail()
	}
	return nil, nil
}

type fakeDaemon struct {
	h    *fakeHost
	name string
}

func (d fakeDaemon) Stop(context.Context) error {
	d.h.mu.Lock()
	defer d.h.mu.Unlock()
	d.h.stopped = append(d.h.stopped, d.name)
	if d.name == "containerd" {
		d.h.containerd = false
	}
	return nil
}

func (h *fakeHost) Start(ctx context.Context, name string, argv, env []string, dir string) (Daemon, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.started = append(h.started, name+": "+strings.Join(argv, " ")+" in "+dir+" with "+strings.Join(env, " "))
	if name == "containerd" {
		h.containerd = true
	}
	return fakeDaemon{h, name}, nil
}

// faasd is the provider the checkpoint step deploys and warms through.
func (h *fakeHost) faasd() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		switch {
		case r.URL.Path == "/healthz":
		case r.Method == http.MethodPost && r.URL.Path == "/system/functions":
			u, p, _ := r.BasicAuth()
			h.auth = append(h.auth, u+":"+p)
			var d struct{ Service string }
			json.NewDecoder(r.Body).Decode(&d)
			h.deployed = append(h.deployed, d.Service)
			w.WriteHeader(http.StatusAccepted)
		case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/function/"):
			b, _ := io.ReadAll(r.Body)
			h.warmed = append(h.warmed, strings.TrimPrefix(r.URL.Path, "/function/")+" "+string(b))
		default:
			http.NotFound(w, r)
		}
	}))
}

func testOptions(pool string) Options {
	o := Defaults(pool)
	o.Services = []Service{
		{Name: "h-hello-world", Deployment: []byte(`{"service":"h-hello-world"}`)},
		{Name: "pyaes", Deployment: []byte(`{"service":"pyaes"}`), Payload: []byte(`{"n":1}`)},
	}
	o.Images = []string{"jialianghuang/h-hello-world:latest", "jialianghuang/pyaes:latest"}
	return o
}

func (h *fakeHost) host(srv *httptest.Server) *Host {
	return &Host{Root: h.root, Runner: h, Daemons: h, HTTP: srv.Client(), FaasdURL: srv.URL,
		Now: func() time.Time { return time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC) }}
}

// mutating reports the commands that change a host (not the queries).
func mutating(cmds []string) []string {
	var out []string
	for _, c := range cmds {
		if c != "daxctl list" && c != "ctr version" && c != "ctr -n openfaas-fn images ls -q" && c != "rdma -j link show" {
			out = append(out, c)
		}
	}
	return out
}

// TestPrepareCXL prepares a fresh cxl host end to end, then again: the
// first run does every step with the artifact's commands (and none it
// would not: no proxy, images pulled into openfaas-fn), the second finds
// everything done and changes nothing.
func TestPrepareCXL(t *testing.T) {
	h := newFakeHost(t)
	srv := h.faasd()
	defer srv.Close()
	o := testOptions(system.PoolCXL)
	o.CreateDAX = true
	o.Baselines = true
	h.write("/root/faasnap/faasnap/network.sh", "#!/bin/sh\n")
	steps, err := Plan(o, h.host(srv))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := Prepare(context.Background(), steps, h, ToWriter(&out), false); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	cmds := mutating(h.commands())
	for _, want := range []string{
		"modprobe tcp_diag", "modprobe rdma_rxe", "swapoff -a",
		"daxctl disable-device -r 0 all", "daxctl destroy-device -r 0 all", "daxctl create-device -r 0 -a 4096 -s 16g",
		"faasd install",
		"mount -t tmpfs -o size=16g,mpol=bind:2 tmpfs /var/lib/faasd/checkpoints",
		"mount -t tmpfs -o size=16g,mpol=bind:2 tmpfs /mnt/cxl-tmp",
		"ctr -n openfaas-fn images pull docker.io/jialianghuang/h-hello-world:latest",
		"ctr -n openfaas-fn images pull docker.io/jialianghuang/pyaes:latest",
		"faasd checkpoint --mem-pool dax --dax-device /dev/dax0.0 h-hello-world pyaes",
		"sysctl -w net.ipv4.ip_forward=1", "/root/faasnap/faasnap/network.sh 1", "/root/faasnap/faasnap/network.sh 13",
	} {
		if !slices.Contains(cmds, want) {
			t.Errorf("did not run %q", want)
		}
	}
	if i, j := slices.Index(cmds, "faasd install"), slices.Index(cmds, "mount -t tmpfs -o size=16g,mpol=bind:2 tmpfs /var/lib/faasd/checkpoints"); i > j {
		t.Errorf("the checkpoint tmpfs was mounted before faasd install: %q", cmds)
	}
	wantStarted := []string{
		"containerd: containerd -l debug in / with ",
		"faasd-checkpoint: faasd provider --pull-policy no --no-bgtask in /var/lib/faasd with secret_mount_path=/var/lib/faasd/secrets basic_auth=true",
	}
	if !slices.Equal(h.started, wantStarted) {
		t.Errorf("started %q\nwant %q", h.started, wantStarted)
	}
	if !slices.Equal(h.stopped, []string{"faasd-checkpoint", "containerd"}) {
		t.Errorf("stopped %q: want the provider, then the containerd it started", h.stopped)
	}
	if !slices.Equal(h.deployed, []string{"h-hello-world", "pyaes"}) || !slices.Equal(h.warmed, []string{"h-hello-world ", `pyaes {"n":1}`}) ||
		!slices.Equal(h.auth, []string{"admin:s3cret", "admin:s3cret"}) {
		t.Errorf("deployed %q (auth %q), warmed %q", h.deployed, h.auth, h.warmed)
	}
	var m system.CheckpointMarker
	b, err := os.ReadFile(filepath.Join(h.root, system.CheckpointMarkerPath))
	if err == nil {
		err = json.Unmarshal(b, &m)
	}
	if err != nil || m.Pool != system.PoolCXL || m.BootID != "2978d0b3-49c2-4cd2-906f-7741095df49a" || m.DAXDevice != "/dev/dax0.0" ||
		!slices.Equal(m.Services, []string{"h-hello-world", "pyaes"}) || m.Kernel != "6.1.0-rc8+" {
		t.Errorf("marker %+v (%v)", m, err)
	}
	if uid, ok := ownerOf(filepath.Join(h.root, "/var/lib/faasd/pkgs/pyaes/index.py")); !ok || uid != pkgsOwner {
		t.Errorf("pkgs owned by %d", uid)
	}

	// Again: everything is done. (containerd is running now, as after a
	// first prepare that left it up.)
	h.containerd = true
	before := len(h.commands())
	out.Reset()
	if err := Prepare(context.Background(), steps, h, ToWriter(&out), false); err != nil {
		t.Fatalf("second run: %v\n%s", err, out.String())
	}
	if again := mutating(h.commands()[before:]); len(again) != 0 {
		t.Errorf("the second run changed the host: %q\n%s", again, out.String())
	}
	if n := strings.Count(out.String(), "done already"); n != len(steps) {
		t.Errorf("%d of %d steps done already:\n%s", n, len(steps), out.String())
	}
}

// TestPrepareDryRun prints the plan with its commands and changes nothing.
func TestPrepareDryRun(t *testing.T) {
	h := newFakeHost(t)
	srv := h.faasd()
	defer srv.Close()
	steps, err := Plan(testOptions(system.PoolRDMA), h.host(srv))
	if err == nil {
		t.Fatal("the rdma pool without --node was accepted")
	}
	o := testOptions(system.PoolRDMA)
	o.Node = 2
	if steps, err = Plan(o, h.host(srv)); err != nil {
		t.Fatal(err)
	}
	h.write("/sys/class/net/eth0/type", "1\n") // the NIC exists: the nic step is done
	var out bytes.Buffer
	if err := Prepare(context.Background(), steps, h, ToWriter(&out), true); err != nil {
		t.Fatal(err)
	}
	if m := mutating(h.commands()); len(m) != 0 || len(h.started) != 0 {
		t.Errorf("a dry run ran %q and started %q", m, h.started)
	}
	text := out.String()
	for _, want := range []string{
		"kernel: done already", "nic: done already",
		"rdma link add rxe_eth0 type rxe netdev eth0",
		"/root/test/pseudo-mm-rdma-server 50000",
		"modprobe pseudo_mm_rdma sport=50000 sip=172.16.2.1 cip=172.16.2.1 node=2",
		"mount -t tmpfs -o size=16g,mpol=bind:2 tmpfs /var/lib/faasd/checkpoints",
		"faasd checkpoint --mem-pool rdma h-hello-world pyaes",
		"dry run: nothing was changed",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the dry run does not say %q:\n%s", want, text)
		}
	}
	if _, err := os.Stat(filepath.Join(h.root, system.CheckpointMarkerPath)); err == nil {
		t.Error("a dry run wrote the marker")
	}
}

// TestPrepareRefusesToDestroy: a missing DAX device is recreated only when
// asked, since that destroys the region's devices; the steps before stay
// done and the error says what to pass.
func TestPrepareRefusesToDestroy(t *testing.T) {
	h := newFakeHost(t)
	srv := h.faasd()
	defer srv.Close()
	steps, err := Plan(testOptions(system.PoolCXL), h.host(srv))
	if err != nil {
		t.Fatal(err)
	}
	err = Prepare(context.Background(), steps, h, ToWriter(io.Discard), false)
	if err == nil || !strings.Contains(err.Error(), "dax") || !strings.Contains(err.Error(), "--create-dax") {
		t.Fatalf("error %v, want the dax step to ask for --create-dax", err)
	}
	if slices.ContainsFunc(h.commands(), func(c string) bool { return strings.HasPrefix(c, "daxctl destroy") }) {
		t.Error("it destroyed the region's devices without --create-dax")
	}
	if !slices.Contains(h.commands(), "swapoff -a") {
		t.Error("the steps before the dax step did not run")
	}
}

func TestPrepareNeedsTrEnvKernel(t *testing.T) {
	h := newFakeHost(t)
	os.Remove(filepath.Join(h.root, "/dev/pseudo_mm"))
	srv := h.faasd()
	defer srv.Close()
	steps, _ := Plan(testOptions(system.PoolCXL), h.host(srv))
	err := Prepare(context.Background(), steps, h, ToWriter(io.Discard), false)
	if err == nil || !strings.Contains(err.Error(), "pseudo_mm") {
		t.Fatalf("error %v, want the kernel step to fail", err)
	}
	if len(h.commands()) != 0 {
		t.Errorf("ran %q after the kernel check failed", h.commands())
	}
}

// TestOptionsValidate: names from the command line are checked before they
// reach a command line or a path.
func TestOptionsValidate(t *testing.T) {
	for _, f := range []func(*Options){
		func(o *Options) { o.Pool = "nvme" },
		func(o *Options) { o.DAXDevice = "/dev/sda" },
		func(o *Options) { o.DAXSize = "16g; reboot" },
		func(o *Options) { o.Pool, o.Node, o.NIC = system.PoolRDMA, 2, "eth0 up" },
		func(o *Options) { o.Pool, o.Node, o.DummyAddr = system.PoolRDMA, 2, "172.16.2.1" },
		func(o *Options) { o.RDMAPort = 70000 },
		func(o *Options) { o.Services = []Service{{Name: "../etc", Deployment: []byte("{}")}} },
		func(o *Options) { o.Images = []string{"-rf"} },
		func(o *Options) { o.FaasdSource = "relative/path" },
	} {
		o := testOptions(system.PoolCXL)
		f(&o)
		if err := o.Validate(); err == nil {
			t.Errorf("%+v was accepted", o)
		}
	}
	if err := testOptions(system.PoolCXL).Validate(); err != nil {
		t.Errorf("the defaults: %v", err)
	}
}
