// Package validate compares a reproduction with a table of reference
// figures — what a lab does with its own testbed's results: it reads the
// reference table (CSV, below), computes the same metrics from the run
// directories of a reproduction through results' run loader, and scores
// how close they come, per group (figure × workload) and overall.
//
// The reference table is CSV with this header, one row per number:
//
//		figure,workload,function,system,metric,value
//		fig10a,1,dynamic-html,T-CXL,p99_ms,9.5
//		fig10a,1,dynamic-html,REAP+,speedup_p99,3.4
//		fig11a,2,(all),FaaSnap+,peak_memory_gib,21
//
//	  - figure: a figure of the experiment matrix (fig10a, fig11a, …);
//	  - workload: one of that figure's workloads, as run manifests name them
//	    ("1" for W1, "2", "azure", "huawei", "func", "density-…", "steps-…");
//	  - function: a catalog function (copies such as pyaes_1 too), or
//	    "(all)" for every function together; whole-run metrics take "(all)";
//	  - system: a system of results' systems table that the figure compares
//	    (T-CXL, T-RDMA, faasd, CRIU, CRIU-lazy, FaaSnap+, REAP+, and Figure
//	    14's model variants Reconfig and Cgroup);
//	  - metric: one of Metrics (the vocabulary, below);
//	  - value: a positive, finite number of the metric's unit, at most
//	    MaxValue.
//
// Lines starting with '#' are comments; a UTF-8 byte order mark is
// skipped. Every field is checked; an error
// names the file, line and field, the value and what was expected (a
// *fileerr.Error wrapping ErrReference), up to MaxErrors of them at once.
// A file holds at most MaxRows rows and MaxBytes bytes, and no two rows
// with the same figure, workload, function, system and metric.
//
// The scores (Compare) are computed over the points — reference rows for
// which the runs give a positive model value — and rows without one are
// listed as missing, with why, never silently dropped:
//
//   - the median of |ln(model / reference)| (0: exact; 0.22 ≈ a factor of
//     1.25 either way);
//   - the share of points within 25 % of the reference (|model/reference
//     − 1| ≤ 0.25);
//   - the pairwise concordance of the systems' order: within a group, for
//     every two points of different systems with the same function and
//     metric whose reference values differ, whether the model orders them
//     the same way (a model tie counts as discordant);
//   - the worst points, by |ln(model / reference)|.
//
// It imports results only (and internal/fileerr).
package validate

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"trenv-bench/internal/fileerr"
	"trenv-bench/results"
)

// Header is the reference table's header, in order.
var Header = []string{"figure", "workload", "function", "system", "metric", "value"}

// Column names of the reference table (Header's).
const (
	ColFigure   = "figure"
	ColWorkload = "workload"
	ColFunction = "function"
	ColSystem   = "system"
	ColMetric   = "metric"
	ColValue    = "value"
)

// AllFunctions is the function of a row that covers every function of a
// run together (results.AllFunctions).
const AllFunctions = results.AllFunctions

// Bounds of a reference table.
const (
	// MaxRows bounds the rows of a reference table: 100,000, far above the
	// numbers of a paper's evaluation (a few hundred).
	MaxRows = 100_000
	// MaxBytes bounds its size: 16 MiB.
	MaxBytes = 16 << 20
	// MaxValue bounds a value: 10^9 (ms: eleven days; GiB: an exbibyte).
	MaxValue = 1e9
	// MaxErrors is how many row errors ReadReference reports at once.
	MaxErrors = 20
)

// ErrReference is wrapped by every error in a reference table's content.
var ErrReference = errors.New("validate: bad reference table")

// Metric is one quantity of the vocabulary (Metrics).
type Metric string

// The metric vocabulary. Latencies are the client's e2e_ms of the test
// phase's ok requests (requests.csv; upstream's e2e_latency), percentiles
// nearest rank (results.Percentile); start-up and execution are faasd's
// server-side metrics (metrics.output, as Figure 12 draws them); memory is
// memory.csv over the test phase.
const (
	// P50Ms and P99Ms are the nearest-rank P50 and P99 of e2e_ms, in ms.
	P50Ms Metric = "p50_ms"
	P99Ms Metric = "p99_ms"
	// MeanMs is the mean of e2e_ms, in ms.
	MeanMs Metric = "mean_ms"
	// StartupMs is the mean start-up latency (start-new, switch and reuse
	// latencies together), in ms; ExecMs the mean of the matching
	// execution latencies.
	StartupMs Metric = "startup_ms"
	ExecMs    Metric = "exec_ms"
	// PeakMemoryGiB is the largest memory.csv sample of the test phase,
	// in GiB (2^30 bytes); MeanMemoryGiB their mean. Whole run: function
	// "(all)".
	PeakMemoryGiB Metric = "peak_memory_gib"
	MeanMemoryGiB Metric = "mean_memory_gib"
	// SpeedupP50 and SpeedupP99 are T-CXL's speed-up over the system: the
	// system's P50 (P99) ÷ T-CXL's on the same workload and function (the
	// report's speed-up; above 1: T-CXL is faster). Not for T-CXL itself.
	SpeedupP50 Metric = "speedup_p50"
	SpeedupP99 Metric = "speedup_p99"
	// MemoryRatio is the system's peak memory ÷ T-CXL's on the same
	// workload (above 1: T-CXL uses less). Whole run; not for T-CXL.
	MemoryRatio Metric = "memory_ratio"
)

// MetricInfo describes a metric of the vocabulary.
type MetricInfo struct {
	Name Metric
	// Unit is "ms", "GiB" or "ratio".
	Unit string
	// WholeRun: the metric covers the run, not a function; its rows take
	// function "(all)".
	WholeRun bool
	// Relative: the metric compares the system with T-CXL; its rows may
	// not name T-CXL.
	Relative bool
	// Doc says in a line what it is.
	Doc string
}

// Metrics returns the vocabulary, in order. A new slice each call.
func Metrics() []MetricInfo {
	return []MetricInfo{
		{P50Ms, "ms", false, false, "nearest-rank P50 of the client's e2e_ms over the test phase's ok requests"},
		{P99Ms, "ms", false, false, "nearest-rank P99 of the same"},
		{MeanMs, "ms", false, false, "mean of the same"},
		{StartupMs, "ms", false, false, "mean server-side start-up latency (metrics.output: start-new, switch and reuse together)"},
		{ExecMs, "ms", false, false, "mean server-side execution latency after those starts"},
		{PeakMemoryGiB, "GiB", true, false, "largest memory.csv sample of the test phase (function \"(all)\")"},
		{MeanMemoryGiB, "GiB", true, false, "mean memory.csv sample of the test phase (function \"(all)\")"},
		{SpeedupP50, "ratio", false, true, "the system's P50 ÷ T-CXL's on the same workload and function (T-CXL's speed-up)"},
		{SpeedupP99, "ratio", false, true, "the system's P99 ÷ T-CXL's on the same workload and function"},
		{MemoryRatio, "ratio", true, true, "the system's peak memory ÷ T-CXL's on the same workload (function \"(all)\")"},
	}
}

// Info returns the description of m; false for a metric not in Metrics.
func (m Metric) Info() (MetricInfo, bool) {
	for _, i := range Metrics() {
		if i.Name == m {
			return i, true
		}
	}
	return MetricInfo{}, false
}

// metricNames lists the vocabulary's names.
func metricNames() []string {
	var out []string
	for _, i := range Metrics() {
		out = append(out, string(i.Name))
	}
	return out
}

// FigureSpec is what a reference row of one figure may name.
type FigureSpec struct {
	// Workloads are the manifest workload names of the figure's runs.
	Workloads []string
	// Systems are the names of the systems the figure compares.
	Systems []string
}

// Vocabulary is what a reference table may name besides the metrics: the
// figures (with their workloads and systems), in order, and the functions.
type Vocabulary struct {
	// Figures maps a figure name to what its rows may name.
	Figures map[string]FigureSpec
	// Order lists the figure names in the order groups are reported;
	// figures not in it follow, sorted.
	Order []string
	// Functions are the function names a row may name (the catalog's,
	// copies included); AllFunctions is always allowed.
	Functions []string
}

// Row is one reference number.
type Row struct {
	// Line is the row's line in the file (1-based; the header is line 1
	// unless comments come first).
	Line     int     `json:"line"`
	Figure   string  `json:"figure"`
	Workload string  `json:"workload"`
	Function string  `json:"function"`
	System   string  `json:"system"`
	Metric   Metric  `json:"metric"`
	Value    float64 `json:"value"`
}

// key identifies a row's number: a table has at most one row per key.
type key struct{ figure, workload, function, system string }

type rowKey struct {
	key
	metric Metric
}

func (r *Row) key() rowKey {
	return rowKey{key{r.Figure, r.Workload, r.Function, r.System}, r.Metric}
}

// Reference is a reference table, read and checked.
type Reference struct {
	// File names the table in messages.
	File string
	Rows []Row
}

// ReadReference reads and checks a reference table from r (file names it
// in errors) against voc. It reads at most MaxBytes and MaxRows; every
// problem, up to MaxErrors, is returned joined, each a *fileerr.Error
// naming file, line and field, wrapping ErrReference.
func ReadReference(r io.Reader, file string, voc Vocabulary) (*Reference, error) {
	lim := &io.LimitedReader{R: r, N: MaxBytes + 1}
	br := bufio.NewReader(lim)
	if b, _ := br.Peek(3); string(b) == "\ufeff" { // a UTF-8 byte order mark
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.Comment = '#'
	cr.FieldsPerRecord = -1 // checked here, to name the line
	ref := &Reference{File: file}
	var errs []error
	more := 0
	fail := func(line int, col string, format string, args ...any) {
		if len(errs) == MaxErrors {
			more++
			return
		}
		errs = append(errs, &fileerr.Error{Path: file, Line: line, Column: col,
			Err: fmt.Errorf("%w: %s", ErrReference, fmt.Sprintf(format, args...))})
	}
	seen := map[rowKey]int{}
	header := true
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			fail(line, "", "not valid CSV: %v", err)
			break
		}
		line, _ := cr.FieldPos(0)
		if lim.N <= 0 {
			fail(line, "", "the file is larger than %d bytes", MaxBytes)
			break
		}
		if header {
			header = false
			if !slices.Equal(rec, Header) {
				fail(line, "", "header %q: expected %s", strings.Join(rec, ","), strings.Join(Header, ","))
				break
			}
			continue
		}
		if len(ref.Rows) == MaxRows {
			fail(line, "", "more than %d rows", MaxRows)
			break
		}
		if len(rec) != len(Header) {
			fail(line, "", "%d fields: expected %d (%s)", len(rec), len(Header), strings.Join(Header, ","))
			continue
		}
		row, ok := checkRow(rec, line, voc, fail)
		if !ok {
			continue
		}
		if first, dup := seen[row.key()]; dup {
			fail(line, "", "the same figure, workload, function, system and metric as line %d", first)
			continue
		}
		seen[row.key()] = line
		ref.Rows = append(ref.Rows, row)
	}
	if lim.N <= 0 && len(errs) == 0 {
		fail(0, "", "the file is larger than %d bytes", MaxBytes)
	}
	if header && len(errs) == 0 {
		fail(0, "", "empty: expected the header %s", strings.Join(Header, ","))
	}
	if more > 0 {
		errs = append(errs, fmt.Errorf("%s: %w: and %d more errors", file, ErrReference, more))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return ref, nil
}

// checkRow parses and checks one record; it reports each bad field with
// fail and returns false if there was any.
func checkRow(rec []string, line int, voc Vocabulary, fail func(int, string, string, ...any)) (Row, bool) {
	row := Row{Line: line, Figure: rec[0], Workload: rec[1], Function: rec[2], System: rec[3], Metric: Metric(rec[4])}
	ok := true
	bad := func(col, format string, args ...any) {
		fail(line, col, format, args...)
		ok = false
	}
	spec, figOK := voc.Figures[row.Figure]
	if !figOK {
		bad(ColFigure, "%q: expected one of %s", row.Figure, strings.Join(figureNames(voc), ", "))
	} else {
		if !slices.Contains(spec.Workloads, row.Workload) {
			bad(ColWorkload, "%q: expected one of %s's workloads (%s)", row.Workload, row.Figure, strings.Join(spec.Workloads, ", "))
		}
		switch sys, known := results.SystemNamed(row.System); {
		case !known:
			bad(ColSystem, "%q: expected a system of the systems table (%s)", row.System, strings.Join(systemNames(), ", "))
		case !slices.Contains(spec.Systems, sys.Name):
			bad(ColSystem, "%q: expected one of the systems %s compares (%s)", row.System, row.Figure, strings.Join(spec.Systems, ", "))
		}
	}
	if row.Function != AllFunctions && !slices.Contains(voc.Functions, row.Function) {
		bad(ColFunction, "%q: expected a catalog function or %s", row.Function, AllFunctions)
	}
	info, known := row.Metric.Info()
	switch {
	case !known:
		bad(ColMetric, "%q: expected one of %s", row.Metric, strings.Join(metricNames(), ", "))
	case info.WholeRun && row.Function != AllFunctions:
		bad(ColFunction, "%q: %s covers the whole run: expected %s", row.Function, row.Metric, AllFunctions)
	case info.Relative && row.System == results.SystemTCXL:
		bad(ColSystem, "%q: %s compares a system with T-CXL: expected another system", row.System, row.Metric)
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(rec[5]), 64)
	switch {
	case err != nil:
		bad(ColValue, "%q: expected a number", rec[5])
	case math.IsNaN(v) || math.IsInf(v, 0) || !(v > 0) || v > MaxValue:
		bad(ColValue, "%q: expected a positive, finite number of at most %g", rec[5], float64(MaxValue))
	}
	row.Value = v
	return row, ok
}

// figureNames lists the vocabulary's figures in report order.
func figureNames(voc Vocabulary) []string {
	var out []string
	for _, f := range voc.Order {
		if _, ok := voc.Figures[f]; ok && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	var rest []string
	for f := range voc.Figures {
		if !slices.Contains(out, f) {
			rest = append(rest, f)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// systemNames lists the systems table's names, model variants last.
func systemNames() []string {
	var out []string
	for _, s := range append(results.Systems(), results.ModelVariants()...) {
		out = append(out, s.Name)
	}
	return out
}
