package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"trenv-bench/results"
)

// table is one table of a section, as Markdown and HTML render it.
type table struct {
	title string
	note  string
	head  []string
	rows  [][]string
}

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

func fmtRatio(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	return strconv.FormatFloat(v, 'f', 2, 64) + "×"
}

func fmtGiB(v float64) string {
	if math.IsNaN(v) {
		return dash
	}
	return strconv.FormatFloat(v/gib, 'f', 2, 64)
}

func fmtFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
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

// rowsOf lists the section's functions and then AllFunctions.
func (s *Section) rowNames() []string {
	return append(append([]string(nil), s.Functions...), AllFunctions)
}

// tables builds the section's tables.
func (s *Section) tables() []table {
	labels := s.labels()
	var ts []table

	runs := table{title: "Runs",
		note: "Requests of the test phase (warmup in the last columns); flags as test.sh names them.",
		head: []string{"system", "run", "target", "status", "--mem", "--gc", "--idle-num", "--no-reuse", "--no-bgtask",
			"test requests", "ok", "failed", "abandoned", "warmup ok", "warmup failed", "warmup abandoned"}}
	for _, r := range s.Runs {
		p := r.Manifest.Platform
		status := string(r.Manifest.Status)
		if r.Manifest.Error != "" {
			status += ": " + r.Manifest.Error
		}
		runs.rows = append(runs.rows, []string{labels[r], r.Name, targetCell(r), status,
			fmtFloat(p.MemGB), fmtFloat(p.GCMin), strconv.Itoa(p.IdleNum), yesNo(p.NoReuse), yesNo(p.NoBgTask),
			strconv.Itoa(r.All.Count), strconv.Itoa(r.All.OK), strconv.Itoa(r.All.Failed), strconv.Itoa(r.All.Abandoned),
			strconv.Itoa(r.Warmup.OK), strconv.Itoa(r.Warmup.Failed), strconv.Itoa(r.Warmup.Abandoned)})
	}
	ts = append(ts, runs)

	head := []string{"function"}
	for _, r := range s.Runs {
		head = append(head, labels[r])
	}
	for _, q := range []struct {
		name string
		get  func(results.SummaryRow) float64
	}{
		{"P50", func(r results.SummaryRow) float64 { return r.P50Ms }},
		{"P99", func(r results.SummaryRow) float64 { return r.P99Ms }},
		{"P99.9", func(r results.SummaryRow) float64 { return r.P999Ms }},
	} {
		t := table{title: q.name + " end-to-end latency (ms)",
			note: "Client e2e_ms of the test phase's ok requests, nearest rank.", head: head}
		for _, fn := range s.rowNames() {
			row := []string{fn}
			for _, r := range s.Runs {
				v, _ := r.Row(fn)
				row = append(row, fmtMs(q.get(v)))
			}
			t.rows = append(t.rows, row)
		}
		ts = append(ts, t)
	}

	// Speed-ups: every run that has a T-CXL reference of its target.
	var compared []*Run
	for _, r := range s.Runs {
		if s.Reference(r) != nil {
			compared = append(compared, r)
		}
	}
	if len(compared) == 0 {
		ts = append(ts, table{title: "Speed-up of T-CXL", note: "No speed-ups: this workload has no T-CXL run to compare with (of the same target)."})
	} else {
		for _, q := range []struct {
			name string
			p99  bool
		}{{"P99", true}, {"P50", false}} {
			t := table{title: "Speed-up of T-CXL, " + q.name,
				note: "Each system's " + q.name + " ÷ T-CXL's " + q.name + " (same target): above 1×, T-CXL is faster.",
				head: []string{"function"}}
			for _, r := range compared {
				t.head = append(t.head, labels[r])
			}
			for _, fn := range s.rowNames() {
				row := []string{fn}
				for _, r := range compared {
					ref, _ := s.Reference(r).Row(fn)
					v, _ := r.Row(fn)
					p50, p99 := Speedup(ref, v)
					if q.p99 {
						row = append(row, fmtRatio(p99))
					} else {
						row = append(row, fmtRatio(p50))
					}
				}
				t.rows = append(t.rows, row)
			}
			ts = append(ts, t)
		}
	}

	kinds := table{title: "Start kinds",
		note: "How the instance serving each test-phase request was obtained (any status); unknown: the target does not say.",
		head: []string{"system", "cold", "restore", "switch", "reuse", "unknown", "requests"}}
	for _, r := range s.Runs {
		a := r.All
		unknown := a.Count - a.Cold - a.Restore - a.Switch - a.Reuse
		kinds.rows = append(kinds.rows, []string{labels[r], strconv.Itoa(a.Cold), strconv.Itoa(a.Restore),
			strconv.Itoa(a.Switch), strconv.Itoa(a.Reuse), strconv.Itoa(unknown), strconv.Itoa(a.Count)})
	}
	ts = append(ts, kinds)

	mem := table{title: "Memory",
		note: "Resident memory from memory.csv (1 Hz; the model's accounting on sim and twin), GiB = 2^30 bytes.",
		head: []string{"system", "peak GiB", "mean GiB", "samples", "over"}}
	for _, r := range s.Runs {
		m := r.Memory
		if m.Samples == 0 {
			mem.rows = append(mem.rows, []string{labels[r], dash, dash, "0", "no samples"})
			continue
		}
		over := string(m.Span)
		if m.FromS > 0 {
			over += fmt.Sprintf(", from %s s", fmtFloat(math.Round(m.FromS*1000)/1000))
		}
		mem.rows = append(mem.rows, []string{labels[r], fmtGiB(float64(m.PeakBytes)), fmtGiB(m.MeanBytes), strconv.Itoa(m.Samples), over})
	}
	ts = append(ts, mem)

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
			note: "Test phase, per function: failed / abandoned (functions with none left out).", head: head}
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

// workloadTitle names a workload for a heading.
func workloadTitle(name string) string {
	switch name {
	case "1", "2":
		return "W" + name + " (-w " + name + ")"
	case "":
		return "(unnamed workload)"
	}
	return name
}

// preamble is the text before the sections: what the numbers are.
func (r *Report) preamble() (warning string, notes []string) {
	sim, all := r.simulated()
	if sim > 0 {
		warning = fmt.Sprintf("SIMULATED: %d of %d runs ran on the platform model (target sim or twin), not on a TrEnv host. "+
			"Their numbers come from the model's calibration (sim/calibration): they check the pipeline and the policies; they are not measurements. "+
			"Their columns say [sim] or [twin].", sim, all)
	}
	notes = []string{
		"Latencies: the client's e2e_ms (upstream's e2e_latency: the successful attempt only) of the test phase's ok requests, in ms; percentiles are nearest rank.",
		"Speed-up of T-CXL: the other system's percentile ÷ T-CXL's, against the T-CXL run of the same target.",
		"(all) rows cover every function of a run together.",
	}
	return warning, notes
}

// joinCells is used where a cell must stay on one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
