package huawei

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"trenv-bench/traces/tracefile"
)

// cellColumns splits a small day file into its cells by header name.
func cellColumns(t *testing.T, data []byte) (header []string, cols map[string][]string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	header = strings.Split(lines[0], ",")
	cols = map[string][]string{}
	for _, line := range lines[1:] {
		for j, c := range strings.Split(line, ",") {
			cols[header[j]] = append(cols[header[j]], c)
		}
	}
	return header, cols
}

// TestSynth writes a small dataset twice, reads it back and checks the
// format rules.
func TestSynth(t *testing.T) {
	busy := []Window{{Function: 7, Day: 2}, {Function: 40, Day: 2}}
	opts := SynthOptions{Seed: 42, Days: []int{2, 0, 2}, Functions: 50, Busy: busy}
	dir1, dir2 := t.TempDir(), t.TempDir()
	if err := Synth(dir1, opts); err != nil {
		t.Fatal(err)
	}
	if err := Synth(dir2, opts); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDataset(dir1)
	if err != nil {
		t.Fatal(err)
	}
	// The marker beside the day files lists exactly the files written.
	m, err := tracefile.ReadSynthMarker(filepath.Join(dir1, DirName))
	if err != nil || m == nil {
		t.Fatalf("no synthetic-dataset marker: %v", err)
	}
	if want := []tracefile.SynthFile{{Name: DayFileName(0), Seed: 42}, {Name: DayFileName(2), Seed: 42}}; m.Trace != "huawei" || !slices.Equal(m.Files, want) {
		t.Errorf("marker %+v, want huawei files %v", m, want)
	}
	if days, _ := d.Days(); !slices.Equal(days, []int{0, 2}) {
		t.Errorf("days %v, want [0 2]", days)
	}
	for _, day := range []int{0, 2} {
		path := filepath.Join(dir1, DirName, DayFileName(day))
		a, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := os.ReadFile(filepath.Join(dir2, DirName, DayFileName(day)))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: not deterministic", path)
		}
		if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v", path, st.Mode())
		}
		keep := make([]int, opts.Functions)
		for i := range keep {
			keep[i] = i
		}
		r := NewReader(bytes.NewReader(a), path, day, keep)
		for r.Next() {
			for _, v := range r.Values() {
				if v < 0 || v > MaxPerMinute || v != float64(int(v)) {
					t.Fatalf("%s minute %d: cell %v", path, r.Minute(), v)
				}
			}
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Functions(), keep) {
			t.Errorf("%s: functions %v", path, r.Functions())
		}
		// pandas' format: a column with an empty cell is written as decimals.
		header, cols := cellColumns(t, a)
		for _, name := range header[2:] {
			hasEmpty := slices.Contains(cols[name], "")
			for _, c := range cols[name] {
				if c != "" && strings.HasSuffix(c, ".0") != hasEmpty {
					t.Fatalf("%s column %s: cell %q, column has an empty cell: %v", path, name, c, hasEmpty)
				}
			}
		}
	}
	// Another seed gives other traffic.
	dir3 := t.TempDir()
	if err := Synth(dir3, SynthOptions{Seed: 43, Days: []int{2}, Functions: 50}); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(filepath.Join(dir1, DirName, "day_02.csv"))
	b, _ := os.ReadFile(filepath.Join(dir3, DirName, "day_02.csv"))
	if bytes.Equal(a, b) {
		t.Error("seeds 42 and 43 wrote the same day")
	}
}

// TestSynthGzip writes .gz files, replacing plain ones of the same day.
func TestSynthGzip(t *testing.T) {
	dir := t.TempDir()
	opts := SynthOptions{Seed: 1, Days: []int{4}, Functions: 10}
	if err := Synth(dir, opts); err != nil {
		t.Fatal(err)
	}
	plain, err := os.ReadFile(filepath.Join(dir, DirName, "day_04.csv"))
	if err != nil {
		t.Fatal(err)
	}
	opts.Gzip = true
	if err := Synth(dir, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, DirName, "day_04.csv")); !os.IsNotExist(err) {
		t.Errorf("plain file left beside the .gz: %v", err)
	}
	if m, err := tracefile.ReadSynthMarker(filepath.Join(dir, DirName)); err != nil || len(m.Files) != 1 || m.Files[0].Name != "day_04.csv.gz" {
		t.Errorf("marker after the gzip synthesis: %+v, %v", m, err)
	}
	f, err := tracefile.Open(filepath.Join(dir, DirName, "day_04.csv.gz"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, plain) {
		t.Errorf("gzipped content differs from plain (%v)", err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, DirName))
	if len(ents) != 2 {
		t.Errorf("directory holds %d entries, want the day file and the marker (no temporary files)", len(ents))
	}
}

func TestSynthErrors(t *testing.T) {
	dir := t.TempDir()
	for _, opts := range []SynthOptions{
		{Functions: -1},
		{Days: []int{-1}},
		{Busy: []Window{{Function: -1}}},
	} {
		if err := Synth(dir, opts); err == nil {
			t.Errorf("Synth(%+v) = nil", opts)
		}
	}
	// The output directory cannot be made: a file is in the way.
	file := filepath.Join(dir, "file")
	os.WriteFile(file, nil, 0o644)
	if err := Synth(file, SynthOptions{Functions: 1, Days: []int{0}}); err == nil {
		t.Error("Synth under a file = nil")
	}
}

// TestSynthFull writes one full day and checks the shape of its traffic.
func TestSynthFull(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	dir := t.TempDir()
	start := time.Now()
	if err := Synth(dir, SynthOptions{Seed: 1, Days: []int{3}}); err != nil {
		t.Fatal(err)
	}
	t.Logf("one day of %d functions in %v", TraceFunctions, time.Since(start))
	path := filepath.Join(dir, DirName, "day_03.csv")
	f, err := tracefile.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keep := make([]int, TraceFunctions)
	for i := range keep {
		keep[i] = i
	}
	r := NewReader(f, path, 3, keep)
	empty, cells := 0, 0
	nonEmpty := make([]int, TraceFunctions)
	for r.Next() {
		for j, v := range r.Values() {
			cells++
			if v == 0 {
				empty++
			} else {
				nonEmpty[j]++
			}
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	silent, always := 0, 0
	for _, n := range nonEmpty {
		switch n {
		case 0:
			silent++
		case MinutesPerDay:
			always++
		}
	}
	frac := float64(empty) / float64(cells)
	t.Logf("empty cells %.1f%%, silent functions %d, never-empty functions %d", 100*frac, silent, always)
	if frac < 0.6 || frac > 0.95 || silent < 200 || silent > 1200 || always == 0 || always > 300 {
		t.Errorf("traffic shape off: empty cells %.2f, silent %d, never empty %d", frac, silent, always)
	}
}

// TestSample checks that Sample is the matching columns of Synth.
func TestSample(t *testing.T) {
	ws := upstreamWindowList()
	start := time.Now()
	s := Sample(7, ws)
	t.Logf("Sample of %d windows in %v", len(ws), time.Since(start))
	days, _ := s.Days()
	if !slices.Equal(days, UpstreamDays()) {
		t.Errorf("days %v, want %v", days, UpstreamDays())
	}
	cells, err := s.Read(context.Background(), ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range ws {
		busy := 0
		for _, v := range cells[i] {
			if v > 0 {
				busy++
			}
		}
		if busy < 30 {
			t.Errorf("%v: %d busy minutes of 60", w, busy)
		}
	}
	// Byte for byte the same columns as the full Synth with Busy = ws.
	dir := t.TempDir()
	if err := Synth(dir, SynthOptions{Seed: 7, Days: []int{0, 19}, Functions: 1000, Busy: ws}); err != nil {
		t.Fatal(err)
	}
	for _, day := range []int{0, 19} {
		full, err := os.ReadFile(filepath.Join(dir, DirName, DayFileName(day)))
		if err != nil {
			t.Fatal(err)
		}
		_, fullCols := cellColumns(t, full)
		header, sampleCols := cellColumns(t, s.files[DayFileName(day)])
		if len(header) < 3 {
			t.Fatalf("day %d: header %v", day, header)
		}
		for _, name := range header {
			if !slices.Equal(sampleCols[name], fullCols[name]) {
				t.Errorf("day %d column %s: Sample differs from Synth", day, name)
			}
		}
	}
	// Negative windows are skipped.
	if d := Sample(1, []Window{{Function: -1, Day: 0}, {Function: 1, Day: -1}}); len(d.files) != 0 {
		t.Errorf("Sample of bad windows has %d files", len(d.files))
	}
}

// TestSampleGzipMem checks a Sample file also reads gzipped from memory.
func TestSampleGzipMem(t *testing.T) {
	ws := []Window{{Function: 3, Day: 9, StartHour: 4}}
	plain := Sample(3, ws)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(plain.files["day_09.csv"])
	zw.Close()
	gz := NewMemDataset(map[string][]byte{"day_09.csv.gz": buf.Bytes()})
	a, err := plain.Read(context.Background(), ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gz.Read(context.Background(), ws, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a[0], b[0]) {
		t.Error("gzipped sample reads differently")
	}
}
