package workloads

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// AppendJSON appends the phase as upstream writes it: Python's
// json.dump(obj, f, indent=2) with its defaults (ensure_ascii, ", " and ": "
// separators turned into a newline and ": " by indent), one count per line,
// no trailing newline. An empty phase is "{}", an empty series "[]".
func (p Phase) AppendJSON(b []byte) []byte {
	if len(p) == 0 {
		return append(b, "{}"...)
	}
	b = append(b, '{')
	for i, s := range p {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n  "...)
		b = appendPyString(b, s.Function)
		b = append(b, ": "...)
		if len(s.Counts) == 0 {
			b = append(b, "[]"...)
			continue
		}
		b = append(b, '[')
		for j, c := range s.Counts {
			if j > 0 {
				b = append(b, ',')
			}
			b = append(b, "\n    "...)
			b = strconv.AppendInt(b, int64(c), 10)
		}
		b = append(b, "\n  ]"...)
	}
	return append(b, "\n}"...)
}

// WriteJSON writes the phase to w in upstream's format (see AppendJSON).
func (p Phase) WriteJSON(w io.Writer) error {
	_, err := w.Write(p.AppendJSON(nil))
	return err
}

// appendPyString appends s as Python's json module writes a str with
// ensure_ascii=True.
func appendPyString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"':
			b = append(b, `\"`...)
		case r == '\\':
			b = append(b, `\\`...)
		case r == '\n':
			b = append(b, `\n`...)
		case r == '\r':
			b = append(b, `\r`...)
		case r == '\t':
			b = append(b, `\t`...)
		case r == '\b':
			b = append(b, `\b`...)
		case r == '\f':
			b = append(b, `\f`...)
		case r < 0x20 || r >= 0x7f:
			if r == utf8.RuneError {
				r = 0xfffd
			}
			var units []uint16
			if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				units = []uint16{uint16(r1), uint16(r2)}
			} else {
				units = []uint16{uint16(r)}
			}
			for _, u := range units {
				b = append(b, '\\', 'u', hex[u>>12], hex[u>>8&15], hex[u>>4&15], hex[u&15])
			}
		default:
			b = append(b, byte(r))
		}
	}
	return append(b, '"')
}

// ErrSyntax is wrapped by every decoding error of ReadPhase.
var ErrSyntax = errors.New("workloads: bad workload JSON")

// JSONError names the place of bad input in a workload file.
type JSONError struct {
	Path   string
	Line   int // 1-based
	Column int // 1-based, in bytes
	Msg    string
	// Err is the limit the input passes (ErrCountLimit, ErrSecondsLimit,
	// ErrRequestsLimit), or nil for malformed input.
	Err error
}

func (e *JSONError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Msg)
}

// Unwrap returns ErrSyntax and, for input over a limit, that limit's error.
func (e *JSONError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrSyntax}
	}
	return []error{ErrSyntax, e.Err}
}

// ReadPhase decodes a workload file: one JSON object mapping function names
// to arrays of non-negative integer counts, keys in file order. Any JSON
// layout is accepted. Errors are *JSONError naming path, line and column;
// the limits of Phase.Validate on counts (MaxCount), seconds (MaxSeconds)
// and requests (MaxRequests) are checked as the file is read, so the error
// names the line of the first count over one, and a file over them is not
// read further. The result is not otherwise validated (see
// Phase.Validate): arrays may differ in length.
//
// It reads at most MaxFileBytes; a larger input is an error wrapping
// ErrFileLimit.
func ReadPhase(r io.Reader, path string) (Phase, error) {
	data, err := io.ReadAll(io.LimitReader(bufio.NewReader(r), MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%s: %w: more than %d bytes, expected at most that (workloads.MaxFileBytes)", path, ErrFileLimit, MaxFileBytes)
	}
	return DecodePhase(data, path)
}

// DecodePhase is ReadPhase on bytes in memory.
func DecodePhase(data []byte, path string) (Phase, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	fail := func(off int64, format string, args ...any) error {
		line, col := position(data, off)
		return &JSONError{Path: path, Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
	}
	overLimit := func(off int64, limit error, format string, args ...any) error {
		err := fail(off, format, args...)
		err.(*JSONError).Err = limit
		return err
	}
	total := 0 // requests so far; at most MaxRequests + MaxCount
	syntax := func(err error) error {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return fail(se.Offset, "%v", se)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return fail(int64(len(data)), "unexpected end of input")
		}
		return fail(dec.InputOffset(), "%v", err)
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fail(dec.InputOffset(), "expected a JSON object of function name → array of counts, found %v", tok)
	}
	p := Phase{}
	seen := map[string]bool{}
	for dec.More() {
		keyStart := tokenStart(data, dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		name := tok.(string) // object keys are always strings
		if seen[name] {
			return nil, fail(keyStart, "function %q appears twice", name)
		}
		seen[name] = true
		if tok, err = dec.Token(); err != nil {
			return nil, syntax(err)
		}
		if d, ok := tok.(json.Delim); !ok || d != '[' {
			return nil, fail(dec.InputOffset(), "function %q: expected an array of counts, found %v", name, tok)
		}
		counts := []int{}
		for dec.More() {
			start := tokenStart(data, dec.InputOffset())
			tok, err := dec.Token()
			if err != nil {
				return nil, syntax(err)
			}
			num, ok := tok.(json.Number)
			if !ok {
				return nil, fail(start, "function %q second %d: expected a non-negative integer, found %v", name, len(counts), tok)
			}
			// An integer too large for int64 parses as MaxInt64 with
			// ErrRange: over MaxCount, which says more than "bad number".
			v, err := strconv.ParseInt(string(num), 10, 64)
			if (err != nil && !errors.Is(err, strconv.ErrRange)) || v < 0 {
				return nil, fail(start, "function %q second %d: expected a non-negative integer, found %s", name, len(counts), num)
			}
			if v > MaxCount {
				return nil, overLimit(start, ErrCountLimit, "function %q second %d: %s requests, expected at most %d (workloads.MaxCount)",
					name, len(counts), num, MaxCount)
			}
			if len(counts) == MaxSeconds {
				return nil, overLimit(start, ErrSecondsLimit, "function %q: more than %d seconds, expected at most that (workloads.MaxSeconds)",
					name, MaxSeconds)
			}
			if total += int(v); total > MaxRequests {
				return nil, overLimit(start, ErrRequestsLimit, "function %q second %d: more than %d requests in the file, expected at most that (workloads.MaxRequests)",
					name, len(counts), MaxRequests)
			}
			counts = append(counts, int(v))
		}
		if _, err := dec.Token(); err != nil { // ']'
			return nil, syntax(err)
		}
		p = append(p, Series{Function: name, Counts: counts})
	}
	if _, err := dec.Token(); err != nil { // '}'
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fail(dec.InputOffset(), "unexpected data after the workload object")
	}
	return p, nil
}

// tokenStart skips the white space and separators at data[off:] to where
// the next token begins (the decoder's offset is just past the previous one).
func tokenStart(data []byte, off int64) int64 {
	for off < int64(len(data)) {
		switch data[off] {
		case ' ', '\t', '\n', '\r', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// position converts a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	before := data[:off]
	line = 1 + bytes.Count(before, []byte{'\n'})
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}
