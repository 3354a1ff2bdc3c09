package azure

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"trenv-bench/internal/golden"
)

// goldenDir returns the golden synthetic day (testdata/README.md), as .csv.gz.
func goldenDir(tb testing.TB) string {
	tb.Helper()
	return golden.Dir(tb, "datasets/azure")
}

// Properties of the golden azure dataset, per testdata/README.md.
const (
	goldenInvocationRows = 46500
	goldenJoinedRows     = 45105
	goldenInvocationsLen = 139813138 // bytes, decompressed
)

// gunzipGolden decompresses a golden file into dir and returns its path.
func gunzipGolden(tb testing.TB, dir, name string) string {
	tb.Helper()
	in, err := os.Open(filepath.Join(goldenDir(tb), name+".gz"))
	if err != nil {
		tb.Fatal(err)
	}
	defer in.Close()
	gz, err := gzip.NewReader(in)
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(dir, name)
	out, err := os.Create(p)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := io.Copy(out, gz); err != nil {
		tb.Fatal(err)
	}
	if err := out.Close(); err != nil {
		tb.Fatal(err)
	}
	return p
}

func TestGoldenSelect(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 150 MB")
	}
	pos := upstreamPositions()
	var first []Selected
	// The directory, and one file named (the others found beside it).
	for _, path := range []string{goldenDir(t), filepath.Join(goldenDir(t), DurationsName(DefaultDay)+".gz")} {
		d, err := OpenDataset(path)
		if err != nil {
			t.Fatal(err)
		}
		rows, st, err := d.SelectStats(context.Background(), upstreamSelection(pos), nil)
		if err != nil {
			t.Fatal(err)
		}
		if st.InvocationRows != goldenInvocationRows || st.JoinedRows != goldenJoinedRows || st.Minutes != DayMinutes {
			t.Errorf("%s: stats = %+v, want %d invocation rows, %d joined, %d minutes",
				path, st, goldenInvocationRows, goldenJoinedRows, DayMinutes)
		}
		if len(rows) != len(pos) {
			t.Fatalf("got %d rows, want %d", len(rows), len(pos))
		}
		for i, r := range rows {
			if r.Position != pos[i] || len(r.Counts) != 60 || r.Line < 2+r.Position {
				t.Errorf("row %d: position %d line %d, %d counts", i, r.Position, r.Line, len(r.Counts))
			}
		}
		if first == nil {
			first = rows
		} else if !reflect.DeepEqual(rows, first) {
			t.Errorf("%s: rows differ from the directory's", path)
		}
	}
	t.Logf("first pick: %+v", first[0])
}

// upstreamNames maps upstream's azure function names to their joined-table
// positions (spec §1.8).
var upstreamNames = map[string]int{
	"image-flip-rotate": 6669, "image-flip-rotate_1": 40905, "image-flip-rotate_2": 36112,
	"video-processing": 37121, "video-processing_1": 31485, "video-processing_2": 23833,
	"chameleon": 10982, "pyaes": 2400, "pyaes_1": 11187, "pyaes_2": 8997,
	"image-processing": 14876, "image-processing_1": 5195, "image-processing_2": 29974,
	"image-recognition": 28412, "image-recognition_1": 35943, "image-recognition_2": 15085,
	"crypto": 28418, "crypto_1": 8849, "crypto_2": 25780,
	"json-serde": 39078, "pagerank_1": 35278, "dynamic-html_2": 3237,
	"pagerank": 44914, "dynamic-html_1": 4756, "js-json-serde": 26387, "dynamic-html": 19236,
}

// TestGoldenMatchesUpstream checks Select against upstream's own output on
// the golden days: every upstream minute (60 per-second entries, warmup then
// test phase) must add up to the count Select returns for that position.
func TestGoldenMatchesUpstream(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 300 MB")
	}
	for _, name := range []string{"azure", "azure-s3h1"} {
		t.Run(name, func(t *testing.T) {
			perSecond := upstreamSeconds(t, name)
			if len(perSecond) != len(upstreamNames) {
				t.Fatalf("upstream has %d functions, want %d", len(perSecond), len(upstreamNames))
			}
			var names []string
			var pos []int
			for n, p := range upstreamNames {
				names = append(names, n)
				pos = append(pos, p)
			}
			d, err := OpenDataset(golden.Dir(t, filepath.Join("datasets", name)))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := d.Select(context.Background(), upstreamSelection(pos), nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, r := range rows {
				sec := perSecond[names[i]]
				if len(sec) != 3600 {
					t.Fatalf("%s: %d seconds upstream", names[i], len(sec))
				}
				for m, c := range r.Counts {
					var sum int64
					for _, v := range sec[60*m : 60*m+60] {
						sum += v
					}
					if sum != c {
						t.Errorf("%s (position %d, line %d): minute %d: upstream sends %d, Select says %d",
							names[i], r.Position, r.Line, m+1, sum, c)
					}
				}
			}
		})
	}
}

// upstreamSeconds reads warmup.json and workload.json of an upstream golden
// case: per function, the requests of each second, warmup first.
func upstreamSeconds(t *testing.T, kase string) map[string][]int64 {
	t.Helper()
	var perSecond map[string][]int64
	for _, f := range []string{"warmup.json", "workload.json"} {
		b := golden.Upstream(t, kase, f)
		var m map[string][]int64
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		if perSecond == nil {
			perSecond = m
			continue
		}
		for k, v := range m {
			perSecond[k] = append(perSecond[k], v...)
		}
	}
	return perSecond
}
