package results

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNoRunDirs is wrapped by FindRunDirs when a path is not a run directory
// and holds none one level below.
var ErrNoRunDirs = errors.New("not a run directory (no " + ManifestFile + "), and none one level below")

// IsRunDir reports whether dir holds a manifest.json (a regular file,
// symbolic links followed): a run directory, whatever its status.
func IsRunDir(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, ManifestFile))
	return err == nil && st.Mode().IsRegular()
}

// FindRunDirs expands paths (as given to --runs) into run directories: a
// path that is one (IsRunDir) is kept; any other directory contributes its
// subdirectories that are, one level down, in name order, symbolic links
// followed. A path that yields none is an error wrapping ErrNoRunDirs and
// naming it; one that cannot be read returns the file system's error.
// Duplicates are dropped, the first kept.
func FindRunDirs(paths []string) ([]string, error) {
	var dirs []string
	seen := map[string]bool{}
	add := func(d string) {
		if c := filepath.Clean(d); !seen[c] {
			seen[c] = true
			dirs = append(dirs, d)
		}
	}
	for _, p := range paths {
		if IsRunDir(p) {
			add(p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, e := range entries {
			if sub := filepath.Join(p, e.Name()); IsRunDir(sub) {
				add(sub)
				n++
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("%s: %w", p, ErrNoRunDirs)
		}
	}
	return dirs, nil
}
