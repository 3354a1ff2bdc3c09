package validate

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"trenv-bench/results"
)

// Defaults of Compare.
const (
	// DefaultWorst is how many of the worst points Compare lists when
	// Options.Worst is 0.
	DefaultWorst = 10
	// WithinBand is the band of the share "within 25 %": a point is within
	// it when |model / reference − 1| ≤ WithinBand.
	WithinBand = 0.25
)

// Options are Compare's settings.
type Options struct {
	// Worst is how many of the worst points to list: 0 = DefaultWorst,
	// negative = none.
	Worst int
	// Target, if not "", takes only runs of that target (sim, twin,
	// gateway, host); "" takes any.
	Target results.Target
}

// Point is a reference row with the model's value for it.
type Point struct {
	Row
	// Model is the value computed from the runs, in the metric's unit.
	Model float64 `json:"model"`
	// Run is the run directory it came from; for a relative metric also
	// TCXLRun, T-CXL's run it was divided by.
	Run     string `json:"run"`
	TCXLRun string `json:"tcxl_run,omitempty"`
	// LogRatio is ln(Model / Value).
	LogRatio float64 `json:"log_ratio"`
}

// Within reports whether the point is within WithinBand of the reference.
func (p *Point) Within() bool { return math.Abs(p.Model/p.Value-1) <= WithinBand+1e-12 }

// Missing is a reference row for which the runs give no model value, and
// why.
type Missing struct {
	Row
	Reason string `json:"reason"`
}

// Score sums up a set of points.
type Score struct {
	// Points is how many points were compared.
	Points int
	// MedianAbsLogRatio is the median of |ln(model / reference)| (of an
	// even count, the mean of the two middle values); NaN without points.
	MedianAbsLogRatio float64
	// Within is how many points are within WithinBand of the reference;
	// WithinShare that ÷ Points (0–1), NaN without points.
	Within      int
	WithinShare float64
	// Pairs is how many pairs of points (same group, function and metric;
	// different systems; different reference values) were compared for
	// their order, Concordant how many of them the model orders as the
	// reference does; Concordance = Concordant ÷ Pairs, NaN without pairs.
	Pairs, Concordant int
	Concordance       float64
}

// Group is the score of one figure × workload.
type Group struct {
	Figure, Workload string
	Score
	// Missing counts the group's reference rows without a model value.
	Missing int
}

// Result is what Compare found.
type Result struct {
	// Reference names the table; Rows is how many rows it has, Runs how
	// many runs were given (after Options.Target).
	Reference  string
	Rows, Runs int
	// Groups are scored in the order the reference table first names each
	// figure × workload; Overall over every point.
	Groups  []Group
	Overall Score
	// Points are every compared row, in the table's order; Worst the
	// worst of them by |LogRatio| (Options.Worst of them).
	Points []Point
	Worst  []Point
	// Missing are the rows without a model value, in the table's order.
	Missing []Missing
	// Notes are remarks on the runs used: several runs of one system on a
	// workload (the latest complete one is used), incomplete runs.
	Notes []string
}

// Compare computes each reference row's metric from runs — for a row of
// workload W and system S, the latest complete run whose manifest says W
// and S (as the figures pick runs) — and scores the model against the
// reference (see the package comment). A row the runs cannot answer (no
// run, a function the run did not invoke, no ok request, unusable faasd
// metrics, no memory sample, no T-CXL run for a relative metric, an
// unreadable file) is listed in Result.Missing with the reason.
func Compare(ref *Reference, runs []*results.Run, o Options) *Result {
	c := &comparer{byKey: map[[2]string][]*results.Run{}, picked: map[[2]string]*results.Run{}}
	res := &Result{Reference: ref.File, Rows: len(ref.Rows)}
	for _, r := range runs {
		if o.Target != "" && r.Manifest.Target != o.Target {
			continue
		}
		res.Runs++
		k := [2]string{r.Workload(), r.System()}
		c.byKey[k] = append(c.byKey[k], r)
	}
	groupIndex := map[[2]string]int{}
	type bucket struct{ figure, workload, function string }
	buckets := map[bucket]map[Metric][]Point{}
	var bucketOrder []bucket
	for _, row := range ref.Rows {
		gk := [2]string{row.Figure, row.Workload}
		gi, ok := groupIndex[gk]
		if !ok {
			gi = len(res.Groups)
			groupIndex[gk] = gi
			res.Groups = append(res.Groups, Group{Figure: row.Figure, Workload: row.Workload})
		}
		p, reason := c.point(row)
		if reason != "" {
			res.Missing = append(res.Missing, Missing{Row: row, Reason: reason})
			res.Groups[gi].Missing++
			continue
		}
		res.Points = append(res.Points, p)
		b := bucket{row.Figure, row.Workload, row.Function}
		if buckets[b] == nil {
			buckets[b] = map[Metric][]Point{}
			bucketOrder = append(bucketOrder, b)
		}
		buckets[b][row.Metric] = append(buckets[b][row.Metric], p)
	}
	res.Notes = c.notes

	// Scores: per group, then overall.
	perGroup := make([][]Point, len(res.Groups))
	for _, p := range res.Points {
		gi := groupIndex[[2]string{p.Figure, p.Workload}]
		perGroup[gi] = append(perGroup[gi], p)
	}
	pairs := make([][2]int, len(res.Groups)) // pairs, concordant
	for _, b := range bucketOrder {
		gi := groupIndex[[2]string{b.figure, b.workload}]
		for _, ps := range buckets[b] {
			n, k := concordance(ps)
			pairs[gi][0] += n
			pairs[gi][1] += k
		}
	}
	var allPairs, allConc int
	for gi := range res.Groups {
		res.Groups[gi].Score = score(perGroup[gi], pairs[gi][0], pairs[gi][1])
		allPairs += pairs[gi][0]
		allConc += pairs[gi][1]
	}
	res.Overall = score(res.Points, allPairs, allConc)

	n := o.Worst
	if n == 0 {
		n = DefaultWorst
	}
	worst := slices.Clone(res.Points)
	slices.SortStableFunc(worst, func(a, b Point) int { return cmp.Compare(math.Abs(b.LogRatio), math.Abs(a.LogRatio)) })
	res.Worst = worst[:max(0, min(n, len(worst)))]
	return res
}

// score sums up points with the concordance counted apart.
func score(ps []Point, pairs, concordant int) Score {
	s := Score{Points: len(ps), MedianAbsLogRatio: math.NaN(), WithinShare: math.NaN(),
		Pairs: pairs, Concordant: concordant, Concordance: math.NaN()}
	if len(ps) > 0 {
		abs := make([]float64, len(ps))
		within := 0
		for i, p := range ps {
			abs[i] = math.Abs(p.LogRatio)
			if p.Within() {
				within++
			}
		}
		s.MedianAbsLogRatio = median(abs)
		s.Within = within
		s.WithinShare = float64(within) / float64(len(ps))
	}
	if pairs > 0 {
		s.Concordance = float64(concordant) / float64(pairs)
	}
	return s
}

// median of v (modified: sorted); NaN when empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}

// concordance counts the pairs of ps (one function and metric of one
// group, each a different system) whose reference values differ, and of
// them those the model orders the same way.
func concordance(ps []Point) (pairs, concordant int) {
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			dr := ps[i].Value - ps[j].Value
			if dr == 0 {
				continue
			}
			pairs++
			if dm := ps[i].Model - ps[j].Model; dm != 0 && (dm > 0) == (dr > 0) {
				concordant++
			}
		}
	}
	return pairs, concordant
}

// comparer computes model values, picking one run per workload and system.
type comparer struct {
	byKey  map[[2]string][]*results.Run
	picked map[[2]string]*results.Run
	notes  []string
}

// run returns the run of workload w and system s: the latest complete one
// (by end, then start time, then directory), or nil.
func (c *comparer) run(w, s string) *results.Run {
	k := [2]string{w, s}
	if r, ok := c.picked[k]; ok {
		return r
	}
	cands := slices.Clone(c.byKey[k])
	var best *results.Run
	if len(cands) > 0 {
		slices.SortStableFunc(cands, func(a, b *results.Run) int {
			ca, cb := a.Manifest.Status == results.RunComplete, b.Manifest.Status == results.RunComplete
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
		best = cands[0]
		if len(cands) > 1 {
			var others []string
			for _, r := range cands[1:] {
				others = append(others, r.Dir)
			}
			c.notes = append(c.notes, fmt.Sprintf("%d runs of %s on workload %s: using %s, not %s", len(cands), s, w, best.Dir, strings.Join(others, ", ")))
		}
		if best.Manifest.Status != results.RunComplete {
			c.notes = append(c.notes, fmt.Sprintf("%s (%s on workload %s) is %s: its records may be partial", best.Dir, s, w, best.Manifest.Status))
		}
	}
	c.picked[k] = best
	return best
}

// point computes row's model value; reason says why there is none.
func (c *comparer) point(row Row) (Point, string) {
	p := Point{Row: row}
	r := c.run(row.Workload, row.System)
	if r == nil {
		return p, fmt.Sprintf("no run of %s on workload %s", row.System, row.Workload)
	}
	p.Run = r.Dir
	info, _ := row.Metric.Info()
	var v float64
	var why string
	if info.Relative {
		ref := c.run(row.Workload, results.SystemTCXL)
		if ref == nil {
			return p, fmt.Sprintf("no T-CXL run on workload %s to compare %s with", row.Workload, row.System)
		}
		p.TCXLRun = ref.Dir
		base := map[Metric]Metric{SpeedupP50: P50Ms, SpeedupP99: P99Ms, MemoryRatio: PeakMemoryGiB}[row.Metric]
		a, whyA := value(r, row.Function, base)
		b, whyB := value(ref, row.Function, base)
		switch {
		case whyA != "":
			return p, whyA
		case whyB != "":
			return p, "T-CXL's " + whyB
		}
		v = a / b
	} else if v, why = value(r, row.Function, row.Metric); why != "" {
		return p, why
	}
	if !(v > 0) || math.IsInf(v, 0) {
		return p, fmt.Sprintf("%s is %v in %s: no ratio to the reference", row.Metric, v, r.Dir)
	}
	p.Model = v
	p.LogRatio = math.Log(v / row.Value)
	return p, ""
}

// startupLabels pairs each start-up latency of faasd's metrics with its
// execution latency, as Figure 12 draws them.
var startupLabels = [][2]string{
	{results.LabelStartNewLatency, results.LabelStartNewExecLatency},
	{results.LabelSwitchLatency, results.LabelSwitchExecLatency},
	{results.LabelReuseLatency, results.LabelReuseExecLatency},
}

// value computes an absolute metric of fn (or AllFunctions) from run r;
// why says why there is none.
func value(r *results.Run, fn string, m Metric) (float64, string) {
	switch m {
	case P50Ms, P99Ms, MeanMs:
		d, err := r.Requests()
		if err != nil {
			return 0, fmt.Sprintf("%s: %v", r.Dir, err)
		}
		row, ok := d.All, true
		if fn != AllFunctions {
			i := slices.IndexFunc(d.Test, func(s results.SummaryRow) bool { return s.Function == fn })
			if ok = i >= 0; ok {
				row = d.Test[i]
			}
		}
		if !ok || row.OK == 0 {
			return 0, fmt.Sprintf("%s: no ok test-phase request of %s", r.Dir, fn)
		}
		return map[Metric]float64{P50Ms: row.P50Ms, P99Ms: row.P99Ms, MeanMs: row.MeanMs}[m], ""
	case StartupMs, ExecMs:
		met, err := r.Metrics()
		if errors.Is(err, results.ErrMetricsUnusable) {
			return 0, err.Error()
		}
		if err != nil {
			return 0, fmt.Sprintf("%s: %v", r.Dir, err)
		}
		col := 0
		if m == ExecMs {
			col = 1
		}
		var sum float64
		var n int
		for _, pair := range startupLabels {
			for key, vs := range met.LatencyMs[pair[col]] {
				if fn != AllFunctions && key != fn {
					continue
				}
				for _, x := range vs {
					sum += float64(x)
					n++
				}
			}
		}
		if n == 0 {
			return 0, fmt.Sprintf("%s: no %s of %s in %s", r.Dir, m, fn, results.MetricsFile)
		}
		return sum / float64(n), ""
	case PeakMemoryGiB, MeanMemoryGiB:
		mem, err := r.TestMemory()
		if err != nil {
			return 0, fmt.Sprintf("%s: %v", r.Dir, err)
		}
		if len(mem) == 0 {
			return 0, fmt.Sprintf("%s: no memory sample in the test phase", r.Dir)
		}
		var peak int64
		var sum float64
		for _, s := range mem {
			peak = max(peak, s.Bytes)
			sum += float64(s.Bytes)
		}
		if m == PeakMemoryGiB {
			return float64(peak) / (1 << 30), ""
		}
		return sum / float64(len(mem)) / (1 << 30), ""
	}
	return 0, fmt.Sprintf("metric %s cannot be computed", m)
}
