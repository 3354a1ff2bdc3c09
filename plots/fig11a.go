package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"
)

const needsFig11a = `runs of workloads "1", "2", "azure" or "huawei" (Figures 10(a), 10(b) and 13's runs: ` +
	`trenv-bench reproduce fig11a runs those)`

// fig11aWorkloads are the groups of Figure 11(a), in order: the manifest
// workload names of W1, W2 and the two traces.
var fig11aWorkloads = []string{"1", "2", "azure", "huawei"}

// Fig11a is the paper's Figure 11(a): peak memory of each system under
// each of the four workloads. One group of bars per workload (x: W1, W2,
// Azure, Huawei), one bar per system (y: peak memory in GiB, the largest
// memory.csv sample of the test phase, written above each bar). Its runs
// are those of Figures 10(a), 10(b) and 13.
func Fig11a(runs []*Run) (*Figure, error) {
	const name = "fig11a"
	groups := make([][]choice, len(fig11aWorkloads))
	var notes []string
	var drawnGroups []string
	var drawn []drawnWorkload
	for g, w := range fig11aWorkloads {
		cs, n := pickRuns(name, runs, workloadIs(w))
		groups[g] = cs
		notes = append(notes, n...)
		if len(cs) > 0 {
			drawnGroups = append(drawnGroups, w)
			drawn = append(drawn, drawnWorkload{workloadLabel(w), cs})
		}
	}
	// The systems drawn, in order, across the groups.
	var sys []System
	for _, s := range allSystems() {
		for _, cs := range groups {
			if slices.ContainsFunc(cs, func(c choice) bool { return c.sys.Name == s.Name }) {
				sys = append(sys, s)
				break
			}
		}
	}
	if len(sys) == 0 {
		return nil, noRuns(name, needsFig11a)
	}
	// Only the workloads with runs are drawn; the others are missing.
	var kept [][]choice
	var labels []string
	synthetic := false
	for g, cs := range groups {
		if len(cs) == 0 {
			continue
		}
		kept = append(kept, cs)
		label := workloadLabel(fig11aWorkloads[g])
		if w := fig11aWorkloads[g]; w == "azure" || w == "huawei" {
			label = traceTitle(w, cs)
			synthetic = synthetic || label != workloadLabel(w)+" trace"
		}
		labels = append(labels, label)
	}
	title := "Figure 11(a): peak memory per workload"
	if synthetic {
		title += " (trace workloads: synthetic sample)"
	}
	b := &Bars{Separators: true, LabelStyle: textStyle(barLabelSize, color.Black)}
	var used []*Run
	for _, s := range sys {
		vals := make([][]float64, len(kept))
		labs := make([]string, len(kept))
		for g, cs := range kept {
			vals[g] = []float64{math.NaN()}
			i := slices.IndexFunc(cs, func(c choice) bool { return c.sys.Name == s.Name })
			if i < 0 {
				continue
			}
			r := cs[i].run
			used = append(used, r)
			peak, ok, err := peakGiB(r)
			if err != nil {
				return nil, err
			}
			if !ok {
				notes = append(notes, fmt.Sprintf("%s: %s: run %s has no memory sample in its test phase", name, s.Name, r.Dir))
				continue
			}
			vals[g] = []float64{peak}
			labs[g] = strconv.FormatFloat(peak, 'f', 1, 64)
		}
		b.Values = append(b.Values, vals)
		b.Labels = append(b.Labels, labs)
		b.Fill = append(b.Fill, []color.Color{s.Color})
	}
	p := peakMemoryPanel("Peak memory per workload", "workload", b, labels)

	var missing []string
	for g, cs := range groups {
		if len(cs) == 0 {
			missing = append(missing, workloadLabel(fig11aWorkloads[g])+" (every system)")
		}
	}
	for _, want := range paperSystems {
		var in []string
		for g, cs := range groups {
			if len(cs) > 0 && !slices.ContainsFunc(cs, func(c choice) bool { return c.sys.Name == want }) {
				in = append(in, workloadLabel(fig11aWorkloads[g]))
			}
		}
		switch len(in) {
		case 0:
		case len(drawnGroups):
			missing = append(missing, want)
		default:
			missing = append(missing, want+" ("+strings.Join(in, ", ")+")")
		}
	}
	dataMark, workloads, source := provenance(drawn)
	return &Figure{
		Name:      name,
		Title:     title,
		Panels:    []Panel{{Plot: p, X0: 0, Y0: 0, X1: 1, Y1: 1}},
		Legend:    systemLegend(sys),
		Mark:      simulatedMark(used),
		DataMark:  dataMark,
		Caption:   "Largest memory.csv sample of each run's test phase (on a host: the function cgroup's memory.current; on sim and twin: the model's accounting), in GiB; the runs of Figures 10(a), 10(b) and 13.",
		Source:    source,
		Workloads: workloads,
		Missing:   missing,
		Notes:     notes,
		Width:     11 * vg.Inch,
		Height:    6.4 * vg.Inch,
	}, nil
}

// peakGiB is the largest memory sample of r's test phase, in GiB; false
// when the test phase has none.
func peakGiB(r *Run) (float64, bool, error) {
	mem, err := r.TestMemory()
	if err != nil || len(mem) == 0 {
		return math.NaN(), false, err
	}
	var peak int64
	for _, m := range mem {
		peak = max(peak, m.Bytes)
	}
	return float64(peak) / GiB, true, nil
}
