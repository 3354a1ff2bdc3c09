package azure

import (
	"fmt"
	"io"
	"math"
	"strings"

	"trenv-bench/traces/tracefile"
)

// table reads a small CSV file whose columns are found by header name:
// the shared part of the durations and app-memory readers.
type table struct {
	sc      *lineScanner
	err     error
	started bool
	names   []string
	fields  [][]byte
	scratch []byte
}

// header reads the header and returns the position of each wanted column.
// Columns not wanted are allowed and ignored; a wanted column missing or
// appearing twice is an error listing every such column.
func (t *table) header(want []string) ([]int, error) {
	names, err := headerNames(t.sc)
	if err != nil {
		return nil, err
	}
	pos := make([]int, len(want))
	var missing, twice []string
	for k, w := range want {
		pos[k] = -1
		for h, name := range names {
			if name != w {
				continue
			}
			if pos[k] >= 0 {
				twice = append(twice, w)
				break
			}
			pos[k] = h
		}
		if pos[k] < 0 {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		return nil, rowError(t.sc.path, 1, missing[0],
			fmt.Errorf("%w: missing column(s) %s", tracefile.ErrHeader, strings.Join(missing, ", ")))
	}
	if len(twice) > 0 {
		return nil, rowError(t.sc.path, 1, twice[0],
			fmt.Errorf("%w: column(s) appear twice: %s", tracefile.ErrHeader, strings.Join(twice, ", ")))
	}
	t.names = names
	return pos, nil
}

// next splits the next non-blank line into t.fields and checks the field
// count. It returns io.EOF at the end.
func (t *table) next() error {
	for {
		line, err := t.sc.next()
		if err != nil {
			return err
		}
		if len(line) == 0 {
			continue
		}
		fields, bad, err := splitLine(line, &t.scratch, t.fields[:0])
		t.fields = fields
		if err != nil {
			return rowError(t.sc.path, t.sc.line, t.colName(bad), err)
		}
		if len(fields) != len(t.names) {
			return rowError(t.sc.path, t.sc.line, t.colName(len(fields)),
				fieldCountError(len(fields), len(t.names), t.sc.noNL))
		}
		return nil
	}
}

func (t *table) colName(i int) string {
	if i >= 0 && i < len(t.names) {
		return t.names[i]
	}
	return ""
}

// hash returns the non-empty cell of column h.
func (t *table) hash(h int) ([]byte, error) {
	b := t.fields[h]
	if len(b) == 0 {
		return nil, rowError(t.sc.path, t.sc.line, t.names[h], ErrEmpty)
	}
	return b, nil
}

// count returns the non-negative integer in column h.
func (t *table) count(h int) (int64, error) {
	v, ok := parseCount(t.fields[h])
	if !ok {
		return 0, t.notNumber(h)
	}
	return v, nil
}

// number returns the non-negative number in column h; an empty cell gives
// NaN when emptyOK, an error otherwise.
func (t *table) number(h int, emptyOK bool) (float64, error) {
	b := t.fields[h]
	if len(b) == 0 && emptyOK {
		return math.NaN(), nil
	}
	v, ok := parseNumber(b)
	if !ok {
		return 0, t.notNumber(h)
	}
	return v, nil
}

func (t *table) notNumber(h int) error {
	return rowError(t.sc.path, t.sc.line, t.names[h],
		fmt.Errorf("%w: %s", tracefile.ErrNotNumber, cellText(t.fields[h])))
}

// advance runs the header (on the first call) and next, folding io.EOF into
// a false result. It leaves errors in t.err.
func (t *table) advance(want []string, pos *[]int) bool {
	if t.err != nil {
		return false
	}
	if !t.started {
		t.started = true
		p, err := t.header(want)
		if err != nil {
			t.err = err
			return false
		}
		*pos = p
	}
	if err := t.next(); err != nil {
		if err != io.EOF {
			t.err = err
		}
		return false
	}
	return true
}

// DurationsRow is one row of a durations file. Times are in milliseconds.
// The byte slices point into the reader's buffer and are valid only until
// the next call to Next.
type DurationsRow struct {
	// Line is the 1-based line of the row in the file (the header is line 1).
	Line int
	// Owner, App and Function are the hash cells: never empty.
	Owner, App, Function []byte
	// Average is the mean execution time, ms.
	Average float64
	// Count is the number of executions in the day.
	Count int64
	// Minimum and Maximum are the extreme execution times, ms; NaN when the
	// cell is empty (about 0.5 % of real rows).
	Minimum, Maximum float64
	// Percentiles holds percentile_Average_0, _1, _25, _50, _75, _99 and
	// _100, ms: weighted percentiles of 30-second averages.
	Percentiles [7]float64
}

// DurationsReader reads a durations file row by row, like bufio.Scanner:
// call Next until it returns false, then check Err. Columns are found by
// header name (other columns are ignored); every row is validated: field
// count, non-empty hashes, Count a non-negative integer, the other cells
// non-negative numbers (Minimum and Maximum may be empty).
type DurationsReader struct {
	t   table
	pos []int
	row DurationsRow
}

// NewDurationsReader returns a reader of the durations file r. path names the
// file in errors.
func NewDurationsReader(r io.Reader, path string) *DurationsReader {
	return &DurationsReader{t: table{sc: newLineScanner(r, path)}}
}

// Row returns the current row. It is reused by the next call to Next.
func (r *DurationsReader) Row() *DurationsRow { return &r.row }

// Err returns the first error met, nil at a clean end of file. Errors in the
// data are *tracefile.RowError values.
func (r *DurationsReader) Err() error { return r.t.err }

// Next advances to the next row. It returns false at the end of the file or
// on the first error.
func (r *DurationsReader) Next() bool {
	if !r.t.advance(durationsColumns[:], &r.pos) {
		return false
	}
	if err := r.fill(); err != nil {
		r.t.err = err
		return false
	}
	return true
}

func (r *DurationsReader) fill() error {
	t, p, row := &r.t, r.pos, &r.row
	row.Line = t.sc.line
	var err error
	if row.Owner, err = t.hash(p[0]); err != nil {
		return err
	}
	if row.App, err = t.hash(p[1]); err != nil {
		return err
	}
	if row.Function, err = t.hash(p[2]); err != nil {
		return err
	}
	if row.Average, err = t.number(p[3], false); err != nil {
		return err
	}
	if row.Count, err = t.count(p[4]); err != nil {
		return err
	}
	if row.Minimum, err = t.number(p[5], true); err != nil {
		return err
	}
	if row.Maximum, err = t.number(p[6], true); err != nil {
		return err
	}
	for k := range row.Percentiles {
		if row.Percentiles[k], err = t.number(p[7+k], false); err != nil {
			return err
		}
	}
	return nil
}

// MemoryRow is one row of an app-memory file. Sizes are in MB. The byte
// slices point into the reader's buffer and are valid only until the next
// call to Next.
type MemoryRow struct {
	// Line is the 1-based line of the row in the file (the header is line 1).
	Line int
	// Owner and App are the hash cells: never empty.
	Owner, App []byte
	// SampleCount is the number of memory samples taken of the app.
	SampleCount int64
	// AverageAllocatedMb is the mean allocated memory, MB.
	AverageAllocatedMb float64
	// Percentiles holds AverageAllocatedMb_pct1, 5, 25, 50, 75, 95, 99 and
	// 100, MB.
	Percentiles [8]float64
}

// MemoryReader reads an app-memory file row by row, like bufio.Scanner.
// Columns are found by header name (others are ignored); every row is
// validated: field count, non-empty hashes, SampleCount a non-negative
// integer, the other cells non-negative numbers.
type MemoryReader struct {
	t   table
	pos []int
	row MemoryRow
}

// NewMemoryReader returns a reader of the app-memory file r. path names the
// file in errors.
func NewMemoryReader(r io.Reader, path string) *MemoryReader {
	return &MemoryReader{t: table{sc: newLineScanner(r, path)}}
}

// Row returns the current row. It is reused by the next call to Next.
func (r *MemoryReader) Row() *MemoryRow { return &r.row }

// Err returns the first error met, nil at a clean end of file. Errors in the
// data are *tracefile.RowError values.
func (r *MemoryReader) Err() error { return r.t.err }

// Next advances to the next row. It returns false at the end of the file or
// on the first error.
func (r *MemoryReader) Next() bool {
	if !r.t.advance(memoryColumns[:], &r.pos) {
		return false
	}
	if err := r.fill(); err != nil {
		r.t.err = err
		return false
	}
	return true
}

func (r *MemoryReader) fill() error {
	t, p, row := &r.t, r.pos, &r.row
	row.Line = t.sc.line
	var err error
	if row.Owner, err = t.hash(p[0]); err != nil {
		return err
	}
	if row.App, err = t.hash(p[1]); err != nil {
		return err
	}
	if row.SampleCount, err = t.count(p[2]); err != nil {
		return err
	}
	if row.AverageAllocatedMb, err = t.number(p[3], false); err != nil {
		return err
	}
	for k := range row.Percentiles {
		if row.Percentiles[k], err = t.number(p[4+k], false); err != nil {
			return err
		}
	}
	return nil
}
