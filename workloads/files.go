package workloads

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"trenv-bench/internal/atomicfile"
)

// File names of a workload directory, as upstream writes them.
const (
	TestFile   = "workload.json"
	WarmupFile = "warmup.json"
)

// ErrExists is wrapped when WriteDir would overwrite a workload.
var ErrExists = errors.New("already exists (pass --force to overwrite)")

// WriteDir writes w into dir as workload.json and warmup.json, creating dir.
// An existing file is only replaced when force is set. Each file is written
// to a temporary name and renamed, so a failure never leaves half a file.
func WriteDir(dir string, w Workload, force bool) error {
	test, warm := filepath.Join(dir, TestFile), filepath.Join(dir, WarmupFile)
	if !force {
		for _, p := range []string{test, warm} {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("%s: %w", p, ErrExists)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return err
			}
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Render both first: nothing is written unless both are ready.
	testData, warmData := w.Test.AppendJSON(nil), w.Warmup.AppendJSON(nil)
	if err := atomicfile.WriteFile(warm, warmData, 0o644); err != nil {
		return err
	}
	return atomicfile.WriteFile(test, testData, 0o644)
}

// ReadDir reads workload.json and warmup.json from dir and validates them
// against cat (nil: no catalog check) and the limits (see MaxCount): each
// file as ReadPhase does, then the run's total of both. A missing
// warmup.json is an error, as upstream's driver requires both (warmup.json
// may be {}).
func ReadDir(dir string, cat *Catalog) (Workload, error) {
	var w Workload
	for _, f := range []struct {
		name  string
		phase *Phase
	}{{WarmupFile, &w.Warmup}, {TestFile, &w.Test}} {
		path := filepath.Join(dir, f.name)
		var err error
		if *f.phase, err = readPhaseFile(path); err != nil {
			return w, err
		}
		if err := f.phase.Validate(cat); err != nil {
			return w, fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := w.checkRequests(); err != nil {
		return w, fmt.Errorf("%s and %s: %w", filepath.Join(dir, WarmupFile), filepath.Join(dir, TestFile), err)
	}
	return w, nil
}

// readPhaseFile is ReadPhase on the file at path.
func readPhaseFile(path string) (Phase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadPhase(f, path)
}
