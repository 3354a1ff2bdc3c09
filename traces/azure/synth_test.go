package azure

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
	"time"

	"trenv-bench/traces/tracefile"
)

func TestSynthDeterministic(t *testing.T) {
	o := SynthOptions{Seed: 42, Rows: 500, Minutes: 30}
	a, err := SynthBytes(o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := SynthBytes(o)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same options, different bytes")
	}
	o.Seed = 43
	c, _ := SynthBytes(o)
	if bytes.Equal(a[InvocationsName(3)], c[InvocationsName(3)]) {
		t.Fatal("different seeds, same invocations")
	}
	// Chunks are generated in parallel; the bytes do not depend on it.
	prev := runtime.GOMAXPROCS(1)
	d, _ := SynthBytes(SynthOptions{Seed: 42, Rows: 5000, Minutes: 30})
	runtime.GOMAXPROCS(prev)
	if e, _ := SynthBytes(SynthOptions{Seed: 42, Rows: 5000, Minutes: 30}); !reflect.DeepEqual(d, e) {
		t.Fatal("GOMAXPROCS changes the bytes")
	}
	// Synth writes the same bytes to files.
	dir := t.TempDir()
	if err := Synth(dir, SynthOptions{Seed: 42, Rows: 500, Minutes: 30}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(a)+1 {
		t.Fatalf("%d files in dir, want the %d of the day and the marker (temporary files left?)", len(entries), len(a))
	}
	// The marker lists the day's files, and nothing else.
	m, err := tracefile.ReadSynthMarker(dir)
	if err != nil || m == nil || m.Trace != "azure" || len(m.Files) != len(a) {
		t.Fatalf("synthetic-dataset marker %+v, %v", m, err)
	}
	for _, f := range m.Files {
		if _, ok := a[f.Name]; !ok || f.Seed != 42 {
			t.Errorf("marker lists %+v, not a file of the day with seed 42", f)
		}
	}
	for n, want := range a {
		got, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from SynthBytes (%v)", n, err)
		}
	}
}

// TestSynthPinned pins the generator's output for one seed: a change here
// changes every synthetic dataset (update the sums when that is intended).
// math.Exp may differ in the last bit between architectures, so the sums are
// for amd64 only.
func TestSynthPinned(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("sums pinned on amd64")
	}
	files, err := SynthBytes(SynthOptions{Seed: 1, Rows: 300, Minutes: 20})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		InvocationsName(3): "704b91a655584a6b2a43b45c0c0acfe2c1ae2eb4bd10fffda3d08a2d2c4d04d6",
		DurationsName(3):   "567e947eb623852301b7925adf935bf19e1836195cf82bdc027e479a06e31733",
		MemoryName(3):      "73f0b37c9ae152de0739c7bfad34ff207d71e364971a1b7ffa4c7bb03c48c635",
	}
	for n, w := range want {
		if got := fmt.Sprintf("%x", sha256.Sum256(files[n])); got != w {
			t.Errorf("%s: sha256 %s, want %s", n, got, w)
		}
	}
}

// TestSynthProperties reads a synthetic day back with the readers and checks
// the shape the options promise.
func TestSynthProperties(t *testing.T) {
	const rows, minutes = 20000, 120
	files, err := SynthBytes(SynthOptions{Seed: 7, Rows: rows, Minutes: minutes, Busy: []int{0, 100, 19000}})
	if err != nil {
		t.Fatal(err)
	}
	d := NewMemDataset(files)
	sel, st, err := d.SelectStats(context.Background(), Selection{Positions: []int{0, 100, 19000}, First: 1, Last: 60}, nil)
	if err != nil {
		t.Fatal(err)
	}
	unmatched := int(math.Round(rows * DefaultUnmatchedFrac))
	decoys := int(math.Round(float64(unmatched) * DefaultDecoyFrac))
	if st.InvocationRows != rows || st.JoinedRows != rows-unmatched || st.DurationRows != rows-unmatched+decoys || st.Minutes != minutes {
		t.Errorf("stats %+v; want %d unmatched, %d decoys", st, unmatched, decoys)
	}
	for _, s := range sel {
		for m, c := range s.Counts {
			if c == 0 || c > DefaultMaxCount {
				t.Errorf("busy position %d minute %d: %d", s.Position, m+1, c)
			}
		}
	}

	// Counts: unique 16-hex hashes, capped, mostly zero, heavy-tailed.
	ir := NewInvocationsReader(bytes.NewReader(files[InvocationsName(3)]), "inv")
	seen := map[string]bool{}
	triggers := map[string]int{}
	var cells, zeros, maxCount int64
	var totals []int64
	for ir.Next() {
		r := ir.Row()
		for _, h := range [][]byte{r.Function} {
			if len(h) != 16 || seen[string(h)] {
				t.Fatalf("line %d: hash %q not 16 hex digits or repeated", r.Line, h)
			}
			seen[string(h)] = true
		}
		triggers[string(r.Trigger)]++
		var total int64
		for _, c := range r.Counts(nil, 1, minutes) {
			cells++
			if c == 0 {
				zeros++
			}
			maxCount = max(maxCount, c)
			total += c
		}
		totals = append(totals, total)
	}
	if err := ir.Err(); err != nil {
		t.Fatal(err)
	}
	if len(triggers) != 7 {
		t.Errorf("triggers %v", triggers)
	}
	if maxCount > DefaultMaxCount || maxCount < DefaultMaxCount/2 {
		t.Errorf("max minute count %d", maxCount)
	}
	if f := float64(zeros) / float64(cells); f < 0.5 || f > 0.95 {
		t.Errorf("zero minutes: %.2f", f)
	}
	var rare int
	for _, tot := range totals {
		if tot < int64(minutes) {
			rare++
		}
	}
	if f := float64(rare) / rows; f < 0.5 {
		t.Errorf("only %.2f of functions average under 1 call per minute", f)
	}

	// Durations: some empty Minimum/Maximum; memory: ~90 % of apps.
	dr := NewDurationsReader(bytes.NewReader(files[DurationsName(3)]), "dur")
	var empty, n int
	for dr.Next() {
		n++
		r := dr.Row()
		if math.IsNaN(r.Minimum) {
			empty++
		}
		for k := 1; k < len(r.Percentiles); k++ {
			if r.Percentiles[k] < r.Percentiles[k-1] {
				t.Fatalf("line %d: percentiles not sorted: %v", r.Line, r.Percentiles)
			}
		}
	}
	if dr.Err() != nil || empty == 0 || float64(empty)/float64(n) > 0.02 {
		t.Errorf("%d of %d durations rows with empty minimum; %v", empty, n, dr.Err())
	}
	mr := NewMemoryReader(bytes.NewReader(files[MemoryName(3)]), "mem")
	apps := 0
	for mr.Next() {
		apps++
	}
	if mr.Err() != nil || apps == 0 {
		t.Errorf("%d memory rows; %v", apps, mr.Err())
	}
	t.Logf("zeros %.2f, rare %.2f, triggers %v, %d apps with memory, %d empty min/max",
		float64(zeros)/float64(cells), float64(rare)/rows, triggers, apps, empty)
}

func TestSynthOptionsErrors(t *testing.T) {
	for _, o := range []SynthOptions{{Day: 100}, {Rows: -1}, {Minutes: -5}, {UnmatchedFrac: 1.5}} {
		if _, err := SynthBytes(o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	// A missing directory is created; a path under a regular file fails.
	dir := filepath.Join(t.TempDir(), "new", "dir")
	if err := Synth(dir, SynthOptions{Rows: 5}); err != nil {
		t.Errorf("Synth into a new directory: %v", err)
	}
	if err := Synth(filepath.Join(dir, InvocationsName(DefaultDay), "x"), SynthOptions{Rows: 5}); err == nil {
		t.Error("Synth under a regular file: no error")
	}
}

// TestSample checks the built-in sample covers upstream's positions and is
// quick to build and select.
func TestSample(t *testing.T) {
	start := time.Now()
	d := sampleForTest(1)
	built := time.Since(start)
	rows, st, err := d.SelectStats(context.Background(), upstreamSelection(upstreamPositions()), nil)
	if err != nil {
		t.Fatal(err)
	}
	total := time.Since(start)
	if st.JoinedRows <= 44914 || len(rows) != 26 || st.Minutes != 60 {
		t.Fatalf("stats %+v, %d rows", st, len(rows))
	}
	for _, r := range rows {
		var sum int64
		for _, c := range r.Counts {
			sum += c
			if c == 0 {
				t.Errorf("position %d: a zero minute in a busy row", r.Position)
			}
		}
	}
	// Timing varies with the machine; BenchmarkSample measures it.
	t.Logf("Sample built in %v, built and selected in %v (target 50 ms)", built, total)
}

func BenchmarkSample(b *testing.B) {
	for b.Loop() {
		d := sampleForTest(1)
		if _, err := d.Select(context.Background(), upstreamSelection(upstreamPositions()), nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSynthFullDay(b *testing.B) {
	dir := b.TempDir()
	b.SetBytes(goldenInvocationsLen)
	for b.Loop() {
		if err := Synth(dir, SynthOptions{Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSampleBuild(b *testing.B) {
	for b.Loop() {
		sampleForTest(1)
	}
}

func BenchmarkSampleSelect(b *testing.B) {
	d := sampleForTest(1)
	for b.Loop() {
		if _, err := d.Select(context.Background(), upstreamSelection(upstreamPositions()), nil); err != nil {
			b.Fatal(err)
		}
	}
}
