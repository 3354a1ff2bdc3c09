package plots

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot/vg"
)

const needsFig13 = `runs of workload "huawei" and/or "azure", e.g. trenv-bench run -w huawei --method trenv --mem 64 ` +
	`(baselines: --mem 64 --gc 10; REAP --mem 32)`

// traces are Figure 13's workloads and their names, in order.
var traces = []struct{ workload, title string }{
	{"huawei", "Huawei trace"},
	{"azure", "Azure trace"},
}

// traceTitle names a trace workload in a title: "Huawei trace", or, when
// any of its runs replayed invented data, "Huawei workload (synthetic
// sample)", so a figure never passes invented data off as the real trace.
func traceTitle(workload string, cs []choice) string {
	label := workloadLabel(workload)
	for _, c := range cs {
		if c.run.Manifest.Workload.SyntheticData() {
			return label + " workload (synthetic sample)"
		}
	}
	return label + " trace"
}

// Fig13 is the paper's Figure 13: the Huawei and Azure traces (workloads
// "huawei" and "azure"), a pair of panels per trace: P50 end-to-end latency
// per function above P99, one bar per system (x: function; y: ms, log
// scale, one range for both panels of a trace). The paper's pooled latency
// CDF is left out: over a trace's mix of functions every system's curve
// follows the execution times, and the lines coincide. A trace without
// runs is left out and listed in Missing; a trace replayed from invented
// data is titled "workload (synthetic sample)", not "trace".
func Fig13(runs []*Run) (*Figure, error) {
	const name = "fig13"
	type row struct {
		title string
		l     *latencies
	}
	var rows []row
	var notes, missing []string
	var used []*Run
	var sys []System
	var drawn []drawnWorkload
	missCount := map[string][]string{}
	synthetic := false
	for _, tr := range traces {
		cs, n := pickRuns(name, runs, workloadIs(tr.workload))
		notes = append(notes, n...)
		if len(cs) == 0 {
			missing = append(missing, tr.title+" (every system)")
			continue
		}
		l, err := loadLatencies(cs)
		if err != nil {
			return nil, err
		}
		if len(l.funcs) == 0 {
			notes = append(notes, fmt.Sprintf("%s: the %s runs have no ok test-phase request", name, tr.workload))
			continue
		}
		title := traceTitle(tr.workload, cs)
		synthetic = synthetic || title != tr.title
		rows = append(rows, row{title, l})
		drawn = append(drawn, drawnWorkload{workloadLabel(tr.workload), cs})
		used = append(used, runsOf(cs)...)
		for _, s := range systemsOf(cs) {
			if !slices.ContainsFunc(sys, func(x System) bool { return x.Name == s.Name }) {
				sys = append(sys, s)
			}
		}
		for _, m := range missingOf(paperSystems, cs) {
			missCount[m] = append(missCount[m], tr.workload)
		}
	}
	if len(rows) == 0 {
		return nil, noRuns(name, needsFig13)
	}
	slices.SortFunc(sys, func(a, b System) int { return a.Rank() - b.Rank() })
	for _, m := range paperSystems {
		switch ws := missCount[m]; {
		case len(ws) == 0:
		case len(ws) == len(rows):
			missing = append(missing, m)
		default:
			missing = append(missing, m+" ("+ws[0]+")")
		}
	}
	var panels []Panel
	n := float64(len(rows))
	for i, r := range rows {
		y1 := 1 - float64(i)/n
		y0 := y1 - 1/n
		p50, lo50, hi50 := r.l.percentiles(50)
		p99, lo99, hi99 := r.l.percentiles(99)
		lo, hi := math.Min(lo50, lo99), math.Max(hi50, hi99)
		top := latencyBars(r.title+": median (P50) end-to-end latency per function", "P50 latency (ms, log scale)", r.l, p50, lo, hi, false)
		bottom := latencyBars(r.title+": P99 end-to-end latency per function", "P99 latency (ms, log scale)", r.l, p99, lo, hi, true)
		split := y0 + 0.58/n
		panels = append(panels,
			Panel{Plot: top, X0: 0, Y0: split, X1: 1, Y1: y1},
			Panel{Plot: bottom, X0: 0, Y0: y0, X1: 1, Y1: split})
	}
	title := "Figure 13: real-world traces, end-to-end latency"
	if synthetic {
		title = "Figure 13: trace workloads from synthetic samples, end-to-end latency"
	}
	dataMark, workloads, source := provenance(drawn)
	return &Figure{
		Name:      name,
		Title:     title,
		Panels:    panels,
		Legend:    systemLegend(sys),
		Mark:      simulatedMark(used),
		DataMark:  dataMark,
		Caption:   "Client-side end-to-end latency (requests.csv e2e_ms) of the test phase's successful requests; nearest-rank P50 and P99.",
		Source:    source,
		Workloads: workloads,
		Missing:   missing,
		Notes:     notes,
		Width:     16 * vg.Inch,
		Height:    vg.Length(6.6*n+1.6) * vg.Inch,
	}, nil
}
