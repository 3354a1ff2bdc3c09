package doctor

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// CgroupRoot is where TrEnv expects the unified hierarchy (faasd's
// switcher uses it as CRIU's cgroup yard; containerd puts the sandboxes at
// CgroupRoot/openfaas-fn/<id>).
const CgroupRoot = "/sys/fs/cgroup"

// RequiredControllers are the cgroup v2 controllers a TrEnv host needs:
// memory (memory.max of each sandbox, memory.current and memory.peak that
// runs sample) and cpu (cpu.max, which CRIU restores on a switch).
func RequiredControllers() []string { return []string{"cpu", "memory"} }

// mounts reads /proc/self/mounts.
func (e *env) mounts() ([]Mount, error) {
	b, err := e.read("/proc/self/mounts")
	if err != nil {
		return nil, err
	}
	return ParseMounts(b)
}

func (e *env) checkCgroupV2() Check {
	res := result("cgroup.v2", "unified cgroup v2 hierarchy", true)
	ms, err := e.mounts()
	if err != nil {
		return res.fail(fmt.Sprintf("/proc/self/mounts: %v", err), "run doctor on the host itself")
	}
	entries := 0
	if b, err := e.read("/proc/self/cgroup"); err == nil {
		entries = len(strings.Split(strings.TrimSpace(string(b)), "\n"))
	}
	if m, ok := MountAt(ms, CgroupRoot); ok && m.FSType == "cgroup2" {
		return res.pass(fmt.Sprintf("cgroup2 at %s", CgroupRoot))
	}
	var v1, v2 []string
	for _, m := range ms {
		switch m.FSType {
		case "cgroup":
			v1 = append(v1, path.Base(m.Target))
		case "cgroup2":
			v2 = append(v2, m.Target)
		}
	}
	var detail string
	switch {
	case len(v1) > 0 && len(v2) > 0:
		detail = fmt.Sprintf("cgroup v1 hybrid: v1 hierarchies %s under %s, cgroup2 only at %s", strings.Join(v1, ", "), CgroupRoot, strings.Join(v2, ", "))
	case len(v1) > 0:
		detail = fmt.Sprintf("cgroup v1 only: hierarchies %s under %s", strings.Join(v1, ", "), CgroupRoot)
	case len(v2) > 0:
		detail = fmt.Sprintf("cgroup2 mounted at %s, not at %s", strings.Join(v2, ", "), CgroupRoot)
	default:
		detail = "no cgroup file system mounted"
	}
	if entries > 1 {
		detail += fmt.Sprintf("; a process sits in %d hierarchies (/proc/self/cgroup), and TrEnv's switcher refuses any but one", entries)
	}
	return res.fail(detail, "boot with systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all (the default on Ubuntu 22.04) so cgroup2 alone is mounted at "+CgroupRoot+"; in a container the host decides")
}

func (e *env) checkCgroupControllers() Check {
	res := result("cgroup.controllers", "cgroup v2 controllers", true)
	ms, err := e.mounts()
	if err != nil {
		return res.fail(fmt.Sprintf("/proc/self/mounts: %v", err), "run doctor on the host itself")
	}
	at := ""
	if m, ok := MountAt(ms, CgroupRoot); ok && m.FSType == "cgroup2" {
		at = CgroupRoot
	} else {
		for _, m := range ms {
			if m.FSType == "cgroup2" {
				at = m.Target
			}
		}
	}
	if at == "" {
		return res.fail("no cgroup2 mount", "mount the unified hierarchy (see cgroup.v2)")
	}
	s, err := e.readString(path.Join(at, "cgroup.controllers"))
	if err != nil {
		return res.fail(fmt.Sprintf("%s/cgroup.controllers: %v", at, err), "mount the unified hierarchy (see cgroup.v2)")
	}
	have := strings.Fields(s)
	var missing []string
	for _, c := range RequiredControllers() {
		if !slices.Contains(have, c) {
			missing = append(missing, c)
		}
	}
	list := strings.Join(have, " ")
	if list == "" {
		list = "none"
	}
	if len(missing) > 0 {
		return res.fail(fmt.Sprintf("%s offers %s; missing %s", at, list, strings.Join(missing, ", ")),
			"unbind the controllers from cgroup v1 (cgroup_no_v1=all) so the unified hierarchy gets them")
	}
	return res.pass(fmt.Sprintf("%s offers %s", at, list))
}
