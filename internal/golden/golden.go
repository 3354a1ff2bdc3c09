// Package golden locates the repository's golden corpus, testdata/golden:
// upstream gen_trace.py's outputs (gzipped) and the synthetic datasets they
// were made from (testdata/README.md says where each file came from).
//
// Tests in any package reach it through Dir, which walks up from the working
// directory (go test runs each package in its own folder) to the module root,
// so no test spells out a path relative to its own depth, and nothing outside
// the module is ever read.
package golden

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// ErrNoModuleRoot is returned when no go.mod is found above the working directory.
var ErrNoModuleRoot = errors.New("golden: no go.mod above the working directory")

// Root returns the module root: the nearest folder at or above the working
// directory that holds go.mod.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("golden: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", ErrNoModuleRoot
		}
		dir = parent
	}
}

// Dir returns the absolute path of testdata/golden/rel, failing the test
// when the module root or the path cannot be found.
func Dir(tb testing.TB, rel string) string {
	tb.Helper()
	root, err := Root()
	if err != nil {
		tb.Fatal(err)
	}
	p := filepath.Join(root, "testdata", "golden", rel)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("golden corpus: %v (testdata/golden is part of the repository)", err)
	}
	return p
}

// Upstream returns the bytes upstream gen_trace.py wrote for a case
// ("w1", "azure", …) and file ("workload.json" or "warmup.json"),
// decompressed from testdata/golden/upstream/CASE/FILE.gz.
func Upstream(tb testing.TB, kase, file string) []byte {
	tb.Helper()
	data, err := ReadGzip(Dir(tb, filepath.Join("upstream", kase, file+".gz")))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// ReadGzip returns the decompressed content of a .gz file.
func ReadGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("golden: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("golden: %s: %w", path, err)
	}
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, zr); err != nil {
		return nil, fmt.Errorf("golden: %s: %w", path, err)
	}
	if err := zr.Close(); err != nil {
		return nil, fmt.Errorf("golden: %s: %w", path, err)
	}
	return buf.Bytes(), nil
}
