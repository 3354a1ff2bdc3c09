package azure

import (
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"strconv"

	"trenv-bench/traces/tracefile"
)

// defaultBufSize is the read buffer of a reader, in bytes. Reads of at least
// 1 MiB go straight through the 1 MiB bufio.Reader of tracefile.Open.
const defaultBufSize = 2 << 20

// lineScanner yields the lines of a stream without copying them: a line is a
// view into the read buffer, valid until the next call. It reads big chunks
// and finds line ends with bytes.IndexByte.
type lineScanner struct {
	r       io.Reader
	path    string
	buf     []byte
	start   int // first byte not yet returned
	end     int // end of the data in buf
	scanned int // buf[start:scanned] holds no '\n'
	line    int // number of the line last returned, 1-based
	rerr    error
	noNL    bool // the line last returned had no '\n' after it (end of stream)
	empties int  // consecutive reads returning 0, nil
}

func newLineScanner(r io.Reader, path string) *lineScanner {
	// A whole file in memory is scanned in place: it is never written to.
	if w, ok := r.(interface{ wholeBytes() []byte }); ok {
		b := w.wholeBytes()
		return &lineScanner{r: r, path: path, buf: b, end: len(b), rerr: io.EOF}
	}
	size := defaultBufSize
	// Small in-memory inputs (tests, fuzzing, samples) get a small buffer.
	if l, ok := r.(interface{ Len() int }); ok && l.Len()+1 < size {
		size = max(l.Len()+1, 512)
	}
	return &lineScanner{r: r, path: path, buf: make([]byte, size)}
}

// next returns the next line without its "\n" or "\r\n", or io.EOF at the
// end of the stream, or a *tracefile.RowError.
func (s *lineScanner) next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(s.buf[s.scanned:s.end], '\n'); i >= 0 {
			j := s.scanned + i
			line := s.buf[s.start:j]
			s.start, s.scanned = j+1, j+1
			s.line++
			return trimCR(line), nil
		}
		s.scanned = s.end
		if s.rerr != nil {
			if s.rerr != io.EOF {
				return nil, s.readError()
			}
			if s.start < s.end {
				line := s.buf[s.start:s.end]
				s.start = s.end
				s.line++
				s.noNL = true
				return trimCR(line), nil
			}
			return nil, io.EOF
		}
		s.fill()
	}
}

// fill moves the partial line to the front of the buffer, grows the buffer
// when the line fills it, and reads once.
func (s *lineScanner) fill() {
	if s.start > 0 {
		n := copy(s.buf, s.buf[s.start:s.end])
		s.scanned -= s.start
		s.start, s.end = 0, n
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= MaxLineBytes {
			s.rerr = fmt.Errorf("%w: more than %d bytes", ErrLineTooLong, MaxLineBytes)
			return
		}
		nb := make([]byte, min(2*len(s.buf), MaxLineBytes))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	n, err := s.r.Read(s.buf[s.end:])
	s.end += n
	switch {
	case err != nil:
		s.rerr = err
	case n == 0:
		s.empties++
		if s.empties >= 100 {
			s.rerr = io.ErrNoProgress
		}
	default:
		s.empties = 0
	}
}

// readError wraps a read error with the file and the line it stopped in.
func (s *lineScanner) readError() error {
	err := s.rerr
	if errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, tracefile.ErrTruncated) {
		err = fmt.Errorf("%w: %w", tracefile.ErrTruncated, err)
	}
	var re *tracefile.RowError
	if errors.As(err, &re) {
		return err
	}
	return &tracefile.RowError{Path: s.path, Line: s.line + 1, Err: err}
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// splitPlain appends the comma-separated fields of line, which holds no
// quote, to dst.
func splitPlain(line []byte, dst [][]byte) [][]byte {
	for {
		i := bytes.IndexByte(line, ',')
		if i < 0 {
			return append(dst, line)
		}
		dst = append(dst, line[:i])
		line = line[i+1:]
	}
}

// splitQuoted splits a line that holds a '"' following RFC 4180, within the
// line: a field that starts with '"' runs to the next lone '"', and "" inside
// it stands for one '"'. The unquoted contents go into scratch; fields point
// into it. On a malformed line it returns the 0-based index of the bad field
// and an error wrapping csv.ErrBareQuote, csv.ErrQuote or ErrQuotedNewline.
func splitQuoted(line, scratch []byte, dst [][]byte) (fields [][]byte, scr []byte, bad int, err error) {
	scratch = scratch[:0]
	var ends []int
	pos := 0
	for k := 0; ; k++ {
		if pos < len(line) && line[pos] == '"' {
			pos++
			for {
				j := bytes.IndexByte(line[pos:], '"')
				if j < 0 {
					return dst, scratch, k, fmt.Errorf("%w: no closing quote on the line", ErrQuotedNewline)
				}
				scratch = append(scratch, line[pos:pos+j]...)
				pos += j + 1
				if pos < len(line) && line[pos] == '"' {
					scratch = append(scratch, '"')
					pos++
					continue
				}
				break
			}
			if pos < len(line) && line[pos] != ',' {
				return dst, scratch, k, fmt.Errorf("%w: text after the closing quote", csv.ErrQuote)
			}
		} else {
			end := len(line)
			if j := bytes.IndexByte(line[pos:], ','); j >= 0 {
				end = pos + j
			}
			f := line[pos:end]
			if bytes.IndexByte(f, '"') >= 0 {
				return dst, scratch, k, csv.ErrBareQuote
			}
			scratch = append(scratch, f...)
			pos = end
		}
		ends = append(ends, len(scratch))
		if pos >= len(line) {
			break
		}
		pos++ // the comma
	}
	start := 0
	for _, e := range ends {
		dst = append(dst, scratch[start:e:e])
		start = e
	}
	return dst, scratch, -1, nil
}

// splitLine splits line into dst, quoted or not. scratch holds unquoted
// contents between calls.
func splitLine(line []byte, scratch *[]byte, dst [][]byte) ([][]byte, int, error) {
	if bytes.IndexByte(line, '"') < 0 {
		return splitPlain(line, dst), -1, nil
	}
	f, s, bad, err := splitQuoted(line, *scratch, dst)
	*scratch = s
	return f, bad, err
}

// parseCount parses a non-negative decimal integer that fits in an int64
// (leading zeros allowed).
func parseCount(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	for len(b) > 19 && b[0] == '0' {
		b = b[1:]
	}
	if len(b) > 19 {
		return 0, false
	}
	var v uint64 // 19 digits fit
	for _, c := range b {
		d := c - '0'
		if d > 9 {
			return 0, false
		}
		v = v*10 + uint64(d)
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// parseNumber parses a non-negative decimal number: digits with an optional
// fraction and exponent ("12", "0.5", "3.", ".5", "1e3", "2.5E-2").
func parseNumber(b []byte) (float64, bool) {
	if len(b) > 0 && len(b) <= 15 {
		var v int64
		i := 0
		for ; i < len(b); i++ {
			d := b[i] - '0'
			if d > 9 {
				break
			}
			v = v*10 + int64(d)
		}
		if i == len(b) {
			return float64(v), true // exact: below 2^53
		}
	}
	if !isDecimal(b) {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// isDecimal reports whether b is digits[.digits][(e|E)[+|-]digits] with at
// least one mantissa digit.
func isDecimal(b []byte) bool {
	i, digits := 0, 0
	for i < len(b) && b[i]-'0' <= 9 {
		i++
		digits++
	}
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && b[i]-'0' <= 9 {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		e := i
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
		if i == e {
			return false
		}
	}
	return i == len(b)
}

// Outcomes of scanBlock.
const (
	blockOK        = iota
	blockShort     // the line ends before field bad
	blockNotNumber // field bad is not a count
)

// scanBlock checks that b starts with n >= 1 comma-separated counts
// (non-negative decimal integers that fit in an int64) and returns the index
// just past the n-th; b[end] is then ',' or end == len(b). On failure it
// returns the 0-based index of the bad field and blockShort or blockNotNumber.
//
// This is the hot loop of the invocations reader (one pass, no allocation):
// it checks 8 bytes at a time (SWAR) while every word holds only digits and
// commas, at least one comma and no empty field, and finishes byte by byte.
// Anything unusual (an error, a field of 8 or more digits) is rescanned byte
// by byte from the start of the block, so the scalar loop alone decides every
// error.
func scanBlock(b []byte, n int) (end, bad, kind int) {
	const (
		ones  = 0x0101010101010101
		highs = 0x8080808080808080
		low7  = 0x7f7f7f7f7f7f7f7f
	)
	i, f := 0, 0
	prev := uint64(0x80) // the block follows a comma: a leading comma is an empty field
	var comma uint64
	for i+8 <= len(b) && n-1-f >= 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		y := x & low7
		// High bit of each byte set iff the byte is '0'…'9'.
		digit := (y + ones*(0x80-'0')) &^ (y + ones*(0x80-':')) &^ x & highs
		// High bit set iff the byte is ','.
		c := y ^ ones*','
		comma = ^(c + low7) &^ x & highs
		if (digit|comma)^highs|comma&(comma<<8|prev) != 0 || comma == 0 {
			return scanBlockScalar(b, n, 0, 0)
		}
		f += bits.OnesCount64(comma)
		prev = comma >> 56
		i += 8
	}
	start := 0
	if i > 0 {
		// Resume at the start of the field the last word ends in.
		start = i - 8 + (63-bits.LeadingZeros64(comma))/8 + 1
	}
	return scanBlockScalar(b, n, start, f)
}

// scanBlockScalar is scanBlock byte by byte from b[i], the start of field f.
func scanBlockScalar(b []byte, n, i, f int) (end, bad, kind int) {
	for ; ; f++ {
		s := i
		for i < len(b) && b[i]-'0' <= 9 {
			i++
		}
		if i == s || (i-s > 18 && !fitsCount(b[s:i])) {
			return i, f, blockNotNumber
		}
		if f == n-1 {
			if i < len(b) && b[i] != ',' {
				return i, f, blockNotNumber
			}
			return i, -1, blockOK
		}
		if i >= len(b) {
			return i, f + 1, blockShort
		}
		if b[i] != ',' {
			return i, f, blockNotNumber
		}
		i++
	}
}

func fitsCount(digits []byte) bool {
	_, ok := parseCount(digits)
	return ok
}

// decodeBlock appends the counts of fields first..last (1-based, inclusive)
// of a block that scanBlock accepted.
func decodeBlock(b []byte, first, last int, dst []int64) []int64 {
	i := 0
	for k := 1; k < first; k++ {
		i += bytes.IndexByte(b[i:], ',') + 1
	}
	for m := first; m <= last; m++ {
		var v int64
		for i < len(b) && b[i] != ',' {
			v = v*10 + int64(b[i]-'0')
			i++
		}
		dst = append(dst, v)
		i++
	}
	return dst
}

// cellText quotes a cell for an error message, shortened to 40 bytes.
func cellText(b []byte) string {
	if len(b) > 40 {
		return strconv.Quote(string(b[:40])) + "…"
	}
	return strconv.Quote(string(b))
}

func rowError(path string, line int, col string, err error) *tracefile.RowError {
	return &tracefile.RowError{Path: path, Line: line, Column: col, Err: err}
}

// fieldCountError describes a row with got fields where the header has want.
// A short last line without a line end also wraps tracefile.ErrTruncated.
func fieldCountError(got, want int, atEOF bool) error {
	if atEOF && got < want {
		return fmt.Errorf("%w: %d fields, header has %d (%w: the file ends inside the row)",
			tracefile.ErrFieldCount, got, want, tracefile.ErrTruncated)
	}
	return fmt.Errorf("%w: %d fields, header has %d", tracefile.ErrFieldCount, got, want)
}

// stripBOM removes a UTF-8 byte-order mark from the start of a header line.
func stripBOM(b []byte) []byte {
	return bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
}

// headerNames splits a header line into column names.
func headerNames(sc *lineScanner) ([]string, error) {
	line, err := sc.next()
	if err == io.EOF {
		return nil, rowError(sc.path, 1, "", fmt.Errorf("%w: empty file, no header line", tracefile.ErrHeader))
	}
	if err != nil {
		return nil, err
	}
	var scratch []byte
	fields, bad, err := splitLine(stripBOM(line), &scratch, nil)
	if err != nil {
		return nil, rowError(sc.path, 1, "", fmt.Errorf("%w: field %d: %w", tracefile.ErrHeader, bad+1, err))
	}
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = string(f)
	}
	return names, nil
}
