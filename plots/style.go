package plots

import (
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"trenv-bench/results"
)

// System is one of the systems the paper compares (results' one table of
// systems: name, method, pool, order) with the colour every figure draws
// it in.
type System struct {
	results.System
	// Color is the system's colour, the same in every figure.
	Color color.RGBA
}

// colors are the systems' colours, by their position in results.Systems:
// the Okabe–Ito palette (distinguishable with the common colour-vision
// deficiencies); the two TrEnv pools are two blues.
var colors = [...]color.RGBA{
	{R: 0x00, G: 0x4C, B: 0x99, A: 0xff}, // T-CXL
	{R: 0x56, G: 0xB4, B: 0xE9, A: 0xff}, // T-RDMA
	{R: 0x59, G: 0x59, B: 0x59, A: 0xff}, // faasd
	{R: 0xE6, G: 0x9F, B: 0x00, A: 0xff}, // CRIU
	{R: 0xCC, G: 0x79, B: 0xA7, A: 0xff}, // CRIU-lazy
	{R: 0x00, G: 0x9E, B: 0x73, A: 0xff}, // FaaSnap+
	{R: 0xD5, G: 0x5E, B: 0x00, A: 0xff}, // REAP+
}

// variantColors are the colours of the model variants (Figure 14's
// steps), by their position in results.ModelVariants: a purple and a teal
// (Paul Tol's muted palette), apart from the systems' colours.
var variantColors = [...]color.RGBA{
	{R: 0x88, G: 0x22, B: 0x55, A: 0xff}, // Reconfig
	{R: 0x44, G: 0xAA, B: 0x99, A: 0xff}, // Cgroup
}

// systems are results.Systems with their colours, in the fixed order of
// every legend and bar group; variants the same of results.ModelVariants.
var (
	systems = func() []System {
		all := results.Systems()
		out := make([]System, len(all))
		for i, s := range all {
			out[i] = System{System: s, Color: colors[i%len(colors)]}
		}
		return out
	}()
	variants = func() []System {
		all := results.ModelVariants()
		out := make([]System, len(all))
		for i, s := range all {
			out[i] = System{System: s, Color: variantColors[i%len(variantColors)]}
		}
		return out
	}()
)

// Systems returns every system the paper compares, in the fixed order. A
// new slice each call.
func Systems() []System { return append([]System(nil), systems...) }

// ModelVariants returns the model variants of TrEnv's start path (Figure
// 14's Reconfig and Cgroup steps) with their colours, in order. A new
// slice each call.
func ModelVariants() []System { return append([]System(nil), variants...) }

// allSystems are the systems, then the model variants: the order runs are
// picked in.
func allSystems() []System { return append(Systems(), variants...) }

// paperSystems are the systems the paper's latency and memory figures
// compare (Figures 10, 12, 13, 15): all but Lazy, which is drawn when
// there is a run of it but not missed when there is none.
var paperSystems = []string{results.SystemTCXL, results.SystemTRDMA, results.SystemFaasd, results.SystemCRIU, results.SystemFaaSnap, results.SystemREAP}

// SystemOf returns the system a run's manifest describes (a model
// variant's run: the variant); false for an unknown method or variant. A
// TrEnv run without a pool is T-CXL (the default pool).
func SystemOf(m *results.Manifest) (System, bool) {
	name := m.System()
	for _, s := range allSystems() {
		if s.Name == name {
			return s, true
		}
	}
	return System{}, false
}

// SimulatedMark is the text every figure drawn from a simulated run
// carries (target sim or twin: the platform model, not a real host).
const SimulatedMark = "SIMULATED (platform model)"

// simulatedMark returns SimulatedMark if any run's target is sim or twin,
// else "".
func simulatedMark(runs []*Run) string {
	for _, r := range runs {
		if r.Simulated() {
			return SimulatedMark
		}
	}
	return ""
}

// Font sizes, in points.
const (
	figureTitleSize = 15
	panelTitleSize  = 12
	axisLabelSize   = 11
	tickLabelSize   = 10
	legendSize      = 11
	markSize        = 11
	noteSize        = 9
	barLabelSize    = 8
)

// Other colours of the figures.
var (
	markColor  = color.RGBA{R: 0xC0, G: 0x00, B: 0x00, A: 0xff} // the simulated mark
	noteColor  = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff} // footnotes
	gridColor  = color.RGBA{R: 0xDD, G: 0xDD, B: 0xDD, A: 0xff}
	groupColor = color.RGBA{R: 0xBB, G: 0xBB, B: 0xBB, A: 0xff} // separators between bar groups
)

// figureFont is the typeface of every text: Liberation Sans (metrically
// Arial), embedded in gonum/plot, so output is the same on every machine.
var figureFont = font.Font{Typeface: "Liberation", Variant: "Sans"}

// textStyle returns a text style of figureFont.
func textStyle(size float64, c color.Color) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(figureFont, vg.Points(size)),
		Handler: plot.DefaultTextHandler,
	}
}

// setFont sets a text style's font to figureFont at size points.
func setFont(sty *text.Style, size float64) {
	sty.Font = font.From(figureFont, vg.Points(size))
}

// newPanel returns a plot styled as every panel is: title, axis labels
// with their units, readable fonts, and a light grid behind the data.
func newPanel(title, xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	setFont(&p.Title.TextStyle, panelTitleSize)
	p.Title.Padding = vg.Points(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		setFont(&a.Label.TextStyle, axisLabelSize)
		setFont(&a.Tick.Label, tickLabelSize)
		a.Label.Padding = vg.Points(4)
		a.Tick.Marker = niceTicks{}
	}
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = gridColor
	p.Add(grid)
	return p
}

// setLogY makes p's y axis logarithmic over whole decades covering
// [lo, hi] (both > 0), labelled at each decade, and returns the lower end
// (where bars start).
func setLogY(p *plot.Plot, lo, hi float64) float64 {
	lo, hi = decadeRange(lo, hi)
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
	p.Y.Min, p.Y.Max = lo, hi
	return lo
}

// setLogX makes p's x axis logarithmic over whole decades covering
// [lo, hi].
func setLogX(p *plot.Plot, lo, hi float64) {
	lo, hi = decadeRange(lo, hi)
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = logTicks{}
	p.X.Min, p.X.Max = lo, hi
}

// decadeRange widens [lo, hi] to powers of ten; non-positive or missing
// bounds become 1 and 10.
func decadeRange(lo, hi float64) (float64, float64) {
	if !(lo > 0) || math.IsInf(lo, 0) {
		lo = 1
	}
	if !(hi > 0) || math.IsInf(hi, 0) || hi < lo {
		hi = lo
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	if hi <= lo {
		hi = lo * 10
	}
	return lo, hi
}

// logTicks marks a log axis: a labelled major tick at each power of ten
// ("0.1", "1", "10", "100", "1000", "10^4" …), unlabelled minor ticks at
// 2…9 times it.
type logTicks struct{}

var _ plot.Ticker = logTicks{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > min) {
		return nil
	}
	var ticks []plot.Tick
	for e := math.Floor(math.Log10(min)); ; e++ {
		dec := math.Pow(10, e)
		if dec > max*(1+1e-9) {
			break
		}
		ticks = append(ticks, plot.Tick{Value: dec, Label: decadeLabel(e)})
		for k := 2.0; k < 10; k++ {
			if v := k * dec; v >= min && v <= max {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
	}
	return ticks
}

// decadeLabel labels 10^e: plainly from 0.01 to 100000, else "1e7".
func decadeLabel(e float64) string {
	if e >= -2 && e <= 5 {
		return strconv.FormatFloat(math.Pow(10, e), 'f', -1, 64)
	}
	return "1e" + strconv.Itoa(int(e))
}

// tint returns c mixed with white: f = 0 is c, f = 1 white.
func tint(c color.RGBA, f float64) color.RGBA {
	mix := func(v uint8) uint8 { return uint8(math.Round(float64(v) + (255-float64(v))*f)) }
	return color.RGBA{R: mix(c.R), G: mix(c.G), B: mix(c.B), A: 0xff}
}

// shade returns c mixed with black: f = 0 is c, f = 1 black.
func shade(c color.RGBA, f float64) color.RGBA {
	mix := func(v uint8) uint8 { return uint8(math.Round(float64(v) * (1 - f))) }
	return color.RGBA{R: mix(c.R), G: mix(c.G), B: mix(c.B), A: 0xff}
}

// contrastText returns black or white, whichever contrasts more with the
// background bg (WCAG 2 relative luminance).
func contrastText(bg color.RGBA) color.Color {
	lin := func(v uint8) float64 {
		x := float64(v) / 255
		if x <= 0.04045 {
			return x / 12.92
		}
		return math.Pow((x+0.055)/1.055, 2.4)
	}
	l := 0.2126*lin(bg.R) + 0.7152*lin(bg.G) + 0.0722*lin(bg.B)
	if (l+0.05)/0.05 >= 1.05/(l+0.05) { // contrast with black ≥ with white
		return color.Black
	}
	return color.White
}

// seriesLine is how a system's line is drawn (CDFs, memory over time).
func seriesLine(s System) draw.LineStyle {
	return draw.LineStyle{Color: s.Color, Width: vg.Points(2)}
}

// rotateXLabels tilts p's x tick labels so long function names do not
// overlap.
func rotateXLabels(p *plot.Plot) {
	p.X.Tick.Label.Rotation = math.Pi / 6
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop
}

// niceTicks marks a linear axis with about five to eight labelled ticks
// at round values (1, 2, 2.5 or 5 × a power of ten), labels without
// trailing zeros.
type niceTicks struct{}

var _ plot.Ticker = niceTicks{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	raw := (hi - lo) / 6
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag * 10
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	prec := max(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if step/math.Pow(10, math.Floor(math.Log10(step)+1e-9)) == 2.5 {
		prec++
	}
	var ticks []plot.Tick
	for v := math.Ceil(lo/step-1e-9) * step; v <= hi+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', prec, 64)})
	}
	return ticks
}
