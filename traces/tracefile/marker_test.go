package tracefile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSynthMarker(t *testing.T) {
	dir := t.TempDir()
	if m, err := ReadSynthMarker(dir); m != nil || err != nil {
		t.Fatalf("no marker: got %v, %v", m, err)
	}
	if err := WriteSynthMarker(dir, "huawei", 1, "day_03.csv", "day_00.csv"); err != nil {
		t.Fatal(err)
	}
	// A second synthesis adds a day and rewrites one, compressed, with
	// another seed.
	if err := WriteSynthMarker(dir, "huawei", 2, "day_03.csv.gz", "day_15.csv"); err != nil {
		t.Fatal(err)
	}
	m, err := ReadSynthMarker(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []SynthFile{{"day_00.csv", 1}, {"day_03.csv.gz", 2}, {"day_15.csv", 2}}
	if !m.Synthetic || m.Trace != "huawei" || m.Note != SynthNote || !slices.Equal(m.Files, want) {
		t.Fatalf("marker %+v, want files %v", m, want)
	}
	for name, listed := range map[string]bool{
		"day_00.csv": true, "day_00.csv.gz": true, "day_03.csv": true, "day_15.csv.gz": true,
		"day_01.csv": false, SynthMarkerName: false, "": false,
	} {
		if m.Lists(name) != listed {
			t.Errorf("Lists(%q) = %v, want %v", name, !listed, listed)
		}
	}
	var none *SynthMarker
	if none.Lists("day_00.csv") {
		t.Error("a nil marker lists a file")
	}

	// A marker of another trace is replaced, not merged.
	if err := WriteSynthMarker(dir, "azure", 5, "invocations_per_function_md.anon.d03.csv"); err != nil {
		t.Fatal(err)
	}
	if m, _ := ReadSynthMarker(dir); m.Trace != "azure" || len(m.Files) != 1 || m.Lists("day_00.csv") {
		t.Errorf("after another trace's synthesis: %+v", m)
	}
}

func TestSynthMarkerErrors(t *testing.T) {
	for name, content := range map[string]string{
		"not JSON":      "synthetic",
		"not synthetic": `{"synthetic": false, "files": [{"name": "day_00.csv"}]}`,
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, SynthMarkerName)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		m, err := ReadSynthMarker(dir)
		if m != nil || err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: got %v, %v; want an error naming %s", name, m, err, path)
		}
		// Writing over a broken marker starts a new one.
		if err := WriteSynthMarker(dir, "huawei", 1, "day_01.csv"); err != nil {
			t.Fatal(err)
		}
		if m, err := ReadSynthMarker(dir); err != nil || !m.Lists("day_01.csv") || len(m.Files) != 1 {
			t.Errorf("%s: rewritten marker %+v, %v", name, m, err)
		}
	}
}
