package huawei

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"trenv-bench/traces/tracefile"
)

// decompressGolden writes the golden day files, decompressed, into a
// temporary requests_minute directory and returns it with their total size.
func decompressGolden(b *testing.B) (string, int64) {
	b.Helper()
	dir := filepath.Join(b.TempDir(), DirName)
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	var total int64
	for _, day := range UpstreamDays() {
		name := DayFileName(day)
		in, err := tracefile.Open(filepath.Join(goldenDir(b), name+".gz"), nil)
		if err != nil {
			b.Fatal(err)
		}
		out, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.Copy(out, in)
		if err != nil {
			b.Fatal(err)
		}
		in.Close()
		if err := out.Close(); err != nil {
			b.Fatal(err)
		}
		total += n
	}
	return dir, total
}

// BenchmarkReader reads day_03 (11 MB, 1440 × 5095 fields) keeping three
// columns; MB/s counts decompressed bytes.
func BenchmarkReader(b *testing.B) {
	dir, _ := decompressGolden(b)
	plain := filepath.Join(dir, "day_03.csv")
	data, err := os.ReadFile(plain)
	if err != nil {
		b.Fatal(err)
	}
	keep := []int{44, 372, 2976}
	run := func(b *testing.B, open func() (io.Reader, func())) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			src, done := open()
			r := NewReader(src, "day_03.csv", 3, keep)
			for r.Next() {
			}
			if err := r.Err(); err != nil {
				b.Fatal(err)
			}
			done()
		}
	}
	b.Run("memory", func(b *testing.B) {
		run(b, func() (io.Reader, func()) { return bytes.NewReader(data), func() {} })
	})
	for name, path := range map[string]string{"plain": plain, "gz": filepath.Join(goldenDir(b), "day_03.csv.gz")} {
		b.Run(name, func(b *testing.B) {
			run(b, func() (io.Reader, func()) {
				f, err := tracefile.Open(path, nil)
				if err != nil {
					b.Fatal(err)
				}
				return f, func() { f.Close() }
			})
		})
	}
}

// BenchmarkDatasetRead reads the 26 upstream windows from the 8 golden day
// files (90 MB decompressed), as gen -w huawei does; MB/s counts
// decompressed bytes.
func BenchmarkDatasetRead(b *testing.B) {
	dir, total := decompressGolden(b)
	ws := upstreamWindowList()
	for name, path := range map[string]string{"plain": dir, "gz": goldenDir(b)} {
		b.Run(name, func(b *testing.B) {
			d, err := OpenDataset(path)
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(total)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := d.Read(context.Background(), ws, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSynthDay writes one full synthetic day (5093 functions).
func BenchmarkSynthDay(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		if err := Synth(dir, SynthOptions{Seed: 1, Days: []int{3}}); err != nil {
			b.Fatal(err)
		}
	}
	if st, err := os.Stat(filepath.Join(dir, DirName, "day_03.csv")); err == nil {
		b.SetBytes(st.Size())
	}
}

// BenchmarkSynthUpstream writes the 8 upstream days, as `traces synth` does.
func BenchmarkSynthUpstream(b *testing.B) {
	dir := b.TempDir()
	for b.Loop() {
		if err := Synth(dir, SynthOptions{Seed: 1, Busy: upstreamWindowList()}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSample builds the in-memory sample of the 26 upstream windows.
func BenchmarkSample(b *testing.B) {
	ws := upstreamWindowList()
	b.ReportAllocs()
	for b.Loop() {
		Sample(1, ws)
	}
}
