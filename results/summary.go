package results

import (
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
)

// Column names of summary.csv.
const (
	ColCount     = "count"
	ColOK        = "ok"
	ColFailed    = "failed"
	ColAbandoned = "abandoned"
	ColP50Ms     = "p50_ms"
	ColP90Ms     = "p90_ms"
	ColP99Ms     = "p99_ms"
	ColP999Ms    = "p99.9_ms"
	ColMeanMs    = "mean_ms"
	ColMaxMs     = "max_ms"
	ColCold      = "cold"
	ColRestore   = "restore"
	ColSwitch    = "switch"
	ColReuse     = "reuse"
)

// SummaryColumns returns the column names of summary.csv, in file order:
// phase, function, count, ok, failed, abandoned, p50_ms, p90_ms, p99_ms,
// p99.9_ms, mean_ms, max_ms, cold, restore, switch, reuse. The result is a
// new slice each call.
//
//	phase,function,count,ok,failed,abandoned,p50_ms,p90_ms,p99_ms,p99.9_ms,mean_ms,max_ms,cold,restore,switch,reuse
//	warmup,pyaes,10,10,0,0,50.000,90.000,100.000,100.000,55.000,100.000,1,0,0,9
//	test,pyaes,4,3,1,0,20.000,30.000,30.000,30.000,20.000,30.000,0,0,1,2
func SummaryColumns() []string {
	return []string{ColPhase, ColFunction, ColCount, ColOK, ColFailed, ColAbandoned,
		ColP50Ms, ColP90Ms, ColP99Ms, ColP999Ms, ColMeanMs, ColMaxMs,
		ColCold, ColRestore, ColSwitch, ColReuse}
}

// SummaryRow is one row of summary.csv: the requests of one function in one
// phase.
type SummaryRow struct {
	Phase    string
	Function string

	// Count is the number of requests (rows of requests.csv); OK, Failed
	// and Abandoned split it by status.
	Count, OK, Failed, Abandoned int

	// P50Ms … MaxMs describe e2e_ms over the OK requests, in
	// milliseconds: nearest-rank percentiles (see Percentile), the
	// arithmetic mean and the maximum. NaN (an empty cell) when OK is 0.
	P50Ms, P90Ms, P99Ms, P999Ms, MeanMs, MaxMs float64

	// Cold, Restore, Switch and Reuse count the requests, whatever their
	// status, whose start_kind says so; requests with no start kind are in
	// none of them.
	Cold, Restore, Switch, Reuse int
}

// Summary is summary.csv: one row per phase × function, phases in the order
// they first appear in requests.csv, functions sorted by name within a
// phase.
type Summary struct {
	Rows []SummaryRow
}

// Totals adds up the request counts of every row.
func (s *Summary) Totals() RequestCounts {
	var c RequestCounts
	for _, r := range s.Rows {
		c.Scheduled += r.Count
		c.OK += r.OK
		c.Failed += r.Failed
		c.Abandoned += r.Abandoned
	}
	return c
}

// Percentile returns the nearest-rank p-th percentile (0 < p ≤ 100) of
// sorted, which must be in ascending order: the value at 1-based rank
// ⌈p/100 × n⌉, an observed value, never an interpolation. NaN when sorted is
// empty or p is out of range.
//
//	Percentile([]float64{10, 20, 30, 40}, 50)   == 20  // rank ⌈2⌉ = 2
//	Percentile([]float64{10, 20, 30, 40}, 90)   == 40  // rank ⌈3.6⌉ = 4
//	Percentile([]float64{1, 2, …, 1000}, 99.9)  == 999 // rank ⌈999⌉
//
// The rank is computed as ⌈p × n / 100⌉ with a tolerance of 1e-9 against
// binary rounding (99.9 × 1000 / 100 must give 999, not 999.0000000000001).
// Every summary and report of trenv-bench uses this definition.
func Percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 || !(p > 0 && p <= 100) {
		return math.NaN()
	}
	rank := int(math.Ceil(p*float64(n)/100 - 1e-9))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// Summarizer accumulates requests into a Summary: Add one request at a time,
// then Summary (as often as wanted). The zero value is ready to use. Memory grows with the
// number of groups and, for exact percentiles, by 8 bytes per OK request.
type Summarizer struct {
	phases []string                     // in order of first appearance
	groups map[string]map[string]*group // phase → function → group
}

type group struct {
	row SummaryRow
	e2e []float64 // e2e_ms of the OK requests
	sum float64
}

// Add counts one request.
func (s *Summarizer) Add(r *Request) {
	if s.groups == nil {
		s.groups = make(map[string]map[string]*group)
	}
	fns, ok := s.groups[r.Phase]
	if !ok {
		fns = make(map[string]*group)
		s.groups[r.Phase] = fns
		s.phases = append(s.phases, r.Phase)
	}
	g, ok := fns[r.Function]
	if !ok {
		g = &group{row: SummaryRow{Phase: r.Phase, Function: r.Function}}
		fns[r.Function] = g
	}
	g.row.Count++
	switch r.Status {
	case StatusOK:
		g.row.OK++
		if !math.IsNaN(r.E2EMs) {
			g.e2e = append(g.e2e, r.E2EMs)
			g.sum += r.E2EMs
		}
	case StatusFailed:
		g.row.Failed++
	case StatusAbandoned:
		g.row.Abandoned++
	}
	switch r.StartKind {
	case StartCold:
		g.row.Cold++
	case StartRestore:
		g.row.Restore++
	case StartSwitch:
		g.row.Switch++
	case StartReuse:
		g.row.Reuse++
	}
}

// Summary computes the rows from what was added so far. Statistics are over
// the OK requests that have an e2e_ms.
func (s *Summarizer) Summary() Summary {
	var out Summary
	for _, phase := range s.phases {
		fns := s.groups[phase]
		for _, fn := range slices.Sorted(maps.Keys(fns)) {
			g := fns[fn]
			row := g.row
			row.P50Ms, row.P90Ms, row.P99Ms, row.P999Ms = math.NaN(), math.NaN(), math.NaN(), math.NaN()
			row.MeanMs, row.MaxMs = math.NaN(), math.NaN()
			if n := len(g.e2e); n > 0 {
				v := slices.Clone(g.e2e)
				slices.Sort(v)
				row.P50Ms = Percentile(v, 50)
				row.P90Ms = Percentile(v, 90)
				row.P99Ms = Percentile(v, 99)
				row.P999Ms = Percentile(v, 99.9)
				row.MeanMs = g.sum / float64(n)
				row.MaxMs = v[n-1]
			}
			out.Rows = append(out.Rows, row)
		}
	}
	return out
}

// Summarize reads requests.csv from r (path names it in errors) and
// summarises it per phase × function: counts by status and start kind, and
// nearest-rank percentiles, mean and maximum of e2e_ms over the OK requests
// (see Percentile). It streams the rows. On a read error (a *ParseError,
// such as the cut-short last row of a crashed run) it returns the summary of
// the rows before the error together with the error.
//
// summary.csv is computed with encoding/csv and sorting, not with gota data
// frames as DESIGN.md first planned: github.com/go-gota/gota is not served by
// the module proxy this project can reach.
func Summarize(r io.Reader, path string) (Summary, error) {
	var s Summarizer
	rr := NewRequestReader(r, path)
	for rr.Next() {
		req := rr.Request()
		s.Add(&req)
	}
	return s.Summary(), rr.Err()
}

// WriteSummary writes s as summary.csv (SummaryColumns), latencies in
// milliseconds to the microsecond, an empty cell for NaN. It returns the
// error of the underlying writer.
func WriteSummary(w io.Writer, s Summary) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(SummaryColumns()); err != nil {
		return fmt.Errorf("results: writing summary: %w", err)
	}
	rec := make([]string, 0, len(SummaryColumns()))
	for _, r := range s.Rows {
		rec = append(rec[:0], oneLine(r.Phase), oneLine(r.Function),
			strconv.Itoa(r.Count), strconv.Itoa(r.OK), strconv.Itoa(r.Failed), strconv.Itoa(r.Abandoned))
		for _, x := range []float64{r.P50Ms, r.P90Ms, r.P99Ms, r.P999Ms, r.MeanMs, r.MaxMs} {
			cell := ""
			if !math.IsNaN(x) && !math.IsInf(x, 0) {
				cell = strconv.FormatFloat(x, 'f', msDecimals, 64)
			}
			rec = append(rec, cell)
		}
		rec = append(rec, strconv.Itoa(r.Cold), strconv.Itoa(r.Restore), strconv.Itoa(r.Switch), strconv.Itoa(r.Reuse))
		if err := cw.Write(rec); err != nil {
			return fmt.Errorf("results: writing summary: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("results: writing summary: %w", err)
	}
	return nil
}

// ReadSummary reads summary.csv as WriteSummary writes it (path names it in
// errors). Errors are *ParseError values naming the line and column.
func ReadSummary(r io.Reader, path string) (Summary, error) {
	src := newCSVSource(r, path, SummaryColumns())
	var s Summary
	for src.next() {
		rec := src.rec
		row := SummaryRow{}
		var err error
		col := 0
		name := func(dst *string) {
			if err == nil {
				*dst, err = formatName(rec[col])
				col++
			}
		}
		count := func(dst *int) {
			if err == nil {
				*dst, err = parseCount(rec[col])
				col++
			}
		}
		ms := func(dst *float64) {
			if err == nil {
				*dst, err = parseFloat(rec[col], false)
				col++
			}
		}
		name(&row.Phase)
		name(&row.Function)
		for _, p := range []*int{&row.Count, &row.OK, &row.Failed, &row.Abandoned} {
			count(p)
		}
		for _, p := range []*float64{&row.P50Ms, &row.P90Ms, &row.P99Ms, &row.P999Ms, &row.MeanMs, &row.MaxMs} {
			ms(p)
		}
		for _, p := range []*int{&row.Cold, &row.Restore, &row.Switch, &row.Reuse} {
			count(p)
		}
		if err != nil {
			return s, src.cellError(col-1, err)
		}
		s.Rows = append(s.Rows, row)
	}
	return s, src.result()
}
