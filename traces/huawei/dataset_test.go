package huawei

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"trenv-bench/traces/tracefile"
)

// TestWindow checks window arithmetic and bounds, worked out by hand.
func TestWindow(t *testing.T) {
	tests := []struct {
		w     Window
		first int
		n     int
		ok    bool
	}{
		{Window{Function: 372, Day: 21, StartHour: 16, Offset: -4, Length: 60}, 964, 60, true}, // 16·60 + 4
		{Window{Function: 372, Day: 1, StartHour: 17, Offset: 2, Length: 60}, 1018, 60, true},  // 17·60 − 2
		{Window{Function: 915, Day: 19, StartHour: 10, Offset: -7}, 607, 60, true},             // Length 0 = 60
		{Window{Function: 37, Day: 0, StartHour: 0}, 0, 60, true},                              // first minute
		{Window{Function: 472, Day: 0, StartHour: 23}, 1380, 60, true},                         // last minute 1439
		{Window{StartHour: 24, Offset: 60}, 1380, 60, true},                                    // 1440 − 60
		{Window{StartHour: 24, Offset: 1, Length: 1}, 1439, 1, true},
		{Window{StartHour: 0, Length: MinutesPerDay}, 0, 1440, true},
		{Window{StartHour: 0, Offset: 1}, -1, 60, false},                 // starts before midnight
		{Window{StartHour: 23, Offset: -1}, 1381, 60, false},             // ends at minute 1440
		{Window{StartHour: 24}, 1440, 60, false},                         // after the day
		{Window{StartHour: 1, Offset: 60, Length: 1441}, 0, 1441, false}, // longer than a day
		{Window{StartHour: 5, Length: -1}, 300, -1, false},
		{Window{Function: -1, StartHour: 5}, 300, 60, false},
		{Window{Day: -1, StartHour: 5}, 300, 60, false},
		{Window{StartHour: -1, Offset: -60}, 0, 60, false}, // hours are 0…24
		{Window{StartHour: 25, Offset: 120}, 1380, 60, false},
	}
	for _, tt := range tests {
		if got := tt.w.FirstMinute(); got != tt.first {
			t.Errorf("%+v: FirstMinute = %d, want %d", tt.w, got, tt.first)
		}
		if got := tt.w.Len(); got != tt.n {
			t.Errorf("%+v: Len = %d, want %d", tt.w, got, tt.n)
		}
		err := tt.w.Validate()
		if (err == nil) != tt.ok {
			t.Errorf("%+v: Validate = %v, want ok=%v", tt.w, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadWindow) {
			t.Errorf("%+v: %v does not wrap ErrBadWindow", tt.w, err)
		}
	}
	if got, want := (Window{Function: 372, Day: 21, StartHour: 16, Offset: -4, Length: 60}).String(), "function 372, day_21.csv minutes 964-1023"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

// handWindows are windows over the test files with their cells worked out
// by hand from the file contents (see testdata/README.md).
var handWindows = []struct {
	w    Window
	want []float64
}{
	// day_03 function 1 holds k in minute k: minutes 125…127.
	{Window{Function: 1, Day: 3, StartHour: 2, Offset: -5, Length: 3}, []float64{125, 126, 127}},
	// day_03 function 0 holds k/10 when k%10 = 0: minutes 59…79.
	{Window{Function: 0, Day: 3, StartHour: 1, Offset: 1, Length: 21}, []float64{0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
	// day_03 function 7 holds k%7+1: minutes 1437…1439 (1437 = 7·205 + 2).
	{Window{Function: 7, Day: 3, StartHour: 24, Offset: 3, Length: 3}, []float64{3, 4, 5}},
	// day_03 function 2 is empty throughout.
	{Window{Function: 2, Day: 3, StartHour: 12, Length: 2}, []float64{0, 0}},
	// day_05 function 1 holds 1440 − k: minutes 0 and 1.
	{Window{Function: 1, Day: 5, StartHour: 0, Length: 2}, []float64{1440, 1439}},
	// day_05 function 40 holds 2.5 in minute 100 only: minutes 99, 100.
	{Window{Function: 40, Day: 5, StartHour: 2, Offset: 21, Length: 2}, []float64{0, 2.5}},
	// day_05 function 3 holds k%60 (empty when 0): minutes 59…118 (default length).
	{Window{Function: 3, Day: 5, StartHour: 1, Offset: 1}, append([]float64{59}, seq(0, 58)...)},
	// The same column again, overlapping.
	{Window{Function: 1, Day: 3, StartHour: 2, Offset: -6, Length: 2}, []float64{126, 127}},
}

func seq(lo, hi int) []float64 {
	var s []float64
	for i := lo; i <= hi; i++ {
		s = append(s, float64(i))
	}
	return s
}

func TestDatasetReadByHand(t *testing.T) {
	var ws []Window
	for _, h := range handWindows {
		ws = append(ws, h.w)
	}
	for _, path := range []string{
		"testdata/public_dataset/csv_files",         // parent of requests_minute
		testDir,                                     // requests_minute itself
		filepath.Join(testDir, "day_03.csv"),        // one day file
		filepath.Join(testDir, "day_05.csv.gz"),     // one gzipped day file
		"testdata/public_dataset/csv_files/",        // trailing slash
		"./" + filepath.Join(testDir, "day_03.csv"), // relative
	} {
		d, err := OpenDataset(path)
		if err != nil {
			t.Fatalf("OpenDataset(%q): %v", path, err)
		}
		if got := filepath.Clean(d.Dir()); got != filepath.Clean(testDir) {
			t.Errorf("OpenDataset(%q).Dir() = %q", path, got)
		}
		days, err := d.Days()
		if err != nil || !slices.Equal(days, []int{3, 5}) {
			t.Errorf("Days() = %v, %v", days, err)
		}
		var m countMeter
		got, err := d.Read(context.Background(), ws, &m)
		if err != nil {
			t.Fatalf("%s: Read: %v", path, err)
		}
		for i, h := range handWindows {
			if !slices.Equal(got[i], h.want) {
				t.Errorf("%s: %v = %v, want %v", path, h.w, got[i], h.want)
			}
		}
		if m.begins != 1 || m.ends != 1 || m.advanced != m.total || m.total != 25434+7630 {
			t.Errorf("meter: %d Begin, %d End, %d of %d bytes; want 1, 1, all %d", m.begins, m.ends, m.advanced, m.total, 25434+7630)
		}
	}
}

// countMeter records what a Meter sees.
type countMeter struct {
	mu              sync.Mutex
	begins, ends    int
	total, advanced int64
}

func (c *countMeter) Begin(_ string, total int64) { c.begins++; c.total = total }
func (c *countMeter) Advance(n int64) {
	c.mu.Lock()
	c.advanced += n
	c.mu.Unlock()
}
func (c *countMeter) End() { c.ends++ }

func TestMemDataset(t *testing.T) {
	d3, err := os.ReadFile(filepath.Join(testDir, "day_03.csv"))
	if err != nil {
		t.Fatal(err)
	}
	d5, err := os.ReadFile(filepath.Join(testDir, "day_05.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	d := NewMemDataset(map[string][]byte{"day_03.csv": d3, "day_05.csv.gz": d5, "README": nil})
	if days, _ := d.Days(); !slices.Equal(days, []int{3, 5}) {
		t.Errorf("Days() = %v", days)
	}
	var ws []Window
	for _, h := range handWindows {
		ws = append(ws, h.w)
	}
	got, err := d.Read(context.Background(), ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range handWindows {
		if !slices.Equal(got[i], h.want) {
			t.Errorf("%v = %v, want %v", h.w, got[i], h.want)
		}
	}
	// A truncated in-memory .gz, and one that is not gzip at all.
	for name, b := range map[string][]byte{"cut": d5[:len(d5)/2], "tiny": d5[:5], "text": d3} {
		d := NewMemDataset(map[string][]byte{"day_05.csv.gz": b})
		_, err := d.Read(context.Background(), []Window{{Function: 1, Day: 5}}, nil)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if name != "text" && !errors.Is(err, tracefile.ErrTruncated) {
			t.Errorf("%s: %v does not wrap ErrTruncated", name, err)
		}
		if !strings.Contains(err.Error(), "day_05.csv.gz") {
			t.Errorf("%s: %v does not name the file", name, err)
		}
	}
}

// TestDatasetErrors checks missing paths, files and columns.
func TestDatasetErrors(t *testing.T) {
	for _, path := range []string{"testdata/nope", "testdata/nope/day_03.csv"} {
		_, err := OpenDataset(path)
		checkRowError(t, err, fs.ErrNotExist, path, 0, "")
		if !strings.Contains(err.Error(), "requests_minute") {
			t.Errorf("%v does not say what is expected", err)
		}
	}
	// A directory without day files, a file that is not a day file.
	_, err := OpenDataset(badDir)
	checkRowError(t, err, fs.ErrNotExist, badDir, 0, "")
	if _, err := OpenDataset("testdata/README.md"); err == nil || !strings.Contains(err.Error(), "not a day file") {
		t.Errorf("OpenDataset(README.md) = %v", err)
	}

	d, err := OpenDataset(testDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// A missing day file, named with the directory.
	_, err = d.Read(ctx, []Window{{Function: 1, Day: 3}, {Function: 1, Day: 4}}, nil)
	checkRowError(t, err, fs.ErrNotExist, filepath.Join(testDir, "day_04.csv"), 0, "")
	if !strings.Contains(err.Error(), "day_04.csv.gz") {
		t.Errorf("%v does not name both candidates", err)
	}
	_, err = NewMemDataset(nil).Read(ctx, []Window{{Function: 1, Day: 4}}, nil)
	checkRowError(t, err, fs.ErrNotExist, "day_04.csv", 0, "")
	// A function the day file lacks.
	_, err = d.Read(ctx, []Window{{Function: 1, Day: 3}, {Function: 5, Day: 3}}, nil)
	checkRowError(t, err, tracefile.ErrHeader, filepath.Join(testDir, "day_03.csv"), 1, "5")
	if !strings.Contains(err.Error(), "function 5") {
		t.Errorf("%v does not name the function", err)
	}
	// A bad window, named by its index.
	_, err = d.Read(ctx, []Window{{Function: 1, Day: 3}, {Function: 1, Day: 3, StartHour: 24}}, nil)
	if !errors.Is(err, ErrBadWindow) || !strings.Contains(err.Error(), "window 1") {
		t.Errorf("bad window: %v", err)
	}
	// No windows: nothing to read.
	if got, err := d.Read(ctx, nil, nil); err != nil || len(got) != 0 {
		t.Errorf("Read(nil) = %v, %v", got, err)
	}
}

// TestDatasetBadContent reports the error of the file that is bad.
func TestDatasetBadContent(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(testDir, "day_03.csv"))
	if err != nil {
		t.Fatal(err)
	}
	bad, err := os.ReadFile(filepath.Join(badDir, "out_of_place.csv"))
	if err != nil {
		t.Fatal(err)
	}
	good5, err := os.ReadFile(filepath.Join(testDir, "day_05.csv.gz"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"day_03.csv": bad, "day_05.csv.gz": good5}
	_, err = NewMemDataset(files).Read(context.Background(), []Window{{Function: 1, Day: 3}, {Function: 1, Day: 5}}, nil)
	checkRowError(t, err, ErrOutOfPlace, "day_03.csv", 4, "time")
	// Good content under another day's name is out of place.
	files = map[string][]byte{"day_05.csv": good}
	_, err = NewMemDataset(files).Read(context.Background(), []Window{{Function: 1, Day: 5}}, nil)
	checkRowError(t, err, ErrOutOfPlace, "day_05.csv", 2, "day")
}

func TestDatasetCancel(t *testing.T) {
	d, err := OpenDataset(testDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Read(ctx, []Window{{Function: 1, Day: 3}}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Read with a cancelled context = %v", err)
	}
	// Cancelled while reading: the reader checks between rows.
	ctx, cancel = context.WithCancel(context.Background())
	m := &cancelMeter{cancel: cancel}
	if _, err := d.Read(ctx, []Window{{Function: 1, Day: 3}, {Function: 1, Day: 5}}, m); !errors.Is(err, context.Canceled) {
		t.Errorf("Read cancelled midway = %v", err)
	}
}

// cancelMeter cancels a context on the first Advance.
type cancelMeter struct {
	tracefile.NopMeter
	once   sync.Once
	cancel func()
}

func (c *cancelMeter) Advance(int64) { c.once.Do(c.cancel) }

// TestDatasetFiles checks Files names the day files Read reads.
func TestDatasetFiles(t *testing.T) {
	d, err := OpenDataset(testDir)
	if err != nil {
		t.Fatal(err)
	}
	ws := []Window{{Function: 1, Day: 5}, {Function: 2, Day: 3}, {Function: 3, Day: 5}}
	want := []string{filepath.Join(testDir, "day_03.csv"), filepath.Join(testDir, "day_05.csv.gz")}
	if got, err := d.Files(ws); err != nil || !slices.Equal(got, want) {
		t.Errorf("Files = %v, %v; want %v", got, err, want)
	}
	if _, err := d.Files([]Window{{Function: 1, Day: 4}}); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "day_04.csv") {
		t.Errorf("Files of a missing day: %v", err)
	}
	if got, err := Sample(1, ws).Files(ws); got != nil || err != nil {
		t.Errorf("in-memory dataset: %v, %v", got, err)
	}
}
