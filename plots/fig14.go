package plots

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"trenv-bench/results"
)

const needsFig14 = `runs of workloads "steps-image-recognition" and "steps-json-serde" on the platform model ` +
	`(target sim or twin: trenv-bench reproduce fig14 --target sim)`

// fig14Functions are the two panels of Figure 14, in order; each draws the
// runs of workload fig14Prefix + function.
var fig14Functions = []string{"image-recognition", "json-serde"}

// fig14Prefix starts the names of Figure 14's workloads.
const fig14Prefix = "steps-"

// fig14WorkloadNames are the manifest workload names Figure 14 draws.
func fig14WorkloadNames() []string {
	var out []string
	for _, fn := range fig14Functions {
		out = append(out, fig14Prefix+fn)
	}
	return out
}

// fig14Steps are Figure 14's bars, in the paper's order: faasd, CRIU, the
// two model variants, T-RDMA, T-CXL. fig14Reference is drawn as a dashed
// line across them.
var (
	fig14Steps     = []string{results.SystemFaasd, results.SystemCRIU, results.SystemReconfig, results.SystemCgroup, results.SystemTRDMA, results.SystemTCXL}
	fig14Reference = results.SystemFaaSnap
)

// Fig14Note says what Figure 14 is on the model, for its caption and the
// report.
const Fig14Note = "A restatement of the calibration, not a prediction: the Reconfig and Cgroup steps are model variants " +
	"built from the paper's step costs (sim/startpath), and the other steps' start-ups are calibrated on this figure's own bars, " +
	"so the figure checks the model's plumbing. It exists on the platform model only."

// Fig14 is the paper's Figure 14: the optimisation steps of TrEnv's start
// path, one panel per function (image-recognition, json-serde). In each,
// one stacked bar per step (x: faasd, CRIU, Reconfig — sandbox reuse only
// —, Cgroup — + CLONE_INTO_CGROUP —, T-RDMA, T-CXL): its mean start-up
// latency (solid) under its mean execution latency (light), both from
// metrics.output as in Figure 12, over the run's single starts (y: ms,
// linear); FaaSnap+'s mean end-to-end is a dashed line. Reconfig and
// Cgroup exist on the platform model only, and the figure restates its
// calibration (Fig14Note): runs of a host or gateway are refused, with an
// error wrapping ErrNoRuns and results.ErrModelOnly when no other is left.
func Fig14(runs []*Run) (*Figure, error) {
	const name = "fig14"
	var notes, refused []string
	type panel struct {
		fn    string
		cs    []choice
		ref   *choice
		means map[string]means // by system name
	}
	var panels []panel
	var all []choice
	for _, fn := range fig14Functions {
		w := fig14Prefix + fn
		cs, n := pickRuns(name, runs, func(r *Run) bool {
			if r.Workload() != w {
				return false
			}
			if !r.Simulated() {
				refused = append(refused, r.Dir+" (target "+string(r.Manifest.Target)+")")
				return false
			}
			return true
		})
		notes = append(notes, n...)
		if len(cs) == 0 {
			continue
		}
		pn := panel{fn: fn, means: map[string]means{}}
		for i, c := range cs {
			m, note, err := breakdownOf(name, c)
			if err != nil {
				return nil, err
			}
			if note != "" {
				notes = append(notes, note)
			}
			if v, ok := m[fn]; ok {
				pn.means[c.sys.Name] = v
			}
			switch {
			case c.sys.Name == fig14Reference:
				pn.ref = &cs[i]
			case slices.Contains(fig14Steps, c.sys.Name):
				pn.cs = append(pn.cs, c)
			default:
				notes = append(notes, fmt.Sprintf("%s: %s: %s is not one of Figure 14's steps, not drawn", name, c.run.Dir, c.sys.Name))
			}
		}
		all = append(all, cs...)
		panels = append(panels, pn)
	}
	if len(refused) > 0 {
		notes = append(notes, fmt.Sprintf("%s: passing over %s: %v", name, strings.Join(refused, ", "), results.ErrModelOnly))
	}
	if len(panels) == 0 {
		if len(refused) > 0 {
			return nil, fmt.Errorf("%w: %s: %w: only runs of a host or gateway were given (%s)", ErrNoRuns, name, results.ErrModelOnly, strings.Join(refused, ", "))
		}
		return nil, noRuns(name, needsFig14)
	}

	// The steps drawn, in the figure's order, across the panels.
	var steps []System
	for _, s := range allSystems() {
		if !slices.Contains(fig14Steps, s.Name) {
			continue
		}
		for _, pn := range panels {
			if slices.ContainsFunc(pn.cs, func(c choice) bool { return c.sys.Name == s.Name }) {
				steps = append(steps, s)
				break
			}
		}
	}
	slices.SortStableFunc(steps, func(a, b System) int {
		return slices.Index(fig14Steps, a.Name) - slices.Index(fig14Steps, b.Name)
	})
	labels := make([]string, len(steps))
	for i, s := range steps {
		labels[i] = s.Name
	}
	var refSys *System
	var out []Panel
	for k, pn := range panels {
		b, sl := startupBars(steps, func(i int) (means, bool) {
			m, ok := pn.means[steps[i].Name]
			return m, ok && slices.ContainsFunc(pn.cs, func(c choice) bool { return c.sys.Name == steps[i].Name })
		})
		yLabel := ""
		if k == 0 {
			yLabel = "latency (ms)"
		}
		p := newPanel(pn.fn, "", yLabel)
		p.Add(b, sl)
		if pn.ref != nil {
			if m, ok := pn.means[fig14Reference]; ok {
				total := m.startup + zeroIfNaN(m.exec)
				s := pn.ref.sys
				refSys = &s
				p.Add(&refLine{Y: total, Label: fig14Reference + " " + formatMs(total) + " ms",
					Line:       draw.LineStyle{Color: s.Color, Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(6), vg.Points(3)}},
					LabelStyle: textStyle(barLabelSize+1, shade(s.Color, labelShade))})
			}
		}
		p.Y.Min = 0
		setGroupAxis(p, labels, true)
		p.X.Tick.Label.Rotation = math.Pi / 6
		n := float64(len(panels))
		out = append(out, Panel{Plot: p, X0: float64(k) / n, X1: float64(k+1) / n, Y0: 0, Y1: 1})
	}

	var missing []string
	for _, want := range append(slices.Clone(fig14Steps), fig14Reference) {
		var in []string
		for _, pn := range panels {
			has := slices.ContainsFunc(pn.cs, func(c choice) bool { return c.sys.Name == want }) || (want == fig14Reference && pn.ref != nil)
			if !has {
				in = append(in, pn.fn)
			}
		}
		switch {
		case len(in) == 0:
		case len(in) == len(panels):
			missing = append(missing, want)
		default:
			missing = append(missing, want+" ("+strings.Join(in, ", ")+")")
		}
	}
	for _, fn := range fig14Functions {
		if !slices.ContainsFunc(panels, func(pn panel) bool { return pn.fn == fn }) {
			missing = append(missing, fn+" (every step)")
		}
	}
	legend := systemLegend(steps)
	if refSys != nil {
		legend = append(legend, LegendEntry{Label: fig14Reference + " (dashed line: its mean end-to-end)", Fill: refSys.Color})
	}
	legend = append(legend, LegendEntry{Label: "|  solid: mean start-up;  light: mean execution;  above the bar: total ms"})
	var drawn []drawnWorkload
	for _, pn := range panels {
		cs := slices.Clone(pn.cs)
		if pn.ref != nil {
			cs = append(cs, *pn.ref)
		}
		drawn = append(drawn, drawnWorkload{workloadLabel(fig14Prefix + pn.fn), cs})
	}
	dataMark, workloads, source := provenance(drawn)
	return &Figure{
		Name:   name,
		Title:  "Figure 14: start-path optimisation steps (a restatement of the calibration)",
		Panels: out,
		Legend: legend,
		Mark:   simulatedMark(runsOf(all)),
		// No trace data: dataMark is "".
		DataMark: dataMark,
		Caption: "Server-side metrics (metrics.output) of single starts, one request every 5 s (reproduce: 20 per step): mean start-up (start-new / switch latency) and mean execution per step.\n" +
			Fig14Note,
		Source:    source,
		Workloads: workloads,
		Missing:   missing,
		Notes:     notes,
		Width:     13 * vg.Inch,
		Height:    6.6 * vg.Inch,
	}, nil
}

// refLine is a horizontal reference line across a panel at Y (data
// units), labelled at its right end above the line. It implements
// plot.Plotter and plot.DataRanger (y only: 0 to Y).
type refLine struct {
	Y          float64
	Label      string
	Line       draw.LineStyle
	LabelStyle text.Style
}

var (
	_ plot.Plotter    = (*refLine)(nil)
	_ plot.DataRanger = (*refLine)(nil)
)

// Plot implements plot.Plotter.
func (l *refLine) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	y := trY(l.Y)
	c.StrokeLine2(l.Line, c.Min.X, y, c.Max.X, y)
	if l.Label != "" {
		sty := l.LabelStyle
		sty.XAlign, sty.YAlign = draw.XRight, draw.YBottom
		c.FillText(sty, vg.Point{X: c.Max.X - vg.Points(2), Y: y + vg.Points(2)}, l.Label)
	}
}

// DataRange implements plot.DataRanger: no x extent of its own, y from 0
// to a little above the line (room for its label).
func (l *refLine) DataRange() (xmin, xmax, ymin, ymax float64) {
	return math.Inf(1), math.Inf(-1), 0, l.Y * 1.08
}
