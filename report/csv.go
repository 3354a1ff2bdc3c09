package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
)

// CSVColumns returns the columns of the CSV report, in order. There is one
// row per run × function of its test phase, and one per run with function
// AllFunctions; only that row carries the memory columns. Latencies are in
// ms to the microsecond, speed-ups are ratios (empty without a T-CXL run
// of the same target, and on T-CXL's own rows), memory in bytes; an empty
// cell is a value that does not exist.
//
//	workload,system,run,target,simulated,status,function,count,ok,failed,abandoned,p50_ms,p99_ms,p99.9_ms,speedup_p50,speedup_p99,cold,restore,switch,reuse,mem_peak_bytes,mem_mean_bytes,mem_span
//	1,T-CXL,w1-trenv-cxl-sim,sim,true,complete,pyaes,284,284,0,0,21.503,30.112,31.870,,,0,0,12,272,,,
func CSVColumns() []string {
	return []string{"workload", "system", "run", "target", "simulated", "status", "function",
		"count", "ok", "failed", "abandoned", "p50_ms", "p99_ms", "p99.9_ms", "speedup_p50", "speedup_p99",
		"cold", "restore", "switch", "reuse", "mem_peak_bytes", "mem_mean_bytes", "mem_span"}
}

// WriteCSV writes the report as one long CSV table (CSVColumns).
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	num := func(v float64, decimals int) string {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', decimals, 64)
	}
	if err := cw.Write(CSVColumns()); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, s := range r.Sections {
		for _, run := range s.Runs {
			ref := s.Reference(run)
			for _, fn := range append(runFunctions(run), AllFunctions) {
				v, _ := run.Row(fn)
				sp50, sp99 := "", ""
				if ref != nil {
					rv, _ := ref.Row(fn)
					a, b := Speedup(rv, v)
					sp50, sp99 = num(a, 4), num(b, 4)
				}
				rec := []string{s.Workload, run.System, run.Name, string(run.Manifest.Target), strconv.FormatBool(run.Simulated),
					string(run.Manifest.Status), fn,
					strconv.Itoa(v.Count), strconv.Itoa(v.OK), strconv.Itoa(v.Failed), strconv.Itoa(v.Abandoned),
					num(v.P50Ms, 3), num(v.P99Ms, 3), num(v.P999Ms, 3), sp50, sp99,
					strconv.Itoa(v.Cold), strconv.Itoa(v.Restore), strconv.Itoa(v.Switch), strconv.Itoa(v.Reuse),
					"", "", ""}
				if fn == AllFunctions && run.Memory.Samples > 0 {
					m := run.Memory
					rec[20], rec[21], rec[22] = strconv.FormatInt(m.PeakBytes, 10), num(m.MeanBytes, 0), string(m.Span)
				}
				if err := cw.Write(rec); err != nil {
					return fmt.Errorf("report: %w", err)
				}
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

func runFunctions(r *Run) []string {
	out := make([]string, len(r.Functions))
	for i, row := range r.Functions {
		out[i] = row.Function
	}
	return out
}
