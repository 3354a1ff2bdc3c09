package plots

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"trenv-bench/results"
)

// latencies holds the e2e latencies of the runs a latency figure draws.
type latencies struct {
	cs []choice
	// funcs are the functions any run's test phase answered, sorted.
	funcs []string
	// byFn[i] maps a function to run i's sorted latencies (ms).
	byFn []map[string][]float64
	// pooled[i] is run i's latencies of all functions, sorted.
	pooled [][]float64
}

// loadLatencies reads the chosen runs' latencies, the runs' requests.csv
// files in parallel (a trace run has tens of thousands of rows).
func loadLatencies(cs []choice) (*latencies, error) {
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() { latenciesOf(c.run) })
	}
	wg.Wait()
	l := &latencies{cs: cs}
	seen := map[string]bool{}
	for _, c := range cs {
		m, err := latenciesOf(c.run)
		if err != nil {
			return nil, err
		}
		var all []float64
		for fn, v := range m {
			if !seen[fn] {
				seen[fn] = true
				l.funcs = append(l.funcs, fn)
			}
			all = append(all, v...)
		}
		slices.Sort(all)
		l.byFn = append(l.byFn, m)
		l.pooled = append(l.pooled, all)
	}
	slices.Sort(l.funcs)
	return l, nil
}

// percentiles returns Bars values: [system][function] = {p-th percentile},
// NaN where a run has no ok request of the function; and the smallest and
// largest value.
func (l *latencies) percentiles(p float64) (vals [][][]float64, lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	vals = make([][][]float64, len(l.cs))
	for i := range l.cs {
		vals[i] = make([][]float64, len(l.funcs))
		for g, fn := range l.funcs {
			v := results.Percentile(l.byFn[i][fn], p)
			vals[i][g] = []float64{v}
			if !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	return vals, lo, hi
}

// latencyBars returns a panel of per-function latency bars (one series per
// system) on a log axis spanning the decades of [lo, hi].
func latencyBars(title, yLabel string, l *latencies, vals [][][]float64, lo, hi float64, labelled bool) *plot.Plot {
	xLabel := ""
	if labelled {
		xLabel = "function"
	}
	p := newPanel(title, xLabel, yLabel)
	b := &Bars{Values: vals, Separators: true}
	for _, c := range l.cs {
		b.Fill = append(b.Fill, []color.Color{c.sys.Color})
	}
	p.Add(b)
	b.Base = setLogY(p, lo, hi)
	setGroupAxis(p, l.funcs, labelled)
	return p
}

// latencyCDF returns a panel of each system's latency CDF, all functions
// pooled, on a log x axis.
func latencyCDF(title string, l *latencies) *plot.Plot {
	p := newPanel(title, "end-to-end latency (ms, log scale)", "fraction of requests (latency <= x)")
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, c := range l.cs {
		cdf := NewCDF(l.pooled[i], 0, seriesLine(c.sys))
		if cdf == nil {
			continue
		}
		p.Add(cdf)
		x0, x1, _, _ := cdf.DataRange()
		lo, hi = math.Min(lo, x0), math.Max(hi, x1)
	}
	setLogX(p, lo, hi)
	p.Y.Min, p.Y.Max = 0, 1
	p.Y.Tick.Marker = plot.ConstantTicks{
		{Value: 0, Label: "0"}, {Value: 0.25, Label: "0.25"}, {Value: 0.5, Label: "0.5"},
		{Value: 0.75, Label: "0.75"}, {Value: 0.9, Label: "0.9"}, {Value: 1, Label: "1"},
	}
	return p
}

// latencyFigure is Figures 10(a) and 10(b): runs of one workload.
func latencyFigure(name, title, workload, needs string, runs []*Run) (*Figure, error) {
	cs, notes := pickRuns(name, runs, workloadIs(workload))
	if len(cs) == 0 {
		return nil, noRuns(name, needs)
	}
	l, err := loadLatencies(cs)
	if err != nil {
		return nil, err
	}
	if len(l.funcs) == 0 {
		return nil, fmt.Errorf("%w: %s: the runs of workload %q have no ok test-phase request", ErrNoRuns, name, workload)
	}
	p50, lo50, hi50 := l.percentiles(50)
	p99, lo99, hi99 := l.percentiles(99)
	lo, hi := math.Min(lo50, lo99), math.Max(hi50, hi99)
	top := latencyBars("Median (P50) end-to-end latency per function", "P50 latency (ms, log scale)", l, p50, lo, hi, false)
	bottom := latencyBars("P99 end-to-end latency per function", "P99 latency (ms, log scale)", l, p99, lo, hi, true)
	cdf := latencyCDF("Latency CDF, all functions", l)
	dataMark, workloads, source := provenance([]drawnWorkload{{workloadLabel(workload), cs}})
	return &Figure{
		Name:  name,
		Title: title,
		Panels: []Panel{
			{Plot: top, X0: 0, Y0: 0.55, X1: 0.68, Y1: 1},
			{Plot: bottom, X0: 0, Y0: 0, X1: 0.68, Y1: 0.55},
			{Plot: cdf, X0: 0.68, Y0: 0.08, X1: 1, Y1: 1},
		},
		Legend:    systemLegend(systemsOf(cs)),
		Mark:      simulatedMark(runsOf(cs)),
		DataMark:  dataMark,
		Caption:   "Client-side end-to-end latency (requests.csv e2e_ms) of the test phase's successful requests; nearest-rank percentiles.",
		Source:    source,
		Workloads: workloads,
		Missing:   missingOf(paperSystems, cs),
		Notes:     notes,
		Width:     14 * vg.Inch,
		Height:    8.4 * vg.Inch,
	}, nil
}
