package azure

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"trenv-bench/traces/tracefile"
)

// InvocationsRow is one row of an invocations file. The byte slices point
// into the reader's buffer and are valid only until the next call to Next;
// copy them (string(row.Owner)) to keep them.
type InvocationsRow struct {
	// Line is the 1-based line of the row in the file (the header is line 1).
	Line int
	// Owner, App and Function are the HashOwner, HashApp and HashFunction
	// cells: never empty.
	Owner, App, Function []byte
	// Trigger is the trigger kind (http, timer, event, queue, storage,
	// orchestration, others); it may be empty.
	Trigger []byte

	minutes []byte // the validated minute cells, "c1,c2,…,cN"
	n       int    // N
}

// Minutes returns the number of minute columns N of the row.
func (r *InvocationsRow) Minutes() int { return r.n }

// Counts appends to dst the invocation counts of minutes first…last
// (1-based column names, inclusive) and returns the extended slice. Only
// these cells are decoded. It panics unless 1 <= first <= last <= Minutes().
func (r *InvocationsRow) Counts(dst []int64, first, last int) []int64 {
	if first < 1 || last < first || last > r.n {
		panic(fmt.Sprintf("azure: minutes %d…%d out of range 1…%d", first, last, r.n))
	}
	return decodeBlock(r.minutes, first, last, dst)
}

// Count returns the invocation count of one minute (1-based column name).
// It panics unless 1 <= minute <= Minutes().
func (r *InvocationsRow) Count(minute int) int64 {
	var a [1]int64
	return r.Counts(a[:0], minute, minute)[0]
}

// InvocationsReader reads an invocations file row by row in bounded memory,
// like bufio.Scanner: call Next until it returns false, then check Err.
//
// The header must hold HashOwner, HashApp, HashFunction and Trigger once
// each and the minute columns 1, 2, …, N (N >= 1; 1440 in the real files) as
// one consecutive block in that order, and no other column. Every row is
// validated: field count, non-empty hashes, and every minute cell a
// non-negative decimal integer that fits in an int64. Blank lines are
// skipped. Quoted fields (RFC 4180) are accepted within one line.
type InvocationsReader struct {
	sc        *lineScanner
	err       error
	started   bool
	names     []string
	n         int    // minute columns
	pre, post int    // columns before and after the minute block
	idx       [4]int // owner, app, function, trigger: index in other
	other     [][]byte
	row       InvocationsRow
	scratch   []byte
	joined    []byte
	fields    [][]byte
}

// NewInvocationsReader returns a reader of the invocations file r. path names
// the file in errors.
func NewInvocationsReader(r io.Reader, path string) *InvocationsReader {
	return &InvocationsReader{sc: newLineScanner(r, path)}
}

// Minutes returns N, the number of minute columns; 0 until the first call to
// Next has read the header.
func (r *InvocationsReader) Minutes() int { return r.n }

// Row returns the current row. It is reused by the next call to Next.
func (r *InvocationsReader) Row() *InvocationsRow { return &r.row }

// Err returns the first error met, nil at a clean end of file. Errors in the
// data are *tracefile.RowError values.
func (r *InvocationsReader) Err() error { return r.err }

// Next advances to the next row. It returns false at the end of the file or
// on the first error.
func (r *InvocationsReader) Next() bool {
	if r.err != nil {
		return false
	}
	if !r.started {
		r.started = true
		if r.err = r.readHeader(); r.err != nil {
			return false
		}
	}
	for {
		line, err := r.sc.next()
		if err != nil {
			if err != io.EOF {
				r.err = err
			}
			return false
		}
		if len(line) == 0 {
			continue
		}
		if bytes.IndexByte(line, '"') >= 0 {
			r.err = r.parseQuoted(line)
		} else {
			r.err = r.parse(line)
		}
		return r.err == nil
	}
}

// readHeader checks the header and lays out the columns.
func (r *InvocationsReader) readHeader() error {
	names, err := headerNames(r.sc)
	if err != nil {
		return err
	}
	path := r.sc.path
	fail := func(col, format string, a ...any) error {
		return rowError(path, 1, col, fmt.Errorf("%w: "+format, append([]any{tracefile.ErrHeader}, a...)...))
	}
	named := [4]string{ColOwner, ColApp, ColFunction, ColTrigger}
	pos := [4]int{-1, -1, -1, -1}
	blockStart, n := -1, 0
	for h, name := range names {
		if k := indexOf(named[:], name); k >= 0 {
			if pos[k] >= 0 {
				return fail(name, "column %q appears twice", name)
			}
			pos[k] = h
			continue
		}
		m, err := strconv.Atoi(name)
		if err != nil || strconv.Itoa(m) != name {
			return fail(name, "unexpected column %q (want HashOwner,HashApp,HashFunction,Trigger,1,2,…,N)", name)
		}
		switch {
		case blockStart < 0 && m == 1:
			blockStart, n = h, 1
		case blockStart >= 0 && h == blockStart+n && m == n+1:
			n++
		default:
			return fail(name, "minute column %q out of place (want the minute columns 1,2,…,N in order, consecutive)", name)
		}
	}
	var missing []string
	for k, p := range pos {
		if p < 0 {
			missing = append(missing, named[k])
		}
	}
	if n == 0 {
		missing = append(missing, "1")
	}
	if len(missing) > 0 {
		return fail(missing[0], "missing column(s) %s", strings.Join(missing, ", "))
	}
	r.names, r.n = names, n
	r.pre, r.post = blockStart, len(names)-blockStart-n
	for k, p := range pos {
		if p > blockStart {
			p -= n
		}
		r.idx[k] = p
	}
	r.other = make([][]byte, r.pre+r.post)
	r.row.n = n
	return nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// parse splits and validates a line without quotes: the fields around the
// minute block with IndexByte, the block with scanBlock.
func (r *InvocationsReader) parse(line []byte) error {
	i := 0
	for k := 0; k < r.pre; k++ {
		j := bytes.IndexByte(line[i:], ',')
		if j < 0 {
			return r.fieldCount(line)
		}
		r.other[k] = line[i : i+j]
		i += j + 1
	}
	blk := line[i:]
	end, bad, kind := scanBlock(blk, r.n)
	switch kind {
	case blockShort:
		return r.fieldCount(line)
	case blockNotNumber:
		return r.notNumber(bad, cellAt(blk, bad))
	}
	r.row.minutes = blk[:end]
	if r.post == 0 {
		if end < len(blk) {
			return r.fieldCount(line)
		}
	} else {
		if end >= len(blk) {
			return r.fieldCount(line)
		}
		rest := blk[end+1:]
		for k := r.pre; k < len(r.other); k++ {
			j := bytes.IndexByte(rest, ',')
			if k == len(r.other)-1 {
				if j >= 0 {
					return r.fieldCount(line)
				}
				r.other[k] = rest
				break
			}
			if j < 0 {
				return r.fieldCount(line)
			}
			r.other[k] = rest[:j]
			rest = rest[j+1:]
		}
	}
	return r.finish()
}

// parseQuoted handles a line with a quote: split per RFC 4180, rebuild the
// minute block without quotes, and validate as parse does.
func (r *InvocationsReader) parseQuoted(line []byte) error {
	fields, bad, err := splitLine(line, &r.scratch, r.fields[:0])
	r.fields = fields
	if err != nil {
		return rowError(r.sc.path, r.sc.line, r.colName(bad), err)
	}
	if len(fields) != len(r.names) {
		return r.fieldCountN(len(fields))
	}
	copy(r.other, fields[:r.pre])
	copy(r.other[r.pre:], fields[r.pre+r.n:])
	r.joined = r.joined[:0]
	for m, f := range fields[r.pre : r.pre+r.n] {
		if bytes.IndexByte(f, ',') >= 0 {
			return r.notNumber(m, f)
		}
		if m > 0 {
			r.joined = append(r.joined, ',')
		}
		r.joined = append(r.joined, f...)
	}
	_, bad, kind := scanBlock(r.joined, r.n)
	if kind != blockOK {
		return r.notNumber(bad, fields[r.pre+bad])
	}
	r.row.minutes = r.joined
	return r.finish()
}

// finish checks the hashes and fills the row.
func (r *InvocationsReader) finish() error {
	row := &r.row
	row.Line = r.sc.line
	row.Owner = r.other[r.idx[0]]
	row.App = r.other[r.idx[1]]
	row.Function = r.other[r.idx[2]]
	row.Trigger = r.other[r.idx[3]]
	for k, h := range [3][]byte{row.Owner, row.App, row.Function} {
		if len(h) == 0 {
			return rowError(r.sc.path, row.Line, [3]string{ColOwner, ColApp, ColFunction}[k], ErrEmpty)
		}
	}
	return nil
}

// colName returns the header name of field i (0-based), "" past the header.
func (r *InvocationsReader) colName(i int) string {
	if i >= 0 && i < len(r.names) {
		return r.names[i]
	}
	return ""
}

// fieldCount reports a plain line with the wrong number of fields.
func (r *InvocationsReader) fieldCount(line []byte) error {
	return r.fieldCountN(bytes.Count(line, []byte{','}) + 1)
}

// fieldCountN reports a row of got fields; Column is the first missing
// column of a short row, "" for a long row.
func (r *InvocationsReader) fieldCountN(got int) error {
	return rowError(r.sc.path, r.sc.line, r.colName(got), fieldCountError(got, len(r.names), r.sc.noNL))
}

// notNumber reports minute cell m (0-based in the block).
func (r *InvocationsReader) notNumber(m int, cell []byte) error {
	return rowError(r.sc.path, r.sc.line, strconv.Itoa(m+1),
		fmt.Errorf("%w: %s", tracefile.ErrNotNumber, cellText(cell)))
}

// cellAt returns field f of a plain comma-separated block.
func cellAt(b []byte, f int) []byte {
	for ; f > 0; f-- {
		i := bytes.IndexByte(b, ',')
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
	if i := bytes.IndexByte(b, ','); i >= 0 {
		return b[:i]
	}
	return b
}
