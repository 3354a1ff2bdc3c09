package doctor

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"

	"trenv-bench/system"
)

// Paths and names of the RDMA pool (switch-container/rdma-server and the
// kernel's pseudo_mm_rdma module).
const (
	// RDMAServerSocket is the server's fixed unix socket, where CRIU
	// convert hands it the memory images.
	RDMAServerSocket = "/run/pseudo-mm-rdma-server-buf.sock"
	// RDMAModule is the kernel module that pages templates in over RDMA.
	RDMAModule = "pseudo_mm_rdma"
	// RDMAServerComponent is the server's name in stack.yaml.
	RDMAServerComponent = "rdma-server"
)

func (e *env) checkDAX() Check {
	res := result("pool.dax", "device-DAX: devdax, 4 KiB alignment, target node", true)
	name := path.Base(e.sc.DAXDevice)
	out, err := e.run("daxctl", "list")
	if err != nil {
		if system.NotInstalled(err) {
			return res.fail("daxctl is not installed", "apt-get install daxctl (and ndctl for PMem)")
		}
		return res.fail(fmt.Sprintf("daxctl list: %v", err), "check the CXL/PMem drivers (DEV_DAX built in, see kernel.config)")
	}
	devs, err := ParseDaxctlList(out)
	if err != nil {
		return res.fail(err.Error(), "use a daxctl that prints JSON (ndctl v67 or later)")
	}
	i := slices.IndexFunc(devs, func(d DAXDevice) bool { return d.Chardev == name })
	if i < 0 {
		var names []string
		for _, d := range devs {
			names = append(names, fmt.Sprintf("%s (%s)", d.Chardev, d.Mode))
		}
		found := "no devices"
		if len(names) > 0 {
			found = strings.Join(names, ", ")
		}
		detail := fmt.Sprintf("no device-DAX %s (daxctl list: %s)", name, found)
		if ns := e.pmemNamespaces(); ns != "" {
			detail += "; ndctl: " + ns
		}
		return res.fail(detail, fmt.Sprintf("CXL: daxctl create-device -r 0 -a %d -s 16g (upstream's layout: a 16 GB devdax for the images, the rest onlined as system-ram for the baselines' tmpfs); PMem: ndctl create-namespace --mode=devdax -s 24g --align %d; without CXL or PMem an emulated PMem region (memmap= boot parameter) should do (unverified)", PageSize, PageSize))
	}
	d := devs[i]
	if d.Align == 0 {
		if s, err := e.readString("/sys/bus/dax/devices/" + name + "/align"); err == nil {
			d.Align, _ = strconv.ParseInt(s, 10, 64)
		}
	}
	var problems []string
	if d.Mode != "devdax" {
		problems = append(problems, fmt.Sprintf("mode %s, not devdax", d.Mode))
	}
	if d.Align != PageSize {
		problems = append(problems, fmt.Sprintf("alignment %d, not %d (pseudo_mm refuses: dax alignment != PAGE_SIZE)", d.Align, PageSize))
	}
	if d.State == "disabled" {
		problems = append(problems, "disabled")
	}
	if !e.exists("/dev/" + name) {
		problems = append(problems, "no /dev/"+name)
	}
	node := "no target node"
	if d.TargetNode != nil {
		e.farNode = *d.TargetNode
		node = fmt.Sprintf("target node %d", *d.TargetNode)
	}
	detail := fmt.Sprintf("%s: %s, %s, align %d, %s", name, d.Mode, gib(d.Size), d.Align, node)
	if len(problems) > 0 {
		return res.fail(detail+": "+strings.Join(problems, "; "), fmt.Sprintf("recreate it: daxctl disable-device %s; daxctl destroy-device %s; daxctl create-device -r 0 -a %d -s 16g (PMem: ndctl create-namespace --mode=devdax --align %d)", name, name, PageSize, PageSize))
	}
	return res.pass(detail)
}

// pmemNamespaces describes the PMem namespaces ndctl sees, "" if none or
// ndctl is missing.
func (e *env) pmemNamespaces() string {
	out, err := e.run("ndctl", "list", "--namespaces")
	if err != nil {
		return ""
	}
	ns, err := ParseNdctlNamespaces(out)
	if err != nil || len(ns) == 0 {
		return ""
	}
	var parts []string
	for _, n := range ns {
		dev := n.Chardev
		if dev == "" {
			dev = n.Blockdev
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", n.Dev, n.Mode, dev))
	}
	return strings.Join(parts, ", ")
}

func (e *env) checkRDMALink() Check {
	res := result("pool.rdma-link", "RXE link", true)
	remedy := "modprobe rdma_rxe; rdma link add rxe_<nic> type rxe netdev <nic> (upstream creates a dummy <nic> with 172.16.2.1/24 when there is none)"
	out, err := e.run("rdma", "-j", "link", "show")
	if err != nil {
		var ce *system.CmdError
		switch {
		case system.NotInstalled(err):
			return res.fail("rdma (iproute2) is not installed", "apt-get install iproute2 rdma-core")
		case errors.As(err, &ce) && strings.Contains(ce.Stderr, "NETLINK_RDMA"):
			return res.fail("the kernel offers no RDMA netlink (ib_core and rdma_rxe not loaded, or INFINIBAND off)", remedy)
		}
		return res.fail(fmt.Sprintf("rdma link: %v", err), remedy)
	}
	links, err := ParseRDMALinks(out)
	if err != nil {
		return res.fail(err.Error(), remedy)
	}
	var active, other []string
	for _, l := range links {
		desc := fmt.Sprintf("%s/%d %s over %s", l.IfName, l.Port, l.State, l.Netdev)
		if l.State == "ACTIVE" {
			active = append(active, desc)
		} else {
			other = append(other, desc)
		}
	}
	if len(active) == 0 {
		detail := "no RDMA link"
		if len(other) > 0 {
			detail = "no ACTIVE RDMA link: " + strings.Join(other, ", ")
		}
		return res.fail(detail, remedy)
	}
	return res.pass(strings.Join(active, ", "))
}

func (e *env) checkRDMAServer() Check {
	res := result("pool.rdma-server", "pseudo-mm-rdma-server running", true)
	bin := "/root/rdma-server/pseudo-mm-rdma-server"
	if c, ok := e.st.Component(RDMAServerComponent); ok && len(c.Install) > 0 {
		bin = c.Install[0]
	}
	remedy := fmt.Sprintf("start %s 50000 (the RDMA-CM port) before modprobe %s, and keep it running: the pool lives in its memory", bin, RDMAModule)
	pids := e.processes(path.Base(bin))
	sock := e.exists(RDMAServerSocket)
	switch {
	case len(pids) == 0 && !sock:
		return res.fail("not running, no "+RDMAServerSocket, remedy)
	case len(pids) == 0:
		return res.fail(RDMAServerSocket+" exists but no "+path.Base(bin)+" process (a stale socket)", remedy)
	case !sock:
		return res.fail(fmt.Sprintf("pid %s runs, but %s is missing", strings.Join(pids, ", "), RDMAServerSocket), remedy)
	}
	return res.pass(fmt.Sprintf("pid %s, socket %s", strings.Join(pids, ", "), RDMAServerSocket))
}

// processes returns the pids whose argv[0] ends in name (from /proc).
func (e *env) processes(name string) []string {
	ents, err := e.readDir("/proc")
	if err != nil {
		return nil
	}
	var pids []string
	for _, d := range ents {
		if _, err := strconv.Atoi(d.Name()); err != nil {
			continue
		}
		b, err := e.read("/proc/" + d.Name() + "/cmdline")
		if err != nil || len(b) == 0 {
			continue
		}
		argv0, _, _ := strings.Cut(string(b), "\x00")
		if path.Base(argv0) == name {
			pids = append(pids, d.Name())
		}
	}
	return pids
}

func (e *env) checkRDMAModule() Check {
	res := result("pool.rdma-module", RDMAModule+" module loaded", true)
	if e.isDir("/sys/module/" + RDMAModule) {
		return res.pass(RDMAModule + " loaded")
	}
	return res.fail(RDMAModule+" is not loaded",
		fmt.Sprintf("once the server runs: modprobe %s sport=50000 sip=<nic address> cip=<nic address> (it opens one queue per CPU to the server at load time)", RDMAModule))
}

// farNodes returns the NUMA nodes that have memory but no CPUs (far
// memory onlined as system-ram), from sysfs.
func (e *env) farNodes() []int {
	mem, err1 := e.readString("/sys/devices/system/node/has_memory")
	cpu, err2 := e.readString("/sys/devices/system/node/has_cpu")
	if err1 != nil || err2 != nil {
		return nil
	}
	m, _ := ParseNodeList(mem)
	c, _ := ParseNodeList(cpu)
	var out []int
	for _, n := range m {
		if !slices.Contains(c, n) {
			out = append(out, n)
		}
	}
	return out
}

// onlineNode reports whether NUMA node n is online.
func (e *env) onlineNode(n int) bool {
	s, err := e.readString("/sys/devices/system/node/online")
	if err != nil {
		return e.isDir(fmt.Sprintf("/sys/devices/system/node/node%d", n))
	}
	nodes, _ := ParseNodeList(s)
	return slices.Contains(nodes, n)
}

// mpolNode returns the node of a tmpfs mount's mpol=bind:N option.
func mpolNode(m Mount) (int, bool) {
	v, ok := m.Option("mpol")
	if !ok {
		return 0, false
	}
	nodes, ok := strings.CutPrefix(v, "bind:")
	if !ok {
		return 0, false
	}
	list, err := ParseNodeList(nodes)
	if err != nil || len(list) != 1 {
		return 0, false
	}
	return list[0], true
}

// checkTmpfs checks that dir is a tmpfs bound to the far-memory node. With
// strict, binding to that node is required (TrEnv's cxl pool); otherwise
// a tmpfs without a binding is a warning.
func (e *env) checkTmpfs(res Check, dir, size string, strict bool) Check {
	mountCmd := func(node string) string {
		return fmt.Sprintf("mount -t tmpfs -o size=%s,mpol=bind:%s tmpfs %s", size, node, dir)
	}
	ms, err := e.mounts()
	if err != nil {
		return res.fail(fmt.Sprintf("/proc/self/mounts: %v", err), "run doctor on the host itself")
	}
	want := e.farNode
	wantFrom := "the DAX device's target node"
	if want < 0 {
		if far := e.farNodes(); len(far) == 1 {
			want, wantFrom = far[0], "the one CPU-less memory node"
		}
	}
	nodeArg := "<far node>"
	if want >= 0 {
		nodeArg = strconv.Itoa(want)
	}
	m, ok := MountAt(ms, dir)
	if !ok || m.FSType != "tmpfs" {
		what := "not a mount point"
		if ok {
			what = "a " + m.FSType + " mount"
		}
		return res.fail(fmt.Sprintf("%s is %s: expected a tmpfs on the far-memory node", dir, what), mountCmd(nodeArg))
	}
	node, bound := mpolNode(m)
	switch {
	case bound && !e.onlineNode(node):
		return res.fail(fmt.Sprintf("tmpfs bound to node %d, which is not online", node), mountCmd(nodeArg))
	case bound && want >= 0 && node != want:
		return res.fail(fmt.Sprintf("tmpfs bound to node %d, but the far memory is node %d (%s)", node, want, wantFrom), mountCmd(nodeArg))
	case !bound && strict:
		return res.fail("tmpfs without mpol=bind: its pages sit in local DRAM, not on the far-memory node", mountCmd(nodeArg))
	case !bound:
		return res.warn("tmpfs without mpol=bind: its pages sit in local DRAM; the paper keeps them on the CXL node", mountCmd(nodeArg))
	case strict && want < 0:
		return res.fail(fmt.Sprintf("tmpfs bound to node %d, but the far-memory node is unknown (see pool.dax)", node), mountCmd(nodeArg))
	}
	sz, _ := m.Option("size")
	return res.pass(fmt.Sprintf("tmpfs size=%s bound to node %d", sz, node))
}
