package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

const needsFig11b = "runs whose test phase invokes only image-recognition, or only image-flip-rotate " +
	"(50 requests 0.5 s apart: run --workload-dir DIR with --mem 80 --no-reuse; TrEnv --idle-num 50, baselines --no-bgtask)"

// fig11bFunctions are the two groups of Figure 11(b), in order.
var fig11bFunctions = []string{"image-recognition", "image-flip-rotate"}

// fig11bSystems are the systems the paper's Figure 11(b) compares.
var fig11bSystems = []string{"T-CXL", "CRIU", "FaaSnap+", "REAP+"}

// GiB is a gibibyte, the memory figures' unit.
const GiB = 1 << 30

// Fig11b is the paper's Figure 11(b): the memory of 50 live instances. Two
// groups of bars, image-recognition and image-flip-rotate, one bar per
// system (x: function; y: peak memory in GiB, the largest memory.csv
// sample of the test phase, written above each bar). Its runs are told by
// their test phase invoking only one of the two functions.
func Fig11b(runs []*Run) (*Figure, error) {
	const name = "fig11b"
	groups := make([][]choice, len(fig11bFunctions))
	var notes []string
	for g, fn := range fig11bFunctions {
		cs, n := pickRunsOf(name, runs, func(r *Run) (bool, error) {
			switch w := r.Workload(); {
			case slices.Contains([]string{"1", "2", "func", "azure", "huawei"}, w): // many functions: skip reading them
				return false, nil
			case slices.Contains(fig14WorkloadNames(), w): // Figure 14's single starts of one function
				return false, nil
			}
			fns, err := testFunctionsOf(r)
			return slices.Equal(fns, []string{fn}), err
		})
		groups[g] = cs
		notes = append(notes, n...)
	}
	// The systems drawn, in order, across both groups.
	var sys []System
	for _, s := range systems {
		for _, cs := range groups {
			if slices.ContainsFunc(cs, func(c choice) bool { return c.sys.Name == s.Name }) {
				sys = append(sys, s)
				break
			}
		}
	}
	if len(sys) == 0 {
		return nil, noRuns(name, needsFig11b)
	}
	b := &Bars{Separators: true, LabelStyle: textStyle(barLabelSize+1, color.Black)}
	var used []*Run
	peakMax := 0.0
	for _, s := range sys {
		vals := make([][]float64, len(groups))
		labels := make([]string, len(groups))
		for g, cs := range groups {
			vals[g] = []float64{math.NaN()}
			i := slices.IndexFunc(cs, func(c choice) bool { return c.sys.Name == s.Name })
			if i < 0 {
				continue
			}
			r := cs[i].run
			used = append(used, r)
			mem, err := r.TestMemory()
			if err != nil {
				return nil, err
			}
			if len(mem) == 0 {
				notes = append(notes, fmt.Sprintf("%s: %s: run %s has no memory sample in its test phase", name, s.Name, r.Dir))
				continue
			}
			var peak int64
			for _, m := range mem {
				peak = max(peak, m.Bytes)
			}
			gib := float64(peak) / GiB
			vals[g] = []float64{gib}
			labels[g] = strconv.FormatFloat(gib, 'f', 1, 64)
			peakMax = math.Max(peakMax, gib)
		}
		b.Values = append(b.Values, vals)
		b.Labels = append(b.Labels, labels)
		b.Fill = append(b.Fill, []color.Color{s.Color})
	}
	p := peakMemoryPanel("Peak memory of 50 function instances", "function (50 invocations, 0.5 s apart)", b, fig11bFunctions)
	var missing []string
	for _, want := range fig11bSystems {
		var in []string
		for g, cs := range groups {
			if !slices.ContainsFunc(cs, func(c choice) bool { return c.sys.Name == want }) {
				in = append(in, fig11bFunctions[g])
			}
		}
		switch len(in) {
		case 0:
		case len(groups):
			missing = append(missing, want)
		default:
			missing = append(missing, want+" ("+in[0]+")")
		}
	}
	var drawn []drawnWorkload
	for g, cs := range groups {
		drawn = append(drawn, drawnWorkload{fig11bFunctions[g], cs})
	}
	dataMark, workloads, source := provenance(drawn)
	return &Figure{
		Name:      name,
		Title:     "Figure 11(b): memory of 50 instances",
		Panels:    []Panel{{Plot: p, X0: 0, Y0: 0, X1: 1, Y1: 1}},
		Legend:    systemLegend(sys),
		Mark:      simulatedMark(used),
		DataMark:  dataMark,
		Caption:   "Largest memory.csv sample of the test phase (on a host: the function cgroup's memory.current; on sim and twin: the model's accounting), in GiB.",
		Source:    source,
		Workloads: workloads,
		Missing:   missing,
		Notes:     uniq(notes), // both groups look at every run
		Width:     10 * vg.Inch,
		Height:    6.4 * vg.Inch,
	}, nil
}

// pickRunsOf is pickRuns with a matcher that reads records: a run whose
// records cannot be read is passed over, with a note saying why.
func pickRunsOf(fig string, runs []*Run, match func(*Run) (bool, error)) ([]choice, []string) {
	var errNotes []string
	cs, notes := pickRuns(fig, runs, func(r *Run) bool {
		ok, err := match(r)
		if err != nil {
			errNotes = append(errNotes, fmt.Sprintf("%s: passing over %s: %v", fig, r.Dir, err))
		}
		return ok && err == nil
	})
	return cs, append(errNotes, notes...)
}

// uniq drops repeated strings, keeping the first of each.
func uniq(s []string) []string {
	var out []string
	for _, x := range s {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// peakMemoryPanel is a panel of peak-memory bars in GiB from 0, one
// group per label, the labels level under their groups.
func peakMemoryPanel(title, xLabel string, b *Bars, groups []string) *plot.Plot {
	p := newPanel(title, xLabel, "peak memory (GiB)")
	p.Add(b)
	p.Y.Min = 0
	setGroupAxis(p, groups, true)
	p.X.Tick.Label.Rotation = 0
	p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XCenter, draw.YTop
	return p
}
