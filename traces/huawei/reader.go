package huawei

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"

	"trenv-bench/traces/tracefile"
)

// Facts of the trace format.
const (
	// MinutesPerDay is the number of rows of a day file: row k is minute k.
	MinutesPerDay = 1440
	// SecondsPerDay is the step of the time column from one day to the next.
	SecondsPerDay = 86400
	// SecondsPerMinute is the step of the time column from one row to the next.
	SecondsPerMinute = 60
	// TraceFunctions is the number of function columns (ids 0…5092) of the
	// real trace; Synth writes this many by default.
	TraceFunctions = 5093
	// TraceDays is the number of day files of the real trace (day_00…day_25).
	TraceDays = 26
	// MaxLineBytes bounds the length of one line, in bytes; a longer line is
	// an error. Real lines are about 8 KiB (rows) and 25 KiB (header).
	MaxLineBytes = 16 << 20
)

// ErrOutOfPlace means a row is not where it belongs: its day or time cell
// does not match its position in the file, or it follows the last minute of
// the day. Content errors wrap it in a *tracefile.RowError.
var ErrOutOfPlace = errors.New("huawei: row out of place")

// DayFileName returns the name of the (uncompressed) file of a day (>= 0),
// the day as two or more digits: DayFileName(3) = "day_03.csv".
func DayFileName(day int) string {
	return fmt.Sprintf("day_%02d.csv", day)
}

// Reader streams the rows of one day file, like bufio.Scanner: Next advances
// to the next row and reports false at the end of the file or on the first
// error, which Err then returns (it is sticky). Every cell of every row is
// validated, but only the columns passed as keep are converted and returned
// by Values. A file must have exactly MinutesPerDay rows; fewer is an error
// wrapping tracefile.ErrTruncated.
//
// A Reader reads its input through its own 64 KiB buffer (grown for longer
// lines, up to MaxLineBytes) and allocates nothing per row or per cell.
type Reader struct {
	src  io.Reader
	path string
	day  int   // expected day; < 0 until learnt from the first row
	keep []int // function ids asked for, in the caller's order

	buf      []byte
	beg, end int   // buf[beg:end] holds unread input
	scanned  int   // buf[beg:scanned] is known to hold no '\n'
	eof      bool  // src reported io.EOF
	rerr     error // src reported this error; reported after the complete lines before it

	err    error // sticky; io.EOF after a clean end
	rows   int   // rows a file must hold: MinutesPerDay (tests may lower it)
	line   int   // line number of the last line read (1 = header)
	minute int   // minute of the current row; -1 before the first

	headerDone bool
	ids        []int // function id of each column after day and time
	nfields    int   // fields per line, day and time included

	keepPos  []int     // sorted distinct field indexes to convert, then a sentinel
	vals     []float64 // converted cells, parallel to keepPos
	keepSlot []int     // for each keep[i], its index in keepPos
	out      []float64 // Values, in keep order
}

// NewReader returns a Reader of the day file read from r. path names the
// file in errors. day is the day the file must hold (its day column and the
// base of its time column); a negative day accepts the day of the first row.
// keep lists the function ids whose cells Values returns, in that order (ids
// may repeat); each must be a column of the file, else the first call to
// Next fails with an error wrapping tracefile.ErrHeader. A nil keep validates
// the file and keeps nothing.
func NewReader(r io.Reader, path string, day int, keep []int) *Reader {
	if day < 0 {
		day = -1
	}
	return &Reader{
		src:    r,
		path:   path,
		day:    day,
		keep:   append([]int(nil), keep...),
		buf:    make([]byte, 64<<10),
		minute: -1,
		rows:   MinutesPerDay,
	}
}

// Next advances to the next row (minute) and reports whether there is one.
// It reads and validates the header on the first call.
func (r *Reader) Next() bool {
	if r.err != nil {
		return false
	}
	if !r.headerDone {
		if err := r.readHeader(); err != nil {
			r.err = err
			return false
		}
	}
	line, ok := r.readLine()
	if !ok {
		if r.err == nil {
			if r.minute+1 < r.rows {
				r.err = r.rowErr(r.line+1, "", fmt.Errorf("%w: file ends after %d of %d rows", tracefile.ErrTruncated, r.minute+1, r.rows))
			} else {
				r.err = io.EOF
			}
		}
		return false
	}
	if r.minute+1 >= r.rows {
		r.err = r.rowErr(r.line, "", fmt.Errorf("%w: line %d follows the last minute of the day (the file must hold %d rows)", ErrOutOfPlace, r.line, r.rows))
		return false
	}
	r.minute++
	if err := r.parseRow(line); err != nil {
		r.err = err
		return false
	}
	for i, s := range r.keepSlot {
		r.out[i] = r.vals[s]
	}
	return true
}

// Err returns the first error met, or nil at a clean end of the file.
func (r *Reader) Err() error {
	if r.err == io.EOF {
		return nil
	}
	return r.err
}

// Minute returns the minute of the day (0…1439) of the current row, -1
// before the first call to Next.
func (r *Reader) Minute() int { return r.minute }

// Day returns the day of the file: the day given to NewReader, or, when that
// was negative, the day of the first row (-1 before it is read).
func (r *Reader) Day() int { return r.day }

// Values returns the cells of the current row for the ids passed as keep, in
// that order, as request counts (an empty cell is 0). The slice is reused by
// the next call to Next.
func (r *Reader) Values() []float64 { return r.out }

// Functions returns the function ids of the header, in column order, once
// the header has been read (after the first call to Next); nil before. The
// caller must not modify the slice.
func (r *Reader) Functions() []int { return r.ids }

func (r *Reader) rowErr(line int, col string, err error) error {
	return &tracefile.RowError{Path: r.path, Line: line, Column: col, Err: err}
}

// colName returns the header name of field index i.
func (r *Reader) colName(i int) string {
	switch {
	case i == 0:
		return "day"
	case i == 1:
		return "time"
	case i-2 < len(r.ids):
		return strconv.Itoa(r.ids[i-2])
	}
	return ""
}

// readLine returns the next line without its line ending ("\n" or "\r\n"),
// or false at the end of the input or on a read error (then r.err is set).
// The line aliases r.buf until the next call.
func (r *Reader) readLine() ([]byte, bool) {
	for {
		if i := bytes.IndexByte(r.buf[r.scanned:r.end], '\n'); i >= 0 {
			nl := r.scanned + i
			line := r.buf[r.beg:nl]
			r.beg = nl + 1
			r.scanned = r.beg
			r.line++
			return trimCR(line), true
		}
		r.scanned = r.end
		if r.rerr != nil { // lines before a read error were delivered
			r.err = r.rowErr(r.line+1, "", r.rerr)
			return nil, false
		}
		if r.eof {
			if r.beg == r.end {
				return nil, false
			}
			line := r.buf[r.beg:r.end]
			r.beg, r.scanned = r.end, r.end
			r.line++
			return trimCR(line), true
		}
		if r.end-r.beg >= MaxLineBytes {
			r.err = r.rowErr(r.line+1, "", fmt.Errorf("line longer than %d bytes", MaxLineBytes))
			return nil, false
		}
		// Make room: move the partial line to the front, grow when full.
		if r.beg > 0 {
			n := copy(r.buf, r.buf[r.beg:r.end])
			r.scanned -= r.beg
			r.beg, r.end = 0, n
		}
		if r.end == len(r.buf) {
			nb := make([]byte, min(2*len(r.buf), MaxLineBytes+1))
			copy(nb, r.buf[:r.end])
			r.buf = nb
		}
		n, err := r.src.Read(r.buf[r.end:])
		r.end += n
		if err == io.EOF {
			r.eof = true
		} else if err != nil {
			r.rerr = err
		}
	}
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// readHeader reads and checks the header line and resolves r.keep.
func (r *Reader) readHeader() error {
	r.headerDone = true
	line, ok := r.readLine()
	if !ok {
		if r.err != nil {
			return r.err
		}
		return r.rowErr(1, "", fmt.Errorf("%w: empty file, expected a header day,time,0,1,…", tracefile.ErrTruncated))
	}
	line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf")) // UTF-8 byte order mark
	r.nfields = bytes.Count(line, []byte{','}) + 1
	r.ids = make([]int, 0, max(r.nfields-2, 0))
	var byID map[int]int // id → field index; nil while ids are 0, 1, 2, … in order
	for i := range r.nfields {
		name := line
		if j := bytes.IndexByte(line, ','); j >= 0 {
			name, line = line[:j], line[j+1:]
		}
		switch i {
		case 0, 1:
			if want := [2]string{"day", "time"}[i]; string(name) != want {
				return r.rowErr(1, string(name), fmt.Errorf("%w: column %d is %q, expected %q (header day,time,0,1,…)", tracefile.ErrHeader, i+1, name, want))
			}
			continue
		}
		id, ok := parseID(name)
		if !ok {
			return r.rowErr(1, string(name), fmt.Errorf("%w: column %d is %q, expected a function id (a non-negative integer)", tracefile.ErrHeader, i+1, name))
		}
		if byID == nil && id != i-2 {
			byID = make(map[int]int, r.nfields)
			for j, prev := range r.ids {
				byID[prev] = j + 2
			}
		}
		if byID != nil {
			if j, dup := byID[id]; dup {
				return r.rowErr(1, string(name), fmt.Errorf("%w: function %d names columns %d and %d", tracefile.ErrDuplicateKey, id, j+1, i+1))
			}
			byID[id] = i
		}
		r.ids = append(r.ids, id)
	}
	if r.nfields < 2 {
		return r.rowErr(1, "", fmt.Errorf("%w: header has %d column, expected day,time,0,1,…", tracefile.ErrHeader, r.nfields))
	}

	// Resolve keep to field indexes.
	pos := make([]int, len(r.keep))
	for i, id := range r.keep {
		p, ok := -1, false
		switch {
		case id < 0:
		case byID == nil:
			p, ok = id+2, id < len(r.ids)
		default:
			p, ok = byID[id]
		}
		if !ok {
			return r.rowErr(1, strconv.Itoa(id), fmt.Errorf("%w: no column for function %d", tracefile.ErrHeader, id))
		}
		pos[i] = p
	}
	r.keepPos = slices.Compact(slices.Sorted(slices.Values(pos)))
	r.keepSlot = make([]int, len(pos))
	for i, p := range pos {
		r.keepSlot[i], _ = slices.BinarySearch(r.keepPos, p)
	}
	r.keepPos = append(r.keepPos, math.MaxInt) // sentinel: never reached
	r.vals = make([]float64, len(r.keepPos))
	r.out = make([]float64, len(r.keep))
	return nil
}

// parseID parses a function id: a decimal integer without sign or leading
// zeros, below 10⁹.
func parseID(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 9 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c-'0' > 9 {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// parseRow checks one row (minute r.minute) and converts the kept cells.
func (r *Reader) parseRow(line []byte) error {
	if n := bytes.Count(line, []byte{','}) + 1; n != r.nfields {
		return r.rowErr(r.line, "", fmt.Errorf("%w: row has %d fields, header has %d", tracefile.ErrFieldCount, n, r.nfields))
	}
	// day and time.
	i := bytes.IndexByte(line, ',')
	dayCell := line[:i]
	rest := line[i+1:]
	j := bytes.IndexByte(rest, ',')
	if j < 0 {
		j = len(rest)
	}
	timeCell := rest[:j]
	day, ok := cellInt(dayCell)
	if !ok {
		return r.cellErr(0, dayCell)
	}
	if r.day < 0 && day >= 0 {
		r.day = int(day) // learn the day from the first row
	}
	if r.day < 0 {
		return r.rowErr(r.line, "day", fmt.Errorf("%w: day is %q, expected a day number", ErrOutOfPlace, dayCell))
	}
	if day != int64(r.day) {
		return r.rowErr(r.line, "day", fmt.Errorf("%w: day is %q, expected %d (minute %d at line %d)", ErrOutOfPlace, dayCell, r.day, r.minute, r.line))
	}
	t, ok := cellInt(timeCell)
	if !ok {
		return r.cellErr(1, timeCell)
	}
	if want := int64(r.day)*SecondsPerDay + int64(r.minute)*SecondsPerMinute; t != want {
		return r.rowErr(r.line, "time", fmt.Errorf("%w: time is %q, expected %d (day %d minute %d at line %d)", ErrOutOfPlace, timeCell, want, r.day, r.minute, r.line))
	}
	if r.nfields == 2 {
		return nil
	}
	return r.scanCells(line, i+1+j+1)
}

// scanCells checks the function cells of a row, which start at line[i], and
// converts the kept ones. The field count is already known to be right.
// A cell is empty, or digits with an optional fraction of one or more digits
// (12, 12.0, 0.5).
//
// This is the hot loop of the package; it goes field by field and skips runs
// of empty cells. (A byte-by-byte state machine, a branch-free variant with
// byte-class tables, and skipping eight commas at a time all measured
// slower.)
func (r *Reader) scanCells(line []byte, i int) error {
	n := len(line)
	col, k, next := 2, 0, r.keepPos[0]
	for {
		// Field col starts at line[i].
		if i < n && line[i] == ',' { // empty, as most cells are; so may be the next
			j := i + 1
			for j < n && line[j] == ',' {
				j++
			}
			col += j - i // fields col…col+j−i−1 are empty
			for next < col {
				r.vals[k] = 0
				k++
				next = r.keepPos[k]
			}
			i = j
			continue
		}
		start := i
		for i < n && line[i]-'0' <= 9 {
			i++
		}
		if i < n && line[i] == '.' && i > start {
			i++
			frac := i
			for i < n && line[i]-'0' <= 9 {
				i++
			}
			if i == frac {
				return r.cellErr(col, fieldAt(line, start))
			}
		}
		if i < n && line[i] != ',' {
			return r.cellErr(col, fieldAt(line, start))
		}
		if col == next {
			if err := r.keepCell(k, col, line[start:i]); err != nil {
				return err
			}
			k++
			next = r.keepPos[k]
		}
		if i == n {
			return nil
		}
		col++
		i++
	}
}

// fieldAt returns the field that starts at line[start].
func fieldAt(line []byte, start int) []byte {
	if end := bytes.IndexByte(line[start:], ','); end >= 0 {
		return line[start : start+end]
	}
	return line[start:]
}

func (r *Reader) cellErr(col int, cell []byte) error {
	return r.rowErr(r.line, r.colName(col), fmt.Errorf("%w: %q", tracefile.ErrNotNumber, cell))
}

// keepCell converts a kept cell that scanCells found well formed.
func (r *Reader) keepCell(k, col int, cell []byte) error {
	v, ok := cellValue(cell)
	if !ok {
		return r.rowErr(r.line, r.colName(col), fmt.Errorf("%w: %q is out of range", tracefile.ErrNotNumber, cell))
	}
	r.vals[k] = v
	return nil
}

// cellValue converts a well-formed cell (see scanCells) to a number; an
// empty cell is 0.
func cellValue(b []byte) (float64, bool) {
	var n uint64
	i := 0
	for ; i < len(b) && b[i] != '.'; i++ {
		if i == 15 { // may not be exact in a float64: leave it to strconv
			return parseFloat(b)
		}
		n = n*10 + uint64(b[i]-'0')
	}
	for j := i + 1; j < len(b); j++ {
		if b[j] != '0' {
			return parseFloat(b)
		}
	}
	return float64(n), true
}

func parseFloat(b []byte) (float64, bool) {
	v, err := strconv.ParseFloat(string(b), 64)
	return v, err == nil && !math.IsInf(v, 0)
}

// cellInt parses a day or time cell: a non-negative integer, written as an
// integer or with a zero fraction (3 or 3.0). An empty cell is -1.
func cellInt(b []byte) (int64, bool) {
	if len(b) == 0 {
		return -1, true
	}
	var n int64
	i := 0
	for ; i < len(b) && b[i] != '.'; i++ {
		if b[i]-'0' > 9 || i >= 15 {
			return 0, false
		}
		n = n*10 + int64(b[i]-'0')
	}
	if i == 0 {
		return 0, false
	}
	if i < len(b) {
		if i == len(b)-1 {
			return 0, false
		}
		for _, c := range b[i+1:] {
			if c-'0' > 9 {
				return 0, false
			}
			if c != '0' {
				return -2, true // a fraction: never a valid day or time
			}
		}
	}
	return n, true
}
