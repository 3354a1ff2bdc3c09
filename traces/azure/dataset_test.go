package azure

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ulikunitz/xz"

	"trenv-bench/traces/tracefile"
)

// The hand-made day in testdata/ok (and gzipped in testdata/okgz):
//
//	line 2  o1,a1,f1  durations row            → joined position 0
//	line 3  o1,a1,f2  none (decoy o1,a9,f2)    → not joined
//	line 4  o1,a2,f3  durations row            → position 1
//	line 5  o2,a3,f4  none (decoy o2,a5,f4)    → not joined
//	line 6  o2,a3,f5  durations row (no min/max) → position 2
//	line 7  o3,a4,f6  durations row            → position 3
var okRows = []Selected{
	{Position: 0, Owner: "o1", App: "a1", Function: "f1", Trigger: "http", Line: 2, Counts: []int64{1, 2, 3}},
	{Position: 1, Owner: "o1", App: "a2", Function: "f3", Trigger: "queue", Line: 4, Counts: []int64{5, 0, 7}},
	{Position: 2, Owner: "o2", App: "a3", Function: "f5", Trigger: "event", Line: 6, Counts: []int64{4, 4, 4}},
	{Position: 3, Owner: "o3", App: "a4", Function: "f6", Trigger: "others", Line: 7, Counts: []int64{9, 8, 7}},
}

func window(s Selected, first, last int) Selected {
	s.Counts = s.Counts[first-1 : last]
	return s
}

func TestSelectHandMade(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name        string
		sel         Selection
		want        []Selected
		errContains string
	}{
		{"all in order", Selection{Positions: []int{0, 1, 2, 3}, First: 1, Last: 3}, okRows, ""},
		{"reordered with repeat", Selection{Positions: []int{3, 0, 3}, First: 1, Last: 3},
			[]Selected{okRows[3], okRows[0], okRows[3]}, ""},
		{"window", Selection{Day: 3, Positions: []int{1, 2}, First: 2, Last: 3},
			[]Selected{window(okRows[1], 2, 3), window(okRows[2], 2, 3)}, ""},
		{"none", Selection{First: 1, Last: 1}, []Selected{}, ""},
		{"beyond the join", Selection{Positions: []int{1, 4}, First: 1, Last: 3}, nil,
			"position 4 is beyond the joined table, which has 4 rows"},
		{"window beyond N", Selection{Positions: []int{0}, First: 1, Last: 4}, nil,
			"selection wants minutes 1…4, the file has minute columns 1…3"},
		{"negative position", Selection{Positions: []int{-1}, First: 1, Last: 1}, nil, "negative position"},
		{"bad window", Selection{First: 2, Last: 1}, nil, "want 1 <= First <= Last"},
		{"other day", Selection{Day: 4, First: 1, Last: 1}, nil,
			"no " + DurationsName(4) + " or " + DurationsName(4) + ".gz"},
	}
	for _, dir := range []string{"testdata/ok", "testdata/okgz"} {
		d, err := OpenDataset(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range tests {
			t.Run(filepath.Base(dir)+"/"+tt.name, func(t *testing.T) {
				got, st, err := d.SelectStats(ctx, tt.sel, nil)
				if tt.errContains != "" {
					if err == nil || !strings.Contains(err.Error(), tt.errContains) {
						t.Fatalf("error %v, want one containing %q", err, tt.errContains)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("got %+v\nwant %+v", got, tt.want)
				}
				if want := (Stats{Day: 3, Minutes: 3, InvocationRows: 6, DurationRows: 6, JoinedRows: 4}); st != want {
					t.Errorf("stats %+v, want %+v", st, want)
				}
			})
		}
	}
}

func TestSelectErrors(t *testing.T) {
	ctx := context.Background()
	sel := Selection{Positions: []int{0}, First: 1, Last: 3}
	tests := []struct {
		dir    string
		want   error
		path   string // RowError path ("" when not a RowError)
		line   int
		column string
		msg    string
	}{
		{"testdata/dupinv", tracefile.ErrDuplicateKey, "testdata/dupinv/" + InvocationsName(3), 6, "",
			"also on line 4"},
		{"testdata/dupdur", tracefile.ErrDuplicateKey, "testdata/dupdur/" + DurationsName(3), 5, "",
			"also on line 4"},
		{"testdata/nodur", fs.ErrNotExist, "", 0, "",
			"dataset directory testdata/nodur has no " + DurationsName(3) + " or " + DurationsName(3) + ".gz"},
		{"testdata/nonexistent", fs.ErrNotExist, "", 0, "", "testdata/nonexistent"},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.dir), func(t *testing.T) {
			d, err := OpenDataset(tt.dir)
			if err == nil {
				_, err = d.Select(ctx, sel, nil)
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("message %q lacks %q", err, tt.msg)
			}
			var re *tracefile.RowError
			if tt.path == "" {
				return
			}
			if !errors.As(err, &re) {
				t.Fatalf("%T is not a RowError", err)
			}
			if re.Path != tt.path || re.Line != tt.line || re.Column != tt.column {
				t.Errorf("got %q:%d column %q, want %q:%d %q", re.Path, re.Line, re.Column, tt.path, tt.line, tt.column)
			}
		})
	}
}

// TestSelectTruncatedGzip puts a cut .csv.gz into a dataset directory: cut
// inside the data, inside the gzip header, and empty.
func TestSelectTruncatedGzip(t *testing.T) {
	full, err := os.ReadFile("testdata/bad/inv_truncated.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{len(full), 5, 0} {
		dir := t.TempDir()
		copyFile(t, "testdata/ok/"+DurationsName(3), filepath.Join(dir, DurationsName(3)))
		gzPath := filepath.Join(dir, InvocationsName(3)+".gz")
		if err := os.WriteFile(gzPath, full[:n], 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := OpenDataset(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, err = d.Select(context.Background(), Selection{First: 1, Last: 60}, nil)
		var re *tracefile.RowError
		if !errors.Is(err, tracefile.ErrTruncated) || !errors.As(err, &re) || re.Path != gzPath {
			t.Errorf("%d bytes: error %v, want a RowError naming the .gz and wrapping ErrTruncated", n, err)
		}
	}
}

func TestOpenDatasetForms(t *testing.T) {
	ctx := context.Background()
	sel := Selection{Positions: []int{2, 0}, First: 1, Last: 3}
	want := []Selected{okRows[2], okRows[0]}
	for _, path := range []string{
		"testdata/ok",
		"testdata/okgz",
		"testdata/ok/" + InvocationsName(3),
		"testdata/ok/" + MemoryName(3),
		"testdata/okgz/" + DurationsName(3) + ".gz",
	} {
		d, err := OpenDataset(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Select(ctx, sel, nil)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v", path, got)
		}
	}
	if _, err := OpenDataset("testdata/bad/inv_short.csv"); err == nil || !strings.Contains(err.Error(), "not a directory, a day file") {
		t.Errorf("OpenDataset of a stray file: %v", err)
	}
	// A named file pins that file: here a .gz in a directory that also holds
	// the plain file would otherwise win.
	dir := t.TempDir()
	for _, n := range []string{InvocationsName(3), DurationsName(3)} {
		copyFile(t, "testdata/ok/"+n, filepath.Join(dir, n))
	}
	copyFile(t, "testdata/bad/inv_truncated.csv.gz", filepath.Join(dir, InvocationsName(3)+".gz"))
	if d, _ := OpenDataset(dir); mustSelectErr(d, sel) != nil {
		t.Errorf("directory: the plain file should win: %v", mustSelectErr(d, sel))
	}
	if d, _ := OpenDataset(filepath.Join(dir, InvocationsName(3)+".gz")); !errors.Is(mustSelectErr(d, sel), tracefile.ErrTruncated) {
		t.Errorf("named .gz file not used")
	}
}

func mustSelectErr(d *Dataset, sel Selection) error {
	_, err := d.Select(context.Background(), sel, nil)
	return err
}

// TestDatasetDay checks that a named file's day is the default.
func TestDatasetDay(t *testing.T) {
	dir := t.TempDir()
	files, err := SynthBytes(SynthOptions{Seed: 5, Day: 7, Rows: 50, Minutes: 5})
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, files, false)
	d, err := OpenDataset(filepath.Join(dir, InvocationsName(7)))
	if err != nil {
		t.Fatal(err)
	}
	if d.Day() != 7 {
		t.Fatalf("Day() = %d", d.Day())
	}
	st, err := d.JoinStats(context.Background(), 0, nil)
	if err != nil || st.Day != 7 || st.InvocationRows != 50 || st.Minutes != 5 {
		t.Fatalf("stats %+v, %v", st, err)
	}
}

// TestSelectArchive compares Select across directory, single-file, memory
// and archive forms (.tar, .tar.gz, .tar.xz; durations before and after
// invocations; entries in a subdirectory; files gzipped inside the archive).
func TestSelectArchive(t *testing.T) {
	ctx := context.Background()
	files, err := SynthBytes(SynthOptions{Seed: 11, Rows: 3000, Minutes: 90})
	if err != nil {
		t.Fatal(err)
	}
	sel := Selection{Positions: []int{2900, 0, 17, 1500, 17, 2000}, First: 20, Last: 80}
	ref, refStats, err := NewMemDataset(files).SelectStats(ctx, sel, nil)
	if err != nil {
		t.Fatal(err)
	}
	if refStats.InvocationRows != 3000 || refStats.JoinedRows != 2910 || len(ref) != 6 || len(ref[0].Counts) != 61 {
		t.Fatalf("reference: %+v, %d rows", refStats, len(ref))
	}
	dir := t.TempDir()
	writeFiles(t, filepath.Join(dir, "plain"), files, false)
	writeFiles(t, filepath.Join(dir, "gz"), files, true)
	paths := []string{
		filepath.Join(dir, "plain"),
		filepath.Join(dir, "gz"),
		filepath.Join(dir, "plain", DurationsName(3)),
		filepath.Join(dir, "gz", InvocationsName(3)+".gz"),
	}
	orders := map[string][]string{
		"durfirst": {MemoryName(3), DurationsName(3), InvocationsName(3)},
		"invfirst": {InvocationsName(3), MemoryName(3), DurationsName(3)},
	}
	for order, names := range orders {
		for _, comp := range []string{".tar", ".tar.gz", ".tar.xz"} {
			for _, gzInside := range []bool{false, true} {
				name := order + map[bool]string{false: "", true: "-gzinside"}[gzInside] + comp
				p := filepath.Join(dir, name)
				writeArchive(t, p, files, names, gzInside)
				paths = append(paths, p)
			}
		}
	}
	for _, p := range paths {
		d, err := OpenDataset(p)
		if err != nil {
			t.Fatal(err)
		}
		m := &countMeter{}
		got, st, err := d.SelectStats(ctx, sel, m)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !reflect.DeepEqual(got, ref) || st != refStats {
			t.Errorf("%s: results differ from the in-memory dataset", filepath.Base(p))
		}
		if m.begins == 0 || m.begins != m.ends || m.bytes == 0 {
			t.Errorf("%s: meter saw %d Begin, %d End, %d bytes", p, m.begins, m.ends, m.bytes)
		}
	}
	// The memory file through OpenFile, from an archive.
	d, _ := OpenDataset(filepath.Join(dir, "invfirst-gzinside.tar.xz"))
	rc, path, err := d.OpenFile(MemoryName(3), nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := readKind("mem", rc, path)
	rc.Close()
	if err != nil || n == 0 || !strings.HasSuffix(path, ".tar.xz/data/"+MemoryName(3)+".gz") {
		t.Errorf("memory file from the archive: %d rows, %v, path %s", n, err, path)
	}
}

func TestArchiveErrors(t *testing.T) {
	files, err := SynthBytes(SynthOptions{Seed: 2, Rows: 2000, Minutes: 60})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sel := Selection{Positions: []int{5}, First: 1, Last: 60}

	// Missing entry.
	p := filepath.Join(dir, "nodur.tar.xz")
	writeArchive(t, p, files, []string{InvocationsName(3), MemoryName(3)}, false)
	d, _ := OpenDataset(p)
	err = mustSelectErr(d, sel)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), DurationsName(3)) {
		t.Errorf("missing entry: %v", err)
	}
	// Truncated xz and gz streams.
	for _, comp := range []string{".tar.xz", ".tar.gz"} {
		full := filepath.Join(dir, "full"+comp)
		writeArchive(t, full, files, []string{DurationsName(3), InvocationsName(3)}, false)
		b, err := os.ReadFile(full)
		if err != nil {
			t.Fatal(err)
		}
		cut := filepath.Join(dir, "cut"+comp)
		if err := os.WriteFile(cut, b[:len(b)*3/4], 0o644); err != nil {
			t.Fatal(err)
		}
		d, _ := OpenDataset(cut)
		err = mustSelectErr(d, sel)
		var re *tracefile.RowError
		if !errors.Is(err, tracefile.ErrTruncated) || !errors.As(err, &re) || !strings.HasPrefix(re.Path, cut) {
			t.Errorf("%s: error %v, want a RowError naming the archive and wrapping ErrTruncated", comp, err)
		}
	}
}

func TestSelectCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := sampleForTest(1).Select(ctx, upstreamSelection([]int{1}), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}

func TestMemDatasetMissing(t *testing.T) {
	d := NewMemDataset(map[string][]byte{InvocationsName(3): []byte("x")})
	err := mustSelectErr(d, Selection{First: 1, Last: 1})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), DurationsName(3)) {
		t.Errorf("error %v", err)
	}
}

type countMeter struct{ begins, ends, bytes int64 }

func (m *countMeter) Begin(string, int64) { m.begins++ }
func (m *countMeter) Advance(n int64)     { m.bytes += n }
func (m *countMeter) End()                { m.ends++ }

var _ tracefile.Meter = (*countMeter)(nil)

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeFiles(t *testing.T, dir string, files map[string][]byte, gzipped bool) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for n, b := range files {
		if gzipped {
			n, b = n+".gz", gz(t, b)
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeArchive writes the named files into a tar under data/ (after a
// directory entry and an unrelated file), compressed by path's suffix.
func writeArchive(t *testing.T, path string, files map[string][]byte, names []string, gzInside bool) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, b []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(b)
	}
	if err := tw.WriteHeader(&tar.Header{Name: "data/", Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
		t.Fatal(err)
	}
	add("data/README.md", []byte("unrelated"))
	for _, n := range names {
		b := files[n]
		if gzInside {
			n, b = n+".gz", gz(t, b)
		}
		add("data/"+n, b)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	switch {
	case strings.HasSuffix(path, ".gz"):
		out = gz(t, out)
	case strings.HasSuffix(path, ".xz"):
		var xb bytes.Buffer
		w, err := xz.NewWriter(&xb)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, bytes.NewReader(out)); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		out = xb.Bytes()
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDatasetFiles checks Files names what Select reads, in every form.
func TestDatasetFiles(t *testing.T) {
	dir := t.TempDir()
	copyFile(t, "testdata/ok/"+DurationsName(3), filepath.Join(dir, DurationsName(3)))
	copyFile(t, "testdata/okgz/"+InvocationsName(3)+".gz", filepath.Join(dir, InvocationsName(3)+".gz"))
	copyFile(t, "testdata/ok/"+InvocationsName(3), filepath.Join(dir, "elsewhere-"+InvocationsName(3)))
	archive := filepath.Join(dir, "day.tar")
	os.WriteFile(archive, nil, 0o644)
	for _, c := range []struct {
		open string
		want []string
	}{
		{"testdata/ok", []string{"testdata/ok/" + DurationsName(3), "testdata/ok/" + InvocationsName(3)}},
		{"testdata/okgz", []string{"testdata/okgz/" + DurationsName(3) + ".gz", "testdata/okgz/" + InvocationsName(3) + ".gz"}},
		// A plain durations file beside a gzipped invocations file.
		{dir, []string{filepath.Join(dir, DurationsName(3)), filepath.Join(dir, InvocationsName(3)+".gz")}},
		// A named .gz file is the one read, even beside a plain one.
		{"testdata/okgz/" + DurationsName(3) + ".gz", []string{"testdata/okgz/" + DurationsName(3) + ".gz", "testdata/okgz/" + InvocationsName(3) + ".gz"}},
		{archive, []string{archive}},
	} {
		d, err := OpenDataset(c.open)
		if err != nil {
			t.Fatal(err)
		}
		got, err := d.Files(0)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("OpenDataset(%s).Files(0) = %v, %v; want %v", c.open, got, err, c.want)
		}
	}
	d, _ := OpenDataset("testdata/ok")
	if _, err := d.Files(4); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), DurationsName(4)) {
		t.Errorf("Files of a missing day: %v", err)
	}
	if got, err := NewMemDataset(map[string][]byte{}).Files(0); got != nil || err != nil {
		t.Errorf("in-memory dataset: %v, %v", got, err)
	}
}
