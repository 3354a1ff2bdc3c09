package workloads

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// lineCol is the 1-based line and column of data[off].
func lineCol(data []byte, off int) (int, int) {
	return 1 + bytes.Count(data[:off], []byte{'\n'}), off - bytes.LastIndexByte(data[:off], '\n')
}

// constant returns n seconds of the same count.
func constant(n, count int) []int {
	c := make([]int, n)
	for i := range c {
		c[i] = count
	}
	return c
}

// TestDecodePhaseLimits checks that a file over a limit is refused at the
// line and column of the first count over it, naming the function, the
// second and the limit, with the limit's sentinel and ErrSyntax.
func TestDecodePhaseLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		phase Phase
		// bad is the index, in the second series, of the count the
		// error must point at.
		bad  int
		want error
		msg  []string
	}{
		{
			name:  "cell of 2^31-1", // once accepted, then exhausted memory
			phase: Phase{{"crypto", []int{1, 2}}, {"pyaes", []int{0, 2147483647}}},
			bad:   1, want: ErrCountLimit,
			msg: []string{`"pyaes"`, "second 1", "2147483647", strconv.Itoa(MaxCount)},
		},
		{
			name:  "cell one over",
			phase: Phase{{"crypto", []int{0, 0, 0}}, {"pyaes", []int{0, 0, MaxCount + 1}}},
			bad:   2, want: ErrCountLimit,
			msg: []string{`"pyaes"`, "second 2", strconv.Itoa(MaxCount + 1), strconv.Itoa(MaxCount)},
		},
		{
			name:  "phase too long",
			phase: Phase{{"crypto", nil}, {"pyaes", make([]int, MaxSeconds+1)}},
			bad:   MaxSeconds, want: ErrSecondsLimit,
			msg: []string{`"pyaes"`, strconv.Itoa(MaxSeconds)},
		},
		{
			// Each count is allowed; the one that takes the file past
			// MaxRequests is not.
			name:  "phase holds too many",
			phase: Phase{{"crypto", []int{MaxCount}}, {"pyaes", constant(MaxRequests/MaxCount, MaxCount)}},
			bad:   MaxRequests/MaxCount - 1, want: ErrRequestsLimit,
			msg: []string{`"pyaes"`, fmt.Sprintf("second %d", MaxRequests/MaxCount-1), strconv.Itoa(MaxRequests)},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := tc.phase.AppendJSON(nil)
			// In upstream's layout each count is alone on a line: find
			// the bad one's by counting.
			key := bytes.Index(data, []byte(`"pyaes": [`))
			off := key
			for i := 0; i <= tc.bad; i++ {
				off += bytes.IndexByte(data[off:], '\n') + 1
			}
			off += len("    ")
			line, col := lineCol(data, off)

			_, err := DecodePhase(data, "w.json")
			var je *JSONError
			if !errors.As(err, &je) || !errors.Is(err, tc.want) || !errors.Is(err, ErrSyntax) {
				t.Fatalf("got %v, want a *JSONError wrapping %v and ErrSyntax", err, tc.want)
			}
			if je.Path != "w.json" || je.Line != line || je.Column != col {
				t.Errorf("at %s:%d:%d, want w.json:%d:%d", je.Path, je.Line, je.Column, line, col)
			}
			for _, s := range append(tc.msg, fmt.Sprintf("w.json:%d:%d:", line, col)) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not say %q", err, s)
				}
			}
		})
	}
}

// TestDecodePhaseAtTheLimits checks that counts, seconds and requests right
// at the limits are accepted.
func TestDecodePhaseAtTheLimits(t *testing.T) {
	for _, p := range []Phase{
		{{"pyaes", []int{MaxCount}}},
		{{"pyaes", make([]int, MaxSeconds)}},
		{{"pyaes", constant(MaxRequests/MaxCount/2, MaxCount)}, {"crypto", constant(MaxRequests/MaxCount/2, MaxCount)}},
	} {
		got, err := DecodePhase(p.AppendJSON(nil), "w.json")
		if err != nil {
			t.Fatalf("%d seconds, %d requests: %v", p.Seconds(), p.Requests(), err)
		}
		if got.Requests() != p.Requests() || got.Seconds() != p.Seconds() {
			t.Errorf("decoded %d s, %d requests; want %d, %d", got.Seconds(), got.Requests(), p.Seconds(), p.Requests())
		}
		if err := got.Validate(nil); err != nil {
			t.Errorf("Validate: %v", err)
		}
	}
}

// TestDecodePhaseHugeInteger checks that an integer beyond int64 is over
// the count limit, not merely malformed.
func TestDecodePhaseHugeInteger(t *testing.T) {
	_, err := DecodePhase([]byte(`{"pyaes": [1, 123456789012345678901234567890]}`), "w.json")
	var je *JSONError
	if !errors.As(err, &je) || !errors.Is(err, ErrCountLimit) || je.Column != 15 {
		t.Fatalf("got %v, want a *JSONError at column 15 wrapping ErrCountLimit", err)
	}
}

// endless reads as an endless run of spaces.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestReadPhaseFileLimit(t *testing.T) {
	_, err := ReadPhase(endless{}, "huge.json")
	if !errors.Is(err, ErrFileLimit) || !strings.Contains(err.Error(), "huge.json") ||
		!strings.Contains(err.Error(), strconv.Itoa(MaxFileBytes)) {
		t.Fatalf("got %v, want ErrFileLimit naming huge.json and %d bytes", err, MaxFileBytes)
	}
	// Exactly MaxFileBytes is read: white space around an empty object.
	r := io.MultiReader(strings.NewReader("{}"), io.LimitReader(endless{}, MaxFileBytes-2))
	if p, err := ReadPhase(r, "big.json"); err != nil || len(p) != 0 {
		t.Fatalf("a %d-byte file: %v, %v", MaxFileBytes, p, err)
	}
}

// TestReadDirRequestsLimit checks the run's total: each phase is within
// MaxRequests, both together are not.
func TestReadDirRequestsLimit(t *testing.T) {
	dir := t.TempDir()
	half := Phase{{"pyaes", constant(MaxRequests/MaxCount/2+1, MaxCount)}}
	for _, f := range []string{WarmupFile, TestFile} {
		if err := os.WriteFile(filepath.Join(dir, f), half.AppendJSON(nil), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := ReadDir(dir, DefaultCatalog())
	if !errors.Is(err, ErrRequestsLimit) {
		t.Fatalf("got %v, want ErrRequestsLimit", err)
	}
	n := strconv.Itoa(half.Requests())
	for _, s := range []string{filepath.Join(dir, WarmupFile), filepath.Join(dir, TestFile), n + " warmup", n + " test", strconv.Itoa(MaxRequests)} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message %q does not say %q", err, s)
		}
	}
}

// TestValidateLimits checks the limits on workloads built in memory (by a
// generator or a caller), which have no file to point at: the error names
// the phase, function, second and value.
func TestValidateLimits(t *testing.T) {
	over := constant(MaxRequests/MaxCount+1, MaxCount)
	for _, tc := range []struct {
		name string
		w    Workload
		want error
		msg  []string
	}{
		{"cell", Workload{Test: Phase{{"pyaes", []int{0, MaxCount + 1}}}}, ErrCountLimit,
			[]string{"test phase", `"pyaes"`, "second 1", strconv.Itoa(MaxCount + 1), strconv.Itoa(MaxCount)}},
		{"seconds", Workload{Warmup: Phase{{"pyaes", make([]int, MaxSeconds+1)}}}, ErrSecondsLimit,
			[]string{"warmup phase", strconv.Itoa(MaxSeconds + 1), strconv.Itoa(MaxSeconds)}},
		{"phase requests", Workload{Test: Phase{{"pyaes", over}}}, ErrRequestsLimit,
			[]string{"test phase", `"pyaes"`, fmt.Sprintf("second %d", len(over)-1), strconv.Itoa(MaxRequests)}},
		{"run requests", Workload{Warmup: Phase{{"pyaes", over[:len(over)/2+1]}}, Test: Phase{{"pyaes", over[:len(over)/2+1]}}}, ErrRequestsLimit,
			[]string{strconv.Itoa((len(over)/2+1)*MaxCount) + " warmup", strconv.Itoa(MaxRequests)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.w.Validate(DefaultCatalog())
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			for _, s := range tc.msg {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not say %q", err, s)
				}
			}
		})
	}
}

// TestIterLimit checks MaxIter: the func workload at MaxIter cycles is
// valid (its test phase is within MaxSeconds), one more is refused.
func TestIterLimit(t *testing.T) {
	var p FuncParams
	if err := loadParams("func", &p); err != nil {
		t.Fatal(err)
	}
	w, err := Func(p, MaxIter)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Validate(DefaultCatalog()); err != nil {
		t.Errorf("func at MaxIter: %v", err)
	}
	for _, iter := range []int{0, MaxIter + 1, 1<<31 - 1} {
		_, err := Func(p, iter)
		if !errors.Is(err, ErrIter) || !strings.Contains(err.Error(), "--iter "+strconv.Itoa(iter)) {
			t.Errorf("Func(%d) = %v, want ErrIter naming --iter %d", iter, err, iter)
		}
	}
}
