package results

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// ColUtilization is the value column of cpu.csv.
const ColUtilization = "utilization"

// CPUColumns returns the column names of cpu.csv, in file order: t_s,
// utilization. The result is a new slice each call.
//
//	t_s,utilization
//	1.000000,0.4375
//	2.000000,0.5000
//
// t_s is the run clock (as memory.csv's); utilization is the share of all
// the host's cores that were busy over the second before t_s, 0 to 1, as
// /proc/stat counts it (user, nice, system, irq, softirq and steal time over
// all time but guest time). A host run samples the TrEnv host; on a gateway
// run it is the machine the harness runs on. On a sim or twin run it is the
// platform model's host: the share of its hardware threads the model's
// start-ups and executions kept busy (a twin's over the wall second
// before, in model time).
func CPUColumns() []string { return []string{ColTimeS, ColUtilization} }

// CPUSample is one row of cpu.csv.
type CPUSample struct {
	TimeS       float64
	Utilization float64
}

// CPUWriter writes cpu.csv as a run goes. Header, buffering and flushing
// work as for RequestWriter; it is not safe for concurrent use.
type CPUWriter struct {
	// FlushInterval and Clock are as MemoryWriter's.
	FlushInterval time.Duration
	Clock         func() time.Time

	sink csvSink
	rec  [2]string
}

// NewCPUWriter returns a CPUWriter of cpu.csv to w.
func NewCPUWriter(w io.Writer) *CPUWriter {
	return &CPUWriter{sink: newCSVSink(w, CPUColumns())}
}

// Write appends a sample. tS must be finite and utilization in [0, 1]
// (else an error wrapping ErrMissing or ErrBadValue, and nothing is
// written).
func (w *CPUWriter) Write(tS, utilization float64) error {
	t, err := formatFloat(tS, secondsDecimals, true)
	if err != nil {
		return fmt.Errorf("results: writing CPU sample: column %q: %w", ColTimeS, err)
	}
	if !(utilization >= 0 && utilization <= 1) {
		return fmt.Errorf("results: writing CPU sample: column %q: %w: %v, want 0 to 1", ColUtilization, ErrBadValue, utilization)
	}
	w.rec[0], w.rec[1] = t, strconv.FormatFloat(math.Round(utilization*1e4)/1e4, 'f', 4, 64)
	if err := w.sink.write(w.rec[:], w.Clock, w.FlushInterval); err != nil {
		return fmt.Errorf("results: writing CPU samples: %w", err)
	}
	return nil
}

// Flush writes the header if nothing was written yet, flushes the buffered
// rows, and returns the error of any earlier write or of this flush.
func (w *CPUWriter) Flush() error {
	if err := w.sink.flush(w.Clock); err != nil {
		return fmt.Errorf("results: writing CPU samples: %w", err)
	}
	return nil
}

// CPUReader reads cpu.csv row by row, like RequestReader.
type CPUReader struct {
	src    csvSource
	sample CPUSample
}

// NewCPUReader returns a CPUReader of r; path names it in errors.
func NewCPUReader(r io.Reader, path string) *CPUReader {
	return &CPUReader{src: newCSVSource(r, path, CPUColumns())}
}

// Next reads the next row and reports whether there was one.
func (r *CPUReader) Next() bool {
	if !r.src.next() {
		return false
	}
	t, err := parseFloat(r.src.rec[0], true)
	if err != nil {
		r.src.err = r.src.cellError(0, err)
		return false
	}
	u, err := parseFloat(r.src.rec[1], true)
	if err == nil && !(u >= 0 && u <= 1) {
		err = fmt.Errorf("%w: %s, want 0 to 1", ErrBadValue, quoteCell(r.src.rec[1]))
	}
	if err != nil {
		r.src.err = r.src.cellError(1, err)
		return false
	}
	r.sample = CPUSample{TimeS: t, Utilization: u}
	return true
}

// Sample returns the row read by the last successful Next.
func (r *CPUReader) Sample() CPUSample { return r.sample }

// Err returns the first error met, nil after a clean end of input. A
// non-nil error is a *ParseError.
func (r *CPUReader) Err() error { return r.src.result() }
