package workloads

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trenv-bench/traces/azure"
	"trenv-bench/traces/tracefile"
)

// TestMakeGenerated: a generated kind records its seed and reads no
// dataset; the seed and iter reach the generator, and iter 0 is the
// default.
func TestMakeGenerated(t *testing.T) {
	ctx := context.Background()
	mk := func(s Spec) (Result, Provenance) {
		t.Helper()
		res, prov, err := Make(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		return res, prov
	}
	w1, prov := mk(Spec{Kind: "1", Seed: DefaultSeed, Dataset: "ignored: W1 reads none"})
	if prov.Name != "1" || prov.Seed == nil || *prov.Seed != DefaultSeed || prov.Dataset != "" || prov.Sample ||
		len(prov.Files) != 0 || prov.Synthetic() {
		t.Errorf("W1 provenance %+v", prov)
	}
	if other, prov := mk(Spec{Kind: "1", Seed: 0}); *prov.Seed != 0 ||
		bytes.Equal(other.Workload.Test.AppendJSON(nil), w1.Workload.Test.AppendJSON(nil)) {
		t.Errorf("seed 0: seed %d recorded, or the default seed's workload", *prov.Seed)
	}
	def, _ := mk(Spec{Kind: "func", Seed: DefaultSeed})
	two, _ := mk(Spec{Kind: "func", Seed: DefaultSeed, Iter: 2})
	if def.Workload.Test.Seconds() != 5*two.Workload.Test.Seconds()/2 {
		t.Errorf("func: %d s by default, %d s with iter 2; want DefaultIter (5) cycles by default",
			def.Workload.Test.Seconds(), two.Workload.Test.Seconds())
	}
	if _, _, err := Make(ctx, Spec{Kind: "7"}); err == nil || !strings.Contains(err.Error(), `"7"`) {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestMakeDatasets: without a dataset a trace kind reads the built-in
// sample and says so; with one, its files are hashed (unless NoDigests) and
// a traces synth marker makes them synthetic without changing the workload.
func TestMakeDatasets(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"azure", "huawei"} {
		res, prov, err := Make(ctx, Spec{Kind: kind, Seed: DefaultSeed})
		if err != nil {
			t.Fatal(err)
		}
		if !prov.Sample || !prov.Synthetic() || prov.Dataset != "" || len(prov.Files) != 0 || res.Workload.Test.Requests() == 0 {
			t.Errorf("%s without a dataset: %+v, %d requests", kind, prov, res.Workload.Test.Requests())
		}
	}

	dir := t.TempDir()
	sel, err := AzureSelection()
	if err != nil {
		t.Fatal(err)
	}
	if err := azure.Synth(dir, azure.SynthOptions{Seed: 2, Minutes: sel.Last, Busy: sel.Positions}); err != nil {
		t.Fatal(err)
	}
	spec := Spec{Kind: "azure", Seed: DefaultSeed, Dataset: dir}
	synth, prov, err := Make(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{azure.DurationsName(sel.Day), azure.InvocationsName(sel.Day)}
	if prov.Sample || prov.Dataset != dir || !prov.Synthetic() || len(prov.Files) != len(want) {
		t.Fatalf("synth dataset: %+v", prov)
	}
	for i, f := range prov.Files {
		if filepath.Base(f.Path) != want[i] || len(f.SHA256) != 64 || f.Bytes == 0 || !f.Synthetic {
			t.Errorf("file %d: %+v, want %s hashed and synthetic", i, f, want[i])
		}
	}
	spec.NoDigests = true
	if _, bare, err := Make(ctx, spec); err != nil || len(bare.Files) != len(want) || bare.Files[0].SHA256 != "" || !bare.Synthetic() {
		t.Errorf("NoDigests: %+v, %v", bare, err)
	}

	if err := os.Remove(filepath.Join(dir, tracefile.SynthMarkerName)); err != nil {
		t.Fatal(err)
	}
	unmarked, prov, err := Make(ctx, Spec{Kind: "azure", Seed: DefaultSeed, Dataset: dir})
	if err != nil {
		t.Fatal(err)
	}
	if prov.Synthetic() || len(prov.Files) != len(want) {
		t.Errorf("unmarked dataset: %+v", prov)
	}
	if !bytes.Equal(synth.Workload.Test.AppendJSON(nil), unmarked.Workload.Test.AppendJSON(nil)) {
		t.Error("the marker changed the workload")
	}

	missing := filepath.Join(dir, "no-such-dataset")
	if _, _, err := Make(ctx, Spec{Kind: "huawei", Dataset: missing}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing dataset: %v", err)
	}
}

// TestMakeSteady: a steady stream is PerSecond requests in each of Seconds
// seconds, no warmup, nothing generated; a bad one is refused before it is
// built, naming the field.
func TestMakeSteady(t *testing.T) {
	ctx := context.Background()
	res, prov, err := Make(ctx, Spec{Seed: 9, Steady: Steady{Name: "s-1", Function: "pyaes", Seconds: 3, PerSecond: 4}})
	if err != nil {
		t.Fatal(err)
	}
	w := res.Workload
	if len(w.Warmup) != 0 || len(w.Test) != 1 || w.Test[0].Function != "pyaes" || w.Test.Seconds() != 3 || w.Test.Requests() != 12 {
		t.Errorf("stream: %+v", w)
	}
	for _, c := range w.Test[0].Counts {
		if c != 4 {
			t.Errorf("counts %v, want 4 every second", w.Test[0].Counts)
			break
		}
	}
	if prov.Name != "s-1" || prov.Seed != nil || prov.Synthetic() || len(prov.Files) != 0 {
		t.Errorf("stream provenance %+v", prov)
	}
	// Every 4 over 10 seconds: seconds 0, 4 and 8 hold the requests.
	res, _, err = Make(ctx, Spec{Steady: Steady{Name: "s-2", Function: "pyaes", Seconds: 10, PerSecond: 2, Every: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.Workload.Test[0].Counts, []int{2, 0, 0, 0, 2, 0, 0, 0, 2, 0}; !slices.Equal(got, want) {
		t.Errorf("every 4: counts %v, want %v", got, want)
	}

	ok := Steady{Name: "s", Function: "pyaes", Seconds: 1, PerSecond: 1}
	for _, c := range []struct {
		name string
		edit func(*Steady)
		want string
		is   error
	}{
		{"name", func(s *Steady) { s.Name = "S_1" }, `name "S_1"`, nil},
		{"a kind's name", func(s *Steady) { s.Name = "func" }, "not a kind", nil},
		{"no seconds", func(s *Steady) { s.Seconds = 0 }, "positive seconds", nil},
		{"negative rate", func(s *Steady) { s.PerSecond = -1 }, "per_second", nil},
		{"too long", func(s *Steady) { s.Seconds = MaxSeconds + 1 }, "seconds 86401", ErrSecondsLimit},
		{"too dense", func(s *Steady) { s.PerSecond = MaxCount + 1 }, "per_second 100001", ErrCountLimit},
		{"too many", func(s *Steady) { s.Seconds, s.PerSecond = MaxSeconds, MaxCount }, "86400 seconds of 100000", ErrRequestsLimit},
		{"function", func(s *Steady) { s.Function = "nope" }, `"nope"`, ErrUnknownFunc},
		{"every beyond the stream", func(s *Steady) { s.Every = 2 }, "every 2: expected 0 to seconds (1)", nil},
		{"negative every", func(s *Steady) { s.Every = -1 }, "every -1", nil},
	} {
		s := ok
		c.edit(&s)
		_, _, err := Make(ctx, Spec{Steady: s})
		if err == nil || !strings.Contains(err.Error(), c.want) || (c.is != nil && !errors.Is(err, c.is)) {
			t.Errorf("%s: %v; want an error containing %q (wrapping %v)", c.name, err, c.want, c.is)
		}
	}
}
