package doctor

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// GiB is 2³⁰ bytes, faasd's unit for --mem.
const GiB = 1 << 30

func gib(b int64) string { return fmt.Sprintf("%.1f GiB", float64(b)/GiB) }

func (e *env) checkCPU() Check {
	res := result("host.cpu", "x86-64 CPU, Intel", true)
	b, err := e.read("/proc/cpuinfo")
	if err != nil {
		return res.fail(fmt.Sprintf("/proc/cpuinfo: %v", err), "run doctor on the host itself, with /proc mounted")
	}
	ci := ParseCPUInfo(b)
	desc := fmt.Sprintf("%s (%s), %d CPUs", ci.Model, ci.Vendor, ci.Processors)
	switch {
	case ci.Vendor == "" || !ci.Flags["lm"]:
		return res.fail("not an x86-64 CPU: "+desc, "use an Intel x86-64 host: TrEnv's kernel and CRIU forks are x86-64 only")
	case ci.Vendor != "GenuineIntel":
		return res.warn(desc+": TrEnv was only tested on Intel", "use an Intel host to compare with the paper (its CRIU master branch carries an Intel xsave patch)")
	}
	return res.pass(desc)
}

func (e *env) checkBareMetal() Check {
	res := result("host.bare-metal", "bare metal, not a VM or container", false)
	var virt []string
	if b, err := e.read("/proc/cpuinfo"); err == nil && ParseCPUInfo(b).Flags["hypervisor"] {
		virt = append(virt, "a virtual machine (the CPU's hypervisor flag)")
	}
	for _, f := range []struct{ path, what string }{
		{"/.dockerenv", "a Docker container (/.dockerenv)"},
		{"/run/.containerenv", "a Podman container (/run/.containerenv)"},
	} {
		if e.exists(f.path) {
			virt = append(virt, f.what)
		}
	}
	if len(virt) > 0 {
		return res.warn("runs in "+strings.Join(virt, " and "),
			"use bare metal: the paper's numbers come from a bare-metal two-socket Xeon, TrEnv does not consider virtualised CXL, and a container cannot load kernel modules or own cgroups")
	}
	return res.pass("no hypervisor flag, no container marker")
}

func (e *env) checkMemory() Check {
	res := result("memory.available", "available memory holds --mem", e.sc.MemGiB > 0)
	if e.sc.MemGiB == 0 {
		return res.skip("--mem 0: not checked")
	}
	b, err := e.read("/proc/meminfo")
	if err != nil {
		return res.fail(fmt.Sprintf("/proc/meminfo: %v", err), "run doctor on the host itself")
	}
	mi := ParseMeminfo(b)
	avail, ok := mi["MemAvailable"]
	if !ok {
		return res.fail("/proc/meminfo has no MemAvailable", "use a kernel from 3.14 on")
	}
	need := int64(e.sc.MemGiB) * GiB
	detail := fmt.Sprintf("MemAvailable %s of MemTotal %s; --mem %d GiB", gib(avail), gib(mi["MemTotal"]), e.sc.MemGiB)
	if avail < need {
		return res.fail(detail+": faasd's bound would exceed the memory there is",
			fmt.Sprintf("lower --mem to at most %d, or free memory: instances beyond the host's memory swap or are OOM-killed instead of being evicted as faasd models", avail/GiB))
	}
	return res.pass(detail)
}

func (e *env) checkGovernor() Check {
	res := result("noise.governor", "CPU frequency governor", false)
	cpus, err := e.readDir("/sys/devices/system/cpu")
	if err != nil {
		return res.skip(fmt.Sprintf("/sys/devices/system/cpu: %v", err))
	}
	govs := map[string][]string{}
	for _, c := range cpus {
		if !c.IsDir() || !strings.HasPrefix(c.Name(), "cpu") || strings.TrimLeft(c.Name()[3:], "0123456789") != "" || len(c.Name()) == 3 {
			continue
		}
		g, err := e.readString(path.Join("/sys/devices/system/cpu", c.Name(), "cpufreq/scaling_governor"))
		if err != nil {
			continue
		}
		govs[g] = append(govs[g], c.Name())
	}
	if len(govs) == 0 {
		return res.skip("no cpufreq in sysfs (a VM, or no frequency driver): nothing to set")
	}
	var names []string
	for g, cs := range govs {
		names = append(names, fmt.Sprintf("%s (%d CPUs)", g, len(cs)))
	}
	slices.Sort(names)
	if len(govs) == 1 && len(govs["performance"]) > 0 {
		return res.pass("performance on every CPU")
	}
	return res.warn("governors: "+strings.Join(names, ", "),
		"set the performance governor on every CPU (cpupower frequency-set -g performance): frequency scaling adds noise to start latencies")
}

func (e *env) checkSMT() Check {
	res := result("noise.smt", "SMT (hyper-threading)", false)
	v, err := e.readString("/sys/devices/system/cpu/smt/control")
	if err != nil {
		return res.skip("no /sys/devices/system/cpu/smt/control")
	}
	switch v {
	case "on":
		return res.pass("on, as on the paper's host (hyper-threading enabled)")
	case "off", "forceoff":
		return res.warn("SMT "+v+": the paper's host ran with hyper-threading on",
			"enable SMT (echo on > /sys/devices/system/cpu/smt/control, or in the firmware) to compare with the paper; fewer threads change CPU contention")
	}
	return res.skip("SMT " + v + " (no SMT control here, e.g. in a VM)")
}

func (e *env) checkTHP() Check {
	res := result("noise.thp", "transparent huge pages", false)
	v, err := e.readString("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return res.skip("no /sys/kernel/mm/transparent_hugepage/enabled")
	}
	sel := bracketed(v)
	if sel == "always" {
		return res.warn("THP always: khugepaged collapses pages in the background, which moves memory.current and fault latencies",
			"echo madvise > /sys/kernel/mm/transparent_hugepage/enabled")
	}
	return res.pass("THP " + sel)
}

func (e *env) checkSwap() Check {
	res := result("noise.swap", "swap off", false)
	b, err := e.read("/proc/swaps")
	if err != nil {
		return res.skip(fmt.Sprintf("/proc/swaps: %v", err))
	}
	var devs []string
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if f := strings.Fields(line); i > 0 && len(f) > 0 {
			devs = append(devs, f[0])
		}
	}
	if len(devs) > 0 {
		return res.warn("swap on: "+strings.Join(devs, ", "),
			"swapoff -a (as machine-prepare.sh does): swapped-out instances distort latency and memory")
	}
	return res.pass("no swap")
}
