package plots

import (
	"fmt"
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

// Fig13 is the paper's Figure 13: the Huawei and Azure traces (workloads
// "huawei" and "azure"), one row of panels per trace. Left: the latency
// CDF of all functions pooled, one line per system (x: end-to-end latency
// in ms, log scale; y: fraction of requests). Right: P99 end-to-end
// latency per function, one bar per system (x: function; y: ms, log
// scale). A trace without runs is left out and listed in Missing.
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
	missCount := map[string][]string{}
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
		rows = append(rows, row{tr.title, l})
		used = append(used, runsOf(cs)...)
		for _, s := range systemsOf(cs) {
			if !slices.ContainsFunc(sys, func(x System) bool { return x.Label == s.Label }) {
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
	slices.SortFunc(sys, func(a, b System) int { return systemIndex(a.Label) - systemIndex(b.Label) })
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
		cdf := latencyCDF(r.title+": latency CDF, all functions", r.l)
		p99, lo, hi := r.l.percentiles(99)
		bars := latencyBars(r.title+": P99 end-to-end latency per function", "P99 latency (ms, log scale)", r.l, p99, lo, hi, true)
		panels = append(panels,
			Panel{Plot: cdf, X0: 0, Y0: y0 + 0.12/n, X1: 0.28, Y1: y1},
			Panel{Plot: bars, X0: 0.28, Y0: y0, X1: 1, Y1: y1})
	}
	return &Figure{
		Name:    name,
		Title:   "Figure 13: real-world traces, end-to-end latency",
		Panels:  panels,
		Legend:  systemLegend(sys),
		Mark:    simulatedMark(used),
		Caption: "Client-side end-to-end latency (requests.csv e2e_ms) of the test phase's successful requests; nearest-rank P99.",
		Missing: missing,
		Notes:   notes,
		Width:   16 * vg.Inch,
		Height:  vg.Length(4.6*n+1) * vg.Inch,
	}, nil
}
