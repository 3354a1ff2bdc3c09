package huawei

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"trenv-bench/traces/tracefile"
)

const (
	testDir = "testdata/public_dataset/csv_files/requests_minute"
	badDir  = "testdata/bad"
)

// readAll reads a whole day file and returns its kept values per minute.
func readAll(t *testing.T, r *Reader) [][]float64 {
	t.Helper()
	var rows [][]float64
	for r.Next() {
		if r.Minute() != len(rows) {
			t.Fatalf("Minute() = %d, want %d", r.Minute(), len(rows))
		}
		rows = append(rows, slices.Clone(r.Values()))
	}
	return rows
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// checkRowError asserts that err is a *tracefile.RowError at path, line and
// column wrapping want.
func checkRowError(t *testing.T, err error, want error, path string, line int, column string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want one wrapping %v", err, want)
	}
	var re *tracefile.RowError
	if !errors.As(err, &re) {
		t.Fatalf("error %v (%T) is not a *tracefile.RowError", err, err)
	}
	if re.Path != path || re.Line != line || re.Column != column {
		t.Errorf("RowError at %s:%d column %q, want %s:%d column %q (%v)", re.Path, re.Line, re.Column, path, line, column, err)
	}
}

func TestDayFileName(t *testing.T) {
	for day, want := range map[int]string{0: "day_00.csv", 3: "day_03.csv", 25: "day_25.csv", 100: "day_100.csv"} {
		if got := DayFileName(day); got != want {
			t.Errorf("DayFileName(%d) = %q, want %q", day, got, want)
		}
		if got, ok := parseDayName(want); !ok || got != day {
			t.Errorf("parseDayName(%q) = %d, %v", want, got, ok)
		}
		if got, ok := parseDayName(want + ".gz"); !ok || got != day {
			t.Errorf("parseDayName(%q.gz) = %d, %v", want, got, ok)
		}
	}
	for _, name := range []string{"day_3.csv", "day_003.csv", "day_+3.csv", "day_-1.csv", "day_03.txt", "day_03.csv.bz2", "x_03.csv", "day_.csv"} {
		if day, ok := parseDayName(name); ok {
			t.Errorf("parseDayName(%q) = %d, want not a day file", name, day)
		}
	}
}

// TestReaderFailures runs one file per failure mode, plain and gzipped.
func TestReaderFailures(t *testing.T) {
	tests := []struct {
		file   string
		want   error
		line   int
		column string
	}{
		{"header_wrong.csv", tracefile.ErrHeader, 1, "minute"},
		{"header_id.csv", tracefile.ErrHeader, 1, "x1"},
		{"header_dup.csv", tracefile.ErrDuplicateKey, 1, "5"},
		{"short_row.csv", tracefile.ErrFieldCount, 3, ""},
		{"long_row.csv", tracefile.ErrFieldCount, 4, ""},
		{"non_numeric.csv", tracefile.ErrNotNumber, 3, "1"},
		{"negative.csv", tracefile.ErrNotNumber, 2, "2"},
		{"out_of_place.csv", ErrOutOfPlace, 4, "time"},
		{"wrong_day.csv", ErrOutOfPlace, 2, "day"},
		{"short_file.csv", tracefile.ErrTruncated, 12, ""},
	}
	for _, tt := range tests {
		path := filepath.Join(badDir, tt.file)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(tt.file, func(t *testing.T) {
			f, err := tracefile.Open(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r := NewReader(f, path, 3, []int{1})
			for r.Next() {
			}
			checkRowError(t, r.Err(), tt.want, path, tt.line, tt.column)
			if r.Next() {
				t.Error("Next after an error = true")
			}
		})
		t.Run(tt.file+".gz", func(t *testing.T) {
			zr, err := gzip.NewReader(bytes.NewReader(gzipBytes(t, data)))
			if err != nil {
				t.Fatal(err)
			}
			r := NewReader(zr, path+".gz", 3, nil)
			for r.Next() {
			}
			checkRowError(t, r.Err(), tt.want, path+".gz", tt.line, tt.column)
		})
	}
}

// TestReaderTruncatedGzip reads a gzip stream cut in half.
func TestReaderTruncatedGzip(t *testing.T) {
	path := filepath.Join(badDir, "truncated.csv.gz")
	f, err := tracefile.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := NewReader(f, path, 3, []int{0})
	rows := readAll(t, r)
	// The stream ends inside the line after the last complete row.
	checkRowError(t, r.Err(), tracefile.ErrTruncated, path, len(rows)+2, "")
	if len(rows) == 0 || len(rows) >= MinutesPerDay {
		t.Errorf("read %d rows before the cut", len(rows))
	}
}

// TestReaderCells checks the cell grammar, one row at a time.
func TestReaderCells(t *testing.T) {
	tests := []struct {
		cell string
		want float64
		ok   bool
	}{
		{"", 0, true},
		{"0", 0, true},
		{"12", 12, true},
		{"12.0", 12, true},
		{"12.00", 12, true},
		{"2.5", 2.5, true},
		{"0.25", 0.25, true},
		{"400", 400, true},
		{"123456789012345678", 123456789012345678, true},
		{"12.", 0, false},
		{".5", 0, false},
		{"-3", 0, false},
		{"+3", 0, false},
		{"1e3", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"NaN", 0, false},
		{"1.2.3", 0, false},
		{"inf", 0, false},
		{"0x10", 0, false},
		{"\"1\"", 0, false},
	}
	for _, tt := range tests {
		for _, pos := range []string{"first", "middle", "last"} {
			var cells string
			switch pos {
			case "first":
				cells = tt.cell + ",7,8"
			case "middle":
				cells = "7," + tt.cell + ",8"
			default:
				cells = "7,8," + tt.cell
			}
			col := map[string]int{"first": 10, "middle": 11, "last": 12}[pos]
			in := "day,time,10,11,12\n3,259200," + cells + "\n"
			r := NewReader(strings.NewReader(in), "x.csv", 3, []int{col})
			if !r.Next() {
				if tt.ok {
					t.Errorf("%q (%s): %v", tt.cell, pos, r.Err())
				} else {
					checkRowError(t, r.Err(), tracefile.ErrNotNumber, "x.csv", 2, map[string]string{"first": "10", "middle": "11", "last": "12"}[pos])
				}
				continue
			}
			if !tt.ok {
				t.Errorf("%q (%s) accepted as %v", tt.cell, pos, r.Values())
			} else if got := r.Values()[0]; got != tt.want {
				t.Errorf("%q (%s) = %v, want %v", tt.cell, pos, got, tt.want)
			}
		}
		// The same cell in a column nobody keeps is validated all the same.
		in := "day,time,10,11\n3,259200," + tt.cell + ",1\n"
		r := NewReader(strings.NewReader(in), "x.csv", 3, []int{11})
		if got := r.Next(); got != tt.ok {
			t.Errorf("%q unkept: Next = %v (%v)", tt.cell, got, r.Err())
		}
	}
}

// TestReaderDayTime checks the day and time cells.
func TestReaderDayTime(t *testing.T) {
	tests := []struct {
		row    string
		day    int
		want   error // nil: accepted
		column string
	}{
		{"3,259200,1", 3, nil, ""},
		{"3.0,259200.0,1", 3, nil, ""},
		{"3,259260,1", 3, ErrOutOfPlace, "time"},
		{"4,345600,1", 3, ErrOutOfPlace, "day"},
		{"4,345600,1", -1, nil, ""}, // learn the day
		{",259200,1", 3, ErrOutOfPlace, "day"},
		{",0,1", -1, ErrOutOfPlace, "day"},
		{"3,,1", 3, ErrOutOfPlace, "time"},
		{"3.5,259200,1", 3, ErrOutOfPlace, "day"},
		{"x,259200,1", 3, tracefile.ErrNotNumber, "day"},
		{"3,-259200,1", 3, tracefile.ErrNotNumber, "time"},
		{"3,259200.,1", 3, tracefile.ErrNotNumber, "time"},
		{"3,99999999999999999999,1", 3, tracefile.ErrNotNumber, "time"},
	}
	for _, tt := range tests {
		r := NewReader(strings.NewReader("day,time,0\n"+tt.row+"\n"), "x.csv", tt.day, []int{0})
		ok := r.Next()
		if tt.want == nil {
			if !ok {
				t.Errorf("%q: %v", tt.row, r.Err())
			}
			continue
		}
		if ok {
			t.Errorf("%q accepted", tt.row)
			continue
		}
		checkRowError(t, r.Err(), tt.want, "x.csv", 2, tt.column)
	}
}

// TestReaderValid reads the valid test files and checks hand-made values.
func TestReaderValid(t *testing.T) {
	path := filepath.Join(testDir, "day_03.csv")
	f, err := tracefile.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Ids repeat and come in any order.
	r := NewReader(f, path, 3, []int{7, 1, 0, 1, 2})
	rows := readAll(t, r)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if len(rows) != MinutesPerDay {
		t.Fatalf("%d rows, want %d", len(rows), MinutesPerDay)
	}
	if got, want := r.Functions(), []int{0, 1, 2, 7}; !slices.Equal(got, want) {
		t.Errorf("Functions() = %v, want %v", got, want)
	}
	for k, v := range rows {
		c0 := 0.0
		if k%10 == 0 {
			c0 = float64(k / 10)
		}
		want := []float64{float64(k%7 + 1), float64(k), c0, float64(k), 0}
		if !slices.Equal(v, want) {
			t.Fatalf("minute %d: %v, want %v", k, v, want)
		}
	}
	if r.Next() || r.Err() != nil {
		t.Errorf("Next at the end = true or Err = %v", r.Err())
	}

	// The gzipped file has ids out of order and a fractional cell.
	path = filepath.Join(testDir, "day_05.csv.gz")
	f5, err := tracefile.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f5.Close()
	r = NewReader(f5, path, -1, []int{40, 3, 1})
	rows = readAll(t, r)
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if r.Day() != 5 || len(rows) != MinutesPerDay {
		t.Fatalf("day %d, %d rows", r.Day(), len(rows))
	}
	if got, want := r.Functions(), []int{3, 1, 40}; !slices.Equal(got, want) {
		t.Errorf("Functions() = %v, want %v", got, want)
	}
	for k, v := range rows {
		c40 := 0.0
		if k == 100 {
			c40 = 2.5
		}
		want := []float64{c40, float64(k % 60), float64(MinutesPerDay - k)}
		if !slices.Equal(v, want) {
			t.Fatalf("minute %d: %v, want %v", k, v, want)
		}
	}
}

// TestReaderLayout checks line endings, the byte order mark and the row count.
func TestReaderLayout(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testDir, "day_03.csv"))
	if err != nil {
		t.Fatal(err)
	}
	count := func(in []byte, keep []int) (int, error) {
		r := NewReader(bytes.NewReader(in), "x.csv", 3, keep)
		n := 0
		for r.Next() {
			n++
		}
		return n, r.Err()
	}
	for name, in := range map[string][]byte{
		"plain":           data,
		"no final EOL":    bytes.TrimSuffix(data, []byte("\n")),
		"CRLF":            bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")),
		"byte order mark": append([]byte("\xef\xbb\xbf"), data...),
	} {
		if n, err := count(in, []int{2}); n != MinutesPerDay || err != nil {
			t.Errorf("%s: %d rows, %v", name, n, err)
		}
		// One byte at a time.
		r := NewReader(iotestOneByte{bytes.NewReader(in)}, "x.csv", 3, nil)
		n := 0
		for r.Next() {
			n++
		}
		if n != MinutesPerDay || r.Err() != nil {
			t.Errorf("%s, one byte a read: %d rows, %v", name, n, r.Err())
		}
	}
	// An extra row, even an empty one.
	for _, extra := range []string{"3,345600,1,2,,1\n", "\n"} {
		_, err := count(append(slices.Clip(data), extra...), nil)
		checkRowError(t, err, ErrOutOfPlace, "x.csv", MinutesPerDay+2, "")
	}
	// Empty input and header only.
	_, err = count(nil, nil)
	checkRowError(t, err, tracefile.ErrTruncated, "x.csv", 1, "")
	_, err = count([]byte("day,time,0\n"), nil)
	checkRowError(t, err, tracefile.ErrTruncated, "x.csv", 2, "")
	// A header without function columns is valid.
	var b strings.Builder
	b.WriteString("day,time\n")
	for k := range MinutesPerDay {
		b.WriteString("0,")
		b.WriteString(strconv.Itoa(60 * k))
		b.WriteString("\n")
	}
	r := NewReader(strings.NewReader(b.String()), "x.csv", 0, nil)
	n := 0
	for r.Next() {
		n++
	}
	if n != MinutesPerDay || r.Err() != nil || len(r.Functions()) != 0 {
		t.Errorf("no functions: %d rows, %v, %v", n, r.Err(), r.Functions())
	}
}

type iotestOneByte struct{ r io.Reader }

func (o iotestOneByte) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// TestReaderKeep checks that asking for a function the file lacks fails.
func TestReaderKeep(t *testing.T) {
	for _, tt := range []struct {
		header string
		keep   []int
		column string
	}{
		{"day,time,0,1,2", []int{1, 3}, "3"},
		{"day,time,0,1,2", []int{-1}, "-1"},
		{"day,time,5,3,9", []int{3, 4}, "4"},
		{"day,time,5,3,9", []int{0}, "0"},
		{"day,time", []int{0}, "0"},
	} {
		r := NewReader(strings.NewReader(tt.header+"\n"), "x.csv", 3, tt.keep)
		if r.Next() {
			t.Fatalf("%s keep %v: Next = true", tt.header, tt.keep)
		}
		checkRowError(t, r.Err(), tracefile.ErrHeader, "x.csv", 1, tt.column)
		if !strings.Contains(r.Err().Error(), "x.csv") || !strings.Contains(r.Err().Error(), "function "+tt.column) {
			t.Errorf("error %q does not name the file and function", r.Err())
		}
	}
}

// TestReaderHeaders checks more header shapes.
func TestReaderHeaders(t *testing.T) {
	for _, tt := range []struct {
		header string
		want   error
		column string
	}{
		{"", tracefile.ErrHeader, ""},
		{"day", tracefile.ErrHeader, ""},
		{"time,day,0", tracefile.ErrHeader, "time"},
		{"Day,time,0", tracefile.ErrHeader, "Day"},
		{"day,time,", tracefile.ErrHeader, ""},
		{"day,time,-1", tracefile.ErrHeader, "-1"},
		{"day,time,01", tracefile.ErrHeader, "01"},
		{"day,time,1.0", tracefile.ErrHeader, "1.0"},
		{"day,time,0,1,1", tracefile.ErrDuplicateKey, "1"},
		{"day,time,0,0", tracefile.ErrDuplicateKey, "0"},
		{"day,time,0,day", tracefile.ErrHeader, "day"},
	} {
		r := NewReader(strings.NewReader(tt.header+"\n"), "x.csv", 3, nil)
		if r.Next() {
			t.Fatalf("%q: Next = true", tt.header)
		}
		checkRowError(t, r.Err(), tt.want, "x.csv", 1, tt.column)
	}
}

// TestReaderErrorColumn checks that a bad cell is named by its header name
// when ids are not positions.
func TestReaderErrorColumn(t *testing.T) {
	in := "day,time,30,20,10\n3,259200,1,x,3\n"
	r := NewReader(strings.NewReader(in), "x.csv", 3, []int{10})
	if r.Next() {
		t.Fatal("Next = true")
	}
	checkRowError(t, r.Err(), tracefile.ErrNotNumber, "x.csv", 2, "20")
}

// TestReaderReadError passes a read error through with the line it hit.
func TestReaderReadError(t *testing.T) {
	boom := errors.New("boom")
	in := io.MultiReader(strings.NewReader("day,time,0\n3,259200,1\n3,2592"), iotestErr{boom})
	r := NewReader(in, "x.csv", 3, nil)
	n := 0
	for r.Next() {
		n++
	}
	if n != 1 {
		t.Errorf("%d rows before the error, want 1", n)
	}
	checkRowError(t, r.Err(), boom, "x.csv", 3, "")
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

// TestReaderNoAllocs checks that reading rows allocates nothing.
func TestReaderNoAllocs(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(testDir, "day_03.csv"))
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(data), "x.csv", 3, []int{0, 1})
	r.Next()
	allocs := testing.AllocsPerRun(100, func() {
		if !r.Next() {
			t.Fatal(r.Err())
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per row, want 0", allocs)
	}
}
