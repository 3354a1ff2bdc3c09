package azure

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func benchInvocations(b *testing.B, path string, open func(string) (io.ReadCloser, error)) {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(goldenInvocationsLen)
	b.ReportAllocs()
	_ = st
	for b.Loop() {
		f, err := open(path)
		if err != nil {
			b.Fatal(err)
		}
		r := NewInvocationsReader(f, path)
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

// BenchmarkInvocationsPlain reads the decompressed golden invocations file.
func BenchmarkInvocationsPlain(b *testing.B) {
	needGolden(b)
	p := gunzipGolden(b, b.TempDir(), InvocationsName(DefaultDay))
	benchInvocations(b, p, func(p string) (io.ReadCloser, error) { return os.Open(p) })
}

// BenchmarkSelectPlain runs Select on the decompressed golden day.
func BenchmarkSelectPlain(b *testing.B) {
	needGolden(b)
	dir := b.TempDir()
	gunzipGolden(b, dir, InvocationsName(DefaultDay))
	gunzipGolden(b, dir, DurationsName(DefaultDay))
	d, err := OpenDataset(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(goldenInvocationsLen)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Select(context.Background(), UpstreamSelection(UpstreamPositions()), nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSelectGzip runs Select on the golden day as stored (.csv.gz).
func BenchmarkSelectGzip(b *testing.B) {
	needGolden(b)
	d, err := OpenDataset(goldenDir)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(goldenInvocationsLen)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := d.Select(context.Background(), UpstreamSelection(UpstreamPositions()), nil); err != nil {
			b.Fatal(err)
		}
	}
}

var _ = filepath.Join
