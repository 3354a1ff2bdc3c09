package results

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// nan is the "no value" of a float field.
var nan = math.NaN()

// sameFloat reports whether a and b are equal or both NaN.
func sameFloat(a, b float64) bool {
	return a == b || math.IsNaN(a) && math.IsNaN(b)
}

func sameRequest(a, b Request) bool {
	return a.Phase == b.Phase && a.Function == b.Function &&
		sameFloat(a.ScheduledS, b.ScheduledS) && sameFloat(a.SentS, b.SentS) && sameFloat(a.DoneS, b.DoneS) &&
		sameFloat(a.E2EMs, b.E2EMs) && sameFloat(a.TotalMs, b.TotalMs) && sameFloat(a.FuncMs, b.FuncMs) &&
		a.Attempts == b.Attempts && a.Status == b.Status && a.StartKind == b.StartKind && a.Error == b.Error
}

// randomRequest returns a valid request whose times are whole microseconds,
// so that it survives the written precision exactly.
func randomRequest(rng *rand.Rand) Request {
	us := func() float64 { return float64(rng.Int64N(4e9) - 1e8) } // about −100 s to 3 900 s
	opt := func(scale float64) float64 {
		if rng.IntN(4) == 0 {
			return nan
		}
		return us() / scale
	}
	statuses := []Status{StatusOK, StatusFailed, StatusAbandoned}
	kinds := []StartKind{StartUnknown, StartCold, StartRestore, StartSwitch, StartReuse}
	errs := []string{"", "HTTP 500: reach memory limitation", `say "hi", then, leave`, " leading space", "ünïcødé ✓", `\.`}
	names := []string{"pyaes", "dynamic-html", "a,b", `q"uote`, " sp", "函数", "x"}
	return Request{
		Phase:      names[rng.IntN(len(names))],
		Function:   names[rng.IntN(len(names))],
		ScheduledS: us() / 1e6,
		SentS:      opt(1e6),
		DoneS:      opt(1e6),
		E2EMs:      opt(1e3),
		TotalMs:    opt(1e3),
		FuncMs:     opt(1e3),
		Attempts:   rng.IntN(6),
		Status:     statuses[rng.IntN(len(statuses))],
		StartKind:  kinds[rng.IntN(len(kinds))],
		Error:      errs[rng.IntN(len(errs))],
	}
}

// TestRequestEncoding writes random requests and reads them back (in the
// style of vegeta's TestResultEncoding), with several flush intervals.
func TestRequestEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(2022310806, 1))
	for _, interval := range []time.Duration{0, -1, time.Millisecond, time.Hour} {
		want := make([]Request, 500)
		for i := range want {
			want[i] = randomRequest(rng)
		}
		var buf bytes.Buffer
		w := NewRequestWriter(&buf)
		w.FlushInterval = interval
		for i := range want {
			if err := w.Write(&want[i]); err != nil {
				t.Fatalf("interval %v: Write(%+v): %v", interval, want[i], err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		r := NewRequestReader(&buf, "requests.csv")
		var got []Request
		for r.Next() {
			got = append(got, r.Request())
		}
		if err := r.Err(); err != nil {
			t.Fatalf("interval %v: %v", interval, err)
		}
		if len(got) != len(want) {
			t.Fatalf("interval %v: read %d requests, wrote %d", interval, len(got), len(want))
		}
		for i := range want {
			if !sameRequest(got[i], want[i]) {
				t.Errorf("interval %v: request %d:\n got %+v\nwant %+v", interval, i, got[i], want[i])
			}
		}
	}
}

func TestRequestWriterFormat(t *testing.T) {
	reqs := []Request{
		{Phase: "test", Function: "pyaes", ScheduledS: 0, SentS: 0.000412, DoneS: 0.053443,
			E2EMs: 53.031, TotalMs: 53.443, FuncMs: 41.2, Attempts: 1, Status: StatusOK, StartKind: StartSwitch},
		{Phase: "test", Function: "pyaes", ScheduledS: 0.5, SentS: 0.50038, DoneS: nan,
			E2EMs: nan, TotalMs: nan, FuncMs: nan, Attempts: 3, Status: StatusAbandoned},
		{Phase: "warmup", Function: "image-resize", ScheduledS: 12.0000004, SentS: 12.1, DoneS: 67.1,
			E2EMs: nan, TotalMs: 55100.0000004, FuncMs: nan, Attempts: 4, Status: StatusFailed,
			Error: "HTTP 500: Failed to make ctr instance,\nretrying\r\ngave up\r"},
	}
	const want = "phase,function,scheduled_s,sent_s,done_s,e2e_ms,total_ms,func_ms,attempts,status,start_kind,error\n" +
		"test,pyaes,0.000000,0.000412,0.053443,53.031,53.443,41.200,1,ok,switch,\n" +
		"test,pyaes,0.500000,0.500380,,,,,3,abandoned,,\n" +
		"warmup,image-resize,12.000000,12.100000,67.100000,,55100.000,,4,failed,," +
		`"HTTP 500: Failed to make ctr instance, retrying gave up "` + "\n"
	var buf bytes.Buffer
	w := NewRequestWriter(&buf)
	for i := range reqs {
		if err := w.Write(&reqs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRequestWriterHeaderOnly(t *testing.T) {
	var buf bytes.Buffer
	w := NewRequestWriter(&buf)
	if buf.Len() != 0 {
		t.Errorf("constructor wrote %q", buf.String())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := buf.String(), strings.Join(Columns(), ",")+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	r := NewRequestReader(&buf, "requests.csv")
	if r.Next() || r.Err() != nil {
		t.Errorf("header only: Next true or Err %v", r.Err())
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time          { return c.now }
func (c *fakeClock) Advance(d time.Duration) { c.now = c.now.Add(d) }

func TestRequestWriterFlushInterval(t *testing.T) {
	var buf bytes.Buffer
	clock := &fakeClock{now: time.Unix(1700000000, 0)}
	w := NewRequestWriter(&buf)
	w.Clock = clock.Now
	req := Request{Phase: "test", Function: "f", ScheduledS: 1, SentS: nan, DoneS: nan,
		E2EMs: nan, TotalMs: nan, FuncMs: nan, Status: StatusAbandoned}
	lines := func() int { return strings.Count(buf.String(), "\n") }

	steps := []struct {
		advance time.Duration
		lines   int // header included, after the Write
	}{
		{0, 2},                                      // the first row is flushed at once
		{300 * time.Millisecond, 2},                 // buffered
		{600 * time.Millisecond, 2},                 // 0.9 s since the flush: buffered
		{100 * time.Millisecond, 5},                 // 1 s: flushed, with the two before
		{999 * time.Millisecond, 5},                 // buffered
		{DefaultFlushInterval, 7},                   // flushed
		{10 * DefaultFlushInterval, 8},              // after an idle stretch: flushed
		{DefaultFlushInterval - time.Nanosecond, 8}, // buffered
	}
	for i, s := range steps {
		clock.Advance(s.advance)
		if err := w.Write(&req); err != nil {
			t.Fatal(err)
		}
		if got := lines(); got != s.lines {
			t.Errorf("step %d: %d lines in the output, want %d", i, got, s.lines)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := lines(); got != 9 {
		t.Errorf("after Flush: %d lines, want 9", got)
	}
}

func TestRequestWriterRejects(t *testing.T) {
	ok := Request{Phase: "test", Function: "f", ScheduledS: 1, SentS: 1, DoneS: 2,
		E2EMs: 1000, TotalMs: 1000, FuncMs: nan, Attempts: 1, Status: StatusOK}
	tests := []struct {
		name   string
		edit   func(*Request)
		column string
		want   error
	}{
		{"no phase", func(r *Request) { r.Phase = "" }, ColPhase, ErrMissing},
		{"phase with newline", func(r *Request) { r.Phase = "te\nst" }, ColPhase, ErrBadValue},
		{"no function", func(r *Request) { r.Function = "" }, ColFunction, ErrMissing},
		{"function with CR", func(r *Request) { r.Function = "f\r" }, ColFunction, ErrBadValue},
		{"NaN scheduled", func(r *Request) { r.ScheduledS = nan }, ColScheduledS, ErrMissing},
		{"infinite scheduled", func(r *Request) { r.ScheduledS = math.Inf(1) }, ColScheduledS, ErrBadValue},
		{"infinite done", func(r *Request) { r.DoneS = math.Inf(-1) }, ColDoneS, ErrBadValue},
		{"infinite func", func(r *Request) { r.FuncMs = math.Inf(1) }, ColFuncMs, ErrBadValue},
		{"negative attempts", func(r *Request) { r.Attempts = -1 }, ColAttempts, ErrBadValue},
		{"no status", func(r *Request) { r.Status = "" }, ColStatus, ErrMissing},
		{"bad status", func(r *Request) { r.Status = "OK" }, ColStatus, ErrBadValue},
		{"bad start kind", func(r *Request) { r.StartKind = "warm" }, ColStartKind, ErrBadValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewRequestWriter(&buf)
			r := ok
			tt.edit(&r)
			err := w.Write(&r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Write: %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), `"`+tt.column+`"`) {
				t.Errorf("error %q does not name column %q", err, tt.column)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %q", buf.String())
			}
			if err := w.Write(&ok); err != nil { // the writer stays usable
				t.Errorf("Write after a rejected one: %v", err)
			}
		})
	}
}

// failingWriter fails every write.
type failingWriter struct{}

var _ io.Writer = failingWriter{}

var errDiskFull = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errDiskFull }

func TestRequestWriterIOError(t *testing.T) {
	w := NewRequestWriter(failingWriter{})
	req := Request{Phase: "test", Function: "f", ScheduledS: 1, SentS: nan, DoneS: nan,
		E2EMs: nan, TotalMs: nan, FuncMs: nan, Status: StatusAbandoned}
	if err := w.Write(&req); !errors.Is(err, errDiskFull) {
		t.Errorf("Write: %v, want %v", err, errDiskFull)
	}
	if err := w.Flush(); !errors.Is(err, errDiskFull) {
		t.Errorf("Flush: %v, want %v", err, errDiskFull)
	}
}

const header = "phase,function,scheduled_s,sent_s,done_s,e2e_ms,total_ms,func_ms,attempts,status,start_kind,error\n"

func TestRequestReaderErrors(t *testing.T) {
	good := "test,pyaes,0.000000,0.000412,0.053443,53.031,53.443,41.200,1,ok,switch,\n"
	tests := []struct {
		name   string
		input  string
		rows   int // read before the error
		want   error
		line   int
		column string
	}{
		{"empty", "", 0, ErrHeader, 1, ""},
		{"other header", "a,b\n", 0, ErrHeader, 1, ColPhase},
		{"header out of order", "function,phase" + header[len("phase,function"):], 0, ErrHeader, 1, ColPhase},
		{"header with an extra column", strings.TrimSuffix(header, "\n") + ",extra\n", 0, ErrHeader, 1, ""},
		{"short header", "phase,function,scheduled_s\n", 0, ErrHeader, 1, ColSentS},
		{"truncated row", header + good + "test,pyaes,0.5", 1, ErrFieldCount, 3, ""},
		{"long row", header + good + strings.TrimSuffix(good, "\n") + ",x\n", 1, ErrFieldCount, 3, ""},
		{"bad quote", header + good + `test,"py"aes,0,,,,,,0,abandoned,,` + "\n", 1, ErrSyntax, 3, ""},
		{"no phase", header + ",pyaes,0,,,,,,0,abandoned,,\n", 0, ErrMissing, 2, ColPhase},
		{"quoted line break in function", header + "test,\"py\naes\",0,,,,,,0,abandoned,,\n", 0, ErrBadValue, 2, ColFunction},
		{"no scheduled", header + "test,pyaes,,,,,,,0,abandoned,,\n", 0, ErrMissing, 2, ColScheduledS},
		{"NaN scheduled", header + "test,pyaes,NaN,,,,,,0,abandoned,,\n", 0, ErrBadValue, 2, ColScheduledS},
		{"Inf sent", header + "test,pyaes,0,+Inf,,,,,0,abandoned,,\n", 0, ErrBadValue, 2, ColSentS},
		{"word in e2e", header + "test,pyaes,0,1,2,fast,,,1,ok,,\n", 0, ErrBadValue, 2, ColE2EMs},
		{"no attempts", header + "test,pyaes,0,,,,,,,abandoned,,\n", 0, ErrMissing, 2, ColAttempts},
		{"negative attempts", header + "test,pyaes,0,,,,,,-1,abandoned,,\n", 0, ErrBadValue, 2, ColAttempts},
		{"fractional attempts", header + "test,pyaes,0,,,,,,1.5,abandoned,,\n", 0, ErrBadValue, 2, ColAttempts},
		{"no status", header + "test,pyaes,0,,,,,,0,,,\n", 0, ErrMissing, 2, ColStatus},
		{"bad status", header + "test,pyaes,0,,,,,,0,timeout,,\n", 0, ErrBadValue, 2, ColStatus},
		{"bad start kind", header + good + "test,pyaes,0,1,2,3,4,5,1,ok,warm,\n", 1, ErrBadValue, 3, ColStartKind},
		{"line of a field after a multi-line cell", header + "test,pyaes,0,,,,,,0,abandoned,,\"a\nb\"\n" +
			"test,pyaes,0,,,,,,0,abandoned,bad,\n", 1, ErrBadValue, 4, ColStartKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRequestReader(strings.NewReader(tt.input), "run/requests.csv")
			rows := 0
			for r.Next() {
				rows++
			}
			if rows != tt.rows {
				t.Errorf("read %d rows before the error, want %d", rows, tt.rows)
			}
			err := r.Err()
			if !errors.Is(err, tt.want) {
				t.Fatalf("Err() = %v, want %v", err, tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Err() = %T, want *ParseError", err)
			}
			if pe.Path != "run/requests.csv" || pe.Line != tt.line || pe.Column != tt.column {
				t.Errorf("error at %q line %d column %q, want line %d column %q (%v)",
					pe.Path, pe.Line, pe.Column, tt.line, tt.column, err)
			}
			if r.Next() {
				t.Error("Next true after an error")
			}
		})
	}
}

func TestRequestReaderLenient(t *testing.T) {
	// What the reader accepts beyond what the writer writes: other number
	// forms, CRLF line ends, blank lines, a multi-line error cell.
	input := strings.ReplaceAll(header, "\n", "\r\n") +
		"test,pyaes,1e-3,.5,2,-0,7,,02,ok,,\r\n" +
		"\r\n" +
		"test,pyaes,3,,,,,,0,failed,cold,\"line one\r\nline two\"\r\n"
	r := NewRequestReader(strings.NewReader(input), "requests.csv")
	var got []Request
	for r.Next() {
		got = append(got, r.Request())
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	want := []Request{
		{Phase: "test", Function: "pyaes", ScheduledS: 0.001, SentS: 0.5, DoneS: 2, E2EMs: 0, TotalMs: 7,
			FuncMs: nan, Attempts: 2, Status: StatusOK},
		{Phase: "test", Function: "pyaes", ScheduledS: 3, SentS: nan, DoneS: nan, E2EMs: nan, TotalMs: nan,
			FuncMs: nan, Status: StatusFailed, StartKind: StartCold, Error: "line one\nline two"},
	}
	if len(got) != len(want) {
		t.Fatalf("read %d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if !sameRequest(got[i], want[i]) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, got[i], want[i])
		}
	}
}

func TestParseErrorMessage(t *testing.T) {
	tests := []struct {
		err  *ParseError
		want string
	}{
		{&ParseError{Path: "r.csv", Line: 3, Column: "status", Err: ErrMissing}, `r.csv:3: column "status": results: missing value`},
		{&ParseError{Path: "r.csv", Err: ErrMissing}, `r.csv: results: missing value`},
		{&ParseError{Line: 2, Err: ErrMissing}, `:2: results: missing value`},
		{&ParseError{Err: ErrMissing}, `results: missing value`},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

// readAllRequests reads every row of data; the error, if any, is r.Err().
func readAllRequests(data []byte) ([]Request, error) {
	r := NewRequestReader(bytes.NewReader(data), "fuzz.csv")
	var reqs []Request
	for r.Next() {
		reqs = append(reqs, r.Request())
	}
	return reqs, r.Err()
}

func writeAllRequests(t *testing.T, reqs []Request) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewRequestWriter(&buf)
	for i := range reqs {
		if err := w.Write(&reqs[i]); err != nil {
			t.Fatalf("Write(%+v) of a request the reader accepted: %v", reqs[i], err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzRequestReader checks that the reader never panics, that it reports
// every problem as a *ParseError, and that whatever it accepts the writer
// writes, and reads back the same, written the same the second time.
func FuzzRequestReader(f *testing.F) {
	f.Add([]byte(""))
	f.Add([]byte(header))
	f.Add([]byte(header + "test,pyaes,0.000000,0.000412,0.053443,53.031,53.443,41.200,1,ok,switch,\n"))
	f.Add([]byte(header + "test,pyaes,0.500000,0.500380,,,,,3,abandoned,,\n" +
		"warmup,\"a,b\",1,2,3,4,5,6,7,failed,cold,\"say \"\"no\"\"\r\nthen\"\n"))
	f.Add([]byte(header + "test,pyaes,1e300,-0,0x1p-3,,,,0,ok,reuse,\n"))
	f.Add([]byte(header + "test,pyaes,0.5"))
	f.Add([]byte("phase,function\n"))
	var buf bytes.Buffer
	w := NewRequestWriter(&buf)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		r := randomRequest(rng)
		if err := w.Write(&r); err != nil {
			f.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())

	f.Fuzz(func(t *testing.T, data []byte) {
		reqs, err := readAllRequests(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is a %T, want *ParseError", err, err)
			}
			for _, s := range []error{ErrHeader, ErrFieldCount, ErrSyntax, ErrMissing, ErrBadValue} {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error %v wraps no sentinel", err)
		}
		out1 := writeAllRequests(t, reqs)
		again, err := readAllRequests(out1)
		if err != nil {
			t.Fatalf("reading what was written: %v\n%q", err, out1)
		}
		if len(again) != len(reqs) {
			t.Fatalf("wrote %d requests, read back %d", len(reqs), len(again))
		}
		out2 := writeAllRequests(t, again)
		if !bytes.Equal(out1, out2) {
			t.Fatalf("second write differs:\n%q\n%q", out1, out2)
		}
		final, err := readAllRequests(out2)
		if err != nil {
			t.Fatal(err)
		}
		for i := range again {
			if !sameRequest(again[i], final[i]) {
				t.Fatalf("row %d changed on a second round trip:\n%+v\n%+v", i, again[i], final[i])
			}
		}
	})
}
