package workloads

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"trenv-bench/internal/golden"
)

func TestAppendJSONLayout(t *testing.T) {
	cases := []struct {
		name  string
		phase Phase
		want  string
	}{
		{"empty phase", Phase{}, "{}"},
		{"empty series", Phase{{Function: "a", Counts: []int{}}}, "{\n  \"a\": []\n}"},
		{"two series", Phase{{"a", []int{1, 0}}, {"b_1", []int{12, 3}}},
			"{\n  \"a\": [\n    1,\n    0\n  ],\n  \"b_1\": [\n    12,\n    3\n  ]\n}"},
		// Python's json.dumps escapes with ensure_ascii=True.
		{"escapes", Phase{{"q\"\\\n\x01é😀\x7f", []int{0}}},
			"{\n  \"q\\\"\\\\\\n\\u0001\\u00e9\\ud83d\\ude00\\u007f\": [\n    0\n  ]\n}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := string(c.phase.AppendJSON(nil)); got != c.want {
				t.Errorf("got\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

// TestGoldenRoundTrip decodes each upstream file and encodes it again.
func TestGoldenRoundTrip(t *testing.T) {
	for _, dir := range []string{"w1", "w2", "func", "azure", "huawei", "azure-s3h1"} {
		for _, name := range []string{TestFile, WarmupFile} {
			rel := filepath.Join("upstream", dir, name)
			want := golden.Upstream(t, dir, name)
			p, err := DecodePhase(want, rel)
			if err != nil {
				t.Fatal(err)
			}
			if err := p.Validate(DefaultCatalog()); err != nil {
				t.Errorf("%s: %v", rel, err)
			}
			if got := p.AppendJSON(nil); !bytes.Equal(got, want) {
				t.Errorf("%s: re-encoding differs", rel)
			}
		}
	}
}

func TestDecodePhaseErrors(t *testing.T) {
	cases := []struct {
		name, in  string
		line, col int
	}{
		{"not an object", `[1, 2]`, 1, 2},
		{"array of strings", "{\n  \"a\": [\"x\"]\n}", 2, 9},
		{"negative", "{\"a\": [1,\n -2]}", 2, 2},
		{"float", `{"a": [1.5]}`, 1, 8},
		{"duplicate", `{"a": [], "a": []}`, 1, 11},
		{"not an array", `{"a": 3}`, 1, 8},
		{"truncated", "{\"a\": [1,", 1, 10},
		{"trailing data", `{} {}`, 1, 5},
		{"syntax", `{"a" [1]}`, 1, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodePhase([]byte(c.in), "w.json")
			var je *JSONError
			if !errors.As(err, &je) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("got %v, want a *JSONError", err)
			}
			if je.Path != "w.json" || je.Line != c.line || je.Column != c.col {
				t.Errorf("got %s:%d:%d (%v), want line %d column %d", je.Path, je.Line, je.Column, err, c.line, c.col)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	cat := DefaultCatalog()
	cases := []struct {
		name  string
		phase Phase
		want  error
	}{
		{"ok", Phase{{"pyaes", []int{1}}, {"pyaes_2", []int{0}}}, nil},
		{"lengths", Phase{{"pyaes", []int{1}}, {"crypto", []int{0, 1}}}, ErrLengthMismatch},
		{"negative", Phase{{"pyaes", []int{-1}}}, ErrNegativeCount},
		{"duplicate", Phase{{"pyaes", nil}, {"pyaes", nil}}, ErrDuplicateName},
		{"unknown", Phase{{"pyaes_3", []int{1}}}, ErrUnknownFunc},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := c.phase.Validate(cat); !errors.Is(err, c.want) || (c.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		})
	}
}

// FuzzDecodePhase checks that decoding never panics and that whatever
// decodes survives an encode/decode round trip unchanged.
func FuzzDecodePhase(f *testing.F) {
	f.Add([]byte(`{"a": [1, 2, 3], "b": []}`))
	f.Add([]byte("{\n  \"pyaes\": [\n    0,\n    5\n  ]\n}"))
	f.Add([]byte(`{"\u00e9": [0]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"a": [1e3]}`))
	f.Add([]byte(`{"a": [`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodePhase(data, "fuzz.json")
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("error does not wrap ErrSyntax: %v", err)
			}
			return
		}
		enc := p.AppendJSON(nil)
		q, err := DecodePhase(enc, "re.json")
		if err != nil {
			t.Fatalf("re-decoding our own output: %v\n%s", err, enc)
		}
		if !bytes.Equal(q.AppendJSON(nil), enc) {
			t.Fatalf("round trip changed the encoding")
		}
	})
}
