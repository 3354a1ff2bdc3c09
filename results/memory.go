package results

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// Column names of memory.csv.
const (
	ColTimeS = "t_s"
	ColBytes = "bytes"
)

// MemoryColumns returns the column names of memory.csv, in file order:
// t_s, bytes. The result is a new slice each call.
//
//	t_s,bytes
//	0.000000,1073741824
//	1.000213,1090519040
func MemoryColumns() []string { return []string{ColTimeS, ColBytes} }

// MemorySample is one row of memory.csv.
type MemorySample struct {
	// TimeS is when the sample was taken, in seconds since the run's first
	// phase started (warmup included); finite, written to the microsecond.
	TimeS float64
	// Bytes is the resident memory at that time, in bytes (≥ 0): on a host
	// the function cgroup's memory.current, on the twin and the simulator
	// the model's accounting.
	Bytes int64
}

// MemoryWriter writes memory.csv as a run goes. Header, buffering and
// flushing work as for RequestWriter; it is not safe for concurrent use.
type MemoryWriter struct {
	// FlushInterval is how long written rows may stay in the buffer before
	// a Write flushes them. 0 means DefaultFlushInterval; a negative value
	// flushes after every row.
	FlushInterval time.Duration
	// Clock reads the time FlushInterval is measured with; nil means
	// time.Now.
	Clock func() time.Time

	sink csvSink
	rec  [2]string
}

// NewMemoryWriter returns a MemoryWriter of memory.csv to w.
func NewMemoryWriter(w io.Writer) *MemoryWriter {
	return &MemoryWriter{sink: newCSVSink(w, MemoryColumns())}
}

// Write appends the sample taken tS seconds after the run's first phase
// started, reading bytes of resident memory. tS must be finite and bytes
// non-negative (else an error wrapping ErrMissing or ErrBadValue, and
// nothing is written).
func (w *MemoryWriter) Write(tS float64, bytes int64) error {
	t, err := formatFloat(tS, secondsDecimals, true)
	if err != nil {
		return fmt.Errorf("results: writing memory sample: column %q: %w", ColTimeS, err)
	}
	if bytes < 0 {
		return fmt.Errorf("results: writing memory sample: column %q: %w: %d bytes", ColBytes, ErrBadValue, bytes)
	}
	w.rec[0], w.rec[1] = t, strconv.FormatInt(bytes, 10)
	if err := w.sink.write(w.rec[:], w.Clock, w.FlushInterval); err != nil {
		return fmt.Errorf("results: writing memory samples: %w", err)
	}
	return nil
}

// Flush writes the header if nothing was written yet, flushes the buffered
// rows, and returns the error of any earlier write or of this flush.
func (w *MemoryWriter) Flush() error {
	if err := w.sink.flush(w.Clock); err != nil {
		return fmt.Errorf("results: writing memory samples: %w", err)
	}
	return nil
}

// MemoryReader reads memory.csv row by row, like RequestReader.
type MemoryReader struct {
	src    csvSource
	sample MemorySample
}

// NewMemoryReader returns a MemoryReader of r; path names it in errors.
func NewMemoryReader(r io.Reader, path string) *MemoryReader {
	return &MemoryReader{src: newCSVSource(r, path, MemoryColumns())}
}

// Next reads the next row and reports whether there was one.
func (r *MemoryReader) Next() bool {
	if !r.src.next() {
		return false
	}
	t, err := parseFloat(r.src.rec[0], true)
	if err != nil {
		r.src.err = r.src.cellError(0, err)
		return false
	}
	s := r.src.rec[1]
	b, err := strconv.ParseInt(s, 10, 64)
	if s == "" {
		err = ErrMissing
	} else if err != nil || b < 0 {
		err = fmt.Errorf("%w: %s is not a non-negative integer", ErrBadValue, quoteCell(s))
	}
	if err != nil {
		r.src.err = r.src.cellError(1, err)
		return false
	}
	r.sample = MemorySample{TimeS: t, Bytes: b}
	return true
}

// Sample returns the row read by the last successful Next.
func (r *MemoryReader) Sample() MemorySample { return r.sample }

// Err returns the first error met, nil after a clean end of input. A
// non-nil error is a *ParseError.
func (r *MemoryReader) Err() error { return r.src.result() }
