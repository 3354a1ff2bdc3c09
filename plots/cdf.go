package plots

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DefaultCDFPoints bounds the points of a CDF: one per 1/2000 of the
// probability (the top 1 % still gets 20), so a trace's 100 000 requests
// draw as fast, and an SVG stays as small, as 2 000.
const DefaultCDFPoints = 2000

// CDF draws the empirical distribution function of a sample as a step
// line: y = fraction of values ≤ x. It implements plot.Plotter,
// plot.DataRanger and plot.Thumbnailer.
type CDF struct {
	// XYs are the steps' corners: (value, fraction ≤ value), ascending.
	XYs plotter.XYs
	// LineStyle is the line's style.
	draw.LineStyle
}

var (
	_ plot.Plotter     = (*CDF)(nil)
	_ plot.DataRanger  = (*CDF)(nil)
	_ plot.Thumbnailer = (*CDF)(nil)
)

// NewCDF returns the CDF of sorted (ascending; non-positive and non-finite
// values are dropped, so it can be drawn on a log axis), with at most
// maxPoints steps (0 or less: DefaultCDFPoints): the values at ranks
// ⌈k·n/maxPoints⌉. It returns nil for an empty sample.
func NewCDF(sorted []float64, maxPoints int, sty draw.LineStyle) *CDF {
	vals := sorted
	for len(vals) > 0 && !(vals[0] > 0) {
		vals = vals[1:]
	}
	for len(vals) > 0 && math.IsInf(vals[len(vals)-1], 1) {
		vals = vals[:len(vals)-1]
	}
	n := len(vals)
	if n == 0 {
		return nil
	}
	if maxPoints <= 0 {
		maxPoints = DefaultCDFPoints
	}
	k := min(n, maxPoints)
	xys := make(plotter.XYs, 0, k+1)
	xys = append(xys, plotter.XY{X: vals[0], Y: 0})
	last := -1
	for j := 1; j <= k; j++ {
		rank := int(math.Ceil(float64(j) * float64(n) / float64(k))) // 1-based
		if rank <= last+1 {
			continue
		}
		last = rank - 1
		xys = append(xys, plotter.XY{X: vals[rank-1], Y: float64(rank) / float64(n)})
	}
	return &CDF{XYs: xys, LineStyle: sty}
}

// Plot implements plot.Plotter: a step that rises at each value.
func (l *CDF) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	pts := make([]vg.Point, 0, 2*len(l.XYs))
	for i, xy := range l.XYs {
		pt := vg.Point{X: trX(xy.X), Y: trY(xy.Y)}
		if i > 0 {
			pts = append(pts, vg.Point{X: pt.X, Y: pts[len(pts)-1].Y})
		}
		pts = append(pts, pt)
	}
	c.StrokeLines(l.LineStyle, c.ClipLinesXY(pts)...)
}

// DataRange implements plot.DataRanger: the values' range, and 0 to 1.
func (l *CDF) DataRange() (xmin, xmax, ymin, ymax float64) {
	return l.XYs[0].X, l.XYs[len(l.XYs)-1].X, 0, 1
}

// Thumbnail implements plot.Thumbnailer: a horizontal line.
func (l *CDF) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(l.LineStyle, c.Min.X, y, c.Max.X, y)
}
