package plots

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

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
// of a bar is; labelShade how much darker a start-up number written on it
// is (so that it reads on the tint: a contrast of about 5 or more).
const (
	execTint   = 0.65
	labelShade = 0.45
)

// fig12Columns is the number of function panels per row.
const fig12Columns = 5

// Fig12 is the paper's Figure 12: startup-latency breakdown, from the
// sequential functional test (workload "func"). One panel per function;
// in each, one stacked bar per system (x: system): its mean startup
// latency (solid; start-new-, switch- and reuse-latency of
// metrics.output) under its mean execution latency (light; the matching
// *-exec-latency), each the mean over all the function's invocations in
// the run (y: ms, linear, each panel its own scale). Two numbers label
// each bar, apart: the total (start-up + execution, in black above the
// bar) and the start-up (in the system's colour at the top of the solid
// part: see startupNumbers).
func Fig12(runs []*Run) (*Figure, error) {
	const name = "fig12"
	cs, notes := pickRuns(name, runs, workloadIs("func"))
	if len(cs) == 0 {
		return nil, noRuns(name, needsFig12)
	}
	per := make([]map[string]means, len(cs))
	var funcs []string
	for i, c := range cs {
		m, note, err := breakdownOf(name, c)
		if err != nil {
			return nil, err
		}
		if note != "" {
			notes = append(notes, note)
		}
		per[i] = m
		for fn := range m {
			if !slices.Contains(funcs, fn) {
				funcs = append(funcs, fn)
			}
		}
	}
	if len(funcs) == 0 {
		return nil, fmt.Errorf("%w: %s: the runs of workload \"func\" have no startup latency in %s", ErrNoRuns, name, results.MetricsFile)
	}
	slices.Sort(funcs)
	sys := systemsOf(cs)
	labels := make([]string, len(sys))
	for i, s := range sys {
		labels[i] = s.Name
	}
	rows := (len(funcs) + fig12Columns - 1) / fig12Columns
	var panels []Panel
	for k, fn := range funcs {
		b, sl := startupBars(sys, func(i int) (means, bool) { m, ok := per[i][fn]; return m, ok })
		yLabel := ""
		if k%fig12Columns == 0 {
			yLabel = "latency (ms)"
		}
		p := newPanel(fn, "", yLabel)
		p.Add(b, sl)
		p.Y.Min = 0
		setGroupAxis(p, labels, true)
		p.X.Tick.Label.Rotation = math.Pi / 4
		col, row := k%fig12Columns, k/fig12Columns
		panels = append(panels, Panel{Plot: p,
			X0: float64(col) / fig12Columns, X1: float64(col+1) / fig12Columns,
			Y0: 1 - float64(row+1)/float64(rows), Y1: 1 - float64(row)/float64(rows)})
	}
	legend := append(systemLegend(sys),
		LegendEntry{Label: "|  solid: mean start-up (its ms at its top);  light: mean execution;  above the bar: total ms"})
	dataMark, workloads, source := provenance([]drawnWorkload{{"func", cs}})
	return &Figure{
		Name:      name,
		Title:     "Figure 12: startup latency breakdown (sequential functional test)",
		Panels:    panels,
		Legend:    legend,
		Mark:      simulatedMark(runsOf(cs)),
		DataMark:  dataMark,
		Caption:   "Server-side metrics (metrics.output): mean startup latency (start-new / switch / reuse) and mean execution latency (*-exec-latency) per invocation.",
		Source:    source,
		Workloads: workloads,
		Missing:   missingOf(paperSystems, cs),
		Notes:     notes,
		Width:     14 * vg.Inch,
		Height:    float64Inch(3.6*float64(rows) + 1.6),
	}, nil
}

// means are a function's mean start-up and execution latency in a run, in
// ms (exec NaN when faasd recorded none).
type means struct{ startup, exec float64 }

// startupBars draws one panel's bars, one group per system coloured as
// the system: its mean start-up (solid, its ms at its top) under its mean
// execution (light), the total above the bar; mean says a system's means
// (false: nothing drawn for it).
func startupBars(sys []System, mean func(i int) (means, bool)) (*Bars, *startupNumbers) {
	const barWidth = 0.7
	b := &Bars{Width: barWidth, ByGroup: true, LabelStyle: textStyle(barLabelSize, color.Black), OutlineWidth: vg.Points(1)}
	sl := &startupNumbers{Width: barWidth, Style: textStyle(barLabelSize, color.Black)}
	vals := make([][]float64, len(sys))
	lab := make([]string, len(sys))
	for i, s := range sys {
		vals[i] = []float64{math.NaN()}
		sl.Startup = append(sl.Startup, math.NaN())
		sl.Total = append(sl.Total, math.NaN())
		sl.Colors = append(sl.Colors, s.Color)
		if m, ok := mean(i); ok {
			total := m.startup + zeroIfNaN(m.exec)
			vals[i] = []float64{m.startup, zeroIfNaN(m.exec)}
			lab[i] = formatMs(total)
			sl.Startup[i], sl.Total[i] = m.startup, total
		}
		b.Fill = append(b.Fill, []color.Color{s.Color, tint(s.Color, execTint)})
		b.Outline = append(b.Outline, s.Color)
	}
	b.Values = [][][]float64{vals}
	b.Labels = [][]string{lab}
	return b, sl
}

// breakdownOf returns, per function, the mean start-up latency of c's run
// (start-new, switch and reuse latencies of metrics.output together) and
// the mean of the matching execution latencies. A run whose metrics cannot
// be used (not reset after the warmup, or missing) or that has no start-up
// latency gives none and a note saying why; a read error is returned.
func breakdownOf(fig string, c choice) (map[string]means, string, error) {
	out := map[string]means{}
	m, err := c.run.Metrics()
	if errors.Is(err, results.ErrMetricsUnusable) {
		// faasd's counters were not reset or not taken: drawing them
		// would mix the warmup in. The bar stays empty.
		return out, fmt.Sprintf("%s: %s: %v", fig, c.sys.Name, err), nil
	}
	if err != nil {
		return nil, "", err
	}
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
		if len(v) > 0 {
			out[fn] = means{mean(v), mean(exec[fn])}
		}
	}
	if len(out) == 0 {
		return out, fmt.Sprintf("%s: %s: run %s has no startup latency in %s", fig, c.sys.Name, c.run.Dir, results.MetricsFile), nil
	}
	return out, "", nil
}

// startupNumbers writes the start-up number of Figure 12's bars where it
// cannot be read as the total: at the top of the solid start-up part, in a
// dark shade of the system's colour just above it when the light execution
// part has room, else just inside it (black or white, whichever contrasts
// more), else (a bar too short for either) above the total's label. Bar g
// is centred at x = g, Width wide, as Bars draws one series. It implements
// plot.Plotter.
type startupNumbers struct {
	// Startup and Total are each bar's start-up and start-up + execution
	// (ms); NaN for no bar. Colors are the bars' colours.
	Startup, Total []float64
	Colors         []color.RGBA
	Width          float64
	// Style is the labels' text style (its colour is replaced).
	Style text.Style
}

var _ plot.Plotter = (*startupNumbers)(nil)

// Plot implements plot.Plotter.
func (l *startupNumbers) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	pad := vg.Points(1.5)
	for g, st := range l.Startup {
		if math.IsNaN(st) {
			continue
		}
		label := formatMs(st)
		sty := l.Style
		sty.XAlign = draw.XCenter
		h := sty.Height(label) + 2*pad
		x := trX(float64(g))
		top, bottom, base := trY(st), trY(l.Total[g]), trY(math.Max(0, p.Y.Min))
		switch {
		case bottom-top >= h: // room in the light part, above the boundary
			sty.Color, sty.YAlign = shade(l.Colors[g], labelShade), draw.YBottom
			c.FillText(sty, vg.Point{X: x, Y: top + pad}, label)
		case top-base >= h: // room in the solid part, below the boundary
			sty.Color, sty.YAlign = contrastText(l.Colors[g]), draw.YTop
			c.FillText(sty, vg.Point{X: x, Y: top - pad}, label)
		default: // above the total's label (Bars writes it 2 pt above the bar)
			sty.Color, sty.YAlign = shade(l.Colors[g], labelShade), draw.YBottom
			c.FillText(sty, vg.Point{X: x, Y: bottom + vg.Points(2) + h}, label)
		}
	}
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
