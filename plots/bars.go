package plots

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DefaultBarWidth is the part of a group's unit width its bars fill.
const DefaultBarWidth = 0.8

// Bars draws grouped, optionally stacked bars: group g is centred at x = g;
// its series stand side by side across Width; each bar is a stack of
// segments, heights above 0 summed bottom first, drawn from Base upward.
// Unlike plotter.BarChart it draws on a log axis (set Base to the axis
// minimum: what lies below it is not drawn) and leaves a gap for a missing
// bar.
// It implements plot.Plotter and plot.DataRanger; a figure's legend names
// the series.
type Bars struct {
	// Values[s][g] are the segment heights of series s's bar in group g,
	// bottom first. A nil or empty entry, or a NaN first segment, draws no
	// bar; a NaN later segment ends the stack.
	Values [][][]float64
	// Fill[s][k] colours segment k of series s; a series with fewer
	// colours than segments repeats its last one.
	Fill [][]color.Color
	// Outline[s], if not nil, strokes the outline of series s's bars,
	// OutlineWidth wide (0: 1 pt).
	Outline      []color.Color
	OutlineWidth vg.Length
	// ByGroup indexes Fill and Outline by group instead of series: one
	// series of bars, each in its group's colours.
	ByGroup bool
	// Width is the part of a group's unit width the group's bars fill
	// together, in (0, 1]; 0 means DefaultBarWidth.
	Width float64
	// Base is where bars start, in data units: 0 on a linear axis; on a
	// log axis a positive value at or below every bar (the axis minimum).
	Base float64
	// Separators draws a light vertical line between groups.
	Separators bool
	// Labels[s][g], if not "", is written above the bar in LabelStyle;
	// DataRange then leaves room for it on a linear axis.
	Labels     [][]string
	LabelStyle text.Style
}

var (
	_ plot.Plotter    = (*Bars)(nil)
	_ plot.DataRanger = (*Bars)(nil)
)

func (b *Bars) groups() int {
	n := 0
	for _, s := range b.Values {
		n = max(n, len(s))
	}
	return n
}

func (b *Bars) width() float64 {
	if b.Width > 0 && b.Width <= 1 {
		return b.Width
	}
	return DefaultBarWidth
}

// top returns the top of series s's stack in group g (the sum of its
// segments), NaN if there is no bar.
func (b *Bars) top(s, g int) float64 {
	if g >= len(b.Values[s]) || len(b.Values[s][g]) == 0 || math.IsNaN(b.Values[s][g][0]) {
		return math.NaN()
	}
	y := 0.0
	for _, v := range b.Values[s][g] {
		if math.IsNaN(v) {
			break
		}
		y += v
	}
	return y
}

// DataRange implements plot.DataRanger: x from −0.5 to groups − 0.5, y from
// Base to the highest stack (plus 12 % for labels on a linear axis).
func (b *Bars) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymax = math.Inf(-1)
	for s := range b.Values {
		for g := range b.Values[s] {
			if t := b.top(s, g); !math.IsNaN(t) {
				ymax = math.Max(ymax, t)
			}
		}
	}
	if math.IsInf(ymax, -1) {
		ymax = b.Base + 1
	}
	if len(b.Labels) > 0 && b.Base <= 0 {
		ymax += (ymax - b.Base) * 0.12
	}
	return -0.5, float64(b.groups()) - 0.5, b.Base, ymax
}

// Plot implements plot.Plotter.
func (b *Bars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	n := b.groups()
	if b.Separators {
		sep := draw.LineStyle{Color: groupColor, Width: vg.Points(0.5)}
		for g := 0; g < n-1; g++ {
			x := trX(float64(g) + 0.5)
			c.StrokeLine2(sep, x, c.Min.Y, x, c.Max.Y)
		}
	}
	ns := len(b.Values)
	if ns == 0 {
		return
	}
	w := b.width() / float64(ns)
	base := math.Max(b.Base, p.Y.Min)
	for s := range b.Values {
		for g := range b.Values[s] {
			if math.IsNaN(b.top(s, g)) {
				continue
			}
			x0 := float64(g) - b.width()/2 + float64(s)*w
			left, right := trX(x0), trX(x0+w)
			// Segment k spans the cumulative sums before and after it,
			// drawn from base up.
			cum := 0.0
			bottom := trY(base)
			for k, v := range b.Values[s][g] {
				if math.IsNaN(v) {
					break
				}
				lo, hi := math.Max(cum, base), cum+v
				cum = hi
				if hi <= lo {
					continue
				}
				top := trY(hi)
				r := vg.Rectangle{Min: vg.Point{X: left, Y: trY(lo)}, Max: vg.Point{X: right, Y: top}}
				c.FillPolygon(b.fill(s, g, k), c.ClipPolygonXY(rectPoints(r)))
				bottom = top
			}
			if o := b.outline(s, g); o != nil {
				ow := b.OutlineWidth
				if ow <= 0 {
					ow = vg.Points(1)
				}
				r := vg.Rectangle{Min: vg.Point{X: left, Y: trY(base)}, Max: vg.Point{X: right, Y: bottom}}
				c.StrokeLines(draw.LineStyle{Color: o, Width: ow},
					c.ClipLinesXY(append(rectPoints(r), r.Min))...)
			}
			if s < len(b.Labels) && g < len(b.Labels[s]) && b.Labels[s][g] != "" {
				sty := b.LabelStyle
				sty.XAlign, sty.YAlign = draw.XCenter, draw.YBottom
				c.FillText(sty, vg.Point{X: (left + right) / 2, Y: bottom + vg.Points(2)}, b.Labels[s][g])
			}
		}
	}
}

func (b *Bars) fill(s, g, k int) color.Color {
	if b.ByGroup {
		s = g
	}
	if s >= len(b.Fill) || len(b.Fill[s]) == 0 {
		return color.Gray{Y: 0x80}
	}
	return b.Fill[s][min(k, len(b.Fill[s])-1)]
}

func (b *Bars) outline(s, g int) color.Color {
	if b.ByGroup {
		s = g
	}
	if s >= len(b.Outline) {
		return nil
	}
	return b.Outline[s]
}

// groupTicks returns ticks at the groups 0 … len(names)−1, labelled with
// names (or unlabelled when labelled is false).
func groupTicks(names []string, labelled bool) plot.ConstantTicks {
	ticks := make(plot.ConstantTicks, len(names))
	for i, n := range names {
		ticks[i] = plot.Tick{Value: float64(i)}
		if labelled {
			ticks[i].Label = n
		}
	}
	return ticks
}

// setGroupAxis makes p's x axis a nominal axis of groups.
func setGroupAxis(p *plot.Plot, names []string, labelled bool) {
	p.X.Tick.Marker = groupTicks(names, labelled)
	p.X.Min, p.X.Max = -0.5, float64(len(names))-0.5
	p.X.Padding = 0
	if labelled {
		rotateXLabels(p)
	}
}
