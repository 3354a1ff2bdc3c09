package tracefile

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"trenv-bench/internal/atomicfile"
)

// SynthMarkerName is the file that traces/azure.Synth and
// traces/huawei.Synth (and so `trenv-bench traces synth`) write beside the
// files of a synthetic dataset, in the same directory, so that whoever
// reads the dataset later can tell its content is invented. It is JSON:
//
//	{
//	  "synthetic": true,
//	  "note": "invented content in the format of the real trace, written by trenv-bench traces synth: not the real trace",
//	  "trace": "azure",
//	  "files": [
//	    {"name": "app_memory_percentiles.anon.d03.csv", "seed": 1},
//	    {"name": "function_durations_percentiles.anon.d03.csv", "seed": 1},
//	    {"name": "invocations_per_function_md.anon.d03.csv", "seed": 1}
//	  ]
//	}
//
// A file counts as synthetic when the marker in its directory lists its
// name (".gz" ignored on both sides, so a synthetic file compressed later
// still counts). Files added to the directory later are not listed, so they
// do not count.
const SynthMarkerName = "SYNTHETIC-DATASET.json"

// SynthNote is the marker's note.
const SynthNote = "invented content in the format of the real trace, written by trenv-bench traces synth: not the real trace"

// SynthMarker is the content of a SynthMarkerName file.
type SynthMarker struct {
	// Synthetic is always true in a marker.
	Synthetic bool `json:"synthetic"`
	// Note says what the files are (SynthNote).
	Note string `json:"note"`
	// Trace is "azure" or "huawei".
	Trace string `json:"trace"`
	// Files are the synthetic files in the marker's directory, sorted by
	// name.
	Files []SynthFile `json:"files"`
}

// SynthFile is one file a marker lists.
type SynthFile struct {
	// Name is the file's base name as written (day_03.csv, day_03.csv.gz).
	Name string `json:"name"`
	// Seed is the seed the file was synthesized with.
	Seed uint64 `json:"seed"`
}

// Lists reports whether the marker lists a file called name (a base name;
// ".gz" is ignored on both sides).
func (m *SynthMarker) Lists(name string) bool {
	if m == nil {
		return false
	}
	name = strings.TrimSuffix(name, ".gz")
	return slices.ContainsFunc(m.Files, func(f SynthFile) bool { return strings.TrimSuffix(f.Name, ".gz") == name })
}

// ReadSynthMarker reads the marker in dir; nil and no error when there is
// none. Errors name the marker's path.
func ReadSynthMarker(dir string) (*SynthMarker, error) {
	path := filepath.Join(dir, SynthMarkerName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("synthetic-dataset marker: %w", err)
	}
	var m SynthMarker
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("synthetic-dataset marker %s: %w", path, err)
	}
	if !m.Synthetic {
		return nil, fmt.Errorf("synthetic-dataset marker %s: \"synthetic\" is not true", path)
	}
	return &m, nil
}

// WriteSynthMarker records in dir's marker that the files names, made with
// seed, are a synthetic trace dataset. An existing marker keeps its other
// files (a later Synth into the same directory adds days); a file written
// again takes the new seed. The marker is replaced atomically.
func WriteSynthMarker(dir, trace string, seed uint64, names ...string) error {
	m, err := ReadSynthMarker(dir)
	if err != nil || m == nil || m.Trace != trace {
		m = &SynthMarker{} // an unreadable or foreign marker is replaced
	}
	m.Synthetic, m.Note, m.Trace = true, SynthNote, trace
	for _, n := range names {
		m.Files = slices.DeleteFunc(m.Files, func(f SynthFile) bool {
			return strings.TrimSuffix(f.Name, ".gz") == strings.TrimSuffix(n, ".gz")
		})
		m.Files = append(m.Files, SynthFile{Name: n, Seed: seed})
	}
	slices.SortFunc(m.Files, func(a, b SynthFile) int { return strings.Compare(a.Name, b.Name) })
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, SynthMarkerName)
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("synthetic-dataset marker %s: %w", path, err)
	}
	return nil
}
