package doctor

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func tool(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata/tools", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseDaxctlList reads daxctl's shapes: nothing, one bare object, an
// array; machine-readable numbers.
func TestDoctorParseDaxctlList(t *testing.T) {
	one, err := ParseDaxctlList(tool(t, "daxctl-one-device.json"))
	if err != nil || len(one) != 1 || one[0].Chardev != "dax1.0" || *one[0].TargetNode != 1 || one[0].Align != 4096 || one[0].Mode != "devdax" {
		t.Errorf("one device: %+v %v", one, err)
	}
	many, err := ParseDaxctlList(tool(t, "daxctl-system-ram.json"))
	if err != nil || len(many) != 1 || many[0].Mode != "system-ram" || many[0].Size != 137438953472 {
		t.Errorf("system-ram: %+v %v", many, err)
	}
	dis, _ := ParseDaxctlList(tool(t, "daxctl-disabled.json"))
	if len(dis) != 1 || dis[0].State != "disabled" {
		t.Errorf("disabled: %+v", dis)
	}
	if none, err := ParseDaxctlList([]byte("\n")); err != nil || len(none) != 0 {
		t.Errorf("empty: %v %v", none, err)
	}
	if _, err := ParseDaxctlList([]byte("libdaxctl: daxctl_new: failed\n")); err == nil || !strings.Contains(err.Error(), "expected JSON") {
		t.Errorf("garbage: %v", err)
	}
}

func TestDoctorParseNdctlNamespaces(t *testing.T) {
	fs, err := ParseNdctlNamespaces(tool(t, "ndctl-fsdax.json"))
	if err != nil || len(fs) != 1 || fs[0].Mode != "fsdax" || fs[0].Blockdev != "pmem0" {
		t.Errorf("fsdax: %+v %v", fs, err)
	}
	dd, err := ParseNdctlNamespaces(tool(t, "ndctl-devdax.json"))
	if err != nil || len(dd) != 1 || dd[0].Chardev != "dax0.0" || dd[0].Align != 4096 {
		t.Errorf("devdax: %+v %v", dd, err)
	}
}

func TestDoctorParseRDMALinks(t *testing.T) {
	l, err := ParseRDMALinks([]byte(`[{"ifindex":1,"ifname":"rxe_eth0","port":1,"state":"ACTIVE","physical_state":"LINK_UP","netdev":"eth0","netdev_index":2}]`))
	if err != nil || len(l) != 1 || l[0].IfName != "rxe_eth0" || l[0].State != "ACTIVE" || l[0].Netdev != "eth0" {
		t.Errorf("%+v %v", l, err)
	}
}

func TestDoctorParseMounts(t *testing.T) {
	ms, err := ParseMounts([]byte("tmpfs /var/lib/faasd/checkpoints tmpfs rw,size=16777216k,mpol=bind:2 0 0\n" +
		"/dev/sda1 /mnt/with\\040space ext4 rw 0 0\n" +
		"tmpfs /var/lib/faasd/checkpoints tmpfs rw,size=1024k 0 0\n"))
	if err != nil || len(ms) != 3 {
		t.Fatalf("%v %v", ms, err)
	}
	if ms[1].Target != "/mnt/with space" {
		t.Errorf("escape: %q", ms[1].Target)
	}
	m, _ := MountAt(ms, "/var/lib/faasd/checkpoints")
	if v, _ := m.Option("size"); v != "1024k" {
		t.Errorf("MountAt takes the last mount: size %q", v)
	}
	if n, ok := mpolNode(ms[0]); !ok || n != 2 {
		t.Errorf("mpolNode = %d %v", n, ok)
	}
	if _, err := ParseMounts([]byte("tmpfs /x\n")); err == nil {
		t.Error("short line accepted")
	}
}

func TestDoctorParseKernelConfig(t *testing.T) {
	plain := []byte("CONFIG_DAX=y\n# CONFIG_DEV_DAX is not set\nCONFIG_SYSTEM_TRUSTED_KEYS=\"\"\nCONFIG_RDMA_RXE=m\n")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	for _, data := range [][]byte{plain, gz.Bytes()} {
		cfg, err := ParseKernelConfig(data)
		if err != nil || cfg["CONFIG_DAX"] != "y" || cfg["CONFIG_DEV_DAX"] != "n" || cfg["CONFIG_SYSTEM_TRUSTED_KEYS"] != `""` || cfg["CONFIG_RDMA_RXE"] != "m" {
			t.Errorf("%v %v", cfg, err)
		}
	}
	// This machine's real /proc/config.gz.
	b, err := os.ReadFile("testdata/hosts/this-machine/root/proc/config.gz")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ParseKernelConfig(b)
	if err != nil || cfg["CONFIG_DAX"] != "y" || cfg["CONFIG_DEV_DAX"] != "n" {
		t.Errorf("this machine: DAX %q DEV_DAX %q %v", cfg["CONFIG_DAX"], cfg["CONFIG_DEV_DAX"], err)
	}
}

func TestDoctorParseSmallFiles(t *testing.T) {
	if l, err := ParseNodeList("0-2,4\n"); err != nil || !slices.Equal(l, []int{0, 1, 2, 4}) {
		t.Errorf("ParseNodeList = %v %v", l, err)
	}
	if _, err := ParseNodeList("2-1"); err == nil {
		t.Error("2-1 accepted")
	}
	mi := ParseMeminfo([]byte("MemTotal:       24683584 kB\nHugePages_Total:       0\n"))
	if mi["MemTotal"] != 24683584<<10 || mi["HugePages_Total"] != 0 {
		t.Errorf("ParseMeminfo = %v", mi)
	}
	ci := ParseCPUInfo([]byte("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Xeon\nflags\t\t: fpu lm hypervisor\n\nprocessor\t: 1\nvendor_id\t: GenuineIntel\n"))
	if ci.Processors != 2 || ci.Vendor != "GenuineIntel" || !ci.Flags["lm"] || !ci.Flags["hypervisor"] {
		t.Errorf("ParseCPUInfo = %+v", ci)
	}
	if bracketed("always [madvise] never") != "madvise" {
		t.Error("bracketed")
	}
	if !versionAtLeast("6.18.44-fc-v1045", 6, 13) || versionAtLeast("6.1.0-rc8+", 6, 13) || versionAtLeast("3.17.1", 4, 1) || !versionAtLeast("4.1", 4, 1) {
		t.Error("versionAtLeast")
	}
	if got := commitsIn("containerd github.com/containerd/containerd v1.6.20-6-g684e67c33 684e67c3315b3977c722aacab3153bc69274e3db"); !slices.Equal(got, []string{"684e67c33", "684e67c3315b3977c722aacab3153bc69274e3db"}) {
		t.Errorf("commitsIn = %q", got)
	}
	if got := commitsIn("Version: 3.18\nGitID: v3.18-17-gace32b6c\n"); !slices.Equal(got, []string{"ace32b6c"}) {
		t.Errorf("commitsIn = %q", got)
	}
	if got := wrapLines("aaa bbbbbbbbbb c", 4); !slices.Equal(got, []string{"aaa", "bbbb", "bbbb", "bb c"}) {
		t.Errorf("wrapLines = %q", got)
	}
}
