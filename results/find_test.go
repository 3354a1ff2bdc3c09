package results

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestFindRunDirs: run directories as given, or one level below (symbolic
// links followed), without duplicates; a path without any is an error
// that names it.
func TestFindRunDirs(t *testing.T) {
	root := t.TempDir()
	set := filepath.Join(root, "set")
	run := func(dir string) string {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		m := Manifest{Status: RunComplete}
		if err := m.WriteFile(filepath.Join(dir, ManifestFile)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	b := run(filepath.Join(set, "b"))
	a := run(filepath.Join(set, "a"))
	elsewhere := run(filepath.Join(root, "elsewhere"))
	if err := os.Symlink(elsewhere, filepath.Join(set, "c")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(set, "figures"), 0o755)                 // not a run: skipped
	os.WriteFile(filepath.Join(set, "report.md"), []byte("x"), 0o644) // a file: skipped
	os.MkdirAll(filepath.Join(root, "dir-manifest", ManifestFile), 0o755)

	got, err := FindRunDirs([]string{set, a + "/"})
	if want := []string{a, b, filepath.Join(set, "c")}; err != nil || !slices.Equal(got, want) {
		t.Errorf("FindRunDirs = %v, %v; want %v", got, err, want)
	}
	for _, p := range []string{filepath.Join(set, "figures"), filepath.Join(root, "dir-manifest")} {
		if _, err := FindRunDirs([]string{p}); !errors.Is(err, ErrNoRunDirs) || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v, want ErrNoRunDirs naming it", p, err)
		}
	}
	if _, err := FindRunDirs([]string{filepath.Join(root, "nope")}); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("missing directory: %v", err)
	}
}
