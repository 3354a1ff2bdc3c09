package results

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// DefaultFlushInterval is how long a RequestWriter or MemoryWriter may hold
// written rows in its buffer before a Write flushes them: a crash loses at
// most about this much of the records (DESIGN.md, "File formats").
const DefaultFlushInterval = time.Second

// csvSink is the part the CSV writers share: a csv.Writer that writes the
// header before the first row or flush and flushes when the flush interval
// has passed since the last flush.
type csvSink struct {
	cw        *csv.Writer
	header    []string
	started   bool      // header written, lastFlush set
	lastFlush time.Time // clock reading at the last flush
}

func newCSVSink(w io.Writer, header []string) csvSink {
	return csvSink{cw: csv.NewWriter(w), header: header}
}

// write buffers rec, and flushes when this is the first row or when interval
// (0: DefaultFlushInterval; < 0: every row) has passed since the last flush,
// as read on clock (nil: time.Now).
func (s *csvSink) write(rec []string, clock func() time.Time, interval time.Duration) error {
	first := !s.started
	if first {
		if err := s.cw.Write(s.header); err != nil {
			return err
		}
	}
	if err := s.cw.Write(rec); err != nil {
		return err
	}
	if interval == 0 {
		interval = DefaultFlushInterval
	}
	now := readClock(clock)
	if first || interval < 0 || now.Sub(s.lastFlush) >= interval {
		return s.flushAt(now)
	}
	return nil
}

// flush writes the header if no row was written yet, then flushes.
func (s *csvSink) flush(clock func() time.Time) error {
	if !s.started {
		if err := s.cw.Write(s.header); err != nil {
			return err
		}
	}
	return s.flushAt(readClock(clock))
}

func (s *csvSink) flushAt(now time.Time) error {
	s.started = true
	s.lastFlush = now
	s.cw.Flush()
	return s.cw.Error()
}

func readClock(clock func() time.Time) time.Time {
	if clock == nil {
		return time.Now()
	}
	return clock()
}

// csvSource is the part the CSV readers share: a csv.Reader that checks the
// header and the field count of every row and turns every problem into a
// *ParseError.
type csvSource struct {
	cr     *csv.Reader
	path   string
	header []string
	rec    []string
	err    error // sticky; io.EOF after a clean end
	start  bool  // header checked
}

func newCSVSource(r io.Reader, path string, header []string) csvSource {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1 // checked here, to report it as ErrFieldCount
	cr.ReuseRecord = true
	return csvSource{cr: cr, path: path, header: header}
}

// next reads the next data row into s.rec, checking the header first. It
// reports false at the end of the input or on the first error, kept in s.err.
func (s *csvSource) next() bool {
	if s.err != nil {
		return false
	}
	if !s.start {
		s.start = true
		rec, ok := s.read()
		if !ok {
			if s.err == io.EOF {
				s.err = s.errorf(1, "", "%w: empty input, want %q", ErrHeader, strings.Join(s.header, ","))
			}
			return false
		}
		if err := s.checkHeader(rec); err != nil {
			s.err = err
			return false
		}
	}
	rec, ok := s.read()
	if !ok {
		return false
	}
	if len(rec) != len(s.header) {
		s.err = s.errorf(s.line(0), "", "%w: %d fields, want %d", ErrFieldCount, len(rec), len(s.header))
		return false
	}
	s.rec = rec
	return true
}

func (s *csvSource) read() ([]string, bool) {
	rec, err := s.cr.Read()
	if err == nil {
		return rec, true
	}
	if err == io.EOF {
		s.err = io.EOF
		return nil, false
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		s.err = s.errorf(pe.Line, "", "%w: at byte %d of the line: %w", ErrSyntax, pe.Column, pe.Err)
	} else {
		s.err = &ParseError{Path: s.path, Err: err} // an I/O error of the underlying reader
	}
	return nil, false
}

func (s *csvSource) checkHeader(rec []string) error {
	for i, name := range s.header {
		if i >= len(rec) || rec[i] != name {
			return s.errorf(1, name, "%w: got %s, want %q", ErrHeader,
				quoteCell(strings.Join(rec, ",")), strings.Join(s.header, ","))
		}
	}
	if len(rec) != len(s.header) {
		return s.errorf(1, "", "%w: got %s, want %q", ErrHeader,
			quoteCell(strings.Join(rec, ",")), strings.Join(s.header, ","))
	}
	return nil
}

// line returns the line on which field i of the current row starts.
func (s *csvSource) line(i int) int {
	line, _ := s.cr.FieldPos(i)
	return line
}

// cellError reports err about field i of the current row.
func (s *csvSource) cellError(i int, err error) error {
	return &ParseError{Path: s.path, Line: s.line(i), Column: s.header[i], Err: err}
}

func (s *csvSource) errorf(line int, column, format string, args ...any) error {
	return &ParseError{Path: s.path, Line: line, Column: column, Err: fmt.Errorf(format, args...)}
}

// result returns the error to report: nil after a clean end.
func (s *csvSource) result() error {
	if s.err == io.EOF {
		return nil
	}
	return s.err
}
