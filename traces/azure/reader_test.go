package azure

import (
	"encoding/csv"
	"errors"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"trenv-bench/traces/tracefile"
)

// readAll reads a file of testdata/bad with the reader for its kind
// (the name's prefix: inv_, dur_ or mem_) and returns the row count and the
// error.
func readAll(t *testing.T, path string) (int, error) {
	t.Helper()
	f, err := tracefile.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return readKind(filepath.Base(path), f, path)
}

func readKind(name string, r io.Reader, path string) (int, error) {
	n := 0
	switch {
	case strings.HasPrefix(name, "inv"):
		ir := NewInvocationsReader(r, path)
		for ir.Next() {
			n++
		}
		return n, ir.Err()
	case strings.HasPrefix(name, "dur"):
		dr := NewDurationsReader(r, path)
		for dr.Next() {
			n++
		}
		return n, dr.Err()
	default:
		mr := NewMemoryReader(r, path)
		for mr.Next() {
			n++
		}
		return n, mr.Err()
	}
}

// TestReaderErrors reads one file per failure mode and checks the sentinel,
// line and column of the *tracefile.RowError, and how many rows came first.
func TestReaderErrors(t *testing.T) {
	tests := []struct {
		file   string
		want   []error // all must match errors.Is
		line   int
		column string
		rows   int    // rows read before the error
		msg    string // substring of the message
	}{
		{"inv_empty.csv", []error{tracefile.ErrHeader}, 1, "", 0, "no header"},
		{"inv_header_missing.csv", []error{tracefile.ErrHeader}, 1, "HashFunction", 0, "missing column(s) HashFunction"},
		{"inv_header_minutes.csv", []error{tracefile.ErrHeader}, 1, "3", 0, "out of place"},
		{"inv_header_extra.csv", []error{tracefile.ErrHeader}, 1, "Extra", 0, "unexpected column"},
		{"inv_short.csv", []error{tracefile.ErrFieldCount}, 3, "3", 1, "6 fields, header has 7"},
		{"inv_long.csv", []error{tracefile.ErrFieldCount}, 2, "", 0, "8 fields, header has 7"},
		{"inv_cut.csv", []error{tracefile.ErrFieldCount, tracefile.ErrTruncated}, 3, "3", 1, "ends inside the row"},
		{"inv_notnumber.csv", []error{tracefile.ErrNotNumber}, 3, "2", 1, `"x1"`},
		{"inv_negative.csv", []error{tracefile.ErrNotNumber}, 2, "3", 0, `"-1"`},
		{"inv_float.csv", []error{tracefile.ErrNotNumber}, 2, "1", 0, `"1.5"`},
		{"inv_emptycell.csv", []error{tracefile.ErrNotNumber}, 2, "2", 0, `""`},
		{"inv_overflow.csv", []error{tracefile.ErrNotNumber}, 2, "2", 0, "99999"},
		{"inv_emptyhash.csv", []error{ErrEmpty}, 2, "HashApp", 0, "empty"},
		{"inv_barequote.csv", []error{csv.ErrBareQuote}, 3, "HashApp", 1, "bare"},
		{"inv_quotenl.csv", []error{ErrQuotedNewline}, 3, "HashFunction", 1, "spans lines"},
		{"inv_quoteafter.csv", []error{csv.ErrQuote}, 2, "HashFunction", 0, "after the closing quote"},
		{"inv_truncated.csv.gz", []error{tracefile.ErrTruncated}, 266, "", 264, "ends early"},
		{"dur_header_missing.csv", []error{tracefile.ErrHeader}, 1, "Count", 0,
			"missing column(s) Count, Maximum, percentile_Average_0, percentile_Average_1, percentile_Average_25"},
		{"dur_notnumber.csv", []error{tracefile.ErrNotNumber}, 2, "Average", 0, `"abc"`},
		{"dur_count_float.csv", []error{tracefile.ErrNotNumber}, 2, "Count", 0, `"1.5"`},
		{"dur_empty_pct.csv", []error{tracefile.ErrNotNumber}, 2, "percentile_Average_50", 0, `""`},
		{"dur_short.csv", []error{tracefile.ErrFieldCount}, 3, "percentile_Average_100", 1, "13 fields, header has 14"},
		{"dur_emptyhash.csv", []error{ErrEmpty}, 2, "HashOwner", 0, "empty"},
		{"mem_negative.csv", []error{tracefile.ErrNotNumber}, 2, "AverageAllocatedMb_pct100", 0, `"-2"`},
		{"mem_header_missing.csv", []error{tracefile.ErrHeader}, 1, "AverageAllocatedMb", 0, "AverageAllocatedMb_pct100"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tt.file)
			n, err := readAll(t, path)
			if err == nil {
				t.Fatalf("read %d rows, no error", n)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q does not wrap %q", err, w)
				}
			}
			var re *tracefile.RowError
			if !errors.As(err, &re) {
				t.Fatalf("error %q (%T) is not a *tracefile.RowError", err, err)
			}
			if re.Path != path || re.Line != tt.line || re.Column != tt.column {
				t.Errorf("got path %q line %d column %q, want %q %d %q", re.Path, re.Line, re.Column, path, tt.line, tt.column)
			}
			if n != tt.rows {
				t.Errorf("read %d rows before the error, want %d", n, tt.rows)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q lacks %q", err, tt.msg)
			}
			t.Log(err)
		})
	}
}

// TestInvocationsGzip reads a valid gzipped file: the one cut short in
// inv_truncated.csv.gz.
func TestInvocationsGzip(t *testing.T) {
	f, err := tracefile.Open("testdata/bad/inv_full.csv.gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewInvocationsReader(f, f.Path)
	n := 0
	var sum int64
	for r.Next() {
		n++
		for _, c := range r.Row().Counts(nil, 1, 60) {
			sum += c
		}
	}
	if r.Err() != nil || n != 400 || r.Minutes() != 60 || sum == 0 {
		t.Fatalf("%d rows, %d minutes, sum %d, %v", n, r.Minutes(), sum, r.Err())
	}
}

func TestInvocationsReaderRows(t *testing.T) {
	f, err := tracefile.Open("testdata/bad/inv_quoted_ok.csv", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewInvocationsReader(f, f.Path)
	type row struct {
		line                 int
		owner, app, fn, trig string
		counts               []int64
	}
	var got []row
	for r.Next() {
		x := r.Row()
		got = append(got, row{x.Line, string(x.Owner), string(x.App), string(x.Function), string(x.Trigger),
			x.Counts(nil, 1, x.Minutes())})
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	want := []row{
		{2, "o1", "a,1", `f"1`, "http", []int64{1, 2, 3}},
		{4, "o2", "a2", "f2", "", []int64{4, 5, 6}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d rows %+v, want %d", len(got), got, len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.line != w.line || g.owner != w.owner || g.app != w.app || g.fn != w.fn || g.trig != w.trig ||
			!equalInts(g.counts, w.counts) {
			t.Errorf("row %d = %+v, want %+v", i, g, w)
		}
	}
	if r.Minutes() != 3 || r.Next() || r.Err() != nil {
		t.Errorf("after the end: minutes %d, err %v", r.Minutes(), r.Err())
	}
}

// TestInvocationsLayouts checks headers with the named columns around the
// minute block, and decoding windows of a long row (the SWAR path).
func TestInvocationsLayouts(t *testing.T) {
	var long, cells []string
	var want []int64
	for m := 1; m <= 50; m++ {
		long = append(long, itoa(m))
		v := int64(m*m%17) * []int64{1, 10, 1000, 1}[m%4]
		want = append(want, v)
		cells = append(cells, itoa(int(v)))
	}
	tests := []struct {
		name, in string
		minutes  int
		counts   []int64
	}{
		{"trigger after", "HashOwner,HashApp,HashFunction,1,2,Trigger\no,a,f,7,8,timer\n", 2, []int64{7, 8}},
		{"names after", "1,HashFunction,HashApp,Trigger,HashOwner\n9,f,a,timer,o\n", 1, []int64{9}},
		{"long", "HashOwner,HashApp,HashFunction,Trigger," + strings.Join(long, ",") + "\no,a,f,timer," + strings.Join(cells, ",") + "\n", 50, want},
		{"long crlf no final newline", "HashOwner,HashApp,HashFunction,Trigger," + strings.Join(long, ",") + "\r\no,a,f,timer," + strings.Join(cells, ","), 50, want},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewInvocationsReader(strings.NewReader(tt.in), "x")
			if !r.Next() {
				t.Fatalf("no row: %v", r.Err())
			}
			row := r.Row()
			if string(row.Owner) != "o" || string(row.App) != "a" || string(row.Function) != "f" || string(row.Trigger) != "timer" {
				t.Errorf("row %q %q %q %q", row.Owner, row.App, row.Function, row.Trigger)
			}
			if r.Minutes() != tt.minutes || !equalInts(row.Counts(nil, 1, tt.minutes), tt.counts) {
				t.Errorf("minutes %d counts %v, want %d %v", r.Minutes(), row.Counts(nil, 1, r.Minutes()), tt.minutes, tt.counts)
			}
			for first := 1; first <= tt.minutes; first += 7 {
				last := min(first+9, tt.minutes)
				if got := row.Counts(nil, first, last); !equalInts(got, tt.counts[first-1:last]) {
					t.Errorf("Counts(%d, %d) = %v, want %v", first, last, got, tt.counts[first-1:last])
				}
				if got := row.Count(first); got != tt.counts[first-1] {
					t.Errorf("Count(%d) = %d, want %d", first, got, tt.counts[first-1])
				}
			}
			if r.Next() || r.Err() != nil {
				t.Errorf("second row or error: %v", r.Err())
			}
		})
	}
}

// TestScanBlock compares the SWAR scanner with the byte loop on blocks
// built to hit word boundaries, long numbers and errors at every offset.
func TestScanBlock(t *testing.T) {
	cells := []string{"0", "1", "12", "400", "1234567", "12345678", "007", "9223372036854775807", "9223372036854775808", "", "x", "-1", "1.5", " 1"}
	for n := 1; n <= 40; n++ {
		for bad := range cells {
			for at := 0; at < n; at++ {
				var parts []string
				for i := range n {
					c := []string{"0", "3", "17", "250"}[(i*7+n)%4]
					if i == at {
						c = cells[bad]
					}
					parts = append(parts, c)
				}
				for _, tail := range []string{"", ",x", ",", "9"} {
					b := []byte(strings.Join(parts, ",") + tail)
					e1, b1, k1 := scanBlock(b, n)
					e2, b2, k2 := scanBlockScalar(b, n, 0, 0)
					if e1 != e2 || b1 != b2 || k1 != k2 {
						t.Fatalf("%q n=%d: SWAR (%d,%d,%d) scalar (%d,%d,%d)", b, n, e1, b1, k1, e2, b2, k2)
					}
				}
				if at > 0 && bad > 0 {
					break // one position per bad cell beyond the first is enough
				}
			}
		}
	}
}

func TestDurationsAndMemoryRows(t *testing.T) {
	f, err := tracefile.Open("testdata/okgz/"+DurationsName(3)+".gz", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dr := NewDurationsReader(f, f.Path)
	var rows []DurationsRow
	for dr.Next() {
		r := *dr.Row()
		r.Owner, r.App, r.Function = clone(r.Owner), clone(r.App), clone(r.Function)
		rows = append(rows, r)
	}
	if err := dr.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[2]
	if string(r.Function) != "f1" || r.Line != 4 || r.Average != 20.5 || r.Count != 6 || r.Minimum != 1 || r.Maximum != 40 ||
		r.Percentiles != [7]float64{1, 2, 10, 20, 30, 39, 40} {
		t.Errorf("row 3 = %+v", r)
	}
	if r := rows[4]; !math.IsNaN(r.Minimum) || !math.IsNaN(r.Maximum) || r.Percentiles[6] != 6 {
		t.Errorf("empty Minimum/Maximum: %+v", r)
	}

	m, err := tracefile.Open("testdata/ok/"+MemoryName(3), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	mr := NewMemoryReader(m, m.Path)
	var mem []MemoryRow
	for mr.Next() {
		mem = append(mem, *mr.Row())
	}
	if err := mr.Err(); err != nil {
		t.Fatal(err)
	}
	if len(mem) != 3 {
		t.Fatalf("%d memory rows", len(mem))
	}
	if g := mem[1]; g.Line != 3 || g.SampleCount != 5 || g.AverageAllocatedMb != 64.5 ||
		g.Percentiles != [8]float64{60, 61, 62, 64, 65, 66, 67, 68} {
		t.Errorf("memory row 2 = %+v", g)
	}
}

// TestColumnsByName reads durations and memory files whose columns are in
// another order, with an extra column.
func TestColumnsByName(t *testing.T) {
	dur := "Extra,percentile_Average_100,percentile_Average_99,percentile_Average_75,percentile_Average_50," +
		"percentile_Average_25,percentile_Average_1,percentile_Average_0,Maximum,Minimum,Count,Average,HashFunction,HashApp,HashOwner\n" +
		"zz,7,6,5,4,3,2,1,7,1,10,4.5,f,a,o\n"
	dr := NewDurationsReader(strings.NewReader(dur), "d")
	if !dr.Next() {
		t.Fatal(dr.Err())
	}
	r := dr.Row()
	if string(r.Owner) != "o" || string(r.Function) != "f" || r.Count != 10 || r.Average != 4.5 ||
		r.Percentiles != [7]float64{1, 2, 3, 4, 5, 6, 7} || r.Minimum != 1 || r.Maximum != 7 {
		t.Errorf("row %+v", r)
	}
	mem := strings.Join(reversed(MemoryHeader()), ",") + "\n8,7,6,5,4,3,2,1,2.5e1,3,a,o\n"
	mr := NewMemoryReader(strings.NewReader(mem), "m")
	if !mr.Next() {
		t.Fatal(mr.Err())
	}
	if m := mr.Row(); string(m.Owner) != "o" || m.SampleCount != 3 || m.AverageAllocatedMb != 25 ||
		m.Percentiles != [8]float64{1, 2, 3, 4, 5, 6, 7, 8} {
		t.Errorf("memory row %+v", m)
	}
}

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in string
		v  float64
		ok bool
	}{
		{"0", 0, true}, {"12", 12, true}, {"0.5", 0.5, true}, {"3.", 3, true}, {".5", 0.5, true},
		{"1e3", 1000, true}, {"2.5E-2", 0.025, true}, {"123456789012345678", 123456789012345678, true},
		{"", 0, false}, {".", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {"1e", 0, false},
		{"e5", 0, false}, {"1.2.3", 0, false}, {"nan", 0, false}, {"inf", 0, false}, {"1e999", 0, false},
		{" 1", 0, false}, {"0x10", 0, false},
	}
	for _, tt := range tests {
		v, ok := parseNumber([]byte(tt.in))
		if ok != tt.ok || (ok && v != tt.v) {
			t.Errorf("parseNumber(%q) = %v, %v; want %v, %v", tt.in, v, ok, tt.v, tt.ok)
		}
	}
	for _, tt := range []struct {
		in string
		v  int64
		ok bool
	}{
		{"0", 0, true}, {"9223372036854775807", math.MaxInt64, true}, {"0009223372036854775807", math.MaxInt64, true},
		{"9223372036854775808", 0, false}, {"99999999999999999999", 0, false}, {"", 0, false}, {"1a", 0, false},
	} {
		v, ok := parseCount([]byte(tt.in))
		if ok != tt.ok || v != tt.v {
			t.Errorf("parseCount(%q) = %v, %v; want %v, %v", tt.in, v, ok, tt.v, tt.ok)
		}
	}
}

// TestLongLines reads rows much longer than the initial buffer.
func TestLongLines(t *testing.T) {
	const minutes = 200000 // ~1.2 MB per row
	var b strings.Builder
	b.WriteString(strings.Join(InvocationsHeader(minutes), ","))
	for r := range 3 {
		b.WriteString("\no,a,f" + itoa(r) + ",http")
		for m := range minutes {
			b.WriteString("," + itoa((m*31+r)%1000))
		}
	}
	// A reader without Len: the scanner starts at its default size.
	ir := NewInvocationsReader(struct{ io.Reader }{strings.NewReader(b.String())}, "big")
	n := 0
	for ir.Next() {
		row := ir.Row()
		if got := row.Count(minutes); got != int64(((minutes-1)*31+n)%1000) {
			t.Errorf("row %d: last count %d", n, got)
		}
		n++
	}
	if ir.Err() != nil || n != 3 {
		t.Fatalf("%d rows, %v", n, ir.Err())
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

func reversed(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }
