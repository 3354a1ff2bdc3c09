package doctor

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Mount is one line of /proc/self/mounts.
type Mount struct {
	Source, Target, FSType string
	// Options are the mount options ("size=16g", "mpol=bind:2").
	Options []string
}

// Option returns the value of option key ("mpol" → "bind:2"); false if
// the mount has none.
func (m Mount) Option(key string) (string, bool) {
	for _, o := range m.Options {
		if k, v, _ := strings.Cut(o, "="); k == key {
			return v, true
		}
	}
	return "", false
}

// ParseMounts reads /proc/self/mounts (fstab format, octal escapes in
// paths). Later mounts on the same target hide earlier ones.
func ParseMounts(data []byte) ([]Mount, error) {
	var out []Mount
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if len(f) < 4 {
			return nil, fmt.Errorf("mounts: line %d: %q: expected source, target, type, options", line, sc.Text())
		}
		out = append(out, Mount{Source: unescape(f[0]), Target: unescape(f[1]), FSType: f[2], Options: strings.Split(f[3], ",")})
	}
	return out, sc.Err()
}

// unescape undoes the kernel's \NNN octal escapes of mount paths.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// MountAt returns the mount that is visible at target (the last one).
func MountAt(mounts []Mount, target string) (Mount, bool) {
	for i := len(mounts) - 1; i >= 0; i-- {
		if mounts[i].Target == target {
			return mounts[i], true
		}
	}
	return Mount{}, false
}

// CPUInfo is what doctor reads from /proc/cpuinfo.
type CPUInfo struct {
	// Vendor is the first processor's vendor_id ("GenuineIntel"); "" on
	// non-x86 machines.
	Vendor string
	// Model is its "model name".
	Model string
	// Flags are its flags ("lm" = 64-bit, "hypervisor" = a VM).
	Flags map[string]bool
	// Processors counts "processor" entries.
	Processors int
}

// ParseCPUInfo reads /proc/cpuinfo.
func ParseCPUInfo(data []byte) CPUInfo {
	ci := CPUInfo{Flags: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	first := true
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		switch k {
		case "processor":
			ci.Processors++
			first = ci.Processors == 1
		case "vendor_id":
			if first {
				ci.Vendor = v
			}
		case "model name":
			if first {
				ci.Model = v
			}
		case "flags":
			if first {
				for _, f := range strings.Fields(v) {
					ci.Flags[f] = true
				}
			}
		}
	}
	return ci
}

// ParseMeminfo reads /proc/meminfo into key → bytes (the kB values × 1024;
// counts without a unit as they are).
func ParseMeminfo(data []byte) map[string]int64 {
	out := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) == 0 {
			continue
		}
		n, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			continue
		}
		if len(f) > 1 && f[1] == "kB" {
			n <<= 10
		}
		out[k] = n
	}
	return out
}

// ParseKernelConfig reads a kernel .config (plain, or gzipped as
// /proc/config.gz) into option → value: "y", "m", a number or a quoted
// string; "n" for "# CONFIG_X is not set". Options it does not mention are
// absent.
func ParseKernelConfig(data []byte) (map[string]string, error) {
	if len(data) > 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("kernel config: %w", err)
		}
		data, err = io.ReadAll(zr)
		if err != nil {
			return nil, fmt.Errorf("kernel config: %w", err)
		}
	}
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if opt, ok := strings.CutPrefix(line, "# "); ok {
			if name, ok := strings.CutSuffix(opt, " is not set"); ok && strings.HasPrefix(name, "CONFIG_") {
				out[name] = "n"
			}
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok && strings.HasPrefix(k, "CONFIG_") {
			out[k] = v
		}
	}
	return out, sc.Err()
}

// DAXDevice is one device of `daxctl list` (machine-readable numbers, no -u).
type DAXDevice struct {
	// Chardev is the device's name, "dax0.0".
	Chardev string `json:"chardev"`
	// Size is in bytes.
	Size int64 `json:"size"`
	// TargetNode is the NUMA node of its memory; nil if daxctl names none.
	TargetNode *int `json:"target_node"`
	// Align is the mapping alignment in bytes; 0 if daxctl names none.
	Align int64 `json:"align"`
	// Mode is "devdax", "system-ram" (onlined as a CPU-less NUMA node) or
	// "famfs".
	Mode string `json:"mode"`
	// State is "disabled" for a disabled device, else "".
	State string `json:"state"`
}

// ParseDaxctlList reads `daxctl list` output: nothing (no devices), one
// JSON object (one device) or an array of them.
func ParseDaxctlList(out []byte) ([]DAXDevice, error) {
	var devs []DAXDevice
	if err := decodeOneOrMany(out, &devs); err != nil {
		return nil, fmt.Errorf("daxctl list: %w", err)
	}
	return devs, nil
}

// Namespace is one namespace of `ndctl list --namespaces` (PMem).
type Namespace struct {
	Dev  string `json:"dev"`
	Mode string `json:"mode"`
	Size int64  `json:"size"`
	// Chardev is the device-DAX of a devdax namespace ("dax0.0").
	Chardev string `json:"chardev"`
	// Blockdev is the block device of an fsdax or sector namespace.
	Blockdev string `json:"blockdev"`
	Align    int64  `json:"align"`
	State    string `json:"state"`
}

// ParseNdctlNamespaces reads `ndctl list --namespaces` output: nothing,
// one JSON object or an array.
func ParseNdctlNamespaces(out []byte) ([]Namespace, error) {
	var ns []Namespace
	if err := decodeOneOrMany(out, &ns); err != nil {
		return nil, fmt.Errorf("ndctl list: %w", err)
	}
	return ns, nil
}

// RDMALink is one link of `rdma -j link show`.
type RDMALink struct {
	// IfName is the RDMA device and port's name ("rxe_eth0").
	IfName string `json:"ifname"`
	Port   int    `json:"port"`
	// State is "ACTIVE" when the link can carry traffic.
	State         string `json:"state"`
	PhysicalState string `json:"physical_state"`
	// Netdev is the network interface an RXE link runs over.
	Netdev string `json:"netdev"`
}

// ParseRDMALinks reads `rdma -j link show` output (a JSON array).
func ParseRDMALinks(out []byte) ([]RDMALink, error) {
	var links []RDMALink
	if err := decodeOneOrMany(out, &links); err != nil {
		return nil, fmt.Errorf("rdma link: %w", err)
	}
	return links, nil
}

// decodeOneOrMany decodes nothing, one object or an array into *[]T, as
// ndctl's tools print a single match as a bare object.
func decodeOneOrMany[T any](out []byte, into *[]T) error {
	out = bytes.TrimSpace(out)
	switch {
	case len(out) == 0:
		return nil
	case out[0] == '{':
		var one T
		if err := json.Unmarshal(out, &one); err != nil {
			return err
		}
		*into = []T{one}
		return nil
	case out[0] == '[':
		return json.Unmarshal(out, into)
	}
	return fmt.Errorf("%q: expected JSON (an object or an array)", firstLine(string(out)))
}

// ParseNodeList reads a sysfs CPU or node list ("0-2,4") into its members.
func ParseNodeList(s string) ([]int, error) {
	var out []int
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("list %q: %q: expected a number", s, part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return nil, fmt.Errorf("list %q: %q: expected a range lo-hi", s, part)
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, i)
		}
	}
	return out, nil
}

// bracketed returns the [selected] word of a sysfs choice file such as
// transparent_hugepage/enabled ("always [madvise] never" → "madvise").
func bracketed(s string) string {
	for _, w := range strings.Fields(s) {
		if strings.HasPrefix(w, "[") && strings.HasSuffix(w, "]") {
			return strings.Trim(w, "[]")
		}
	}
	return strings.TrimSpace(s)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
