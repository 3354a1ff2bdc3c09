package plots

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Errors of building and rendering figures.
var (
	// ErrNoRuns: no run fits the figure; the error says which runs it
	// needs.
	ErrNoRuns = errors.New("plots: no runs for this figure")
	// ErrUnknownFigure: a name that is not one of Names.
	ErrUnknownFigure = errors.New("plots: unknown figure")
	// ErrFormat: Render was asked for a format other than png, svg, pdf.
	ErrFormat = errors.New("plots: unknown format (want png, svg or pdf)")
)

// Formats Render writes. DefaultFormat is used when none is given.
var Formats = []string{"png", "svg", "pdf"}

// DefaultFormat is Render's format when format is "".
const DefaultFormat = "png"

// PNGDPI is the resolution of PNG output, in dots per inch: a 14 in wide
// figure is 2100 pixels wide.
const PNGDPI = 150

// Figure is one paper figure, ready to render: panels laid out on a page
// under a title, a legend of the systems drawn, and footnotes.
type Figure struct {
	// Name is the figure's name ("fig10a"); Title its heading.
	Name, Title string
	// Panels are the figure's plots and where they go.
	Panels []Panel
	// Legend lists the systems drawn (fixed system order), then any
	// other entries (fig12's startup/execution shades).
	Legend []LegendEntry
	// Mark is SimulatedMark when any run drawn came from the platform
	// model, else "".
	Mark string
	// DataMark is SyntheticMark when any run drawn replayed invented trace
	// data (the built-in sample, or a dataset traces synth wrote), else
	// "". Drawn under Mark, in the same style.
	DataMark string
	// Caption says in one or two lines what is drawn and from which
	// records; drawn under the panels.
	Caption string
	// Source says where the data drawn came from, a line per workload
	// (dataset files and digests, or the synthetic sample) and one on the
	// runs (target, calibration digest, tool); drawn under the caption.
	Source []string
	// Workloads are the manifest workload names of the runs drawn, in
	// the figure's order, for a report to place the figure.
	Workloads []string
	// Missing lists the systems (or "system (group)") the paper's figure
	// has but no run was given for; drawn as a footnote, and for the
	// caller to warn about.
	Missing []string
	// Notes are other remarks for the caller (several runs for one
	// system, incomplete runs); not drawn.
	Notes []string
	// Width and Height are the figure's natural size, used when Render
	// is given none.
	Width, Height vg.Length
}

// Panel is one plot of a figure and where it goes: X0 < X1 and Y0 < Y1 are
// fractions (0–1) of the figure's panel area, origin at the bottom left.
type Panel struct {
	Plot           *plot.Plot
	X0, Y0, X1, Y1 float64
}

// LegendEntry is one swatch and label of a figure's legend.
type LegendEntry struct {
	Label string
	// Fill is the swatch's colour (nil: no swatch, the label only);
	// Outline, if not nil, its border.
	Fill, Outline color.Color
}

// systemLegend returns the legend entries of the systems, in order.
func systemLegend(sys []System) []LegendEntry {
	out := make([]LegendEntry, len(sys))
	for i, s := range sys {
		out[i] = LegendEntry{Label: s.Name, Fill: s.Color}
	}
	return out
}

// Layout of a figure, in points.
const (
	figMargin     = 12
	legendSwatchW = 22
	legendSwatchH = 11
	legendGap     = 16 // between entries
	headerGap     = 6  // between title, legend and panels
	panelGap      = 6  // inset of each panel in its cell
)

// Draw draws the figure onto c.
func (f *Figure) Draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	c = draw.Crop(c, figMargin, -figMargin, figMargin, -figMargin)

	// Header: title at the left, the simulated mark at the right.
	titleSty := textStyle(figureTitleSize, color.Black)
	titleSty.YAlign = draw.YTop
	top := c.Max.Y
	if f.Title != "" {
		c.FillText(titleSty, vg.Point{X: c.Min.X, Y: top}, f.Title)
	}
	h := titleSty.Rectangle(f.Title).Size().Y
	// The marks, stacked at the right: red text in a red box. Not bold:
	// gonum/plot's PDF canvas cannot embed a bold face.
	markTop := top
	for _, mark := range []string{f.Mark, f.DataMark} {
		if mark == "" {
			continue
		}
		ms := textStyle(markSize, markColor)
		ms.XAlign, ms.YAlign = draw.XRight, draw.YTop
		pad := vg.Points(3)
		r := ms.Rectangle(mark)
		box := vg.Rectangle{
			Min: vg.Point{X: c.Max.X - r.Size().X - 2*pad, Y: markTop - r.Size().Y - 2*pad},
			Max: vg.Point{X: c.Max.X, Y: markTop},
		}
		c.StrokeLines(draw.LineStyle{Color: markColor, Width: vg.Points(1.2)}, append(rectPoints(box), box.Min))
		c.FillText(ms, vg.Point{X: c.Max.X - pad, Y: markTop - pad}, mark)
		markTop = box.Min.Y - vg.Points(3)
	}
	h = max(h, top-markTop-vg.Points(3))
	top -= h + headerGap

	// Legend: swatches and labels in rows, centred.
	if len(f.Legend) > 0 {
		top -= f.drawLegend(c, top) + headerGap
	}

	// Footer: caption, data sources and missing systems, from the bottom
	// up, long lines wrapped; a source that names synthetic data in red.
	bottom := c.Min.Y
	type footLine struct {
		text string
		warn bool
	}
	var foot []footLine
	noteSty := textStyle(noteSize, noteColor)
	addFoot := func(s string, warn bool) {
		for _, l := range wrapText(noteSty, s, c.Max.X-c.Min.X) {
			foot = append(foot, footLine{l, warn})
		}
	}
	if f.Caption != "" {
		for _, l := range strings.Split(f.Caption, "\n") {
			addFoot(l, false)
		}
	}
	for _, l := range f.Source {
		addFoot(l, strings.Contains(l, "invented content"))
	}
	if len(f.Missing) > 0 {
		addFoot("No run given for: "+strings.Join(f.Missing, ", ")+" (not drawn).", false)
	}
	warnSty := textStyle(noteSize, markColor)
	for i := len(foot) - 1; i >= 0; i-- {
		sty := noteSty
		if foot[i].warn {
			sty = warnSty
		}
		c.FillText(sty, vg.Point{X: c.Min.X, Y: bottom}, foot[i].text)
		bottom += sty.Rectangle(foot[i].text).Size().Y + 2
	}
	if len(foot) > 0 {
		bottom += headerGap
	}

	area := c
	area.Min.Y, area.Max.Y = bottom, top
	w, hh := area.Max.X-area.Min.X, area.Max.Y-area.Min.Y
	for _, p := range f.Panels {
		cell := area
		cell.Min = vg.Point{X: area.Min.X + vg.Length(p.X0)*w, Y: area.Min.Y + vg.Length(p.Y0)*hh}
		cell.Max = vg.Point{X: area.Min.X + vg.Length(p.X1)*w, Y: area.Min.Y + vg.Length(p.Y1)*hh}
		drawPanel(draw.Crop(cell, panelGap, -panelGap, panelGap, -panelGap), p.Plot)
	}
}

// drawPanel draws p onto c. On a log y axis it draws the y label itself:
// gonum/plot reserves room for that label as if it were centred on the
// data's arithmetic midpoint, which on a log axis lies near the top, and
// so shrinks the data area by up to the label's length.
func drawPanel(c draw.Canvas, p *plot.Plot) {
	label := p.Y.Label.Text
	if _, log := p.Y.Scale.(plot.LogScale); !log || label == "" {
		p.Draw(c)
		return
	}
	sty := p.Y.Label.TextStyle
	sty.Rotation = math.Pi / 2
	sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
	h := p.Y.Label.TextStyle.Height(label)
	mid := c.Min.Y + (c.Max.Y-c.Min.Y)/2
	if p.Title.Text != "" { // centre on the plot below the title
		mid -= (p.Title.TextStyle.Height(p.Title.Text) + p.Title.Padding) / 2
	}
	c.FillText(sty, vg.Point{X: c.Min.X, Y: mid}, label)
	p.Y.Label.Text = ""
	defer func() { p.Y.Label.Text = label }()
	p.Draw(draw.Crop(c, h+p.Y.Label.Padding, 0, 0, 0))
}

// drawLegend draws the legend below top and returns its height.
func (f *Figure) drawLegend(c draw.Canvas, top vg.Length) vg.Length {
	sty := textStyle(legendSize, color.Black)
	sty.YAlign = draw.YCenter
	em := sty.Rectangle("M").Size()
	rowH := max(em.Y, vg.Points(legendSwatchH)) + vg.Points(4)
	widths := make([]vg.Length, len(f.Legend))
	for i, e := range f.Legend {
		widths[i] = sty.Rectangle(e.Label).Size().X
		if e.Fill != nil {
			widths[i] += vg.Points(legendSwatchW) + em.X/2
		}
	}
	// Break into rows that fit the width.
	var rows [][]int
	var cur []int
	var curW vg.Length
	avail := c.Max.X - c.Min.X
	for i, wd := range widths {
		if len(cur) > 0 && curW+vg.Points(legendGap)+wd > avail {
			rows = append(rows, cur)
			cur, curW = nil, 0
		}
		if len(cur) > 0 {
			curW += vg.Points(legendGap)
		}
		cur = append(cur, i)
		curW += wd
	}
	rows = append(rows, cur)
	y := top - rowH/2
	for _, row := range rows {
		var rw vg.Length
		for k, i := range row {
			if k > 0 {
				rw += vg.Points(legendGap)
			}
			rw += widths[i]
		}
		x := c.Min.X + (avail-rw)/2
		for _, i := range row {
			e := f.Legend[i]
			if e.Fill == nil {
				c.FillText(sty, vg.Point{X: x, Y: y}, e.Label)
				x += widths[i] + vg.Points(legendGap)
				continue
			}
			sw := vg.Rectangle{
				Min: vg.Point{X: x, Y: y - vg.Points(legendSwatchH)/2},
				Max: vg.Point{X: x + vg.Points(legendSwatchW), Y: y + vg.Points(legendSwatchH)/2},
			}
			c.FillPolygon(e.Fill, rectPoints(sw))
			if e.Outline != nil {
				c.StrokeLines(draw.LineStyle{Color: e.Outline, Width: vg.Points(1)}, append(rectPoints(sw), sw.Min))
			}
			c.FillText(sty, vg.Point{X: sw.Max.X + em.X/2, Y: y}, e.Label)
			x += widths[i] + vg.Points(legendGap)
		}
		y -= rowH
	}
	return rowH * vg.Length(len(rows))
}

func rectPoints(r vg.Rectangle) []vg.Point {
	return []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}}
}

// Render draws fig as format (png, svg or pdf; "" is DefaultFormat) to w,
// width × height (0 or less: the figure's own size). PNG is rendered at
// PNGDPI; PDF embeds its fonts; SVG keeps text as text.
func Render(w io.Writer, fig *Figure, format string, width, height vg.Length) (err error) {
	if format == "" {
		format = DefaultFormat
	}
	if width <= 0 {
		width = fig.Width
	}
	if height <= 0 {
		height = fig.Height
	}
	if width <= 0 || height <= 0 {
		width, height = 10*vg.Inch, 6*vg.Inch
	}
	var cw vg.CanvasWriterTo
	switch format {
	case "png":
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(PNGDPI))}
	case "svg":
		cw = vgsvg.New(width, height)
	case "pdf":
		pc := vgpdf.New(width, height)
		pc.EmbedFonts(true)
		cw = pc
	default:
		return fmt.Errorf("%w: %q", ErrFormat, format)
	}
	// gonum/plot panics on data it cannot draw; report it as an error.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("plots: rendering %s: %v", fig.Name, p)
		}
	}()
	fig.Draw(draw.New(cw))
	_, err = cw.WriteTo(w)
	return err
}

// Spec describes one figure of the registry.
type Spec struct {
	// Name is the figure's name on the command line ("fig10a").
	Name string
	// Paper is the paper's figure ("Figure 10(a)").
	Paper string
	// Caption says in a sentence what the figure shows, for a report's
	// figure caption.
	Caption string
	// Workloads are the manifest workload names the figure draws, in
	// order; nil when it picks runs otherwise (fig11b: by the functions
	// the test phase invokes).
	Workloads []string
	// Needs says which runs the figure draws, for error messages.
	Needs string
	// Build builds the figure from runs (any runs: it picks those it
	// needs).
	Build func(runs []*Run) (*Figure, error)
}

// Figures returns the registry: fig10a, fig10b, fig11a, fig11b, fig12,
// fig13, fig14, fig15, in that order. A new slice each call.
func Figures() []Spec {
	return []Spec{
		{Name: "fig10a", Paper: "Figure 10(a)", Workloads: []string{"1"}, Needs: needsFig10a, Build: Fig10a,
			Caption: "W1 (bursts that recur after the baselines' keep-alive): P50 and P99 end-to-end latency per function, one bar per system (log scale), and the latency CDF of all functions."},
		{Name: "fig10b", Paper: "Figure 10(b)", Workloads: []string{"2"}, Needs: needsFig10b, Build: Fig10b,
			Caption: "W2 (bursts under a 32 GiB memory bound): P50 and P99 end-to-end latency per function, one bar per system (log scale), and the latency CDF of all functions."},
		{Name: "fig11a", Paper: "Figure 11(a)", Workloads: slices.Clone(fig11aWorkloads), Needs: needsFig11a, Build: Fig11a,
			Caption: "Peak memory of each system under each workload (W1, W2, Azure, Huawei): the largest memory sample of each run's test phase (GiB), from the runs of Figures 10(a), 10(b) and 13."},
		{Name: "fig11b", Paper: "Figure 11(b)", Needs: needsFig11b, Build: Fig11b,
			Caption: "Memory density: peak memory of 50 live instances of image-recognition and of image-flip-rotate, one bar per system (GiB)."},
		{Name: "fig12", Paper: "Figure 12", Workloads: []string{"func"}, Needs: needsFig12, Build: Fig12,
			Caption: "Start-up breakdown of the sequential functional test: per function, each system's mean start-up latency (solid) under its mean execution latency (light), with both numbers written on the bar."},
		{Name: "fig13", Paper: "Figure 13", Workloads: []string{"huawei", "azure"}, Needs: needsFig13, Build: Fig13,
			Caption: "The trace workloads (Huawei, Azure): P50 and P99 end-to-end latency per function, one bar per system (log scale)."},
		{Name: "fig14", Paper: "Figure 14", Workloads: fig14WorkloadNames(), Needs: needsFig14, Build: Fig14,
			Caption: "Start-path optimisation steps for image-recognition and json-serde (faasd, CRIU, Reconfig — sandbox reuse only —, Cgroup — + CLONE_INTO_CGROUP —, T-RDMA, T-CXL; FaaSnap+ dashed): mean start-up (solid) and execution (light) of single starts. " + Fig14Note},
		{Name: "fig15", Paper: "Figure 15", Workloads: []string{"azure"}, Needs: needsFig15, Build: Fig15,
			Caption: "Memory over the Azure workload's test phase, one line per system (GiB, 1 Hz samples)."},
	}
}

// Names returns the figure names of Figures, in order.
func Names() []string {
	var out []string
	for _, s := range Figures() {
		out = append(out, s.Name)
	}
	return out
}

// Lookup returns the figure called name.
func Lookup(name string) (Spec, bool) {
	i := slices.IndexFunc(Figures(), func(s Spec) bool { return s.Name == name })
	if i < 0 {
		return Spec{}, false
	}
	return Figures()[i], true
}

// Build builds the figure called name from runs. Errors wrap
// ErrUnknownFigure, ErrNoRuns, or a record's read error (naming its file).
func Build(name string, runs []*Run) (fig *Figure, err error) {
	s, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("%w: %q (want one of %s)", ErrUnknownFigure, name, strings.Join(Names(), ", "))
	}
	defer func() {
		if p := recover(); p != nil {
			fig, err = nil, fmt.Errorf("plots: building %s: %v", name, p)
		}
	}()
	return s.Build(runs)
}

// All builds every figure it has runs for: figures by name, and the error
// of each figure that could not be built (ErrNoRuns for those without
// runs).
func All(runs []*Run) (map[string]*Figure, map[string]error) {
	figs, errs := map[string]*Figure{}, map[string]error{}
	for _, s := range Figures() {
		f, err := Build(s.Name, runs)
		if err != nil {
			errs[s.Name] = err
			continue
		}
		figs[s.Name] = f
	}
	return figs, errs
}

// noRuns returns the ErrNoRuns error of a figure.
func noRuns(name, needs string) error {
	return fmt.Errorf("%w: %s needs %s", ErrNoRuns, name, needs)
}

// choice is the run drawn for one system.
type choice struct {
	sys System
	run *Run
}

// pickRuns chooses, for each system, one run among those match accepts:
// the latest complete one (by end, then start time, then directory). It
// returns the choices in system order and notes about runs passed over
// or incomplete.
func pickRuns(fig string, runs []*Run, match func(*Run) bool) ([]choice, []string) {
	bySys := map[string][]*Run{}
	var notes []string
	for _, r := range runs {
		if !match(r) {
			continue
		}
		s, ok := SystemOf(r.Manifest)
		if !ok {
			what := fmt.Sprintf("method %q", r.Manifest.Method)
			if v := r.Manifest.ModelVariant; v != "" {
				what = fmt.Sprintf("model variant %q of %s", v, what)
			}
			notes = append(notes, fmt.Sprintf("%s: %s: unknown %s, not drawn", fig, r.Dir, what))
			continue
		}
		bySys[s.Name] = append(bySys[s.Name], r)
	}
	var out []choice
	for _, s := range allSystems() {
		cands := bySys[s.Name]
		if len(cands) == 0 {
			continue
		}
		slices.SortStableFunc(cands, func(a, b *Run) int {
			ca, cb := a.Manifest.Status == "complete", b.Manifest.Status == "complete"
			switch {
			case ca != cb:
				if ca {
					return -1
				}
				return 1
			case !a.Manifest.EndedAt.Equal(b.Manifest.EndedAt):
				return b.Manifest.EndedAt.Compare(a.Manifest.EndedAt)
			case !a.Manifest.StartedAt.Equal(b.Manifest.StartedAt):
				return b.Manifest.StartedAt.Compare(a.Manifest.StartedAt)
			}
			return strings.Compare(a.Dir, b.Dir)
		})
		best := cands[0]
		if len(cands) > 1 {
			var others []string
			for _, r := range cands[1:] {
				others = append(others, r.Dir)
			}
			notes = append(notes, fmt.Sprintf("%s: %d runs of %s: drawing %s, not %s",
				fig, len(cands), s.Name, best.Dir, strings.Join(others, ", ")))
		}
		if best.Manifest.Status != "complete" {
			notes = append(notes, fmt.Sprintf("%s: %s: run %s is %s; its records may be partial",
				fig, s.Name, best.Dir, best.Manifest.Status))
		}
		out = append(out, choice{sys: s, run: best})
	}
	return out, notes
}

// missingOf returns the labels in want that no choice has, in order.
func missingOf(want []string, cs []choice) []string {
	var out []string
	for _, w := range want {
		if !slices.ContainsFunc(cs, func(c choice) bool { return c.sys.Name == w }) {
			out = append(out, w)
		}
	}
	return out
}

// runsOf returns the runs of the choices.
func runsOf(cs []choice) []*Run {
	out := make([]*Run, len(cs))
	for i, c := range cs {
		out[i] = c.run
	}
	return out
}

// systemsOf returns the systems of the choices.
func systemsOf(cs []choice) []System {
	out := make([]System, len(cs))
	for i, c := range cs {
		out[i] = c.sys
	}
	return out
}

// workloadIs returns a matcher of runs whose workload name is w.
func workloadIs(w string) func(*Run) bool {
	return func(r *Run) bool { return r.Workload() == w }
}
