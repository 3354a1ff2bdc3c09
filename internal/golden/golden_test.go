package golden

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestCorpusMatchesREADME checks every file of testdata/golden against the
// two sha256 sums testdata/README.md gives for it (stored .gz, content), and
// that the README lists every file there is.
func TestCorpusMatchesREADME(t *testing.T) {
	root := Dir(t, ".")
	readme, err := os.ReadFile(filepath.Join(root, "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([^`]+\\.gz)` \\|(?: [0-9,]+ \\|)? `([0-9a-f]{64})` \\| `([0-9a-f]{64})` \\|$")
	listed := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(readme), -1) {
		rel, wantGz, wantContent := m[1], m[2], m[3]
		listed[rel] = true
		p := filepath.Join(root, filepath.FromSlash(rel))
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Errorf("README lists %s: %v", rel, err)
			continue
		}
		if got := sum(raw); got != wantGz {
			t.Errorf("%s: sha256 %s, README says %s", rel, got, wantGz)
		}
		content, err := ReadGzip(p)
		if err != nil {
			t.Error(err)
			continue
		}
		if got := sum(content); got != wantContent {
			t.Errorf("%s: content sha256 %s, README says %s", rel, got, wantContent)
		}
	}
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.Name() == synthMarker {
			return nil // the synthetic-data markers, which README describes as a kind
		}
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("%s is in testdata/golden but not in testdata/README.md", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) == 0 {
		t.Fatal("no file rows found in testdata/README.md")
	}
}

// synthMarker is traces/tracefile.SynthMarkerName: beside each dataset, it
// says the files are invented.
const synthMarker = "SYNTHETIC-DATASET.json"

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestRootHoldsGoMod(t *testing.T) {
	r, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(r, "go.mod"))
	if err != nil || !strings.HasPrefix(string(mod), "module trenv-bench") {
		t.Fatalf("Root() = %s: not this module (%v)", r, err)
	}
}
