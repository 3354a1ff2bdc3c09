package prepare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/netip"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"trenv-bench/internal/ctxsleep"
	"trenv-bench/system"
	"trenv-bench/system/doctor"
)

// Options are what `system prepare` is told; zero values take the
// artifact's defaults (Defaults).
type Options struct {
	// Pool is TrEnv's memory pool: system.PoolCXL (a device-DAX) or
	// system.PoolRDMA (Soft-RoCE to an RDMA server).
	Pool string
	// DAXDevice is the device-DAX of the cxl pool ("/dev/dax0.0").
	DAXDevice string
	// CreateDAX lets the preparation disable, destroy and recreate the
	// devices of DAX region 0 when DAXDevice is missing or not a 4096-
	// aligned devdax (machine-prepare.sh asks first; here it must be
	// asked for, since it destroys what the region held).
	CreateDAX bool
	// DAXSize is the size of the device it creates ("16g").
	DAXSize string
	// NIC is the network interface of the RXE link (rdma pool); a dummy
	// interface of that name with DummyAddr is made when it is missing.
	NIC, DummyAddr string
	// RDMAServer is the rdma-server binary and RDMAPort its port.
	RDMAServer string
	RDMAPort   int
	// Node is the NUMA node of the far memory: the tmpfs mounts bind to
	// it and pseudo_mm_rdma is given it. -1 reads it from daxctl (the
	// device's target_node).
	Node int
	// TmpfsSize is the size of the checkpoint tmpfs ("16g").
	TmpfsSize string
	// Baselines also mounts the VM baselines' snapshot tmpfs
	// (/mnt/cxl-tmp) on the far-memory node.
	Baselines bool
	// Services are the containers checkpointed into mm-templates, in
	// order (the artifact's list: h-hello-world, h-memory, and the 11
	// benchmark functions in three copies).
	Services []Service
	// Images are the function images containerd must hold in the
	// openfaas-fn namespace (stack.yaml's function-images).
	Images []string
	// FaaSnapDir is the FaaSnap daemon's checkout, whose network.sh
	// makes the network namespaces its VMs boot in (Baselines only).
	FaaSnapDir string
	// FaasdSource is faasd's source checkout, where `faasd install`
	// must run (it copies resolv.conf and network.sh from its working
	// directory).
	FaasdSource string
}

// Defaults returns the artifact's machine-prepare.sh defaults for pool.
func Defaults(pool string) Options {
	return Options{Pool: pool, DAXDevice: "/dev/dax0.0", DAXSize: "16g", NIC: "eth0", DummyAddr: "172.16.2.1/24",
		RDMAServer: "/root/test/pseudo-mm-rdma-server", RDMAPort: 50000, Node: -1, TmpfsSize: "16g",
		FaaSnapDir: "/root/faasnap/faasnap", FaasdSource: "/root/go/src/github.com/openfaas/faasd"}
}

// Host is the machine prepared.
type Host struct {
	// Root is where the host's file system is ("/"); tests use a tree.
	// Paths in commands are the host's own (without Root).
	Root string
	// Runner runs the host's programs.
	Runner Runner
	// Daemons starts the daemons a step needs (containerd, rdma-server,
	// a faasd provider for checkpointing).
	Daemons Daemons
	// HTTP reaches the faasd provider the checkpoint step starts, at
	// FaasdURL ("" = http://127.0.0.1:8081, faasd's port).
	HTTP     *http.Client
	FaasdURL string
	// Now is the clock of the marker; nil means time.Now.
	Now func() time.Time
}

// Daemons starts daemons the harness tracks by PID (system's supervisor on
// a host).
type Daemons interface {
	// Start starts argv (program first) in dir with env added to the
	// harness's environment, its output to the log named after name, and
	// returns once it runs. Stop stops it (and what it started) by PID.
	Start(ctx context.Context, name string, argv, env []string, dir string) (Daemon, error)
}

// Daemon is a started daemon.
type Daemon interface {
	Stop(ctx context.Context) error
}

// modules are the kernel modules machine-prepare.sh loads (its insmod.sh):
// CRIU's socket diagnostics, container networking, and Soft-RoCE.
func modules() []string {
	return []string{"tcp_diag", "udp_diag", "raw_diag", "unix_diag", "af_packet_diag", "inet_diag", "netlink_diag",
		"ip6_tables", "ip6table_filter", "overlay", "llc", "stp", "bridge", "xt_mark", "xt_comment", "xt_MASQUERADE",
		"xt_conntrack", "nf_conntrack", "nf_conntrack_netlink", "rdma_rxe"}
}

// Host paths the preparation touches.
const (
	faasdState     = "/var/lib/faasd"
	checkpointsDir = system.CheckpointsDir
	baselinesTmpfs = "/mnt/cxl-tmp"
	snapshotDir    = baselinesTmpfs + "/faasnap/snapshot"
	pkgsDir        = faasdState + "/pkgs"
	pkgsOwner      = 100 // the function containers' app user (the artifact's chown -R 100)
	functionNS     = "openfaas-fn"
	faasdAddr      = "127.0.0.1:8081"
)

var (
	sizeRE = regexp.MustCompile(`^[1-9][0-9]*[kmgKMG]?$`)
	nicRE  = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,15}$`)
	daxRE  = regexp.MustCompile(`^/dev/dax[0-9]+\.[0-9]+$`)
	svcRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)
	refRE  = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9./_:@-]{0,254}$`)
)

// Validate checks o before it reaches a path or a command line.
func (o Options) Validate() error {
	bad := func(flag, v, want string) error {
		return fmt.Errorf("prepare: %s %q: %s", flag, v, want)
	}
	switch {
	case o.Pool != system.PoolCXL && o.Pool != system.PoolRDMA:
		return bad("--mem-pool", o.Pool, "want cxl (a device-DAX) or rdma")
	case o.Pool == system.PoolCXL && !daxRE.MatchString(o.DAXDevice):
		return bad("--dax-device", o.DAXDevice, "want /dev/daxN.M")
	case !sizeRE.MatchString(o.DAXSize):
		return bad("--dax-size", o.DAXSize, "want a size such as 16g")
	case !sizeRE.MatchString(o.TmpfsSize):
		return bad("--tmpfs-size", o.TmpfsSize, "want a size such as 16g")
	case o.Pool == system.PoolRDMA && !nicRE.MatchString(o.NIC):
		return bad("--nic", o.NIC, "want a network interface name")
	case o.RDMAPort < 1 || o.RDMAPort > 65535:
		return bad("--rdma-port", strconv.Itoa(o.RDMAPort), "want 1 to 65535")
	case o.Node < -1 || o.Node > 1023:
		return bad("--node", strconv.Itoa(o.Node), "want a NUMA node, or -1 to read it from daxctl")
	case o.Pool == system.PoolRDMA && o.Node < 0:
		return bad("--node", "-1", "the rdma pool has no DAX device to read the node from: give it")
	}
	if _, err := netipPrefix(o.DummyAddr); o.Pool == system.PoolRDMA && err != nil {
		return bad("--dummy-addr", o.DummyAddr, "want an address with its prefix length, such as 172.16.2.1/24")
	}
	for _, s := range o.Services {
		if !svcRE.MatchString(s.Name) || len(s.Deployment) == 0 {
			return bad("service", s.Name, "want a function name (lower-case letters, digits, '-', '_') and its deployment")
		}
	}
	for _, r := range o.Images {
		if !refRE.MatchString(r) {
			return bad("image", r, "want an image reference")
		}
	}
	for _, p := range []string{o.RDMAServer, o.FaasdSource} {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return bad("path", p, "want a clean absolute path")
		}
	}
	return nil
}

// Plan returns the steps that prepare h as o says. The steps read h's
// state when they run (Done), so one plan serves a dry run and a real one.
func Plan(o Options, h *Host) ([]Step, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	p := &planner{o: o, h: h}
	steps := []Step{p.kernel(), p.modules(), p.swap()}
	if o.Pool == system.PoolCXL {
		steps = append(steps, p.dax())
	} else {
		steps = append(steps, p.nic(), p.rxe(), p.rdmaModule())
	}
	steps = append(steps, p.faasdInstall(), p.pkgs(), p.tmpfs(checkpointsDir, "checkpoints"))
	if o.Baselines {
		steps = append(steps, p.tmpfs(baselinesTmpfs, "baselines-tmpfs"), p.mkdir(snapshotDir), p.faasnapNetwork())
	}
	steps = append(steps, p.images(), p.checkpoint(), p.marker())
	return steps, nil
}

type planner struct {
	o Options
	h *Host
	// node is the far-memory node once known (nodeKnown), from the DAX
	// device.
	node      int
	nodeKnown bool
	// containerd is the containerd the images step started, if any; the
	// checkpoint step uses it and the marker step stops it.
	containerd Daemon
}

// file is the host path p under Root.
func (p *planner) file(hostPath string) string { return filepath.Join(p.h.Root, hostPath) }

func (p *planner) exists(hostPath string) bool {
	_, err := os.Stat(p.file(hostPath))
	return err == nil
}

func (p *planner) kernel() Step {
	return Step{Name: "kernel", Doc: "check that the TrEnv kernel runs (/dev/pseudo_mm)",
		Done: func(context.Context) (bool, string, error) {
			return p.exists("/dev/pseudo_mm"), "/dev/pseudo_mm is present", nil
		},
		Do: func(context.Context) error {
			return errors.New("/dev/pseudo_mm is missing: the running kernel is not TrEnv's; boot it (see `trenv-bench system doctor`)")
		}}
}

func (p *planner) modules() Step {
	var cmds [][]string
	for _, m := range modules() {
		cmds = append(cmds, []string{"modprobe", m})
	}
	return Step{Name: "modules", Doc: "load the kernel modules CRIU, container networking and Soft-RoCE need", Commands: cmds,
		Done: func(context.Context) (bool, string, error) {
			for _, m := range modules() {
				if !p.exists("/sys/module/" + m) {
					return false, "", nil
				}
			}
			return true, "every module is in /sys/module", nil
		}}
}

func (p *planner) swap() Step {
	return Step{Name: "swap", Doc: "turn swap off (paging would distort the memory measurements)", Commands: [][]string{{"swapoff", "-a"}},
		Done: func(context.Context) (bool, string, error) {
			b, err := os.ReadFile(p.file("/proc/swaps"))
			if err != nil {
				return false, "", err
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			return len(lines) <= 1, "/proc/swaps lists no swap", nil
		}}
}

// daxState returns the DAX device's entry in `daxctl list`.
func (p *planner) daxState(ctx context.Context) (doctor.DAXDevice, bool, error) {
	out, err := p.h.Runner.Run(ctx, "daxctl", "list")
	if err != nil {
		return doctor.DAXDevice{}, false, err
	}
	devs, err := doctor.ParseDaxctlList(out)
	if err != nil {
		return doctor.DAXDevice{}, false, err
	}
	name := path.Base(p.o.DAXDevice)
	i := slices.IndexFunc(devs, func(d doctor.DAXDevice) bool { return d.Chardev == name })
	if i < 0 {
		return doctor.DAXDevice{}, false, nil
	}
	return devs[i], true, nil
}

func (p *planner) dax() Step {
	region := "0"
	return Step{Name: "dax", Doc: fmt.Sprintf("make %s a devdax device with 4096-byte alignment (%s) in region %s, destroying the region's devices",
		p.o.DAXDevice, p.o.DAXSize, region),
		Commands: [][]string{
			{"daxctl", "disable-device", "-r", region, "all"},
			{"daxctl", "destroy-device", "-r", region, "all"},
			{"daxctl", "create-device", "-r", region, "-a", "4096", "-s", p.o.DAXSize},
		},
		Done: func(ctx context.Context) (bool, string, error) {
			d, ok, err := p.daxState(ctx)
			if err != nil || !ok || d.Mode != "devdax" || d.Align != 4096 || d.State == "disabled" {
				return false, "", err
			}
			if d.TargetNode != nil {
				p.node, p.nodeKnown = *d.TargetNode, true
			}
			return true, fmt.Sprintf("%s is devdax, aligned 4096, target node %s", p.o.DAXDevice, nodeText(d.TargetNode)), nil
		},
		Do: func(ctx context.Context) error {
			if !p.o.CreateDAX {
				return fmt.Errorf("%s is missing or not a 4096-aligned devdax; recreating it destroys region 0's devices: pass --create-dax to do so",
					p.o.DAXDevice)
			}
			if err := runAll(ctx, p.h.Runner, [][]string{
				{"daxctl", "disable-device", "-r", region, "all"},
				{"daxctl", "destroy-device", "-r", region, "all"},
				{"daxctl", "create-device", "-r", region, "-a", "4096", "-s", p.o.DAXSize},
			}); err != nil {
				return err
			}
			d, ok, err := p.daxState(ctx)
			switch {
			case err != nil:
				return err
			case !ok || d.Mode != "devdax" || d.Align != 4096:
				return fmt.Errorf("daxctl created no 4096-aligned devdax named %s", p.o.DAXDevice)
			case d.TargetNode != nil:
				p.node, p.nodeKnown = *d.TargetNode, true
			}
			return nil
		}}
}

func nodeText(n *int) string {
	if n == nil {
		return "unknown"
	}
	return strconv.Itoa(*n)
}

// farNode is the far-memory node: given, or read from the DAX device.
func (p *planner) farNode() (int, error) {
	if p.o.Node >= 0 {
		return p.o.Node, nil
	}
	if p.nodeKnown {
		return p.node, nil
	}
	return 0, errors.New("the far-memory NUMA node is unknown (the DAX device names none): give --node")
}

func (p *planner) nic() Step {
	return Step{Name: "nic", Doc: fmt.Sprintf("make a dummy interface %s with %s for Soft-RoCE (loopback RDMA)", p.o.NIC, p.o.DummyAddr),
		Commands: [][]string{
			{"ip", "link", "add", p.o.NIC, "type", "dummy"},
			{"ip", "addr", "add", p.o.DummyAddr, "dev", p.o.NIC},
			{"ip", "link", "set", p.o.NIC, "up"},
		},
		Done: func(context.Context) (bool, string, error) {
			return p.exists("/sys/class/net/" + p.o.NIC), p.o.NIC + " exists", nil
		}}
}

func (p *planner) rxe() Step {
	link := "rxe_" + p.o.NIC
	return Step{Name: "rxe", Doc: fmt.Sprintf("add the Soft-RoCE link %s over %s", link, p.o.NIC),
		Commands: [][]string{{"rdma", "link", "add", link, "type", "rxe", "netdev", p.o.NIC}},
		Done: func(ctx context.Context) (bool, string, error) {
			out, err := p.h.Runner.Run(ctx, "rdma", "-j", "link", "show")
			if err != nil {
				return false, "", err
			}
			links, err := doctor.ParseRDMALinks(out)
			if err != nil {
				return false, "", err
			}
			ok := slices.ContainsFunc(links, func(l doctor.RDMALink) bool { return l.Netdev == p.o.NIC })
			return ok, "an RDMA link runs over " + p.o.NIC, nil
		}}
}

func (p *planner) rdmaModule() Step {
	ip, _ := netipPrefix(p.o.DummyAddr)
	args := func() []string {
		n, _ := p.farNode()
		return []string{"modprobe", "pseudo_mm_rdma", "sport=" + strconv.Itoa(p.o.RDMAPort), "sip=" + ip, "cip=" + ip, "node=" + strconv.Itoa(n)}
	}
	return Step{Name: "rdma-server", Doc: fmt.Sprintf("start the RDMA server on port %d (supervised) and load pseudo_mm_rdma against it", p.o.RDMAPort),
		Commands: [][]string{{p.o.RDMAServer, strconv.Itoa(p.o.RDMAPort)}, args()},
		Done: func(context.Context) (bool, string, error) {
			return p.exists("/sys/module/pseudo_mm_rdma"), "pseudo_mm_rdma is loaded", nil
		},
		Do: func(ctx context.Context) error {
			if _, err := p.h.Daemons.Start(ctx, "rdma-server", []string{p.o.RDMAServer, strconv.Itoa(p.o.RDMAPort)}, nil, "/"); err != nil {
				return err
			}
			a := args()
			_, err := p.h.Runner.Run(ctx, a[0], a[1:]...)
			return err
		}}
}

func (p *planner) faasdInstall() Step {
	return Step{Name: "faasd-install", Doc: "create faasd's state directory and basic-auth secrets (faasd install, in faasd's source tree)",
		Commands: [][]string{{"faasd", "install"}},
		Done: func(context.Context) (bool, string, error) {
			ok := p.exists(faasdState+"/secrets/basic-auth-password") && p.exists(faasdState+"/secrets/basic-auth-user") &&
				p.exists(faasdState+"/network.sh")
			return ok, faasdState + " has its secrets and network.sh", nil
		},
		Do: func(ctx context.Context) error {
			// faasd install copies files from its working directory: run
			// it in the source tree (a test's runner runs it as it likes).
			r, ok := p.h.Runner.(system.ExecRunner)
			if !ok {
				_, err := p.h.Runner.Run(ctx, "faasd", "install")
				return err
			}
			r.Dir = p.o.FaasdSource
			_, err := r.Run(ctx, "faasd", "install")
			return err
		}}
}

func (p *planner) pkgs() Step {
	return Step{Name: "pkgs", Doc: fmt.Sprintf("give %s to the functions' user (uid %d), in Go", pkgsDir, pkgsOwner),
		Done: func(context.Context) (bool, string, error) {
			var bad bool
			err := filepath.WalkDir(p.file(pkgsDir), func(path string, d fs.DirEntry, err error) error {
				if err != nil || bad {
					return err
				}
				if uid, ok := ownerOf(path); !ok || uid != pkgsOwner {
					bad = true
					return filepath.SkipAll
				}
				return nil
			})
			if errors.Is(err, fs.ErrNotExist) {
				return false, "", fmt.Errorf("%s is missing: unpack the functions' pkgs.tar.gz into %s", pkgsDir, faasdState)
			}
			return err == nil && !bad, "everything in it is uid 100's", err
		},
		Do: func(context.Context) error {
			return filepath.WalkDir(p.file(pkgsDir), func(path string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				return os.Lchown(path, pkgsOwner, -1)
			})
		}}
}

func (p *planner) tmpfs(dir, name string) Step {
	doc := fmt.Sprintf("mount a %s tmpfs on %s bound to the far-memory node", p.o.TmpfsSize, dir)
	cmd := func() []string {
		n, err := p.farNode()
		node := "<node>"
		if err == nil {
			node = strconv.Itoa(n)
		}
		return []string{"mount", "-t", "tmpfs", "-o", "size=" + p.o.TmpfsSize + ",mpol=bind:" + node, "tmpfs", dir}
	}
	return Step{Name: name, Doc: doc, Commands: [][]string{{"mkdir", "-p", dir}, cmd()},
		Done: func(context.Context) (bool, string, error) {
			b, err := os.ReadFile(p.file("/proc/self/mounts"))
			if err != nil {
				return false, "", err
			}
			mounts, err := doctor.ParseMounts(b)
			if err != nil {
				return false, "", err
			}
			m, ok := doctor.MountAt(mounts, dir)
			if !ok || m.FSType != "tmpfs" {
				return false, "", nil
			}
			n, err := p.farNode()
			if err != nil {
				return false, "", err
			}
			mpol, _ := m.Option("mpol")
			if mpol != "bind:"+strconv.Itoa(n) {
				return false, "", fmt.Errorf("%s is a tmpfs with mpol=%q, not bound to node %d: unmount it first", dir, mpol, n)
			}
			return true, fmt.Sprintf("%s is a tmpfs bound to node %d", dir, n), nil
		},
		Do: func(ctx context.Context) error {
			if _, err := p.farNode(); err != nil {
				return err
			}
			if err := os.MkdirAll(p.file(dir), 0o755); err != nil {
				return err
			}
			c := cmd()
			_, err := p.h.Runner.Run(ctx, c[0], c[1:]...)
			return err
		}}
}

func (p *planner) mkdir(dir string) Step {
	return Step{Name: "snapshot-dir", Doc: "create " + dir + " for the VM baselines' snapshots, in Go",
		Done: func(context.Context) (bool, string, error) { return p.exists(dir), dir + " exists", nil },
		Do:   func(context.Context) error { return os.MkdirAll(p.file(dir), 0o755) }}
}

// FaaSnapNamespaces is how many network namespaces (fc1, fc2, …) the
// FaaSnap daemon's preparation boots VMs in: one per function the TrEnv
// fork prepares (its prep.sh makes 13).
const FaaSnapNamespaces = 13

// faasnapNetwork makes the FaaSnap daemon's network namespaces with the
// daemon's own network.sh, as its prep.sh does, after turning on IPv4
// forwarding (namespaces inherit it when they are made, and each forwards
// between its VM's tap and its veth). Unlike prep.sh it adds no
// MASQUERADE or FORWARD rule to the host's firewall: the guests are only
// reached from this host, never need a way out.
func (p *planner) faasnapNetwork() Step {
	script := filepath.Join(p.o.FaaSnapDir, "network.sh")
	missing := func() []int {
		var out []int
		for i := 1; i <= FaaSnapNamespaces; i++ {
			if !p.exists(fmt.Sprintf("/run/netns/fc%d", i)) {
				out = append(out, i)
			}
		}
		return out
	}
	cmds := func() [][]string {
		out := [][]string{{"sysctl", "-w", "net.ipv4.ip_forward=1"}}
		for _, i := range missing() {
			out = append(out, []string{script, strconv.Itoa(i)})
		}
		return out
	}
	return Step{Name: "faasnap-network", Doc: fmt.Sprintf("make the FaaSnap VMs' network namespaces fc1-fc%d with %s", FaaSnapNamespaces, script),
		Commands: cmds(),
		Done: func(context.Context) (bool, string, error) {
			return len(missing()) == 0, fmt.Sprintf("/run/netns has fc1-fc%d", FaaSnapNamespaces), nil
		},
		Do: func(ctx context.Context) error {
			if !p.exists(script) {
				return fmt.Errorf("%s is missing: the FaaSnap daemon is not installed (the Ansible baselines role)", script)
			}
			return runAll(ctx, p.h.Runner, cmds())
		}}
}

// containerdRunning reports whether containerd answers on its socket.
func (p *planner) containerdRunning(ctx context.Context) bool {
	_, err := p.h.Runner.Run(ctx, "ctr", "version")
	return err == nil
}

func (p *planner) images() Step {
	var cmds [][]string
	for _, ref := range p.o.Images {
		cmds = append(cmds, []string{"ctr", "-n", functionNS, "images", "pull", ref})
	}
	have := func(ctx context.Context) ([]string, error) {
		out, err := p.h.Runner.Run(ctx, "ctr", "-n", functionNS, "images", "ls", "-q")
		if err != nil {
			return nil, err
		}
		return strings.Fields(string(out)), nil
	}
	return Step{Name: "images", Doc: fmt.Sprintf("pull the %d function images into containerd's %s namespace (where faasd looks)", len(p.o.Images), functionNS),
		Commands: cmds,
		Done: func(ctx context.Context) (bool, string, error) {
			if !p.containerdRunning(ctx) {
				return false, "", nil
			}
			got, err := have(ctx)
			if err != nil {
				return false, "", err
			}
			for _, ref := range p.o.Images {
				if !slices.Contains(got, qualify(ref)) && !slices.Contains(got, ref) {
					return false, "", nil
				}
			}
			return true, fmt.Sprintf("%s holds all %d", functionNS, len(p.o.Images)), nil
		},
		Do: func(ctx context.Context) error {
			if err := p.ensureContainerd(ctx); err != nil {
				return err
			}
			got, err := have(ctx)
			if err != nil {
				return err
			}
			for _, ref := range p.o.Images {
				if slices.Contains(got, qualify(ref)) || slices.Contains(got, ref) {
					continue
				}
				if _, err := p.h.Runner.Run(ctx, "ctr", "-n", functionNS, "images", "pull", qualify(ref)); err != nil {
					return err
				}
			}
			return nil
		}}
}

// qualify names an image as containerd lists it ("docker.io/…").
func qualify(ref string) string {
	first, _, ok := strings.Cut(ref, "/")
	if !ok || !strings.ContainsAny(first, ".:") && first != "localhost" {
		return "docker.io/" + ref
	}
	return ref
}

func (p *planner) ensureContainerd(ctx context.Context) error {
	if p.containerdRunning(ctx) {
		return nil
	}
	d, err := p.h.Daemons.Start(ctx, "containerd", []string{"containerd", "-l", "debug"}, nil, "/")
	if err != nil {
		return fmt.Errorf("starting containerd: %w", err)
	}
	p.containerd = d
	for i := 0; i < 100 && !p.containerdRunning(ctx); i++ {
		if err := ctxsleep.Sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	if !p.containerdRunning(ctx) {
		return errors.New("containerd started but does not answer `ctr version` after 10 s")
	}
	return nil
}

// marker reads the checkpoint marker, if any.
func (p *planner) readMarker() (*system.CheckpointMarker, error) {
	b, err := os.ReadFile(p.file(system.CheckpointMarkerPath))
	if err != nil {
		return nil, err
	}
	var m system.CheckpointMarker
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", system.CheckpointMarkerPath, err)
	}
	return &m, nil
}

func (p *planner) bootID() (string, error) {
	b, err := os.ReadFile(p.file(system.BootIDPath))
	return strings.TrimSpace(string(b)), err
}

// checkpointArgs are faasd checkpoint's arguments for the pool.
func (p *planner) checkpointArgs() []string {
	args := []string{"checkpoint"}
	if p.o.Pool == system.PoolCXL {
		args = append(args, "--mem-pool", "dax", "--dax-device", p.o.DAXDevice)
	} else {
		args = append(args, "--mem-pool", "rdma")
	}
	return append(args, p.serviceNames()...)
}

func (p *planner) serviceNames() []string {
	names := make([]string, len(p.o.Services))
	for i, s := range p.o.Services {
		names[i] = s.Name
	}
	return names
}

func (p *planner) checkpoint() Step {
	provider := []string{"faasd", "provider", "--pull-policy", "no", "--no-bgtask"}
	return Step{Name: "checkpoint", Doc: fmt.Sprintf("start a faasd provider without background tasks, deploy and warm the %d services over its API, "+
		"dump them into mm-templates in the %s pool, and stop the provider", len(p.o.Services), p.o.Pool),
		Commands: [][]string{provider, append([]string{"faasd"}, p.checkpointArgs()...)},
		Done: func(context.Context) (bool, string, error) {
			m, err := p.readMarker()
			if errors.Is(err, fs.ErrNotExist) {
				return false, "", nil
			}
			if err != nil {
				return false, "", err
			}
			boot, err := p.bootID()
			if err != nil {
				return false, "", err
			}
			ok := m.Pool == p.o.Pool && m.BootID == boot && slices.Equal(m.Services, p.serviceNames())
			return ok, fmt.Sprintf("the marker records these services in the %s pool for this boot", p.o.Pool), nil
		},
		Do: func(ctx context.Context) error {
			if err := p.ensureContainerd(ctx); err != nil {
				return err
			}
			d, err := p.h.Daemons.Start(ctx, "faasd-checkpoint", provider,
				[]string{"secret_mount_path=" + faasdState + "/secrets", "basic_auth=true"}, faasdState)
			if err != nil {
				return fmt.Errorf("starting faasd provider: %w", err)
			}
			defer d.Stop(context.WithoutCancel(ctx))
			if err := p.deployAndWarm(ctx); err != nil {
				return err
			}
			a := p.checkpointArgs()
			_, err = p.h.Runner.Run(ctx, "faasd", a...)
			return err
		}}
}

func (p *planner) marker() Step {
	return Step{Name: "marker", Doc: "record the pool, the boot and the services of the mm-templates in " + system.CheckpointMarkerPath + ", in Go",
		Done: func(context.Context) (bool, string, error) {
			m, err := p.readMarker()
			if err != nil {
				return false, "", nil
			}
			boot, _ := p.bootID()
			return m.Pool == p.o.Pool && m.BootID == boot, "written", nil
		},
		Do: func(ctx context.Context) error {
			if p.containerd != nil {
				defer p.containerd.Stop(context.WithoutCancel(ctx))
			}
			boot, err := p.bootID()
			if err != nil {
				return err
			}
			kernel, _ := os.ReadFile(p.file("/proc/sys/kernel/osrelease"))
			now := time.Now
			if p.h.Now != nil {
				now = p.h.Now
			}
			m := system.CheckpointMarker{Format: system.CheckpointMarkerFormat, Pool: p.o.Pool, BootID: boot,
				Kernel: strings.TrimSpace(string(kernel)), Services: p.serviceNames(), Created: now().UTC()}
			if p.o.Pool == system.PoolCXL {
				m.DAXDevice = p.o.DAXDevice
			}
			b, err := json.MarshalIndent(m, "", "  ")
			if err != nil {
				return err
			}
			return os.WriteFile(p.file(system.CheckpointMarkerPath), append(b, '\n'), 0o644)
		}}
}

// deployAndWarm deploys each service through the provider's API (POST
// /system/functions, as faas-cli deploy does) and invokes it once through
// /function/<name>, so its process is warm when it is dumped.
func (p *planner) deployAndWarm(ctx context.Context) error {
	user, pass, err := p.secrets()
	if err != nil {
		return err
	}
	base := p.h.FaasdURL
	if base == "" {
		base = "http://" + faasdAddr
	}
	if err := waitHealthy(ctx, p.h.HTTP, base); err != nil {
		return err
	}
	for _, s := range p.o.Services {
		if err := post(ctx, p.h.HTTP, base+"/system/functions", s.Deployment, user, pass); err != nil {
			return fmt.Errorf("deploying %s: %w", s.Name, err)
		}
		if err := post(ctx, p.h.HTTP, base+"/function/"+s.Name, s.Payload, "", ""); err != nil {
			return fmt.Errorf("warming %s: %w", s.Name, err)
		}
	}
	return nil
}

func (p *planner) secrets() (user, pass string, err error) {
	u, err := os.ReadFile(p.file(faasdState + "/secrets/basic-auth-user"))
	if err != nil {
		return "", "", err
	}
	pw, err := os.ReadFile(p.file(faasdState + "/secrets/basic-auth-password"))
	if err != nil {
		return "", "", err
	}
	return strings.TrimSpace(string(u)), strings.TrimSpace(string(pw)), nil
}

func waitHealthy(ctx context.Context, c *http.Client, base string) error {
	deadline := time.Now().Add(time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		resp, err := c.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("faasd provider at %s is not healthy after a minute: %v", base, err)
		}
		if err := ctxsleep.Sleep(ctx, 200*time.Millisecond); err != nil {
			return err
		}
	}
}

func post(ctx context.Context, c *http.Client, url string, body []byte, user, pass string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	return nil
}

// Service is a container checkpointed into an mm-template: its name, the
// faas-provider deployment that starts it (JSON), and the payload of the
// invocation that warms it (nil: none).
type Service struct {
	Name       string
	Deployment []byte
	Payload    []byte
}

// netipPrefix returns the address of an address/prefix ("172.16.2.1/24").
func netipPrefix(s string) (string, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return "", err
	}
	return p.Addr().String(), nil
}

// ownerOf returns the uid owning path (not following a symlink).
func ownerOf(path string) (int, bool) {
	fi, err := os.Lstat(path)
	if err != nil {
		return 0, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

// CheckpointOrder is the artifact's order of the services it checkpoints
// (machine-prepare.sh's generate_cp): the two auxiliary functions, then
// the 11 benchmark functions, plain, then _1, then _2. faasd checkpoint
// packs their templates into the pool in this order.
func CheckpointOrder() []string {
	fns := []string{"pyaes", "image-processing", "image-recognition", "video-processing", "chameleon", "dynamic-html",
		"crypto", "image-flip-rotate", "json-serde", "js-json-serde", "pagerank"}
	out := []string{"h-hello-world", "h-memory"}
	for _, suffix := range []string{"", "_1", "_2"} {
		for _, f := range fns {
			out = append(out, f+suffix)
		}
	}
	return out
}
