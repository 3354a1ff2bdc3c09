package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot/vg"

	"trenv-bench/results"
)

const needsFig12 = `runs of workload "func", e.g. trenv-bench run -w func --method trenv --mem 64 --idle-num 1 ` +
	`(baselines: --mem 64 --gc 20 --no-reuse; REAP --mem 32)`

// startupLabels pairs each startup latency metric with its execution one.
var startupLabels = [][2]string{
	{results.LabelStartNewLatency, results.LabelStartNewExecLatency},
	{results.LabelSwitchLatency, results.LabelSwitchExecLatency},
	{results.LabelReuseLatency, results.LabelReuseExecLatency},
}

// execTint is how much lighter than the system's colour the execution part
// of a bar is.
const execTint = 0.65

// fig12Columns is the number of function panels per row.
const fig12Columns = 5

// Fig12 is the paper's Figure 12: startup-latency breakdown, from the
// sequential functional test (workload "func"). One panel per function;
// in each, one stacked bar per system (x: system): its mean startup
// latency (solid; start-new-, switch- and reuse-latency of
// metrics.output, its value in ms written above the bar) under its mean
// execution latency (light; the matching *-exec-latency), each the mean
// over all the function's invocations in the run (y: ms, linear, each
// panel its own scale).
func Fig12(runs []*Run) (*Figure, error) {
	const name = "fig12"
	cs, notes := pickRuns(name, runs, workloadIs("func"))
	if len(cs) == 0 {
		return nil, noRuns(name, needsFig12)
	}
	type means struct{ startup, exec float64 }
	per := make([]map[string]means, len(cs))
	var funcs []string
	for i, c := range cs {
		m, err := c.run.Metrics()
		if err != nil {
			return nil, err
		}
		per[i] = map[string]means{}
		startup, exec := map[string][]float32{}, map[string][]float32{}
		for _, pair := range startupLabels {
			for fn, v := range m.LatencyMs[pair[0]] {
				startup[fn] = append(startup[fn], v...)
			}
			for fn, v := range m.LatencyMs[pair[1]] {
				exec[fn] = append(exec[fn], v...)
			}
		}
		for fn, v := range startup {
			if len(v) == 0 {
				continue
			}
			per[i][fn] = means{mean(v), mean(exec[fn])}
			if !slices.Contains(funcs, fn) {
				funcs = append(funcs, fn)
			}
		}
		if len(startup) == 0 {
			notes = append(notes, fmt.Sprintf("%s: %s: run %s has no startup latency in %s", name, c.sys.Label, c.run.Dir, results.MetricsFile))
		}
	}
	if len(funcs) == 0 {
		return nil, fmt.Errorf("%w: %s: the runs of workload \"func\" have no startup latency in %s", ErrNoRuns, name, results.MetricsFile)
	}
	slices.Sort(funcs)
	sys := systemsOf(cs)
	labels := make([]string, len(sys))
	for i, s := range sys {
		labels[i] = s.Label
	}
	rows := (len(funcs) + fig12Columns - 1) / fig12Columns
	var panels []Panel
	for k, fn := range funcs {
		// One series; one group per system, coloured by group.
		b := &Bars{Width: 0.7, ByGroup: true, LabelStyle: textStyle(barLabelSize, color.Black), OutlineWidth: vg.Points(1)}
		vals := make([][]float64, len(sys))
		lab := make([]string, len(sys))
		for i, s := range sys {
			vals[i] = []float64{math.NaN()}
			if m, ok := per[i][fn]; ok {
				vals[i] = []float64{m.startup, zeroIfNaN(m.exec)}
				lab[i] = formatMs(m.startup)
			}
			b.Fill = append(b.Fill, []color.Color{s.Color, tint(s.Color, execTint)})
			b.Outline = append(b.Outline, s.Color)
		}
		b.Values = [][][]float64{vals}
		b.Labels = [][]string{lab}
		yLabel := ""
		if k%fig12Columns == 0 {
			yLabel = "latency (ms)"
		}
		p := newPanel(fn, "", yLabel)
		p.Add(b)
		p.Y.Min = 0
		setGroupAxis(p, labels, true)
		p.X.Tick.Label.Rotation = math.Pi / 4
		col, row := k%fig12Columns, k/fig12Columns
		panels = append(panels, Panel{Plot: p,
			X0: float64(col) / fig12Columns, X1: float64(col+1) / fig12Columns,
			Y0: 1 - float64(row+1)/float64(rows), Y1: 1 - float64(row)/float64(rows)})
	}
	legend := append(systemLegend(sys),
		LegendEntry{Label: "|  solid: mean startup (its ms above the bar),  light: mean execution"})
	return &Figure{
		Name:    name,
		Title:   "Figure 12: startup latency breakdown (sequential functional test)",
		Panels:  panels,
		Legend:  legend,
		Mark:    simulatedMark(runsOf(cs)),
		Caption: "Server-side metrics (metrics.output): mean startup latency (start-new / switch / reuse) and mean execution latency (*-exec-latency) per invocation.",
		Missing: missingOf(paperSystems, cs),
		Notes:   notes,
		Width:   14 * vg.Inch,
		Height:  float64Inch(3.6*float64(rows) + 1.2),
	}, nil
}

func mean(v []float32) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range v {
		s += float64(x)
	}
	return s / float64(len(v))
}

func zeroIfNaN(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}

// formatMs writes a latency in ms with 2–3 significant digits: 0.21, 7.5,
// 41, 1581.
func formatMs(x float64) string {
	switch {
	case x < 1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case x < 10:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 0, 64)
}

func float64Inch(in float64) vg.Length { return vg.Length(in) * vg.Inch }
