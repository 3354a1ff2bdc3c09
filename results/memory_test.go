package results

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestMemoryEncoding(t *testing.T) {
	want := []MemorySample{
		{0, 1073741824},
		{1.000213, 1090519040},
		{2.5, 0},
		{3600.000001, math.MaxInt64},
	}
	var buf bytes.Buffer
	w := NewMemoryWriter(&buf)
	for _, s := range want {
		if err := w.Write(s.TimeS, s.Bytes); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	const wantText = "t_s,bytes\n" +
		"0.000000,1073741824\n" +
		"1.000213,1090519040\n" +
		"2.500000,0\n" +
		"3600.000001,9223372036854775807\n"
	if buf.String() != wantText {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), wantText)
	}
	r := NewMemoryReader(&buf, "memory.csv")
	var got []MemorySample
	for r.Next() {
		got = append(got, r.Sample())
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("read %d samples, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("sample %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestMemoryWriterFlushAndRejects(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{now: time.Unix(1700000000, 0)}
	w := NewMemoryWriter(&buf)
	w.Clock = clock.Now
	for i := range 5 {
		if err := w.Write(float64(i), 1); err != nil {
			t.Fatal(err)
		}
		clock.Advance(400 * time.Millisecond)
	}
	// Flushed at the first sample and at 1.2 s (the fourth).
	if got := strings.Count(buf.String(), "\n"); got != 5 {
		t.Errorf("%d lines in the output, want 5", got)
	}
	n := buf.Len()
	for _, tt := range []struct {
		t     float64
		bytes int64
		want  error
	}{
		{math.NaN(), 1, ErrMissing},
		{math.Inf(1), 1, ErrBadValue},
		{1, -1, ErrBadValue},
	} {
		if err := w.Write(tt.t, tt.bytes); !errors.Is(err, tt.want) {
			t.Errorf("Write(%v, %d) = %v, want %v", tt.t, tt.bytes, err, tt.want)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(buf.String(), "\n"); got != 6 || buf.Len() == n {
		t.Errorf("after Flush: %d lines, want 6", got)
	}
}

func TestMemoryReaderErrors(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		want   error
		line   int
		column string
	}{
		{"empty", "", ErrHeader, 1, ""},
		{"requests header", header, ErrHeader, 1, ColTimeS},
		{"short row", "t_s,bytes\n0,1\n1\n", ErrFieldCount, 3, ""},
		{"no time", "t_s,bytes\n,1\n", ErrMissing, 2, ColTimeS},
		{"bad time", "t_s,bytes\nnow,1\n", ErrBadValue, 2, ColTimeS},
		{"no bytes", "t_s,bytes\n0,\n", ErrMissing, 2, ColBytes},
		{"negative bytes", "t_s,bytes\n0,-1\n", ErrBadValue, 2, ColBytes},
		{"fractional bytes", "t_s,bytes\n0,1.5\n", ErrBadValue, 2, ColBytes},
		{"bytes with unit", "t_s,bytes\n0,1G\n", ErrBadValue, 2, ColBytes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewMemoryReader(strings.NewReader(tt.input), "memory.csv")
			for r.Next() {
			}
			err := r.Err()
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is a %T, want *ParseError", err)
			}
			if pe.Path != "memory.csv" || pe.Line != tt.line || pe.Column != tt.column {
				t.Errorf("error at line %d column %q, want line %d column %q (%v)", pe.Line, pe.Column, tt.line, tt.column, err)
			}
		})
	}
}
