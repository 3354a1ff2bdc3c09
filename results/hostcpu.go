package results

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

// HostCPU returns a sampler of this machine's CPU utilisation for cpu.csv:
// each call returns the share of all cores' time that was busy since the
// previous call (the first call, since boot), read from the "cpu" line of
// /proc/stat: busy is user + nice + system + irq + softirq + steal, out of
// those plus idle and iowait. It returns false where /proc/stat cannot be
// read (not Linux). The sampler is not safe for concurrent use.
func HostCPU() func() (float64, bool) {
	var lastBusy, lastTotal uint64
	return func() (float64, bool) {
		b, err := os.ReadFile("/proc/stat")
		if err != nil {
			return 0, false
		}
		busy, total, ok := parseProcStatCPU(b)
		if !ok || total <= lastTotal {
			return 0, false
		}
		u := float64(busy-lastBusy) / float64(total-lastTotal)
		lastBusy, lastTotal = busy, total
		return min(max(u, 0), 1), true
	}
}

// parseProcStatCPU reads the aggregate "cpu" line of /proc/stat.
func parseProcStatCPU(b []byte) (busy, total uint64, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[0] != "cpu" {
			continue
		}
		var v [8]uint64 // user nice system idle iowait irq softirq steal
		for i := range v {
			if i+1 >= len(f) {
				break
			}
			n, err := strconv.ParseUint(f[i+1], 10, 64)
			if err != nil {
				return 0, 0, false
			}
			v[i] = n
		}
		busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
		return busy, busy + v[3] + v[4], true
	}
	return 0, 0, false
}
