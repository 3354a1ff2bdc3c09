package workloads

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"trenv-bench/traces/tracefile"
)

// DatasetFile is one file of the dataset a trace workload is generated
// from, as stored on disk.
type DatasetFile struct {
	// Path is the file as the dataset names it (a day file, or the Azure
	// archive).
	Path string
	// SHA256 is the hex SHA-256 digest of the file's bytes as stored
	// (compressed for .gz and archives); Bytes is its size. Both are empty
	// when the files were not hashed (Spec.NoDigests).
	SHA256 string
	Bytes  int64
	// Synthetic: the tracefile.SynthMarkerName file in the same directory
	// lists this file, so `traces synth` invented its content.
	Synthetic bool
}

// datasetFiles returns the files of kind's dataset (as useDataset set it)
// that Generate reads, in reading order, each hashed when digests is set:
// the Azure day's durations and invocations files (or the archive), the
// Huawei day files of the windows. It returns nil for kinds without a
// dataset and for an in-memory dataset (the built-in sample). Errors name
// the file; ctx stops the hashing.
func (o *Options) datasetFiles(ctx context.Context, kind string, digests bool) ([]DatasetFile, error) {
	var paths []string
	var err error
	switch kind {
	case "azure":
		if o.Azure == nil {
			return nil, nil
		}
		s, serr := AzureSelection()
		if serr != nil {
			return nil, serr
		}
		paths, err = o.Azure.Files(s.Day)
	case "huawei":
		if o.Huawei == nil {
			return nil, nil
		}
		ws, werr := HuaweiWindows()
		if werr != nil {
			return nil, werr
		}
		paths, err = o.Huawei.Files(ws)
	default:
		return nil, nil
	}
	if err != nil || len(paths) == 0 {
		return nil, err
	}
	out := make([]DatasetFile, 0, len(paths))
	markers := map[string]*tracefile.SynthMarker{}
	for _, p := range paths {
		f := DatasetFile{Path: p}
		if digests {
			if f, err = hashFile(ctx, p); err != nil {
				return nil, err
			}
		}
		dir := filepath.Dir(p)
		m, ok := markers[dir]
		if !ok {
			if m, err = tracefile.ReadSynthMarker(dir); err != nil {
				return nil, err
			}
			markers[dir] = m
		}
		f.Synthetic = m.Lists(filepath.Base(p))
		out = append(out, f)
	}
	return out, nil
}

// hashFile returns path's size and SHA-256 digest.
func hashFile(ctx context.Context, path string) (DatasetFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return DatasetFile{}, fmt.Errorf("workloads: hashing dataset file: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, f})
	if err != nil {
		return DatasetFile{}, fmt.Errorf("workloads: hashing dataset file %s: %w", path, err)
	}
	return DatasetFile{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: n}, nil
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
