package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFileReplacesWhole(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "w.json")
	if err := WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(p, []byte("new content"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(p)
	st, _ := os.Stat(p)
	if string(got) != "new content" || st.Mode().Perm() != 0o600 {
		t.Errorf("got %q mode %v", got, st.Mode())
	}
	assertOnly(t, dir, "w.json")
}

func TestAbortKeepsOld(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "w.json")
	os.WriteFile(p, []byte("old"), 0o644)
	f, err := Create(p, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("half")
	f.Abort()
	f.Abort() // safe twice
	if err := f.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	if got, _ := os.ReadFile(p); string(got) != "old" {
		t.Errorf("aborted write changed the file: %q", got)
	}
	assertOnly(t, dir, "w.json")
}

func TestCommitFailureLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	// Renaming onto a non-empty directory fails.
	target := filepath.Join(dir, "busy")
	os.MkdirAll(filepath.Join(target, "x"), 0o755)
	if err := WriteFile(target, []byte("data"), 0o644); err == nil {
		t.Fatal("rename onto a non-empty directory succeeded")
	}
	assertOnly(t, dir, "busy")
	if _, err := Create(filepath.Join(dir, "missing", "f"), 0o644); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
}

func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	if len(entries) != len(names) {
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		t.Errorf("directory holds %v, want only %v", got, names)
	}
}
