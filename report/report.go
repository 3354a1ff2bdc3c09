// Package report compares runs: it reads run directories (manifest.json,
// requests.csv, memory.csv, test.log) and writes a report that sets the
// systems of each workload side by side, as Markdown, CSV or one
// self-contained HTML page.
//
// A report opens with warnings (runs on the platform model; workloads
// generated from invented trace data) and a one-screen summary: per
// workload, T-CXL's P50/P99 and peak memory and, against each other system
// of the paper (not Figure 14's model variants), its speed-ups and memory
// ratio, values below 1× marked ▼. Then one
// section per workload (in Order's order), each saying where its data came
// from (results.WorkloadInfo.DataSource: dataset files and sha256, or the
// synthetic sample) and, when it has runs of model variants, that they
// restate the calibration (results.ModelVariantsNote), showing its figures
// with their captions, and these tables:
//
//   - the runs: target, status, flags, requests by how they ended;
//   - P50, P99 and P99.9 of all functions together and T-CXL's speed-ups:
//     the client's e2e_ms over the test phase's ok requests (upstream's
//     e2e_latency: the successful attempt only), nearest rank
//     (results.Percentile); a speed-up is the other system's percentile ÷
//     T-CXL's (above 1: T-CXL is faster), against the T-CXL run of the
//     same target;
//   - the start-kind mix (cold, restore, switch, reuse) and peak and mean
//     resident memory from memory.csv over the test phase when its start
//     can be told (Span says how), else over the whole run;
//   - P50 and P99 per function, each with T-CXL's speed-up;
//   - failed and abandoned requests, when there are any.
//
// It closes with what the manifests record: tool version, command, dates,
// seeds, calibration digest, host. The CSV report is one long table, a row
// per run × function (P99.9 per function is there).
//
// Runs of target sim or twin are marked as simulated wherever they appear.
//
//	dirs, _ := results.FindRunDirs([]string{"runs/reproduce"})
//	r, _ := report.Load(dirs)
//	r.WriteMarkdown(os.Stdout)
//
// It imports results only.
package report

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"trenv-bench/results"
)

// AllFunctions is the function name of the rows that cover every function
// of a run together.
const AllFunctions = results.AllFunctions

// Formats a report can be written in (Write).
const (
	FormatMarkdown = "md"
	FormatCSV      = "csv"
	FormatHTML     = "html"
)

// Formats lists the formats, the default first.
func Formats() []string { return []string{FormatMarkdown, FormatCSV, FormatHTML} }

// ErrFormat is wrapped when a format is not one of Formats.
var ErrFormat = errors.New("report: unknown format")

// The systems' names (results.SystemName), re-exported for readers of
// report tables.
const (
	SystemTCXL    = results.SystemTCXL
	SystemTRDMA   = results.SystemTRDMA
	SystemFaasd   = results.SystemFaasd
	SystemCRIU    = results.SystemCRIU
	SystemLazy    = results.SystemLazy
	SystemFaaSnap = results.SystemFaaSnap
	SystemREAP    = results.SystemREAP
)

// SystemName is results.SystemName.
func SystemName(method, pool string) string { return results.SystemName(method, pool) }

// systemRank is the system's place in results' order of systems; unknown
// systems last.
func systemRank(name string) int {
	s, _ := results.SystemNamed(name)
	return s.Rank()
}

func targetRank(t results.Target) int {
	switch t {
	case results.TargetHost:
		return 0
	case results.TargetTwin:
		return 1
	case results.TargetSim:
		return 2
	}
	return 3
}

// Span says which samples of memory.csv the memory figures cover.
type Span string

// The spans of Memory.
const (
	// SpanNone: memory.csv is missing or has no samples.
	SpanNone Span = ""
	// SpanTest: the test phase, as the manifest's phases bound it.
	SpanTest Span = "test phase"
	// SpanWholeRun: every sample: the test phase did not start.
	SpanWholeRun Span = "whole run (the test phase did not start)"
)

// Memory sums up memory.csv over a span.
type Memory struct {
	Span Span
	// FromS is the start of the span, in seconds since the run started;
	// the span runs to the last sample.
	FromS float64
	// Samples is the number of samples in the span (1 Hz).
	Samples int
	// PeakBytes is the largest sample; MeanBytes the mean of the samples
	// (a time average, samples being 1 s apart). 0 and NaN with no samples.
	PeakBytes int64
	MeanBytes float64
}

// Run is one run directory, summed up from results' run loader.
type Run struct {
	// Dir is the run directory's path, Name its last element.
	Dir, Name string
	Manifest  results.Manifest
	// System is SystemName of the manifest's method and pool.
	System string
	// Simulated: the target was sim or twin (the platform model).
	Simulated bool
	// Functions holds the test phase per function, sorted by name:
	// counts by status and start kind, and nearest-rank percentiles of
	// e2e_ms over the ok requests (NaN when none).
	Functions []results.SummaryRow
	// All is the test phase over every function (Function AllFunctions).
	All results.SummaryRow
	// Warmup counts the warmup phase's requests by status.
	Warmup results.RequestCounts
	Memory Memory
	// Problems are files that could not be read completely: the figures
	// cover what was read before the error.
	Problems []string
}

// Label is the run's column heading: its system, with the target in
// brackets when simulated ("T-CXL [sim]").
func (r *Run) Label() string {
	if r.Simulated {
		return r.System + " [" + string(r.Manifest.Target) + "]"
	}
	return r.System
}

// Row returns the test-phase row of function (AllFunctions for all).
func (r *Run) Row(function string) (results.SummaryRow, bool) {
	if function == AllFunctions {
		return r.All, true
	}
	i, ok := slices.BinarySearchFunc(r.Functions, function, func(row results.SummaryRow, fn string) int {
		return strings.Compare(row.Function, fn)
	})
	if !ok {
		return results.SummaryRow{Function: function}, false
	}
	return r.Functions[i], true
}

// Section is the runs of one workload.
type Section struct {
	// Workload is the manifests' workload name ("1", "azure", …).
	Workload string
	// Runs are sorted by system (T-CXL, T-RDMA, faasd, CRIU, CRIU-lazy,
	// FaaSnap+, REAP+, others), then target (host, twin, sim), then name.
	Runs []*Run
	// Functions is every function any run's test phase invoked, sorted.
	Functions []string
	// Notes are remarks on the section (runs that replayed different
	// workloads under one name).
	Notes []string
}

// Reference returns the run run is compared with: the first T-CXL run of
// the section with the same target; nil if there is none, or run is it.
func (s *Section) Reference(run *Run) *Run {
	for _, r := range s.Runs {
		if r.System == SystemTCXL && r.Manifest.Target == run.Manifest.Target {
			if r == run {
				return nil
			}
			return r
		}
	}
	return nil
}

// Speedup returns the speed-up of ref over other for one function: other's
// P50 ÷ ref's P50 and other's P99 ÷ ref's P99. NaN when a value is missing
// or ref's is not positive.
func Speedup(ref, other results.SummaryRow) (p50, p99 float64) {
	ratio := func(a, b float64) float64 {
		if math.IsNaN(a) || math.IsNaN(b) || !(b > 0) {
			return math.NaN()
		}
		return a / b
	}
	return ratio(other.P50Ms, ref.P50Ms), ratio(other.P99Ms, ref.P99Ms)
}

// Figure is an image shown with the report.
type Figure struct {
	// Name is the figure's name: the file name without extension
	// ("fig10a"); its anchor in the HTML page.
	Name string
	// Title heads the figure ("Figure 10(a)"); "" = Name.
	Title string
	// Caption says what the figure shows; "" = none.
	Caption string
	// Workloads are the manifest workload names the figure draws: it is
	// shown in the section of the first of them the report has, and the
	// sections of the others point to it. A figure of none of the
	// report's workloads is shown after the sections.
	Workloads []string
	// Path is where the file is, as the Markdown report links it.
	Path string
	// Data and MediaType are the file's content and type (image/png,
	// image/svg+xml); the HTML page inlines them as a data URI.
	Data      []byte
	MediaType string
}

// heading is the figure's title, or its name.
func (f *Figure) heading() string {
	if f.Title != "" {
		return f.Title
	}
	return f.Name
}

// LoadFigure reads an image file for the report: PNG, SVG, JPEG or GIF,
// by extension.
func LoadFigure(path string) (Figure, error) {
	types := map[string]string{".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif"}
	ext := strings.ToLower(filepath.Ext(path))
	mt, ok := types[ext]
	if !ok {
		return Figure{}, fmt.Errorf("report: figure %s: expected a .png, .svg, .jpg or .gif file", path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Figure{}, fmt.Errorf("report: figure: %w", err)
	}
	return Figure{Name: strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), Path: path, Data: data, MediaType: mt}, nil
}

// Report is a set of runs grouped by workload.
type Report struct {
	// Title heads the report; "" = DefaultTitle.
	Title    string
	Sections []*Section
	// Figures are shown with the tables: linked from Markdown, inlined in
	// HTML, absent from CSV.
	Figures []Figure
}

// DefaultTitle is the title of a report without one.
const DefaultTitle = "trenv-bench report"

func (r *Report) title() string {
	if r.Title == "" {
		return DefaultTitle
	}
	return r.Title
}

// Runs returns every run of the report, section by section.
func (r *Report) Runs() []*Run {
	var runs []*Run
	for _, s := range r.Sections {
		runs = append(runs, s.Runs...)
	}
	return runs
}

// simulated counts the simulated runs.
func (r *Report) simulated() (sim, all int) {
	for _, run := range r.Runs() {
		all++
		if run.Simulated {
			sim++
		}
	}
	return sim, all
}

// Write writes the report in format (one of Formats).
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatMarkdown, "":
		return r.WriteMarkdown(w)
	case FormatCSV:
		return r.WriteCSV(w)
	case FormatHTML:
		return r.WriteHTML(w)
	}
	return fmt.Errorf("%w %q: expected one of %s", ErrFormat, format, strings.Join(Formats(), ", "))
}

// Order puts the sections of the workloads named in order first, in that
// order (reproduce's: see experiments.WorkloadOrder); the others follow
// in their present order.
func (r *Report) Order(order []string) {
	rank := func(s *Section) int {
		if i := slices.Index(order, s.Workload); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(r.Sections, func(a, b *Section) int { return rank(a) - rank(b) })
}

// Load reads the run directories and groups them by workload, sections in
// order of each workload's first run in dirs (Order reorders them). The
// shards of a sharded experiment are one run (results.LoadRuns).
func Load(dirs []string) (*Report, error) {
	rep := &Report{}
	byName := map[string]*Section{}
	rrs, err := results.LoadRuns(dirs)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	for _, rr := range rrs {
		run := newRun(rr)
		wl := run.Manifest.Workload.Name
		s, ok := byName[wl]
		if !ok {
			s = &Section{Workload: wl}
			byName[wl] = s
			rep.Sections = append(rep.Sections, s)
		}
		s.Runs = append(s.Runs, run)
	}
	for _, s := range rep.Sections {
		s.finish()
	}
	return rep, nil
}

func (s *Section) finish() {
	slices.SortStableFunc(s.Runs, func(a, b *Run) int {
		if c := systemRank(a.System) - systemRank(b.System); c != 0 {
			return c
		}
		if c := strings.Compare(a.System, b.System); c != 0 {
			return c
		}
		if c := targetRank(a.Manifest.Target) - targetRank(b.Manifest.Target); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	fns := map[string]bool{}
	digests := map[string]bool{}
	for _, r := range s.Runs {
		for _, row := range r.Functions {
			fns[row.Function] = true
		}
		if d := r.Manifest.Workload.TestSHA256; d != "" {
			digests[d] = true
		}
	}
	for fn := range fns {
		s.Functions = append(s.Functions, fn)
	}
	slices.Sort(s.Functions)
	if len(digests) > 1 {
		s.Notes = append(s.Notes, fmt.Sprintf("these runs replayed %d different test workloads under the name %q (workload_json_sha256 differs): compare with care", len(digests), s.Workload))
	}
	var variants []string
	for _, r := range s.Runs {
		if r.Manifest.ModelVariant != "" {
			variants = append(variants, r.Name)
		}
	}
	if len(variants) > 0 {
		s.Notes = append(s.Notes, "Model variants ("+strings.Join(variants, ", ")+"): "+results.ModelVariantsNote)
	}
}

// LoadRun reads one run directory through results.LoadRun: manifest.json
// (required), requests.csv and memory.csv. A missing or cut-short
// requests.csv or memory.csv is recorded in Problems, not returned as an
// error.
func LoadRun(dir string) (*Run, error) {
	rr, err := results.LoadRun(dir)
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return newRun(rr), nil
}

// newRun reads what a report needs of a loaded run.
func newRun(rr *results.Run) *Run {
	m := rr.Manifest
	run := &Run{Dir: rr.Dir, Name: rr.Name, Manifest: *m, System: rr.System(), Simulated: rr.Simulated()}
	d, err := rr.Requests()
	run.Functions, run.All, run.Warmup = d.Test, d.All, d.Warmup
	if err != nil {
		run.Problems = append(run.Problems, err.Error())
	}
	if err := run.sumMemory(rr); err != nil && !errors.Is(err, fs.ErrNotExist) { // a host run may have no samples
		run.Problems = append(run.Problems, err.Error())
	}
	return run
}

// sumMemory sums up memory.csv over the test phase, or over the whole run
// when the test phase did not start.
func (r *Run) sumMemory(rr *results.Run) error {
	r.Memory = Memory{MeanBytes: math.NaN()}
	all, err := rr.Memory()
	span, from, to := SpanWholeRun, math.Inf(-1), math.Inf(1)
	if start, end, ok := rr.TestWindow(); ok {
		span, from, to = SpanTest, start, end
	}
	var sum float64
	for _, s := range all {
		// A sample on a boundary belongs to the test phase: the simulator
		// samples on whole seconds.
		if s.TimeS < from-1e-6 || s.TimeS > to+1e-6 {
			continue
		}
		r.Memory.Samples++
		r.Memory.PeakBytes = max(r.Memory.PeakBytes, s.Bytes)
		sum += float64(s.Bytes)
	}
	if r.Memory.Samples > 0 {
		r.Memory.Span, r.Memory.FromS = span, max(from, 0)
		r.Memory.MeanBytes = sum / float64(r.Memory.Samples)
	}
	return err
}

// homeOf is the index of the section a figure is shown in: the first
// section whose workload the figure draws; -1 if none.
func (r *Report) homeOf(f *Figure) int {
	return slices.IndexFunc(r.Sections, func(s *Section) bool { return slices.Contains(f.Workloads, s.Workload) })
}

// placeFigures says where each figure goes: in[i] are shown in section i,
// refs[i] are shown elsewhere but draw section i's workload too, rest
// draw none of the report's workloads. Figures keep their order.
func (r *Report) placeFigures() (in, refs map[int][]*Figure, rest []*Figure) {
	in, refs = map[int][]*Figure{}, map[int][]*Figure{}
	for i := range r.Figures {
		f := &r.Figures[i]
		home := r.homeOf(f)
		if home < 0 {
			rest = append(rest, f)
			continue
		}
		in[home] = append(in[home], f)
		for j, s := range r.Sections {
			if j != home && slices.Contains(f.Workloads, s.Workload) {
				refs[j] = append(refs[j], f)
			}
		}
	}
	return in, refs, rest
}
