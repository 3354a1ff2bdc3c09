package azure

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"trenv-bench/traces/tracefile"
)

// Benchmarks on the golden day (testdata/golden).
// MB/s are of the decompressed invocations file (139,813,138 bytes), the
// only big file, whatever the form read.

func benchInvocations(b *testing.B, open func() (io.ReadCloser, error)) {
	b.SetBytes(goldenInvocationsLen)
	b.ReportAllocs()
	for b.Loop() {
		f, err := open()
		if err != nil {
			b.Fatal(err)
		}
		r := NewInvocationsReader(f, "golden")
		n := 0
		for r.Next() {
			n++
		}
		f.Close()
		if r.Err() != nil || n != goldenInvocationRows {
			b.Fatalf("%d rows, err %v", n, r.Err())
		}
	}
}

// BenchmarkInvocationsPlain reads and validates the decompressed golden
// invocations file with InvocationsReader.
func BenchmarkInvocationsPlain(b *testing.B) {
	p := gunzipGolden(b, b.TempDir(), InvocationsName(DefaultDay))
	benchInvocations(b, func() (io.ReadCloser, error) { return os.Open(p) })
}

// BenchmarkInvocationsGzip reads the golden .csv.gz through tracefile.Open
// (decompression on the same goroutine).
func BenchmarkInvocationsGzip(b *testing.B) {
	p := filepath.Join(goldenDir(b), InvocationsName(DefaultDay)+".gz")
	benchInvocations(b, func() (io.ReadCloser, error) { return tracefile.Open(p, nil) })
}

func benchSelect(b *testing.B, path string) {
	d, err := OpenDataset(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(goldenInvocationsLen)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Select(context.Background(), upstreamSelection(upstreamPositions()), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSelectPlain runs Select on the decompressed golden day.
func BenchmarkSelectPlain(b *testing.B) {
	dir := b.TempDir()
	gunzipGolden(b, dir, InvocationsName(DefaultDay))
	gunzipGolden(b, dir, DurationsName(DefaultDay))
	benchSelect(b, dir)
}

// BenchmarkSelectGzip runs Select on the golden day as stored (.csv.gz),
// decompressing on read-ahead goroutines.
func BenchmarkSelectGzip(b *testing.B) {
	benchSelect(b, goldenDir(b))
}
