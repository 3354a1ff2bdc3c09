package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"trenv-bench/results"
)

// table is one table of a report, as Markdown and HTML render it. A cell
// may hold several lines, split by "\n" (Markdown joins them with " · ");
// a line holding markBelow is a ratio below 1× (HTML shows it in red); a
// cell starting with markWarn is a warning (HTML: red).
type table struct {
	title string
	note  string
	head  []string
	rows  [][]string
	// links[i], if not "", is the anchor row i's first cell links to in
	// HTML.
	links []string
}

// Cell markers (see table).
const (
	// markBelow follows a ratio below 1×: T-CXL is slower, or uses more
	// memory, than the system compared.
	markBelow = "▼"
	// markWarn starts a warning cell.
	markWarn = "⚠"
)

// dash stands for a value that does not exist (no ok request, no reference).
const dash = "–"

// gib is the unit of the memory tables.
const gib = 1 << 30

// fmtMs formats milliseconds: two decimals under 10 ms, one above.
func fmtMs(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return dash
	case math.Abs(v) < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// fmtRatio formats a ratio with two decimals and "×", marked with
// markBelow when it is below 1.00× as printed.
func fmtRatio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if r, _ := strconv.ParseFloat(s, 64); r < 1 {
		return s + "× " + markBelow
	}
	return s + "×"
}

func fmtGiB(v float64) string {
	if math.IsNaN(v) {
		return dash
	}
	return strconv.FormatFloat(v/gib, 'f', 2, 64)
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// ratio is a ÷ b; NaN when either is missing or b is not positive.
func ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || !(b > 0) {
		return math.NaN()
	}
	return a / b
}

// peak is a run's peak memory in bytes, NaN without samples.
func peak(r *Run) float64 {
	if r.Memory.Samples == 0 {
		return math.NaN()
	}
	return float64(r.Memory.PeakBytes)
}

// labels returns each run's column heading: its Label, with the run's name
// added where two runs of the section share a label.
func (s *Section) labels() map[*Run]string {
	count := map[string]int{}
	for _, r := range s.Runs {
		count[r.Label()]++
	}
	out := map[*Run]string{}
	for _, r := range s.Runs {
		l := r.Label()
		if count[l] > 1 {
			l += " (" + r.Name + ")"
		}
		out[r] = l
	}
	return out
}

// targetCell describes a run's target, marking simulated ones.
func targetCell(r *Run) string {
	t := string(r.Manifest.Target)
	if t == "" {
		t = "unknown"
	}
	if r.Simulated {
		return t + " (SIMULATED)"
	}
	return t
}

// flagsCell writes a run's platform flags as test.sh takes them.
func flagsCell(p results.PlatformFlags) string {
	s := "--mem " + fmtFloat(p.MemGB) + " --gc " + fmtFloat(p.GCMin) + " --idle-num " + strconv.Itoa(p.IdleNum)
	if p.NoReuse {
		s += " --no-reuse"
	}
	if p.NoBgTask {
		s += " --no-bgtask"
	}
	return s
}

// countsCell says how requests ended: "4338 ok", "4300 ok, 38 failed".
func countsCell(ok, failed, abandoned int) string {
	s := strconv.Itoa(ok) + " ok"
	if failed > 0 {
		s += ", " + strconv.Itoa(failed) + " failed"
	}
	if abandoned > 0 {
		s += ", " + strconv.Itoa(abandoned) + " abandoned"
	}
	return s
}

// rowNames lists the section's functions and then AllFunctions.
func (s *Section) rowNames() []string {
	return append(append([]string(nil), s.Functions...), AllFunctions)
}

// tables builds the section's tables: the runs; latency of all functions
// together with T-CXL's speed-ups; start kinds and memory; P50 and P99 per
// function with speed-ups; failures when there are any. (P99.9 per
// function is in the CSV report.)
func (s *Section) tables() []table {
	labels := s.labels()
	var ts []table

	runs := table{title: "Runs",
		note: "Flags as test.sh names them; requests of the test phase and of the warmup, by how they ended.",
		head: []string{"system", "run", "target", "status", "flags", "test requests", "warmup requests"}}
	for _, r := range s.Runs {
		status := string(r.Manifest.Status)
		if r.Manifest.Error != "" {
			status += ": " + r.Manifest.Error
		}
		runs.rows = append(runs.rows, []string{labels[r], r.Name, targetCell(r), status, flagsCell(r.Manifest.Platform),
			countsCell(r.All.OK, r.All.Failed, r.All.Abandoned), countsCell(r.Warmup.OK, r.Warmup.Failed, r.Warmup.Abandoned)})
	}
	ts = append(ts, runs)

	lat := table{title: "Latency, all functions together",
		note: "Client e2e_ms of the test phase's ok requests, nearest rank, in ms. Speed-up of T-CXL: the system's percentile ÷ T-CXL's (same target); " +
			markBelow + " below 1×: T-CXL is slower.",
		head: []string{"system", "P50 ms", "P99 ms", "P99.9 ms", "speed-up P50", "speed-up P99"}}
	for _, r := range s.Runs {
		sp50, sp99 := dash, dash
		if ref := s.Reference(r); ref != nil {
			a, b := Speedup(ref.All, r.All)
			sp50, sp99 = fmtRatio(a), fmtRatio(b)
		}
		lat.rows = append(lat.rows, []string{labels[r], fmtMs(r.All.P50Ms), fmtMs(r.All.P99Ms), fmtMs(r.All.P999Ms), sp50, sp99})
	}
	if !slices.ContainsFunc(s.Runs, func(r *Run) bool { return s.Reference(r) != nil }) {
		lat.note += " No speed-ups: this workload has no T-CXL run to compare with (of the same target)."
	}
	ts = append(ts, lat)
	ts = append(ts, s.kindsMemoryTable(labels))

	for _, q := range []struct {
		name string
		get  func(results.SummaryRow) float64
	}{
		{"P50", func(r results.SummaryRow) float64 { return r.P50Ms }},
		{"P99", func(r results.SummaryRow) float64 { return r.P99Ms }},
	} {
		t := table{title: q.name + " end-to-end latency per function (ms)",
			note: "Client e2e_ms of the test phase's ok requests, nearest rank; after the ms, the speed-up of T-CXL (the system's " + q.name +
				" ÷ T-CXL's, same target; " + markBelow + " below 1×). " + AllFunctions + ": every function together.",
			head: []string{"function"}}
		for _, r := range s.Runs {
			t.head = append(t.head, labels[r])
		}
		for _, fn := range s.rowNames() {
			row := []string{fn}
			for _, r := range s.Runs {
				v, _ := r.Row(fn)
				cell := fmtMs(q.get(v))
				if ref := s.Reference(r); ref != nil && cell != dash {
					rv, _ := ref.Row(fn)
					cell += " · " + fmtRatio(ratio(q.get(v), q.get(rv)))
				}
				row = append(row, cell)
			}
			t.rows = append(t.rows, row)
		}
		ts = append(ts, t)
	}

	var bad []string
	for _, fn := range s.Functions {
		for _, r := range s.Runs {
			if v, _ := r.Row(fn); v.Failed+v.Abandoned > 0 {
				bad = append(bad, fn)
				break
			}
		}
	}
	if len(bad) > 0 {
		t := table{title: "Failed and abandoned requests",
			note: "Test phase, per function: failed / abandoned (functions with none left out).", head: []string{"function"}}
		for _, r := range s.Runs {
			t.head = append(t.head, labels[r])
		}
		for _, fn := range append(bad, AllFunctions) {
			row := []string{fn}
			for _, r := range s.Runs {
				v, _ := r.Row(fn)
				row = append(row, strconv.Itoa(v.Failed)+" / "+strconv.Itoa(v.Abandoned))
			}
			t.rows = append(t.rows, row)
		}
		ts = append(ts, t)
	}
	return ts
}

// shortSpan names a memory span in a table cell.
func shortSpan(m Memory) string {
	switch m.Span {
	case SpanTest:
		return "test phase"
	case SpanWholeRun:
		return "whole run"
	}
	return "no samples"
}

// kindsMemoryTable is the start-kind mix and memory of each run.
func (s *Section) kindsMemoryTable(labels map[*Run]string) table {
	t := table{title: "Start kinds and memory",
		note: "How the instance serving each test-phase request was obtained (any status; unknown: the target does not say), " +
			"and resident memory from memory.csv (1 Hz; the model's accounting on sim and twin), GiB = 2^30 bytes; " +
			"peak ÷ T-CXL's: above 1×, T-CXL uses less (" + markBelow + " below 1×: more).",
		head: []string{"system", "cold", "restore", "switch", "reuse", "unknown", "peak GiB", "mean GiB", "peak ÷ T-CXL's"}}
	spans := map[Span]bool{}
	for _, r := range s.Runs {
		spans[r.Memory.Span] = true
	}
	perRun := len(spans) > 1
	if perRun {
		t.head = append(t.head, "memory over")
	} else {
		for sp := range spans {
			if sp != SpanNone {
				t.note += " Memory over the " + string(sp) + "."
			}
		}
	}
	for _, r := range s.Runs {
		a := r.All
		unknown := a.Count - a.Cold - a.Restore - a.Switch - a.Reuse
		rel := dash
		if ref := s.Reference(r); ref != nil {
			rel = fmtRatio(ratio(peak(r), peak(ref)))
		}
		row := []string{labels[r], strconv.Itoa(a.Cold), strconv.Itoa(a.Restore), strconv.Itoa(a.Switch), strconv.Itoa(a.Reuse),
			strconv.Itoa(unknown), fmtGiB(peak(r)), fmtGiB(r.Memory.MeanBytes), rel}
		if perRun {
			over := shortSpan(r.Memory)
			if r.Memory.FromS > 0 {
				over += fmt.Sprintf(", from %s s", fmtFloat(math.Round(r.Memory.FromS*1000)/1000))
			}
			row = append(row, over)
		}
		t.rows = append(t.rows, row)
	}
	return t
}

// problems lists the section's notes and the runs' unreadable files.
func (s *Section) problems() []string {
	out := append([]string(nil), s.Notes...)
	for _, r := range s.Runs {
		for _, p := range r.Problems {
			out = append(out, r.Name+": "+p)
		}
	}
	return out
}

// synthetic reports whether any run of the section replayed invented
// trace data.
func (s *Section) synthetic() bool {
	return slices.ContainsFunc(s.Runs, func(r *Run) bool { return r.Manifest.Workload.SyntheticData() })
}

// sources says where the section's data came from: one line when every
// run says the same, else a line per source naming its runs.
func (s *Section) sources() []string {
	labels := s.labels()
	type src struct {
		text string
		runs []string
	}
	var srcs []src
	for _, r := range s.Runs {
		t := r.Manifest.Workload.DataSource()
		if t == "" {
			t = "not recorded in the manifests"
		}
		i := slices.IndexFunc(srcs, func(x src) bool { return x.text == t })
		if i < 0 {
			srcs = append(srcs, src{text: t})
			i = len(srcs) - 1
		}
		srcs[i].runs = append(srcs[i].runs, labels[r])
	}
	if len(srcs) == 1 {
		return []string{"Data: " + srcs[0].text + "."}
	}
	var out []string
	for _, x := range srcs {
		out = append(out, "Data of "+strings.Join(x.runs, ", ")+": "+x.text+".")
	}
	return out
}

// workloadTitle names a workload for a heading.
func workloadTitle(name string) string {
	switch name {
	case "1", "2":
		return "W" + name + " (-w " + name + ")"
	case "huawei":
		return "Huawei (-w huawei)"
	case "azure":
		return "Azure (-w azure)"
	case "":
		return "(unnamed workload)"
	}
	return name
}

// baselines are the systems the summary compares T-CXL with, in order:
// those of systemOrder that some section has, then any others; not the
// model variants (Figure 14's steps), which their own sections compare.
func (r *Report) baselines() []string {
	var out []string
	for _, s := range r.Sections {
		for _, run := range s.Runs {
			if run.Manifest.ModelVariant != "" {
				continue
			}
			if run.System != SystemTCXL && !slices.Contains(out, run.System) {
				out = append(out, run.System)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b string) int { return systemRank(a) - systemRank(b) })
	return out
}

// summary is the report's first table: a row per workload (and target)
// with a T-CXL run, T-CXL's own figures, and its speed-ups and memory
// against each other system.
func (r *Report) summary() table {
	base := r.baselines()
	t := table{title: "Summary: T-CXL against each system",
		note: "Per workload, all functions together: T-CXL's P50 and P99 end-to-end latency and peak memory; against each other system, " +
			"that system's P50 and P99 ÷ T-CXL's (the speed-up) and its peak memory ÷ T-CXL's (above 1×: T-CXL uses less). " +
			markBelow + " marks a value below 1×: there T-CXL is slower or uses more memory. Same target only; – no run.",
		head: []string{"workload", "data", SystemTCXL}}
	for _, b := range base {
		t.head = append(t.head, "vs "+b)
	}
	targets := map[results.Target]bool{}
	for _, run := range r.Runs() {
		targets[run.Manifest.Target] = true
	}
	for i, s := range r.Sections {
		var refs []*Run
		for _, run := range s.Runs {
			if run.System == SystemTCXL && !slices.ContainsFunc(refs, func(x *Run) bool { return x.Manifest.Target == run.Manifest.Target }) {
				refs = append(refs, run)
			}
		}
		data := "no dataset"
		switch {
		case s.synthetic():
			data = markWarn + " synthetic sample (invented content)"
		case slices.ContainsFunc(s.Runs, func(x *Run) bool { return len(x.Manifest.Workload.DatasetFiles) > 0 }):
			data = "dataset (files and sha256 in its section)"
		case slices.ContainsFunc(s.Runs, func(x *Run) bool { return x.Manifest.Workload.GeneratorSeed != nil }):
			data = "generated"
		}
		if len(refs) == 0 {
			row := []string{workloadTitle(s.Workload), data, "no T-CXL run"}
			for range base {
				row = append(row, dash)
			}
			t.rows = append(t.rows, row)
			t.links = append(t.links, sectionID(i))
			continue
		}
		for _, ref := range refs {
			name := workloadTitle(s.Workload)
			if len(targets) > 1 {
				name += " [" + string(ref.Manifest.Target) + "]"
			}
			row := []string{name, data, "P50 " + fmtMs(ref.All.P50Ms) + " ms\nP99 " + fmtMs(ref.All.P99Ms) + " ms\npeak " + fmtGiB(peak(ref)) + " GiB"}
			for _, b := range base {
				i := slices.IndexFunc(s.Runs, func(x *Run) bool { return x.System == b && x.Manifest.Target == ref.Manifest.Target })
				if i < 0 {
					row = append(row, dash)
					continue
				}
				o := s.Runs[i]
				p50, p99 := Speedup(ref.All, o.All)
				row = append(row, "P50 "+fmtRatio(p50)+"\nP99 "+fmtRatio(p99)+"\nmem "+fmtRatio(ratio(peak(o), peak(ref))))
			}
			t.rows = append(t.rows, row)
			t.links = append(t.links, sectionID(i))
		}
	}
	return t
}

// sectionID is the HTML anchor of section i.
func sectionID(i int) string { return "w" + strconv.Itoa(i) }

// preamble is the text before the summary: the warnings (simulated runs,
// invented data), one line each.
func (r *Report) preamble() (warnings []string) {
	sim, all := r.simulated()
	if sim > 0 {
		warnings = append(warnings, fmt.Sprintf("SIMULATED: %d of %d runs ran on the platform model (target sim or twin), not on a TrEnv host. "+
			"Their numbers come from the model's calibration (sim/calibration): they check the pipeline and the policies; they are not measurements. "+
			"Their columns say [sim] or [twin].", sim, all))
	}
	var synth []string
	for _, s := range r.Sections {
		if s.synthetic() {
			synth = append(synth, workloadTitle(s.Workload))
		}
	}
	switch len(synth) {
	case 0:
	case 1:
		warnings = append(warnings, "SYNTHETIC SAMPLE (invented content): the workload "+synth[0]+
			" was generated from invented trace data (the built-in sample, or a dataset traces synth wrote), not from the real trace. "+
			"Pass the real datasets with reproduce --azure-dataset / --huawei-dataset (run --dataset).")
	default:
		warnings = append(warnings, "SYNTHETIC SAMPLE (invented content): the workloads "+strings.Join(synth[:len(synth)-1], ", ")+" and "+synth[len(synth)-1]+
			" were generated from invented trace data (the built-in samples, or datasets traces synth wrote), not from the real traces. "+
			"Pass the real datasets with reproduce --azure-dataset / --huawei-dataset (run --dataset).")
	}
	return warnings
}

// notes are the report's definitions, after the summary.
func notes() []string {
	return []string{
		"Latencies: the client's e2e_ms (upstream's e2e_latency: the successful attempt only) of the test phase's ok requests, in ms; percentiles are nearest rank.",
		"Speed-up of T-CXL: the other system's percentile ÷ T-CXL's, against the T-CXL run of the same target; " + markBelow + " marks values below 1×.",
		AllFunctions + " rows cover every function of a run together.",
	}
}

// joinCells is used where a cell must stay on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// about is the report's provenance: which tool, command, dates, seeds,
// calibration and hosts the runs had, distinct values joined.
func (r *Report) about() table {
	t := table{title: "About these runs",
		note: "What the runs' manifests record (manifest.json in each run directory); where each workload's data came from is in its section.",
		head: []string{"recorded", "value"}}
	var tools, commands, seeds, gens, cals, hosts []string
	add := func(list *[]string, s string) {
		if s != "" && !slices.Contains(*list, s) {
			*list = append(*list, s)
		}
	}
	genOf := map[string][]string{}
	var first, last string
	var noCal int
	runs := r.Runs()
	for _, run := range runs {
		m := &run.Manifest
		add(&tools, m.ToolVersion)
		if len(m.CommandLine) > 0 {
			args := append([]string{baseName(m.CommandLine[0])}, m.CommandLine[1:]...)
			add(&commands, strings.Join(args, " "))
		}
		sd := "jitter " + strconv.FormatUint(m.Seeds.Jitter, 10)
		if m.Seeds.Model != nil {
			sd += ", model " + strconv.FormatUint(*m.Seeds.Model, 10)
		}
		add(&seeds, sd)
		if g := m.Workload.GeneratorSeed; g != nil {
			k := strconv.FormatUint(*g, 10)
			add(&gens, k)
			if w := workloadTitle(m.Workload.Name); !slices.Contains(genOf[k], w) {
				genOf[k] = append(genOf[k], w)
			}
		}
		if m.CalibrationSHA256 != "" {
			add(&cals, m.CalibrationSHA256)
		} else {
			noCal++
		}
		h := m.Host
		host := h.OS + "/" + h.Arch
		if h.CPUModel != "" {
			host += ", " + h.CPUModel
		}
		if h.Cores > 0 {
			host += ", " + strconv.Itoa(h.Cores) + " cores"
		}
		if h.MemoryBytes > 0 {
			host += ", " + fmtGiB(float64(h.MemoryBytes)) + " GiB"
		}
		if h.Kernel != "" {
			host += ", kernel " + h.Kernel
		}
		add(&hosts, host)
		const layout = "2006-01-02 15:04:05 MST"
		if !m.StartedAt.IsZero() {
			if s := m.StartedAt.UTC().Format(layout); first == "" || s < first {
				first = s
			}
		}
		if !m.EndedAt.IsZero() {
			if s := m.EndedAt.UTC().Format(layout); s > last {
				last = s
			}
		}
	}
	for i, g := range gens {
		gens[i] = g + " (" + strings.Join(genOf[g], ", ") + ")"
	}
	join := func(xs []string) string {
		if len(xs) == 0 {
			return "not recorded"
		}
		return strings.Join(xs, "\n")
	}
	when := "not recorded"
	if first != "" || last != "" {
		when = first + " to " + last
	}
	cal := join(cals)
	if noCal > 0 && len(cals) > 0 {
		cal += fmt.Sprintf("\n(not recorded for %d of %d runs)", noCal, len(runs))
	}
	t.rows = [][]string{
		{"runs", strconv.Itoa(len(runs))},
		{"tool version", join(tools)},
		{"command", join(commands)},
		{"started and ended", when},
		{"seeds of the runs", join(seeds)},
		{"generator seeds", join(gens)},
		{"calibration sha256", cal},
		{"host", join(hosts)},
	}
	return t
}

// baseName is the last element of a slash-separated path.
func baseName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
