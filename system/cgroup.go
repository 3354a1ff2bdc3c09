package system

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// DefaultCgroupRoot is where the cgroup file systems are mounted.
const DefaultCgroupRoot = "/sys/fs/cgroup"

// CgroupMemory reads the memory charged to cgroup (a path relative to the
// hierarchy, "openfaas-fn") under root: memory.current on cgroup v2 (the
// unified hierarchy at root), memory.usage_in_bytes on v1 (the memory
// controller at root/memory). It returns the bytes, and the file read.
func CgroupMemory(root, cgroup string) (int64, string, error) {
	if cgroup == "" || filepath.IsAbs(cgroup) || strings.Contains(cgroup, "..") {
		return 0, "", fmt.Errorf("system: cgroup %q: want a relative path inside the hierarchy", cgroup)
	}
	for _, f := range []string{
		filepath.Join(root, cgroup, "memory.current"),
		filepath.Join(root, "memory", cgroup, "memory.usage_in_bytes"),
	} {
		b, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return 0, f, err
		}
		v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		if err != nil || v < 0 {
			return 0, f, fmt.Errorf("system: %s: %q is not a byte count", f, strings.TrimSpace(string(b)))
		}
		return v, f, nil
	}
	return 0, "", fmt.Errorf("system: cgroup %s: no memory.current (v2) or memory/%s/memory.usage_in_bytes (v1) under %s: %w",
		cgroup, cgroup, root, fs.ErrNotExist)
}

// ResetCgroup removes cgroup (v2, and v1's memory controller) so that the
// next run starts from a fresh one with its peak at zero, as test.sh's
// rmdir does; a cgroup that does not exist is fine, one that still holds
// processes is an error naming it.
func ResetCgroup(root, cgroup string) error {
	if _, _, err := CgroupMemory(root, cgroup); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, d := range []string{filepath.Join(root, cgroup), filepath.Join(root, "memory", cgroup)} {
		if err := os.Remove(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("system: resetting cgroup %s: %w (processes are still in it: trenv-bench system clean)", d, err)
		}
	}
	return nil
}

// MoveToCgroup moves process pid into cgroup under root, making the cgroup
// if it is missing: the unified hierarchy's on cgroup v2 (root holds
// cgroup.controllers), else the v1 memory controller's, the one a run
// samples.
func MoveToCgroup(root, cgroup string, pid int) error {
	if cgroup == "" || filepath.IsAbs(cgroup) || strings.Contains(cgroup, "..") {
		return fmt.Errorf("system: cgroup %q: want a relative path inside the hierarchy", cgroup)
	}
	dir := filepath.Join(root, "memory", cgroup)
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err == nil {
		dir = filepath.Join(root, cgroup)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("system: making cgroup %s: %w", dir, err)
	}
	procs := filepath.Join(dir, "cgroup.procs")
	f, err := os.OpenFile(procs, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("system: moving pid %d into %s: %w", pid, dir, err)
	}
	_, err = f.WriteString(strconv.Itoa(pid) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("system: moving pid %d into %s: %w", pid, dir, err)
	}
	return nil
}
