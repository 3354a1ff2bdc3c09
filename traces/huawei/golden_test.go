package huawei

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"trenv-bench/internal/golden"
	"trenv-bench/traces/tracefile"
)

// goldenDir returns the synthetic Huawei dataset of the golden outputs
// (testdata/README.md), gzipped.
func goldenDir(tb testing.TB) string {
	tb.Helper()
	return golden.Dir(tb, "datasets/huawei/requests_minute")
}

// upstreamWindows are the 26 entries of gen_trace.py's huawei workload
// (spec upstream-tooling.md §1.9), by function name.
var upstreamWindows = []struct {
	name string
	w    Window
}{
	{"image-flip-rotate", Window{372, 21, 16, -4, 60}},
	{"video-processing", Window{372, 1, 17, 2, 60}},
	{"chameleon", Window{50, 19, 4, 0, 60}},
	{"image-recognition", Window{87, 23, 20, 0, 60}},
	{"pyaes", Window{80, 17, 19, 0, 60}},
	{"image-processing", Window{372, 1, 15, 0, 60}},
	{"json-serde", Window{397, 23, 5, 0, 60}},
	{"crypto", Window{372, 0, 15, -2, 60}},
	{"pagerank", Window{915, 19, 10, -7, 60}},
	{"js-json-serde", Window{200, 19, 1, 0, 60}},
	{"dynamic-html", Window{2976, 15, 1, 0, 60}},
	{"image-flip-rotate_1", Window{181, 0, 16, 0, 60}},
	{"video-processing_1", Window{37, 1, 0, 0, 60}},
	{"pyaes_1", Window{36, 0, 5, 0, 60}},
	{"image-processing_1", Window{36, 0, 2, 0, 60}},
	{"image-recognition_1", Window{44, 0, 5, 0, 60}},
	{"crypto_1", Window{26, 1, 3, 0, 60}},
	{"pagerank_1", Window{472, 0, 23, 0, 60}},
	{"dynamic-html_1", Window{38, 1, 9, 0, 60}},
	{"image-flip-rotate_2", Window{551, 1, 13, 0, 60}},
	{"video-processing_2", Window{425, 1, 18, 0, 60}},
	{"pyaes_2", Window{181, 0, 1, 0, 60}},
	{"image-processing_2", Window{37, 0, 0, 0, 60}},
	{"image-recognition_2", Window{44, 3, 2, 0, 60}},
	{"crypto_2", Window{181, 0, 7, 0, 60}},
	{"dynamic-html_2", Window{38, 0, 10, 0, 60}},
}

func upstreamWindowList() []Window {
	ws := make([]Window, len(upstreamWindows))
	for i, u := range upstreamWindows {
		ws[i] = u.w
	}
	return ws
}

// TestGoldenFiles reads every golden day file in full.
func TestGoldenFiles(t *testing.T) {
	d, err := OpenDataset(goldenDir(t))
	if err != nil {
		t.Fatal(err)
	}
	days, err := d.Days()
	if err != nil {
		t.Fatal(err)
	}
	want := UpstreamDays()
	if len(days) != len(want) {
		t.Fatalf("days %v, want %v", days, want)
	}
	for i, day := range days {
		if day != want[i] {
			t.Fatalf("days %v, want %v", days, want)
		}
		path := filepath.Join(goldenDir(t), DayFileName(day)+".gz")
		f, err := tracefile.Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		r := NewReader(f, path, day, []int{0, TraceFunctions - 1})
		rows := 0
		for r.Next() {
			rows++
		}
		f.Close()
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		ids := r.Functions()
		if rows != MinutesPerDay || len(ids) != TraceFunctions {
			t.Errorf("%s: %d rows, %d functions; want %d, %d", path, rows, len(ids), MinutesPerDay, TraceFunctions)
		}
		for k, id := range ids {
			if id != k {
				t.Fatalf("%s: column %d is function %d", path, k+3, id)
			}
		}
	}
}

// TestGoldenWindows reads the 26 upstream windows and checks them against
// the golden upstream output: upstream splits each minute's int(v+0.001)
// requests over its 60 seconds, so each function's requests in warmup.json
// and workload.json together add up to its window's.
func TestGoldenWindows(t *testing.T) {
	d, err := OpenDataset(filepath.Dir(goldenDir(t)))
	if err != nil {
		t.Fatal(err)
	}
	cells, err := d.Read(context.Background(), upstreamWindowList(), nil)
	if err != nil {
		t.Fatal(err)
	}
	total := map[string]int{}
	for _, name := range []string{"warmup.json", "workload.json"} {
		b := golden.Upstream(t, "huawei", name)
		var w map[string][]int
		if err := json.Unmarshal(b, &w); err != nil {
			t.Fatal(err)
		}
		for f, counts := range w {
			for _, c := range counts {
				total[f] += c
			}
		}
	}
	for i, u := range upstreamWindows {
		if len(cells[i]) != 60 {
			t.Fatalf("%s: %d cells", u.name, len(cells[i]))
		}
		sum, busy := 0, 0
		for _, v := range cells[i] {
			n := int(v + 0.001)
			if n < 0 || n > MaxPerMinute {
				t.Errorf("%s: cell %v", u.name, v)
			}
			if n > 0 {
				busy++
			}
			sum += n
		}
		if sum != total[u.name] {
			t.Errorf("%s (%v): window holds %d requests, upstream output %d", u.name, u.w, sum, total[u.name])
		}
		if busy == 0 {
			t.Errorf("%s (%v): no traffic", u.name, u.w)
		}
	}
}
