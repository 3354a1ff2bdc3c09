package azure

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	"trenv-bench/traces/tracefile"
)

// checkReaderErr fails unless err is nil or a *tracefile.RowError with a
// path and a line.
func checkReaderErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var re *tracefile.RowError
	if !errors.As(err, &re) {
		t.Fatalf("error %q (%T) is not a *tracefile.RowError", err, err)
	}
	if re.Path != "fuzz" || re.Line < 1 {
		t.Fatalf("error %q: path %q line %d", err, re.Path, re.Line)
	}
}

func FuzzInvocationsReader(f *testing.F) {
	for _, s := range []string{
		"HashOwner,HashApp,HashFunction,Trigger,1,2,3\no,a,f,http,1,2,3\n",
		"HashOwner,HashApp,HashFunction,Trigger,1\r\no,a,f,,0\r\n\r\no2,a,f,timer,12",
		"HashOwner,HashApp,HashFunction,1,2,Trigger\no,a,f,7,8,timer\no,a,g,7,8\n",
		"\"HashOwner\",HashApp,HashFunction,Trigger,1,2\n\"o\",\"a,b\",\"f\"\"\",x,\"1\",2\n",
		"HashOwner,HashApp,HashFunction,Trigger,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20\n" +
			"o,a,f,t,0,1,0,22,333,4444,0,0,0,0,0,0,0,0,0,0,0,0,0,99999999999999999999\n",
		"HashOwner,HashApp,HashFunction,Trigger,1,2\no,,f,t,1,2\n",
		"HashOwner,HashApp,HashFunction,Trigger,1,2\no,a,f,t,-1,2\n",
		"HashOwner,HashApp,HashFunction,Trigger,1,3\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewInvocationsReader(bytes.NewReader(data), "fuzz")
		rows := 0
		for r.Next() {
			rows++
			row := r.Row()
			n := r.Minutes()
			if n < 1 || row.Minutes() != n || row.Line < 2 {
				t.Fatalf("minutes %d/%d line %d", n, row.Minutes(), row.Line)
			}
			if len(row.Owner) == 0 || len(row.App) == 0 || len(row.Function) == 0 {
				t.Fatalf("line %d: empty hash", row.Line)
			}
			counts := row.Counts(nil, 1, n)
			if len(counts) != n {
				t.Fatalf("line %d: %d counts", row.Line, len(counts))
			}
			for m, c := range counts {
				if c < 0 {
					t.Fatalf("line %d minute %d: %d", row.Line, m+1, c)
				}
				if got := row.Count(m + 1); got != c {
					t.Fatalf("line %d minute %d: Count %d, Counts %d", row.Line, m+1, got, c)
				}
			}
			// Cross-check a line without quotes with strings.Split and
			// strconv.ParseInt.
			if !bytes.ContainsAny(data, "\"") {
				lines := strings.Split(string(data), "\n")
				header := strings.Split(strings.TrimSuffix(lines[0], "\r"), ",")
				fields := strings.Split(strings.TrimSuffix(lines[row.Line-1], "\r"), ",")
				first := -1
				for i, h := range header {
					if h == "1" {
						first = i
					}
				}
				if len(fields) != len(header) || first < 0 {
					t.Fatalf("line %d: %d fields, header %q", row.Line, len(fields), header)
				}
				for m, c := range counts {
					v, err := strconv.ParseInt(fields[first+m], 10, 64)
					if err != nil || v != c {
						t.Fatalf("line %d minute %d: %q read as %d", row.Line, m+1, fields[first+m], c)
					}
				}
			}
		}
		checkReaderErr(t, r.Err())
		if r.Next() {
			t.Fatal("Next after the end")
		}
	})
}

func FuzzDurationsReader(f *testing.F) {
	h := strings.Join(DurationsHeader(), ",")
	for _, s := range []string{
		h + "\no,a,f,8634,111,3108,147271,3108,41475,54886,90986,92163,95677,147271\n",
		h + "\no,a,f,1.5,2,,,1,1,1,1,1,1,1\r\no,a,g,1e3,2,1,2,.5,1.,1,1,1,1,1",
		h + "\no,a,f,1,2,3\n",
		h + "\no,a,f,x,2,,,1,1,1,1,1,1,1\n",
		"Average,HashOwner\n1,o\n",
		h + ",Extra\n\"o\",\"a\",\"f\",1,2,,,1,1,1,1,1,1,1,\"x,y\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewDurationsReader(bytes.NewReader(data), "fuzz")
		for r.Next() {
			row := r.Row()
			if len(row.Owner) == 0 || len(row.App) == 0 || len(row.Function) == 0 || row.Line < 2 {
				t.Fatalf("bad row %+v", row)
			}
			if row.Count < 0 || row.Average < 0 || row.Minimum < 0 || row.Maximum < 0 {
				t.Fatalf("negative value in %+v", row)
			}
			for _, p := range row.Percentiles {
				if !(p >= 0) {
					t.Fatalf("percentile %v in %+v", p, row)
				}
			}
		}
		checkReaderErr(t, r.Err())
	})
}
