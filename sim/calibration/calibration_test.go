package calibration

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"trenv-bench/workloads"
)

// catalogNames returns the catalog's base names and all its names.
func catalogNames(t *testing.T) (bases, all []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, f := range workloads.DefaultCatalog().Functions {
		all = append(all, f.Name)
		if !seen[f.Base] {
			seen[f.Base] = true
			bases = append(bases, f.Base)
		}
	}
	sort.Strings(bases)
	return bases, all
}

func TestDefaultValidatesAgainstCatalog(t *testing.T) {
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	bases, all := catalogNames(t)
	if len(bases) != 13 {
		t.Fatalf("catalog has %d bases, want 13 (11 benchmarks + h-hello-world + h-memory)", len(bases))
	}
	if err := m.Validate(bases); err != nil {
		t.Errorf("Validate(bases): %v", err)
	}
	if err := m.Validate(all); err != nil {
		t.Errorf("Validate(all catalog names): %v", err)
	}
	// Every copy resolves, and nothing in the model is unknown to the catalog.
	for _, name := range all {
		if _, _, err := m.Cost(name); err != nil {
			t.Errorf("Cost(%q): %v", name, err)
		}
	}
	known := map[string]bool{}
	for _, n := range all {
		known[n] = true
	}
	for n := range m.Functions {
		if !known[n] {
			t.Errorf("functions entry %q is not in the catalog", n)
		}
	}
	for n := range m.Variants {
		if !known[n] {
			t.Errorf("variants entry %q is not in the catalog", n)
		}
	}
}

// TestDefaultSources walks default.yaml as a generic YAML tree, apart from
// the Go types: every mapping that holds a number (value or median_ms)
// has a non-empty source, and every source resolves to a key of sources or
// is an estimate.
func TestDefaultSources(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal(defaultYAML, &root); err != nil {
		t.Fatal(err)
	}
	doc := root.Content[0]
	sources := map[string]string{}
	if n := mapValue(doc, "sources"); n == nil {
		t.Fatal("no sources")
	} else if err := n.Decode(&sources); err != nil {
		t.Fatal(err)
	}
	var numbers, withSource int
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Kind != yaml.MappingNode {
			return
		}
		if mapValue(n, "value") != nil || mapValue(n, "median_ms") != nil {
			numbers++
			src := mapValue(n, "source")
			if src == nil || strings.TrimSpace(src.Value) == "" {
				t.Errorf("%s (line %d): number without a source", path, n.Line)
				return
			}
			withSource++
			if msg := checkSource(src.Value, sources); msg != "" {
				t.Errorf("%s (line %d): %s", path, n.Line, msg)
			}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			walk(n.Content[i+1], path+"."+n.Content[i].Value)
		}
	}
	walk(doc, "")
	// Platform: http overhead, reuse, 7 slowdowns, host threads, vCPUs, 2
	// devices, 5 page-in streams, 7 resident shares, the repurpose carry;
	// 13 functions × (exec + 4 × 7 + threads + 5 page-ins); 22 variants.
	if want := 26 + 13*35 + 22; numbers != want || withSource != want {
		t.Errorf("found %d numbers (%d with a source), want %d", numbers, withSource, want)
	}
	// Every key of sources is used somewhere.
	for k := range sources {
		if !strings.Contains(string(defaultYAML), k+" ") {
			t.Errorf("sources key %q is never cited", k)
		}
	}
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// TestDefaultPlausible guards the default against slips when it is edited:
// relations that hold by construction of the model.
func TestDefaultPlausible(t *testing.T) {
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for name, f := range m.Functions {
		for _, method := range Methods {
			first, warm := f.FirstExecFactor[method].Value, f.WarmExecFactor[method].Value
			if first < warm || warm < 1 {
				t.Errorf("%s %s: first_exec_factor %v, warm_exec_factor %v; want first ≥ warm ≥ 1", name, method, first, warm)
			}
		}
		// A repurpose is faster than any other start and leaves the least
		// private memory, per the paper's design.
		cxl := f.Startup[MethodTrEnvCXL].MedianMs
		for _, method := range []string{MethodCold, MethodCRIU, MethodLazy} {
			if f.Startup[method].MedianMs <= cxl {
				t.Errorf("%s: %s startup %v ms ≤ trenv-cxl %v ms", name, method, f.Startup[method].MedianMs, cxl)
			}
		}
		for _, method := range Methods {
			if f.ResidentMB[method].Value < f.ResidentMB[MethodTrEnvCXL].Value {
				t.Errorf("%s: %s resident %v MB < trenv-cxl's %v MB", name, method, f.ResidentMB[method].Value, f.ResidentMB[MethodTrEnvCXL].Value)
			}
		}
		if f.Exec.Sigma > 0.5 {
			t.Errorf("%s: exec sigma %v, want a modest spread (≤ 0.5)", name, f.Exec.Sigma)
		}
	}
}

// tiny returns a minimal valid model: one function "f" with every method,
// a copy "f_1", and the source key S. Each number's source is "S <where>",
// unique per line, so edit can find the line.
func tiny() string {
	var b strings.Builder
	b.WriteString("version: 2\nsources:\n  S: the test reference\nplatform:\n")
	b.WriteString("  http_overhead_ms: {value: 1, source: \"S http\"}\n")
	b.WriteString("  reuse: {median_ms: 0.2, sigma: 0.1, source: \"S reuse\"}\n")
	b.WriteString("  concurrent_start_slowdown:\n")
	for _, m := range Methods {
		fmt.Fprintf(&b, "    %s: {value: 0.1, source: \"S slowdown %s\"}\n", m, m)
	}
	b.WriteString("  host_threads: {value: 4, source: \"S host threads\"}\n")
	b.WriteString("  vm_vcpus: {value: 2, source: \"S vcpus\"}\n")
	b.WriteString("  device_mb_s:\n    d: {value: 1000, source: \"S device d\"}\n")
	b.WriteString("  page_in:\n    criu: {device: d, phase: startup, stream_mb_s: {value: 500, source: \"S stream criu\"}}\n")
	b.WriteString("    lazy: {device: d, phase: first_exec, stream_mb_s: {value: 500, source: \"S stream lazy\"}}\n")
	b.WriteString("  resident_at_start:\n")
	for _, m := range Methods {
		fmt.Fprintf(&b, "    %s: {value: 0.5, source: \"S at start %s\"}\n", m, m)
	}
	b.WriteString("  repurpose_carry: {value: 0.1, source: \"S carry\"}\n")
	b.WriteString("functions:\n  f:\n    exec: {median_ms: 10, sigma: 0.1, source: \"S exec\"}\n")
	for _, sec := range []string{"startup", "first_exec_factor", "warm_exec_factor", "resident_mb"} {
		b.WriteString("    " + sec + ":\n")
		for _, m := range Methods {
			if sec == "startup" {
				fmt.Fprintf(&b, "      %s: {median_ms: 5, sigma: 0.1, source: \"S %s %s\"}\n", m, sec, m)
			} else {
				fmt.Fprintf(&b, "      %s: {value: 1, source: \"S %s %s\"}\n", m, sec, m)
			}
		}
	}
	b.WriteString("    threads: {value: 1, source: \"S threads\"}\n")
	b.WriteString("    page_in_ms:\n      criu: {value: 2, source: \"S page-in criu\"}\n      lazy: {value: 3, source: \"S page-in lazy\"}\n")
	b.WriteString("variants:\n  f_1: {exec_factor: {value: 2, source: \"S variant\"}}\n")
	return b.String()
}

// edit replaces old by new in the one line of src that holds `"S <where>"`;
// an empty old deletes the line.
func edit(t *testing.T, src, where, old, new string) string {
	t.Helper()
	lines := strings.Split(src, "\n")
	marker := `"S ` + where + `"`
	for i, l := range lines {
		if !strings.Contains(l, marker) {
			continue
		}
		if old == "" {
			return strings.Join(append(lines[:i:i], lines[i+1:]...), "\n")
		}
		if !strings.Contains(l, old) {
			t.Fatalf("line %q has no %q", l, old)
		}
		lines[i] = strings.Replace(l, old, new, 1)
		return strings.Join(lines, "\n")
	}
	t.Fatalf("no line with %s", marker)
	return ""
}

func TestTinyIsValid(t *testing.T) {
	m, err := Parse([]byte(tiny()), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate([]string{"f", "f_1"}); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRejects(t *testing.T) {
	type edt struct{ where, old, new string }
	for _, tc := range []struct {
		name      string
		edits     []edt
		functions []string
		want      error
		// the error must be a FieldError with these fields
		function, method, field, path string
		// at is text of the line the error must name; "" means the
		// first edit's line (its "S <where>" source)
		at string
	}{
		{name: "missing function", functions: []string{"f", "g"}, want: ErrMissing, function: "g", field: "functions", path: "functions.g", at: "functions:"},
		{name: "copy without variant", functions: []string{"f_2"}, want: ErrMissing, function: "f_2", field: "variants", path: "variants.f_2", at: "variants:"},
		{name: "variant of an unknown base", edits: []edt{{"variant", "f_1:", "g_1:"}}, want: ErrMissing, function: "g_1", field: "variants", path: "variants.g_1"},
		{name: "variant that is no copy", edits: []edt{{"variant", "f_1:", "fx:"}}, want: ErrValue, function: "fx", field: "variants", path: "variants.fx"},
		{name: "missing startup method", edits: []edt{{"startup reap", "", ""}}, want: ErrMissing, function: "f", method: "reap", field: "startup", path: "functions.f.startup.reap", at: "    startup:"},
		{name: "missing first_exec_factor method", edits: []edt{{"first_exec_factor trenv-rdma", "", ""}}, want: ErrMissing, function: "f", method: "trenv-rdma", field: "first_exec_factor", path: "functions.f.first_exec_factor.trenv-rdma", at: "first_exec_factor:"},
		{name: "missing warm_exec_factor method", edits: []edt{{"warm_exec_factor cold", "", ""}}, want: ErrMissing, function: "f", method: "cold", field: "warm_exec_factor", path: "functions.f.warm_exec_factor.cold", at: "warm_exec_factor:"},
		{name: "missing resident_mb method", edits: []edt{{"resident_mb lazy", "", ""}}, want: ErrMissing, function: "f", method: "lazy", field: "resident_mb", path: "functions.f.resident_mb.lazy", at: "resident_mb:"},
		{name: "missing slowdown method", edits: []edt{{"slowdown faasnap", "", ""}}, want: ErrMissing, method: "faasnap", field: "platform.concurrent_start_slowdown", path: "platform.concurrent_start_slowdown.faasnap", at: "concurrent_start_slowdown:"},
		{name: "unknown method key", edits: []edt{{"startup criu", "criu:", "crui:"}}, want: ErrUnknownMethod, function: "f", method: "crui", field: "startup", path: "functions.f.startup.crui"},
		{name: "negative median", edits: []edt{{"startup faasnap", "median_ms: 5", "median_ms: -1"}}, want: ErrValue, function: "f", method: "faasnap", field: "startup.median_ms", path: "functions.f.startup.faasnap.median_ms"},
		{name: "zero median", edits: []edt{{"exec", "median_ms: 10", "median_ms: 0"}}, want: ErrValue, function: "f", field: "exec.median_ms", path: "functions.f.exec.median_ms"},
		{name: "NaN median", edits: []edt{{"startup cold", "median_ms: 5", "median_ms: .nan"}}, want: ErrValue, function: "f", method: "cold", field: "startup.median_ms", path: "functions.f.startup.cold.median_ms"},
		{name: "Inf median", edits: []edt{{"startup lazy", "median_ms: 5", "median_ms: .inf"}}, want: ErrValue, function: "f", method: "lazy", field: "startup.median_ms", path: "functions.f.startup.lazy.median_ms"},
		{name: "zero reuse median", edits: []edt{{"reuse", "median_ms: 0.2", "median_ms: 0"}}, want: ErrValue, field: "platform.reuse.median_ms", path: "platform.reuse.median_ms"},
		{name: "negative sigma", edits: []edt{{"startup trenv-cxl", "sigma: 0.1", "sigma: -0.1"}}, want: ErrValue, function: "f", method: "trenv-cxl", field: "startup.sigma", path: "functions.f.startup.trenv-cxl.sigma"},
		{name: "NaN sigma", edits: []edt{{"exec", "sigma: 0.1", "sigma: .nan"}}, want: ErrValue, function: "f", field: "exec.sigma", path: "functions.f.exec.sigma"},
		{name: "negative factor", edits: []edt{{"first_exec_factor reap", "value: 1", "value: -2"}}, want: ErrValue, function: "f", method: "reap", field: "first_exec_factor.value", path: "functions.f.first_exec_factor.reap.value"},
		{name: "zero resident", edits: []edt{{"resident_mb cold", "value: 1", "value: 0"}}, want: ErrValue, function: "f", method: "cold", field: "resident_mb.value", path: "functions.f.resident_mb.cold.value"},
		{name: "infinite warm factor", edits: []edt{{"warm_exec_factor criu", "value: 1", "value: .inf"}}, want: ErrValue, function: "f", method: "criu", field: "warm_exec_factor.value", path: "functions.f.warm_exec_factor.criu.value"},
		{name: "NaN http overhead", edits: []edt{{"http", "value: 1", "value: .nan"}}, want: ErrValue, field: "platform.http_overhead_ms.value", path: "platform.http_overhead_ms.value"},
		{name: "negative slowdown", edits: []edt{{"slowdown cold", "value: 0.1", "value: -0.1"}}, want: ErrValue, method: "cold", field: "platform.concurrent_start_slowdown.value", path: "platform.concurrent_start_slowdown.cold.value"},
		{name: "zero variant factor", edits: []edt{{"variant", "value: 2", "value: 0"}}, want: ErrValue, function: "f_1", field: "variants.exec_factor.value", path: "variants.f_1.exec_factor.value"},
		{name: "wrong version", want: ErrValue, field: "version", path: "version", at: "version: 3"}, // edited below
		{name: "version 1", want: ErrValue, field: "version", path: "version", at: "version: 1"},     // edited below

		// The resource model.
		{name: "no host threads", edits: []edt{{"host threads", "value: 4", "value: 0"}}, want: ErrValue, field: "platform.host_threads.value", path: "platform.host_threads.value"},
		{name: "half a host thread", edits: []edt{{"host threads", "value: 4", "value: 4.5"}}, want: ErrValue, field: "platform.host_threads.value", path: "platform.host_threads.value"},
		{name: "host threads over MaxHostThreads", edits: []edt{{"host threads", "value: 4", "value: 1048577"}}, want: ErrValue, field: "platform.host_threads.value", path: "platform.host_threads.value"},
		{name: "half a vCPU", edits: []edt{{"vcpus", "value: 2", "value: 1.5"}}, want: ErrValue, field: "platform.vm_vcpus.value", path: "platform.vm_vcpus.value"},
		{name: "missing vcpus source", edits: []edt{{"vcpus", `, source: "S vcpus"`, ""}}, want: ErrSource, field: "platform.vm_vcpus.source", path: "platform.vm_vcpus.source", at: "vm_vcpus:"},
		{name: "zero device bandwidth", edits: []edt{{"device d", "value: 1000", "value: 0"}}, want: ErrValue, field: "platform.device_mb_s.d.value", path: "platform.device_mb_s.d.value"},
		{name: "device over MaxMBps", edits: []edt{{"device d", "value: 1000", "value: 1e8"}}, want: ErrValue, field: "platform.device_mb_s.d.value", path: "platform.device_mb_s.d.value"},
		{name: "unknown device", edits: []edt{{"stream criu", "device: d", "device: nvme"}}, want: ErrValue, method: "criu", field: "platform.page_in.device", path: "platform.page_in.criu.device"},
		{name: "unknown phase", edits: []edt{{"stream lazy", "phase: first_exec", "phase: later"}}, want: ErrValue, method: "lazy", field: "platform.page_in.phase", path: "platform.page_in.lazy.phase"},
		{name: "zero stream", edits: []edt{{"stream criu", "value: 500", "value: 0"}}, want: ErrValue, method: "criu", field: "platform.page_in.stream_mb_s.value", path: "platform.page_in.criu.stream_mb_s.value"},
		{name: "page-in of an unknown method", edits: []edt{{"stream lazy", "lazy:", "lasy:"}}, want: ErrUnknownMethod, method: "lasy", field: "platform.page_in", path: "platform.page_in.lasy"},
		{name: "missing resident share", edits: []edt{{"at start reap", "", ""}}, want: ErrMissing, method: "reap", field: "platform.resident_at_start", path: "platform.resident_at_start.reap", at: "resident_at_start:"},
		{name: "resident share over 1", edits: []edt{{"at start cold", "value: 0.5", "value: 1.5"}}, want: ErrValue, method: "cold", field: "platform.resident_at_start.value", path: "platform.resident_at_start.cold.value"},
		{name: "carry of 1", edits: []edt{{"carry", "value: 0.1", "value: 1"}}, want: ErrValue, field: "platform.repurpose_carry.value", path: "platform.repurpose_carry.value"},
		{name: "negative carry", edits: []edt{{"carry", "value: 0.1", "value: -0.1"}}, want: ErrValue, field: "platform.repurpose_carry.value", path: "platform.repurpose_carry.value"},
		{name: "zero threads", edits: []edt{{"threads", "value: 1", "value: 0"}}, want: ErrValue, function: "f", field: "threads.value", path: "functions.f.threads.value"},
		{name: "fractional threads", edits: []edt{{"threads", "value: 1", "value: 1.25"}}, want: ErrValue, function: "f", field: "threads.value", path: "functions.f.threads.value"},
		{name: "threads over MaxThreads", edits: []edt{{"threads", "value: 1", "value: 1025"}}, want: ErrValue, function: "f", field: "threads.value", path: "functions.f.threads.value"},
		{name: "missing page-in", edits: []edt{{"page-in lazy", "", ""}}, want: ErrMissing, function: "f", method: "lazy", field: "page_in_ms", path: "functions.f.page_in_ms.lazy", at: "page_in_ms:"},
		{name: "page-in of a method without one", edits: []edt{{"page-in lazy", "lazy:", "reap:"}}, want: ErrUnknownMethod, function: "f", method: "reap", field: "page_in_ms", path: "functions.f.page_in_ms.reap"},
		{name: "negative page-in", edits: []edt{{"page-in criu", "value: 2", "value: -2"}}, want: ErrValue, function: "f", method: "criu", field: "page_in_ms.value", path: "functions.f.page_in_ms.criu.value"},
		{name: "page-in longer than the start-up", edits: []edt{{"page-in criu", "value: 2", "value: 5.5"}}, want: ErrValue, function: "f", method: "criu", field: "page_in_ms.value", path: "functions.f.page_in_ms.criu.value"},
		{name: "page-in longer than the first execution", edits: []edt{{"page-in lazy", "value: 3", "value: 10.5"}}, want: ErrValue, function: "f", method: "lazy", field: "page_in_ms.value", path: "functions.f.page_in_ms.lazy.value"},
		{name: "missing source", edits: []edt{{"startup cold", `, source: "S startup cold"`, ""}}, want: ErrSource, function: "f", method: "cold", field: "startup.source", path: "functions.f.startup.cold.source", at: "      cold: {median_ms: 5"},
		{name: "empty source", edits: []edt{{"resident_mb reap", `"S resident_mb reap"`, `""`}}, want: ErrSource, function: "f", method: "reap", field: "resident_mb.source", path: "functions.f.resident_mb.reap.source", at: "      reap: {value: 1, source: \"\"}"},
		{name: "blank source", edits: []edt{{"exec", `"S exec"`, `"   "`}}, want: ErrSource, function: "f", field: "exec.source", path: "functions.f.exec.source", at: "exec:"},
		{name: "unknown source key", edits: []edt{{"startup trenv-rdma", `"S startup trenv-rdma"`, `"Nobody Fig. 1"`}}, want: ErrSource, function: "f", method: "trenv-rdma", field: "startup.source", path: "functions.f.startup.trenv-rdma.source", at: "Nobody Fig. 1"},
		{name: "estimate saying nothing", edits: []edt{{"variant", `"S variant"`, `"estimate:  "`}}, want: ErrSource, function: "f_1", field: "variants.exec_factor.source", path: "variants.f_1.exec_factor.source", at: "f_1:"},
		{name: "empty reference", want: ErrSource, field: "sources.S", path: "sources.S", at: "S: \"\""}, // edited below

		// The bounds: the numbers at which composed latencies used to
		// overflow into negative ones (median_ms: 1e17), and just over
		// each bound.
		{name: "median of 1e17 ms", edits: []edt{{"startup criu", "median_ms: 5", "median_ms: 1e17"}}, want: ErrValue, function: "f", method: "criu", field: "startup.median_ms", path: "functions.f.startup.criu.median_ms"},
		{name: "median over MaxMs", edits: []edt{{"exec", "median_ms: 10", "median_ms: 3600001"}}, want: ErrValue, function: "f", field: "exec.median_ms", path: "functions.f.exec.median_ms"},
		{name: "reuse median over MaxMs", edits: []edt{{"reuse", "median_ms: 0.2", "median_ms: 3.6000001e6"}}, want: ErrValue, field: "platform.reuse.median_ms", path: "platform.reuse.median_ms"},
		{name: "http overhead over MaxMs", edits: []edt{{"http", "value: 1", "value: 3600000.5"}}, want: ErrValue, field: "platform.http_overhead_ms.value", path: "platform.http_overhead_ms.value"},
		{name: "sigma over MaxSigma", edits: []edt{{"startup reap", "sigma: 0.1", "sigma: 3.01"}}, want: ErrValue, function: "f", method: "reap", field: "startup.sigma", path: "functions.f.startup.reap.sigma"},
		{name: "first exec factor over MaxFactor", edits: []edt{{"first_exec_factor lazy", "value: 1", "value: 1000.1"}}, want: ErrValue, function: "f", method: "lazy", field: "first_exec_factor.value", path: "functions.f.first_exec_factor.lazy.value"},
		{name: "warm exec factor over MaxFactor", edits: []edt{{"warm_exec_factor faasnap", "value: 1", "value: 1e9"}}, want: ErrValue, function: "f", method: "faasnap", field: "warm_exec_factor.value", path: "functions.f.warm_exec_factor.faasnap.value"},
		{name: "variant factor over MaxVariantFactor", edits: []edt{{"variant", "value: 2", "value: 101"}}, want: ErrValue, function: "f_1", field: "variants.exec_factor.value", path: "variants.f_1.exec_factor.value"},
		{name: "slowdown over MaxSlowdown", edits: []edt{{"slowdown trenv-rdma", "value: 0.1", "value: 10.5"}}, want: ErrValue, method: "trenv-rdma", field: "platform.concurrent_start_slowdown.value", path: "platform.concurrent_start_slowdown.trenv-rdma.value"},
		{name: "resident over MaxResidentMB", edits: []edt{{"resident_mb trenv-cxl", "value: 1", "value: 1000001"}}, want: ErrValue, function: "f", method: "trenv-cxl", field: "resident_mb.value", path: "functions.f.resident_mb.trenv-cxl.value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tiny()
			switch tc.name {
			case "wrong version":
				src = strings.Replace(src, "version: 2", "version: 3", 1)
			case "version 1":
				src = strings.Replace(src, "version: 2", "version: 1", 1)
			case "empty reference":
				src = strings.Replace(src, "S: the test reference", `S: ""`, 1)
			default:
				for _, e := range tc.edits {
					src = edit(t, src, e.where, e.old, e.new)
				}
			}
			at := tc.at
			if at == "" {
				at = `"S ` + tc.edits[0].where + `"`
			}
			line := lineWith(t, src, at)
			m, err := Parse([]byte(src), "tiny.yaml")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			err = m.Validate(tc.functions)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Validate = %v, want %v", err, tc.want)
			}
			fe := findFieldError(err, tc.function, tc.method, tc.field, tc.want)
			if fe == nil {
				t.Fatalf("Validate = %v\nwant a FieldError{Function: %q, Method: %q, Field: %q}", err, tc.function, tc.method, tc.field)
			}
			if fe.Path != tc.path || fe.Line != line {
				t.Errorf("FieldError names %s at line %d, want %s at line %d (%q)", fe.Path, fe.Line, tc.path, line, at)
			}
			if want := fmt.Sprintf("calibration: tiny.yaml:%d: %s: ", line, tc.path); !strings.HasPrefix(fe.Error(), want) {
				t.Errorf("message %q does not start %q", fe.Error(), want)
			}
			if tc.want == ErrValue && len(tc.edits) > 0 && tc.edits[0].new != "" {
				// The message says the value found.
				v := strings.TrimPrefix(strings.TrimPrefix(tc.edits[0].new, "median_ms: "), "value: ")
				if f, err := strconv.ParseFloat(v, 64); err == nil && !strings.Contains(fe.Error(), fmt.Sprint(f)) {
					t.Errorf("message %q does not say %v", fe.Error(), f)
				}
			}
		})
	}
}

// lineWith returns the 1-based number of the one line of src holding s.
func lineWith(t *testing.T, src, s string) int {
	t.Helper()
	found := 0
	for i, l := range strings.Split(src, "\n") {
		if strings.Contains(l, s) {
			if found > 0 {
				t.Fatalf("%q is on lines %d and %d", s, found, i+1)
			}
			found = i + 1
		}
	}
	if found == 0 {
		t.Fatalf("no line holds %q", s)
	}
	return found
}

// findFieldError returns the FieldError of the (joined) error with these
// fields, or nil.
func findFieldError(err error, function, method, field string, sentinel error) *FieldError {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var fe *FieldError
		if errors.As(e, &fe) && fe.Function == function && fe.Method == method && fe.Field == field && fe.Err == sentinel && fe.File == "tiny.yaml" {
			return fe
		}
	}
	return nil
}

func TestValidateAcceptsEstimatesAndFits(t *testing.T) {
	src := tiny()
	src = edit(t, src, "exec", `"S exec"`, `"estimate: as the others"`)
	src = edit(t, src, "startup cold", `"S startup cold"`, `"fitted: runs/w1-cold"`)
	src = edit(t, src, "http", "value: 1", "value: 0") // zero overhead and slowdown are allowed
	src = edit(t, src, "slowdown cold", "value: 0.1", "value: 0")
	src = edit(t, src, "startup reap", "sigma: 0.1", "sigma: 0")
	m, err := Parse([]byte(src), "tiny.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Validate([]string{"f"}); err != nil {
		t.Fatal(err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		line      int
		msg       string
	}{
		{"syntax", "version: 2\nplatform:\n  reuse: x: y\n", 3, "mapping values are not allowed"},
		{"tab", "version: 1\nplatform:\n\treuse: 1\n", 3, "cannot start any token"},
		{"unknown field", "version: 1\nplatform:\n  reuse_ms: 2\n", 3, "field reuse_ms not found"},
		{"wrong type", "version: 1\nfunctions:\n  f:\n    exec: {median_ms: fast}\n", 4, "cannot unmarshal"},
		{"duplicate key", "version: 1\nversion: 1\n", 2, "already defined"},
		{"two documents", "version: 1\n---\nversion: 1\n", 3, "second YAML document"},
		{"empty", "", 0, "empty file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "tiny.yaml")
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse = %v, want a *ParseError wrapping ErrSyntax", err)
			}
			if pe.File != "tiny.yaml" || pe.Line != tc.line || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("Parse = %q (file %q, line %d), want line %d and %q", err, pe.File, pe.Line, tc.line, tc.msg)
			}
			if tc.line > 0 && !strings.Contains(err.Error(), fmt.Sprintf("tiny.yaml:%d:", tc.line)) {
				t.Errorf("message %q does not say tiny.yaml:%d", err, tc.line)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.yaml")
	if err := os.WriteFile(path, []byte(tiny()), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	m.Version = 3
	if err := m.Validate(nil); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("Validate error %v does not name %s", err, path)
	}
	if _, err := Load(filepath.Join(dir, "none.yaml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist", err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("version: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), bad+":") {
		t.Errorf("Load(bad) = %v, want an error naming %s and a line", err, bad)
	}
}

func TestDefaultIsFresh(t *testing.T) {
	a, _ := Default()
	b, _ := Default()
	a.Functions["pyaes"].Startup[MethodCold] = Dist{MedianMs: 1}
	if b.Functions["pyaes"].Startup[MethodCold].MedianMs == 1 {
		t.Error("Default returns shared maps")
	}
}

func TestQuantile(t *testing.T) {
	d := Dist{MedianMs: 100, Sigma: 0.2}
	if got := d.Quantile(0.5); got != 100*time.Millisecond {
		t.Errorf("Quantile(0.5) = %v, want the median 100ms", got)
	}
	// P99 = median × exp(Φ⁻¹(0.99) · sigma), Φ⁻¹(0.99) = 2.3263478740.
	want := 100 * math.Exp(2.3263478740*0.2) // ms
	if got := float64(d.Quantile(0.99)) / 1e6; math.Abs(got-want) > 1e-6 {
		t.Errorf("Quantile(0.99) = %vms, want %vms", got, want)
	}
	if got, want := d.Quantile(0.01), time.Duration(math.Round(1e6*100*math.Exp(-2.3263478740*0.2))); absDur(got-want) > 1 {
		t.Errorf("Quantile(0.01) = %v, want %v", got, want)
	}
	prev := time.Duration(0)
	for p := 0.01; p < 1; p += 0.01 {
		q := d.Quantile(p)
		if q < prev {
			t.Fatalf("Quantile not monotone at %v: %v < %v", p, q, prev)
		}
		prev = q
	}
	if d.Quantile(0) != 0 || d.Quantile(-1) != 0 || d.Quantile(math.NaN()) != 0 {
		t.Error("Quantile(p ≤ 0 or NaN) ≠ 0")
	}
	if d.Quantile(1) != math.MaxInt64 {
		t.Error("Quantile(1) is not the largest Duration")
	}
	point := Dist{MedianMs: 2.5}
	for _, p := range []float64{0, 0.01, 0.5, 0.99, 1} {
		if got := point.Quantile(p); got != 2500*time.Microsecond {
			t.Errorf("sigma 0: Quantile(%v) = %v, want 2.5ms", p, got)
		}
	}
}

func TestFromNormal(t *testing.T) {
	d := Dist{MedianMs: 40, Sigma: 0.15}
	if got := d.FromNormal(0); got != 40*time.Millisecond {
		t.Errorf("FromNormal(0) = %v, want the median", got)
	}
	if got, want := d.FromNormal(1), time.Duration(math.Round(40e6*math.Exp(0.15))); got != want {
		t.Errorf("FromNormal(1) = %v, want %v", got, want)
	}
	if got, want := d.FromNormal(2.3263478740), d.Quantile(0.99); absDur(got-want) > 1 {
		t.Errorf("FromNormal(z99) = %v, Quantile(0.99) = %v", got, want)
	}
	if d.FromNormal(math.Inf(1)) != MaxDraw || d.FromNormal(math.Inf(-1)) != 0 || d.FromNormal(math.NaN()) != 0 {
		t.Error("FromNormal does not clamp ±Inf and NaN")
	}
	// The widest distribution Validate accepts, at the largest median,
	// stays within MaxDraw however far in its tail z falls.
	wide := Dist{MedianMs: MaxMs, Sigma: MaxSigma}
	for _, z := range []float64{1, 5, 15, 40} {
		if got := wide.FromNormal(z); got <= 0 || got > MaxDraw {
			t.Errorf("median MaxMs, sigma MaxSigma: FromNormal(%v) = %v, want in (0, %v]", z, got, MaxDraw)
		}
	}
	if got := wide.FromNormal(40); got != MaxDraw {
		t.Errorf("FromNormal(40) = %v, want the bound %v", got, MaxDraw)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func TestCost(t *testing.T) {
	m, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	f, factor, err := m.Cost("pyaes_1")
	if err != nil {
		t.Fatal(err)
	}
	// 1200 B × 120 iterations vs 1000 × 150 (Artifact config.yml).
	if factor != 0.96 || f.Exec != m.Functions["pyaes"].Exec {
		t.Errorf("Cost(pyaes_1) = exec %+v, factor %v; want pyaes's exec and 0.96", f.Exec, factor)
	}
	if _, factor, err := m.Cost("pyaes"); err != nil || factor != 1 {
		t.Errorf("Cost(pyaes) factor %v, err %v; want 1, nil", factor, err)
	}
	if _, factor, err := m.Cost("image-recognition_2"); err != nil || factor != 1 {
		t.Errorf("Cost(image-recognition_2) factor %v, err %v; want 1, nil", factor, err)
	}
	for _, name := range []string{"nope", "pyaes_9", "nope_1", "pyaes_x", "pyaes_", "_1", ""} {
		if _, _, err := m.Cost(name); !errors.Is(err, ErrUnknownFunction) {
			t.Errorf("Cost(%q) = %v, want ErrUnknownFunction", name, err)
		}
	}
}

func TestSplitCopy(t *testing.T) {
	for _, tc := range []struct {
		in, base string
		ok       bool
	}{
		{"pyaes_1", "pyaes", true},
		{"image-flip-rotate_22", "image-flip-rotate", true},
		{"a_b_3", "a_b", true},
		{"pyaes", "", false},
		{"pyaes_", "", false},
		{"pyaes_1x", "", false},
		{"_1", "", false},
	} {
		if base, ok := SplitCopy(tc.in); base != tc.base || ok != tc.ok {
			t.Errorf("SplitCopy(%q) = %q, %v; want %q, %v", tc.in, base, ok, tc.base, tc.ok)
		}
	}
}
