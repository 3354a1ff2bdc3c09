package experiments

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
	"trenv-bench/traces/azure"
	"trenv-bench/traces/tracefile"
	"trenv-bench/workloads"
)

// TestWorkloadInfo checks what a manifest says of a workload's data, from
// what workloads.Make says of it, and the line the user is told.
func TestWorkloadInfo(t *testing.T) {
	ctx := context.Background()
	gen := func(kind, dataset string) results.WorkloadInfo {
		t.Helper()
		_, prov, err := workloads.Make(ctx, workloads.Spec{Kind: kind, Seed: workloads.DefaultSeed, Dataset: dataset})
		if err != nil {
			t.Fatal(err)
		}
		return WorkloadInfo(prov)
	}

	// W1 reads no dataset: nothing to say but its seed.
	info := gen("1", "")
	if info.Name != "1" || info.GeneratorSeed == nil || *info.GeneratorSeed != uint64(workloads.DefaultSeed) ||
		info.SyntheticData() || info.Dataset != "" || len(info.DatasetFiles) != 0 || DatasetNote(info, "--dataset") != "" {
		t.Errorf("W1: %+v, note %q", info, DatasetNote(info, "--dataset"))
	}

	// No dataset: the built-in sample, said once, naming the flag.
	for _, kind := range []string{"azure", "huawei"} {
		info := gen(kind, "")
		flag := "--" + kind + "-dataset"
		note := DatasetNote(info, flag)
		if !info.Synthetic || !info.SyntheticData() || info.Dataset != results.DatasetBuiltInSample ||
			!strings.Contains(note, "built-in synthetic sample") || strings.Count(note, flag) != 2 || strings.Contains(note, "\n") {
			t.Errorf("%s sample: %+v, note %q", kind, info, note)
		}
	}

	// A dataset that traces synth wrote: its files hashed and marked.
	dir := t.TempDir()
	sel, err := workloads.AzureSelection()
	if err != nil {
		t.Fatal(err)
	}
	if err := azure.Synth(dir, azure.SynthOptions{Seed: 2, Minutes: sel.Last, Busy: sel.Positions}); err != nil {
		t.Fatal(err)
	}
	info = gen("azure", dir)
	var names []string
	for _, f := range info.DatasetFiles {
		names = append(names, filepath.Base(f.Path))
		b, _ := os.ReadFile(f.Path)
		sum := sha256.Sum256(b)
		if f.SHA256 != hex.EncodeToString(sum[:]) || f.Bytes != int64(len(b)) || !f.Synthetic {
			t.Errorf("file %+v: want sha256 %x, %d bytes, synthetic", f, sum, len(b))
		}
	}
	if want := []string{azure.DurationsName(sel.Day), azure.InvocationsName(sel.Day)}; !slices.Equal(names, want) {
		t.Errorf("dataset files %v, want %v", names, want)
	}
	note := DatasetNote(info, "--dataset")
	if !info.Synthetic || info.Dataset != dir || !strings.Contains(note, tracefile.SynthMarkerName) || !strings.Contains(note, dir) {
		t.Errorf("synth dataset: %+v, note %q", info, note)
	}

	// The same files without the marker pass for a real dataset: nothing
	// to say.
	if err := os.Remove(filepath.Join(dir, tracefile.SynthMarkerName)); err != nil {
		t.Fatal(err)
	}
	info = gen("azure", dir)
	if info.SyntheticData() || len(info.DatasetFiles) != 2 || info.DatasetFiles[0].Synthetic || DatasetNote(info, "--dataset") != "" {
		t.Errorf("unmarked dataset: %+v", info)
	}

	// A steady stream: its name, no seed, no data.
	_, prov, err := workloads.Make(ctx, workloads.Spec{Steady: workloads.Steady{Name: "s", Function: "pyaes", Seconds: 1, PerSecond: 1}})
	if info := WorkloadInfo(prov); err != nil || info.Name != "s" || info.GeneratorSeed != nil || info.Dataset != "" || info.SyntheticData() {
		t.Errorf("steady stream: %+v, %v", info, err)
	}
}

// TestReproduceNotesSampleAndCalibration: reproduce says once per trace
// workload that it uses the built-in sample, records the calibration's
// digest, and runs again when the calibration changes.
func TestReproduceNotesSampleAndCalibration(t *testing.T) {
	out := t.TempDir()
	opts, c, _ := tinyOptions(t, out)
	m, err := ParseMatrix([]byte(`
figures:
  - name: t
    workloads: [{kind: azure}, {name: tiny, function: pyaes, seconds: 2, per_second: 1}]
    groups: [{systems: [T-CXL, REAP+]}]
`), "trace.yaml")
	if err != nil {
		t.Fatal(err)
	}
	model, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	opts.Matrix, opts.Model = m, model
	var notes bytes.Buffer
	opts.Notes = &notes
	if _, err := Reproduce(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(notes.String(), "reproduce: workload azure: no --azure-dataset given"); n != 1 {
		t.Errorf("the sample note appears %d times, want once:\n%s", n, notes.String())
	}
	digest, err := CalibrationDigest(model)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range c.calls {
		man, err := results.ReadManifest(filepath.Join(out, name, results.ManifestFile))
		if err != nil {
			t.Fatal(err)
		}
		if man.CalibrationSHA256 != digest {
			t.Errorf("%s: calibration_sha256 %q, want %q", name, man.CalibrationSHA256, digest)
		}
		if wantSynthetic := strings.HasPrefix(name, "azure-"); man.Workload.SyntheticData() != wantSynthetic {
			t.Errorf("%s: synthetic data %v, want %v", name, !wantSynthetic, wantSynthetic)
		}
	}

	// Another calibration: every run is stale.
	changed, _ := calibration.Default()
	changed.Platform.HTTPOverheadMs.Value *= 2
	if d, _ := CalibrationDigest(changed); d == digest {
		t.Fatal("a changed model has the same digest")
	}
	if again, _ := calibration.Default(); mustDigest(t, again) != digest {
		t.Fatal("equal models, different digests")
	}
	opts.Model = changed
	first := slices.Clone(c.calls)
	c.calls = nil
	notes.Reset()
	if _, err := Reproduce(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.calls, first) || !strings.Contains(notes.String(), "another calibration") {
		t.Errorf("after the calibration changed: ran %v (want %v); notes %s", c.calls, first, notes.String())
	}
}

func mustDigest(t *testing.T, m *calibration.Model) string {
	t.Helper()
	d, err := CalibrationDigest(m)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
