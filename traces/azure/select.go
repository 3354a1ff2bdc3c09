package azure

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"trenv-bench/traces/tracefile"
)

// Selection says which rows and minutes of a day to pick, the way upstream
// gen_trace.py does: by position in the table that joins invocations with
// durations, and a window of minute columns.
type Selection struct {
	// Day is the trace day (d01…d14); 0 means the dataset's Day().
	Day int
	// Positions are 0-based row positions in the joined table (what
	// upstream's iloc uses), in the order the results are wanted. Repeats
	// are allowed; each must be >= 0 and below the join's row count.
	Positions []int
	// First and Last are the 1-based minute columns kept, inclusive:
	// 1 <= First <= Last <= N. Upstream uses 1 and 60.
	First, Last int
}

func (s Selection) validate() error {
	if s.Day < 0 || s.Day > 99 {
		return fmt.Errorf("azure: selection: day %d out of range 1…99", s.Day)
	}
	if s.First < 1 || s.Last < s.First {
		return fmt.Errorf("azure: selection: minutes %d…%d: want 1 <= First <= Last", s.First, s.Last)
	}
	for _, p := range s.Positions {
		if p < 0 {
			return fmt.Errorf("azure: selection: negative position %d", p)
		}
	}
	return nil
}

// Selected is one row picked from the joined table.
type Selected struct {
	// Position is the 0-based row position in the joined table.
	Position int
	// Owner, App and Function are the key hashes, Trigger the trigger kind.
	Owner, App, Function, Trigger string
	// Line is the line of the row in the invocations file (header = 1).
	Line int
	// Counts holds the invocations per minute for minutes First…Last.
	Counts []int64
}

// Stats describes the files a Select read.
type Stats struct {
	// Day is the day read.
	Day int
	// Minutes is N, the number of minute columns of the invocations file.
	Minutes int
	// InvocationRows and DurationRows count the data rows of the two files.
	InvocationRows, DurationRows int
	// JoinedRows counts the invocation rows whose (HashOwner, HashApp,
	// HashFunction) is in the durations file: the rows of upstream's join.
	JoinedRows int
}

// Select joins the day's invocations with its durations on (HashOwner,
// HashApp, HashFunction) and returns the joined rows at sel.Positions, in
// that order, with their counts for minutes sel.First…sel.Last.
//
// This is upstream's rule: pandas' inner merge keeps invocation rows in file
// order, dropping those without a durations row; upstream's second merge with
// the durations file only duplicates columns. Duplicate key triples in either
// file are rejected (tracefile.ErrDuplicateKey), as they would duplicate rows
// and shift positions. The app-memory file is not read.
//
// The invocations file is streamed once while the durations file is read on
// another goroutine (rows met before the durations are known wait in a
// buffer of at most 1 MiB); from an archive the entries are read in archive
// order. Every row of both files is validated; when both are bad, the
// durations error is returned. Memory is bounded by the number of rows, not
// bytes (for an archive holding invocations before durations, the window's
// counts of every row are kept too). ctx is checked every few thousand rows.
// m, when not nil, sees the invocations file (Begin, Advance per chunk read
// from disk, End), or the whole archive for an archive.
func (d *Dataset) Select(ctx context.Context, sel Selection, m tracefile.Meter) ([]Selected, error) {
	rows, _, err := d.SelectStats(ctx, sel, m)
	return rows, err
}

// SelectStats is Select that also returns the sizes of the files and of the
// join. sel.Positions may be empty.
func (d *Dataset) SelectStats(ctx context.Context, sel Selection, m tracefile.Meter) ([]Selected, Stats, error) {
	if err := sel.validate(); err != nil {
		return nil, Stats{}, err
	}
	if sel.Day == 0 {
		sel.Day = d.day
	}
	if m == nil {
		m = tracefile.NopMeter{}
	}
	j := newJoiner(sel)
	var err error
	if d.archive != "" {
		err = d.selectArchive(ctx, j, m)
	} else {
		err = d.selectFiles(ctx, j, m)
	}
	if err != nil {
		return nil, j.stats, err
	}
	rows, err := j.result()
	return rows, j.stats, err
}

// JoinStats reads the day's durations and invocations and returns their
// sizes and the size of the join, selecting nothing. day 0 means Day().
func (d *Dataset) JoinStats(ctx context.Context, day int, m tracefile.Meter) (Stats, error) {
	_, st, err := d.SelectStats(ctx, Selection{Day: day, First: 1, Last: 1}, m)
	return st, err
}

// selectFiles reads the durations file on another goroutine while the
// invocations file streams; invocation rows read before the durations are
// known are buffered (see streamInvocations). In-memory plain files have no
// input to wait for: there the durations are read first, which is cheaper
// than buffering.
func (d *Dataset) selectFiles(ctx context.Context, j *joiner, m tracefile.Meter) error {
	drc, dpath, err := d.OpenFile(DurationsName(j.sel.Day), nil)
	if err != nil {
		return err
	}
	irc, ipath, err := d.OpenFile(InvocationsName(j.sel.Day), m)
	if err != nil {
		drc.Close()
		return err
	}
	defer irc.Close()
	if _, ok := irc.(*memFile); ok {
		err := j.readDurations(ctx, drc, dpath)
		drc.Close()
		if err != nil {
			return err
		}
		return j.streamInvocations(ctx, irc, ipath, nil, nil)
	}
	durDone := make(chan error, 1)
	go func() {
		err := j.readDurations(ctx, drc, dpath)
		drc.Close()
		durDone <- err
	}()
	return j.streamInvocations(ctx, irc, ipath, durDone, nil)
}

// selectArchive reads the archive once. When the invocations entry comes
// before the durations entry, its rows are buffered (key, trigger, line and
// window counts) and joined once durations are known.
func (d *Dataset) selectArchive(ctx context.Context, j *joiner, m tracefile.Meter) error {
	a, err := openArchive(d.archive, m)
	if err != nil {
		return err
	}
	defer a.Close()
	durName, invName := DurationsName(j.sel.Day), InvocationsName(j.sel.Day)
	var buf *invBuffer
	haveDur, haveInv := false, false
	for !haveDur || !haveInv {
		e, err := a.next()
		if err == io.EOF {
			if !haveDur {
				return d.missing(durName)
			}
			return d.missing(invName)
		}
		if err != nil {
			return err
		}
		switch {
		case e.name == durName && !haveDur:
			haveDur = true
			if err := j.readDurations(ctx, e.r, e.path); err != nil {
				return err
			}
			if buf != nil {
				if err := j.replay(ctx, buf); err != nil {
					return err
				}
			}
		case e.name == invName && !haveInv:
			haveInv = true
			if haveDur {
				err = j.streamInvocations(ctx, e.r, e.path, nil, nil)
			} else {
				buf = &invBuffer{}
				err = j.streamInvocations(ctx, e.r, e.path, nil, buf)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// maxPendingBytes bounds the invocation rows buffered while the durations
// file is read concurrently; past it the invocations reader waits. Rows are
// cheaper to join directly than to buffer and replay.
const maxPendingBytes = 1 << 20

// ctxCheckRows is how many rows pass between checks of the context.
const ctxCheckRows = 4096

// joiner holds the durations key set and picks invocation rows by position.
type joiner struct {
	sel Selection
	// dur maps each durations key (appendKey's encoding) to its line
	// there and the line of the invocation row with the same key (0 while
	// none has been seen), for duplicate-key errors.
	dur map[string]*keyLines
	// unmatched maps invocation keys absent from durations to their line.
	unmatched map[string]int32
	invPath   string
	want      []int // sorted distinct wanted positions
	wi        int   // next index in want
	picked    []Selected
	stats     Stats
	key       []byte
}

func newJoiner(sel Selection) *joiner {
	want := slices.Clone(sel.Positions)
	slices.Sort(want)
	want = slices.Compact(want)
	return &joiner{
		sel:       sel,
		dur:       make(map[string]*keyLines, 1<<16),
		unmatched: make(map[string]int32, 1<<10),
		want:      want,
		picked:    make([]Selected, len(want)),
		stats:     Stats{Day: sel.Day},
	}
}

// appendKey appends an unambiguous encoding of the key triple:
// length-prefixed owner and app, then the function.
func appendKey(dst, owner, app, function []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(owner)))
	dst = append(dst, owner...)
	dst = binary.AppendUvarint(dst, uint64(len(app)))
	dst = append(dst, app...)
	return append(dst, function...)
}

// splitKey decodes appendKey's encoding.
func splitKey(key []byte) (owner, app, function []byte) {
	n, k := binary.Uvarint(key)
	owner, key = key[k:k+int(n)], key[k+int(n):]
	n, k = binary.Uvarint(key)
	return owner, key[k : k+int(n)], key[k+int(n):]
}

func (j *joiner) readDurations(ctx context.Context, r io.Reader, path string) error {
	dr := NewDurationsReader(r, path)
	var key []byte // j.key belongs to the invocations goroutine
	for n := 1; dr.Next(); n++ {
		if n%ctxCheckRows == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		row := dr.Row()
		key = appendKey(key[:0], row.Owner, row.App, row.Function)
		if k, ok := j.dur[string(key)]; ok {
			return rowError(path, row.Line, "", fmt.Errorf("%w: (HashOwner, HashApp, HashFunction) also on line %d",
				tracefile.ErrDuplicateKey, k.dur))
		}
		j.dur[string(key)] = &keyLines{dur: int32(row.Line)}
	}
	if err := dr.Err(); err != nil {
		return err
	}
	j.stats.DurationRows = len(j.dur)
	return nil
}

// streamInvocations reads the invocations file. Rows are joined as they
// come once durations are known: at once when durDone and buf are nil; when
// durDone delivers (the durations being read concurrently), rows before that
// are buffered, up to maxPendingBytes, and replayed; with buf not nil, all
// rows are buffered in buf for a later replay. When both files are bad, the
// durations error wins, whatever the timing.
func (j *joiner) streamInvocations(ctx context.Context, r io.Reader, path string, durDone <-chan error, buf *invBuffer) error {
	j.invPath = path
	pending := durDone != nil
	if pending {
		buf = &invBuffer{}
	}
	// durations waits for the concurrent durations read, replays the
	// buffered rows, and returns the durations or replay error.
	durations := func() error {
		pending = false
		if err := <-durDone; err != nil {
			return err
		}
		b := buf
		buf = nil
		return j.replay(ctx, b)
	}
	fail := func(err error) error {
		if pending {
			if derr := <-durDone; derr != nil {
				return derr
			}
		}
		return err
	}
	ir := NewInvocationsReader(r, path)
	var counts []int64
	for n := 0; ir.Next(); n++ {
		if n == 0 {
			j.stats.Minutes = ir.Minutes()
			if err := j.checkWindow(); err != nil {
				return fail(err)
			}
		}
		if n%ctxCheckRows == ctxCheckRows-1 {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
		}
		if pending && n%64 == 0 && (len(durDone) > 0 || len(buf.arena) > maxPendingBytes) {
			if err := durations(); err != nil {
				return err
			}
		}
		row := ir.Row()
		if buf != nil {
			j.key = appendKey(j.key[:0], row.Owner, row.App, row.Function)
			counts = row.Counts(counts[:0], j.sel.First, j.sel.Last)
			buf.add(j.key, row.Trigger, row.Line, counts)
			continue
		}
		if err := j.join(row); err != nil {
			return err
		}
	}
	if err := ir.Err(); err != nil {
		return fail(err)
	}
	if j.stats.Minutes == 0 {
		// A header and no rows.
		j.stats.Minutes = ir.Minutes()
		if err := j.checkWindow(); err != nil {
			return fail(err)
		}
	}
	if pending {
		return durations()
	}
	return nil
}

// join registers an invocations row and picks it if its position is wanted.
func (j *joiner) join(row *InvocationsRow) error {
	j.key = appendKey(j.key[:0], row.Owner, row.App, row.Function)
	take, err := j.invocation(j.key, row.Line)
	if err != nil {
		return err
	}
	if take {
		j.pick(j.key, row.Trigger, row.Line, row.Counts(nil, j.sel.First, j.sel.Last))
	}
	return nil
}

func (j *joiner) checkWindow() error {
	if j.sel.Last > j.stats.Minutes {
		return fmt.Errorf("azure: %s: selection wants minutes %d…%d, the file has minute columns 1…%d",
			j.invPath, j.sel.First, j.sel.Last, j.stats.Minutes)
	}
	return nil
}

// invocation registers an invocations row and says whether its joined
// position is wanted.
func (j *joiner) invocation(key []byte, line int) (bool, error) {
	j.stats.InvocationRows++
	if k, ok := j.dur[string(key)]; ok {
		if k.inv != 0 {
			return false, j.duplicate(line, int(k.inv))
		}
		k.inv = int32(line)
		pos := j.stats.JoinedRows
		j.stats.JoinedRows++
		return j.wi < len(j.want) && j.want[j.wi] == pos, nil
	}
	if prev, ok := j.unmatched[string(key)]; ok {
		return false, j.duplicate(line, int(prev))
	}
	j.unmatched[string(key)] = int32(line)
	return false, nil
}

func (j *joiner) duplicate(line, prev int) error {
	return rowError(j.invPath, line, "", fmt.Errorf("%w: (HashOwner, HashApp, HashFunction) also on line %d",
		tracefile.ErrDuplicateKey, prev))
}

// pick stores the row at the wanted position j.want[j.wi].
func (j *joiner) pick(key, trigger []byte, line int, counts []int64) {
	o, a, f := splitKey(key)
	j.picked[j.wi] = Selected{
		Position: j.want[j.wi],
		Owner:    string(o), App: string(a), Function: string(f), Trigger: string(trigger),
		Line:   line,
		Counts: counts,
	}
	j.wi++
}

// result checks that every wanted position exists and orders the picks as
// sel.Positions.
func (j *joiner) result() ([]Selected, error) {
	if j.wi < len(j.want) {
		return nil, fmt.Errorf("azure: %s: position %d is beyond the joined table, which has %d rows (positions 0…%d)",
			j.invPath, j.want[j.wi], j.stats.JoinedRows, j.stats.JoinedRows-1)
	}
	out := make([]Selected, len(j.sel.Positions))
	used := make([]bool, len(j.want))
	for k, p := range j.sel.Positions {
		i, _ := slices.BinarySearch(j.want, p)
		out[k] = j.picked[i]
		if used[i] {
			out[k].Counts = slices.Clone(out[k].Counts)
		}
		used[i] = true
	}
	return out, nil
}

// keyLines are the lines a join key is on: in the durations file, and in
// the invocations file (0 until seen).
type keyLines struct{ dur, inv int32 }

// invBuffer keeps invocation rows until durations are known: per row the
// key, trigger, line and window counts, as uvarint-prefixed bytes in one
// arena (about 2 bytes per small count).
type invBuffer struct {
	arena []byte
	rows  int
}

func (b *invBuffer) add(key, trigger []byte, line int, counts []int64) {
	b.arena = binary.AppendUvarint(b.arena, uint64(len(key)))
	b.arena = append(b.arena, key...)
	b.arena = binary.AppendUvarint(b.arena, uint64(len(trigger)))
	b.arena = append(b.arena, trigger...)
	b.arena = binary.AppendUvarint(b.arena, uint64(line))
	for _, c := range counts {
		b.arena = binary.AppendUvarint(b.arena, uint64(c))
	}
	b.rows++
}

// replay joins the buffered rows in file order.
func (j *joiner) replay(ctx context.Context, b *invBuffer) error {
	a := b.arena
	width := j.sel.Last - j.sel.First + 1
	next := func() []byte {
		n, k := binary.Uvarint(a)
		s := a[k : k+int(n)]
		a = a[k+int(n):]
		return s
	}
	for n := 0; n < b.rows; n++ {
		if n%ctxCheckRows == ctxCheckRows-1 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		key, trigger := next(), next()
		line, k := binary.Uvarint(a)
		a = a[k:]
		take, err := j.invocation(key, int(line))
		if err != nil {
			return err
		}
		var counts []int64
		if take {
			counts = make([]int64, width)
		}
		for i := range width {
			v, k := binary.Uvarint(a)
			a = a[k:]
			if take {
				counts[i] = int64(v)
			}
		}
		if take {
			j.pick(key, trigger, int(line), counts)
		}
	}
	if len(a) != 0 {
		return errors.New("azure: internal error: invocation buffer not fully replayed")
	}
	return nil
}
