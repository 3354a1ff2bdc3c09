package plots

import (
	"slices"
	"strings"

	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"

	"trenv-bench/results"
)

// SyntheticMark is the text every figure drawn from invented trace data
// carries, in SimulatedMark's style: runs of a trace workload generated
// from the built-in sample, or from a dataset `traces synth` wrote.
const SyntheticMark = "SYNTHETIC SAMPLE (invented content)"

// workloadLabel names a manifest workload in a figure: W1, W2, Huawei,
// Azure, or the name itself.
func workloadLabel(w string) string {
	switch w {
	case "1", "2":
		return "W" + w
	case "huawei":
		return "Huawei"
	case "azure":
		return "Azure"
	}
	return w
}

// drawnWorkload is one workload a figure draws and the runs of it drawn.
type drawnWorkload struct {
	label string
	cs    []choice
}

// provenance says where a figure's data came from: SyntheticMark if any
// run drawn replayed invented trace data, the figure's workloads (manifest
// names, in order) and its source lines for the footer:
//
//	Data, W1: generated as upstream gen_trace.py does, seed 2022310806; workload.json sha256 bf40d993ac3e
//	Data, Azure: built-in synthetic sample (invented content), not the real trace; workload.json sha256 …
//	Runs: target sim (platform model), calibration sha256 1a2b3c4d5e6f; trenv-bench dev go1.26.8
//
// Where the runs of one workload disagree, each source names its systems.
func provenance(ws []drawnWorkload) (mark string, workloads, lines []string) {
	type src struct {
		text    string
		systems []string
	}
	var targets, cals, tools []string
	add := func(list *[]string, s string) {
		if s != "" && !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	for _, w := range ws {
		var srcs []src
		for _, c := range w.cs {
			m := c.run.Manifest
			add(&workloads, m.Workload.Name)
			if m.Workload.SyntheticData() {
				mark = SyntheticMark
			}
			t := m.Workload.DataSource()
			if t == "" {
				t = "unknown (the manifest does not say)"
			}
			i := slices.IndexFunc(srcs, func(s src) bool { return s.text == t })
			if i < 0 {
				srcs = append(srcs, src{text: t})
				i = len(srcs) - 1
			}
			srcs[i].systems = append(srcs[i].systems, c.sys.Name)
			target := string(m.Target)
			if m.Target.Simulated() {
				target += " (platform model)"
			}
			add(&targets, target)
			if m.CalibrationSHA256 != "" {
				add(&cals, m.CalibrationSHA256[:min(len(m.CalibrationSHA256), results.DigestPrefix)])
			}
			add(&tools, m.ToolVersion)
		}
		if len(srcs) == 0 {
			continue
		}
		line := "Data, " + w.label + ": "
		if len(srcs) == 1 {
			line += srcs[0].text
		} else {
			parts := make([]string, len(srcs))
			for i, s := range srcs {
				parts[i] = s.text + " [" + strings.Join(s.systems, ", ") + "]"
			}
			line += "the runs differ: " + strings.Join(parts, " | ")
		}
		lines = append(lines, line)
	}
	if len(targets) > 0 {
		runs := "Runs: target " + strings.Join(targets, ", ")
		if len(cals) > 0 {
			runs += ", calibration sha256 " + strings.Join(cals, ", ")
		}
		if len(tools) > 0 {
			runs += "; " + strings.Join(tools, ", ")
		}
		lines = append(lines, runs)
	}
	return mark, workloads, lines
}

// wrapText breaks s at spaces into lines no wider than width in sty.
func wrapText(sty text.Style, s string, width vg.Length) []string {
	words := strings.Fields(s)
	if len(words) == 0 {
		return nil
	}
	var lines []string
	cur := words[0]
	for _, w := range words[1:] {
		if sty.Width(cur+" "+w) > width {
			lines = append(lines, cur)
			cur = "    " + w // continuation lines are indented
			continue
		}
		cur += " " + w
	}
	return append(lines, cur)
}
