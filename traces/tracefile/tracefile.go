// Package tracefile holds what the dataset readers in traces/azure and
// traces/huawei share: opening a file that may be gzip-compressed, reporting
// read progress, the error type that names the place of bad input, and the
// marker that says a dataset on disk is synthetic (SynthMarkerName).
//
// It imports only the standard library, internal/fileerr and
// internal/atomicfile.
package tracefile

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"trenv-bench/internal/fileerr"
)

// Sentinel errors wrapped by RowError; test for them with errors.Is.
var (
	// ErrHeader means a header line lacks a column, or holds one out of place.
	ErrHeader = errors.New("unexpected header")
	// ErrFieldCount means a row has more or fewer fields than its header.
	ErrFieldCount = errors.New("wrong number of fields")
	// ErrNotNumber means a count cell is not a non-negative number.
	ErrNotNumber = errors.New("not a non-negative number")
	// ErrDuplicateKey means a key that must be unique appears twice.
	ErrDuplicateKey = errors.New("duplicate key")
	// ErrTruncated means a compressed stream or a file ended early.
	ErrTruncated = errors.New("truncated input")
)

// RowError reports bad input at a place in a dataset file. Column is the
// header name of the offending field, "" when not known.
type RowError = fileerr.Error

// Meter observes the progress of reading one file. A nil Meter reports
// nothing. Begin is called once with a label (usually the file name) and the
// total number of bytes that will pass (compressed bytes for .gz; 0 when
// unknown), Advance with each chunk read, End once at the end.
type Meter interface {
	Begin(label string, total int64)
	Advance(n int64)
	End()
}

// NopMeter reports nothing.
type NopMeter struct{}

func (NopMeter) Begin(string, int64) {}
func (NopMeter) Advance(int64)       {}
func (NopMeter) End()                {}

var _ Meter = NopMeter{}

// MeteredReader counts bytes read through it into a Meter.
type MeteredReader struct {
	R io.Reader
	M Meter
}

func (r MeteredReader) Read(p []byte) (int, error) {
	n, err := r.R.Read(p)
	if n > 0 {
		r.M.Advance(int64(n))
	}
	return n, err
}

// File is an open dataset file: plain, or gzip-compressed when its name ends
// in ".gz". Read yields the decompressed bytes.
type File struct {
	io.Reader
	// Path is the name the file was opened by, for error messages.
	Path string
	f    *os.File
	gz   *gzip.Reader
	m    Meter
}

// Open opens path for reading, decompressing it when the name ends in ".gz".
// m, when not nil, observes the bytes read from disk.
func Open(path string, m Meter) (*File, error) {
	if m == nil {
		m = NopMeter{}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var size int64
	if st, err := f.Stat(); err == nil {
		if st.IsDir() {
			f.Close()
			return nil, fmt.Errorf("%s: is a directory, expected a file", path)
		}
		size = st.Size()
	}
	m.Begin(path, size)
	var r io.Reader = bufio.NewReaderSize(MeteredReader{f, m}, 1<<20)
	tf := &File{Path: path, f: f, m: m}
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(r)
		if err != nil {
			f.Close()
			m.End()
			if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				err = fmt.Errorf("%w: gzip header cut off", ErrTruncated)
			} else {
				err = fmt.Errorf("not a gzip stream: %w", err)
			}
			return nil, &RowError{Path: path, Err: err}
		}
		gz.Multistream(true)
		tf.gz = gz
		r = gz
	}
	tf.Reader = TruncationReader{R: r}
	return tf, nil
}

// Close closes the file.
func (f *File) Close() error {
	f.m.End()
	if f.gz != nil {
		f.gz.Close()
	}
	return f.f.Close()
}

// TruncationReader turns io.ErrUnexpectedEOF from a decompressor into an
// error wrapping ErrTruncated.
type TruncationReader struct{ R io.Reader }

func (t TruncationReader) Read(p []byte) (int, error) {
	n, err := t.R.Read(p)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("%w: compressed stream ends early", ErrTruncated)
	}
	return n, err
}
