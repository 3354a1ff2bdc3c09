package tracefile

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestRowErrorMessage(t *testing.T) {
	cases := []struct {
		err  RowError
		want string
	}{
		{RowError{Path: "d.csv", Line: 7, Column: "37", Err: ErrNotNumber}, `d.csv:7: column "37": not a non-negative number`},
		{RowError{Path: "d.csv", Line: 2, Err: ErrFieldCount}, `d.csv:2: wrong number of fields`},
		{RowError{Path: "d.csv.gz", Err: ErrTruncated}, `d.csv.gz: truncated input`},
	}
	for _, c := range cases {
		if got := c.err.Error(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
		if !errors.Is(&c.err, c.err.Err) {
			t.Errorf("%v does not unwrap to its sentinel", c.want)
		}
	}
}

type countMeter struct {
	begun, ended int
	total, seen  int64
}

func (m *countMeter) Begin(_ string, total int64) { m.begun++; m.total = total }
func (m *countMeter) Advance(n int64)             { m.seen += n }
func (m *countMeter) End()                        { m.ended++ }

func TestOpenPlainAndGzip(t *testing.T) {
	dir := t.TempDir()
	content := bytes.Repeat([]byte("a,b,c\n1,2,3\n"), 1000)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(content)
	w.Close()
	os.WriteFile(filepath.Join(dir, "x.csv"), content, 0o644)
	os.WriteFile(filepath.Join(dir, "x.csv.gz"), gz.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "cut.csv.gz"), gz.Bytes()[:gz.Len()/2], 0o644)
	os.WriteFile(filepath.Join(dir, "head.csv.gz"), gz.Bytes()[:5], 0o644)

	for _, name := range []string{"x.csv", "x.csv.gz"} {
		m := &countMeter{}
		f, err := Open(filepath.Join(dir, name), m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("%s: read %d bytes, err %v", name, len(got), err)
		}
		st, _ := os.Stat(filepath.Join(dir, name))
		if m.begun != 1 || m.ended != 1 || m.total != st.Size() || m.seen != st.Size() {
			t.Errorf("%s: meter %+v, file size %d", name, *m, st.Size())
		}
	}
	for _, name := range []string{"cut.csv.gz", "head.csv.gz"} {
		f, err := Open(filepath.Join(dir, name), nil)
		if err == nil {
			_, err = io.ReadAll(f)
			f.Close()
		}
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("%s: got %v, want ErrTruncated", name, err)
		}
	}
	if _, err := Open(dir, nil); err == nil {
		t.Error("opening a directory succeeded")
	}
	if _, err := Open(filepath.Join(dir, "none.csv"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
