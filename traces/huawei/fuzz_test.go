package huawei

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trenv-bench/traces/tracefile"
)

const fuzzRows = 3

// FuzzReader checks that the reader never panics, returns rows in order,
// and ends either cleanly after all rows or with a *tracefile.RowError.
func FuzzReader(f *testing.F) {
	// Fuzzed files hold fuzzRows rows instead of 1440, so that small inputs
	// reach the end of a valid file. A valid file with functions 0, 1 and 3,
	// and variations of it:
	valid := "day,time,0,1,3\n2,172800,0.0,0,\n2,172860,,1,\n2,172920,2.0,2,\n"
	f.Add([]byte(valid), 2)
	f.Add([]byte(valid), -1)
	f.Add([]byte(valid), 3)
	f.Add([]byte(strings.ReplaceAll(valid, "\n", "\r\n")), 2)
	f.Add([]byte(strings.TrimSuffix(valid, "\n")), 2)
	f.Add([]byte(valid[:len(valid)/2]), 2)
	f.Add([]byte(valid+"2,172980,,,\n"), 2)
	f.Add([]byte("day,time,3,1,0\n2,172800,1.5,,7\n2,172860,1.5,,7\n2,172920,1.5,,12345678901234567890.5\n"), 2)
	f.Add([]byte("day,time,0,1,3,0\n"), 2)
	f.Add([]byte("day,time\n0,0\n0,60\n0,120\n"), 0)
	f.Add([]byte(""), 0)
	f.Add([]byte("\xef\xbb\xbfday,time,0,1,3\n2,172800,.,-1,1e5\n"), 2)
	for _, dir := range []string{badDir} {
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil && !strings.HasSuffix(e.Name(), ".gz") {
				f.Add(data, 3)
			}
		}
	}
	keep := []int{3, 0, 1, 3}
	f.Fuzz(func(t *testing.T, data []byte, day int) {
		r := NewReader(bytes.NewReader(data), "fuzz.csv", day, keep)
		r.rows = fuzzRows
		rows := 0
		for r.Next() {
			if r.Minute() != rows {
				t.Fatalf("minute %d after %d rows", r.Minute(), rows)
			}
			if v := r.Values(); len(v) != len(keep) || v[0] != v[3] {
				t.Fatalf("values %v", v)
			}
			for _, v := range r.Values() {
				if v < 0 {
					t.Fatalf("negative value %v", v)
				}
			}
			rows++
		}
		if r.Next() {
			t.Fatal("Next after the end = true")
		}
		err := r.Err()
		if err == nil {
			if rows != fuzzRows {
				t.Fatalf("clean end after %d rows", rows)
			}
			return
		}
		var re *tracefile.RowError
		if !errors.As(err, &re) || re.Path != "fuzz.csv" || re.Line < 1 {
			t.Fatalf("error %v (%T) is not a RowError with a line", err, err)
		}
	})
}
