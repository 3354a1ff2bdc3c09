package system

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestCgroupMemory(t *testing.T) {
	v2, v1 := t.TempDir(), t.TempDir()
	write := func(p, s string) {
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(s), 0o644)
	}
	write(filepath.Join(v2, "openfaas-fn", "memory.current"), "5368709120\n")
	write(filepath.Join(v1, "memory", "openfaas-fn", "memory.usage_in_bytes"), "4096\n")
	for _, tc := range []struct {
		root string
		want int64
	}{{v2, 5368709120}, {v1, 4096}} {
		got, file, err := CgroupMemory(tc.root, "openfaas-fn")
		if err != nil || got != tc.want {
			t.Errorf("%s: %d from %s (%v), want %d", tc.root, got, file, err, tc.want)
		}
	}
	if _, _, err := CgroupMemory(v2, "reap"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing cgroup: %v", err)
	}
	if _, _, err := CgroupMemory(v2, "../etc"); err == nil {
		t.Error("a path outside the hierarchy was read")
	}
	write(filepath.Join(v2, "bad", "memory.current"), "max\n")
	if _, _, err := CgroupMemory(v2, "bad"); err == nil {
		t.Error("a non-number was read as memory")
	}
}

// TestCgroupMemoryReal reads a real cgroup of this machine: the memory
// controller's root on v1, or the unified root's children on v2.
func TestCgroupMemoryReal(t *testing.T) {
	dir, err := os.MkdirTemp(filepath.Join(DefaultCgroupRoot, "memory"), "trenv-bench-test-")
	if err != nil {
		dir, err = os.MkdirTemp(DefaultCgroupRoot, "trenv-bench-test-")
	}
	if err != nil {
		t.Skipf("cannot make a cgroup here: %v", err)
	}
	name := filepath.Base(dir)
	v, file, err := CgroupMemory(DefaultCgroupRoot, name)
	if err != nil || v < 0 {
		t.Errorf("%d from %s: %v", v, file, err)
	}
	if err := ResetCgroup(DefaultCgroupRoot, name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the cgroup is still there after ResetCgroup: %v", err)
	}
}
