package results

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// Status is how a request ended.
type Status string

// The statuses of a request.
const (
	// StatusOK: an attempt got a usable answer (HTTP 200 with a JSON
	// latency).
	StatusOK Status = "ok"
	// StatusFailed: every attempt failed, or the answer was unusable.
	StatusFailed Status = "failed"
	// StatusAbandoned: the request was still unanswered when its phase's
	// deadline passed (upstream counts these neither as ok nor as failed).
	StatusAbandoned Status = "abandoned"
)

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	switch s {
	case StatusOK, StatusFailed, StatusAbandoned:
		return true
	}
	return false
}

// StartKind is how the platform obtained the instance that served a request,
// where the target knows it.
type StartKind string

// The start kinds of a request.
const (
	// StartUnknown: the target does not say (an empty cell).
	StartUnknown StartKind = ""
	// StartCold: a new instance started from its image.
	StartCold StartKind = "cold"
	// StartRestore: a new instance restored from a snapshot (CRIU, lazy,
	// FaaSnap, REAP).
	StartRestore StartKind = "restore"
	// StartSwitch: an idle instance of another function repurposed (TrEnv).
	StartSwitch StartKind = "switch"
	// StartReuse: an idle instance of the same function reused (warm).
	StartReuse StartKind = "reuse"
)

// Valid reports whether k is one of the start kinds above, StartUnknown
// included.
func (k StartKind) Valid() bool {
	switch k {
	case StartUnknown, StartCold, StartRestore, StartSwitch, StartReuse:
		return true
	}
	return false
}

// Request is one row of requests.csv: one request, however many attempts it
// took. A float field holds NaN when its value does not apply (the request
// was never sent, never finished, or the function reported no latency); NaN
// is written as an empty cell and an empty cell is read as NaN.
type Request struct {
	// Phase is the phase the request belongs to ("warmup", "test"); not
	// empty, no line break.
	Phase string
	// Function is the function's name as invoked; not empty, no line break.
	Function string

	// ScheduledS is when the request was due to be sent, in seconds since
	// its phase started. Required (never NaN).
	ScheduledS float64
	// SentS is when its first attempt was sent, in seconds since its phase
	// started; NaN if it was never sent.
	SentS float64
	// DoneS is when it finished (answer of the last attempt, or giving up),
	// in seconds since its phase started; NaN if it never finished
	// (abandoned).
	DoneS float64

	// E2EMs is upstream's e2e_latency in milliseconds: the client-side
	// duration of the successful attempt only. NaN unless Status is
	// StatusOK.
	E2EMs float64
	// TotalMs is DoneS − ScheduledS in milliseconds: measured from the
	// intended send time, so dispatch lateness and retries are included.
	// NaN if the request never finished.
	TotalMs float64
	// FuncMs is the compute time the function reported (its JSON
	// "latency", seconds upstream) in milliseconds; NaN if none.
	FuncMs float64

	// Attempts is the number of attempts sent (0 if none was).
	Attempts int
	// Status is how the request ended. Required.
	Status Status
	// StartKind is how the serving instance was obtained; StartUnknown
	// when the target does not say.
	StartKind StartKind
	// Error is the last failure's message; "" when there was none. It is
	// written on one line: Write turns each line break into a space.
	Error string
}

// Column names of requests.csv.
const (
	ColPhase      = "phase"
	ColFunction   = "function"
	ColScheduledS = "scheduled_s"
	ColSentS      = "sent_s"
	ColDoneS      = "done_s"
	ColE2EMs      = "e2e_ms"
	ColTotalMs    = "total_ms"
	ColFuncMs     = "func_ms"
	ColAttempts   = "attempts"
	ColStatus     = "status"
	ColStartKind  = "start_kind"
	ColError      = "error"
)

// Precision of the written values: seconds to the microsecond, milliseconds
// to the microsecond. Finer digits are rounded away.
const (
	secondsDecimals = 6
	msDecimals      = 3
)

// requestColumn is one column of requests.csv: its name and how a Request
// field becomes a cell (checking it) and back.
type requestColumn struct {
	name   string
	format func(*Request) (string, error)
	parse  func(*Request, string) error
}

// requestColumns drives both RequestWriter and RequestReader. It is never
// modified.
var requestColumns = [...]requestColumn{
	{ColPhase,
		func(r *Request) (string, error) { return formatName(r.Phase) },
		func(r *Request, s string) (err error) { r.Phase, err = formatName(s); return err }},
	{ColFunction,
		func(r *Request) (string, error) { return formatName(r.Function) },
		func(r *Request, s string) (err error) { r.Function, err = formatName(s); return err }},
	{ColScheduledS,
		func(r *Request) (string, error) { return formatFloat(r.ScheduledS, secondsDecimals, true) },
		func(r *Request, s string) (err error) { r.ScheduledS, err = parseFloat(s, true); return err }},
	{ColSentS,
		func(r *Request) (string, error) { return formatFloat(r.SentS, secondsDecimals, false) },
		func(r *Request, s string) (err error) { r.SentS, err = parseFloat(s, false); return err }},
	{ColDoneS,
		func(r *Request) (string, error) { return formatFloat(r.DoneS, secondsDecimals, false) },
		func(r *Request, s string) (err error) { r.DoneS, err = parseFloat(s, false); return err }},
	{ColE2EMs,
		func(r *Request) (string, error) { return formatFloat(r.E2EMs, msDecimals, false) },
		func(r *Request, s string) (err error) { r.E2EMs, err = parseFloat(s, false); return err }},
	{ColTotalMs,
		func(r *Request) (string, error) { return formatFloat(r.TotalMs, msDecimals, false) },
		func(r *Request, s string) (err error) { r.TotalMs, err = parseFloat(s, false); return err }},
	{ColFuncMs,
		func(r *Request) (string, error) { return formatFloat(r.FuncMs, msDecimals, false) },
		func(r *Request, s string) (err error) { r.FuncMs, err = parseFloat(s, false); return err }},
	{ColAttempts,
		func(r *Request) (string, error) {
			if r.Attempts < 0 {
				return "", fmt.Errorf("%w: %d attempts", ErrBadValue, r.Attempts)
			}
			return strconv.Itoa(r.Attempts), nil
		},
		func(r *Request, s string) (err error) { r.Attempts, err = parseCount(s); return err }},
	{ColStatus,
		func(r *Request) (string, error) { return formatStatus(string(r.Status)) },
		func(r *Request, s string) error {
			s, err := formatStatus(s)
			r.Status = Status(s)
			return err
		}},
	{ColStartKind,
		func(r *Request) (string, error) { return formatStartKind(string(r.StartKind)) },
		func(r *Request, s string) error {
			s, err := formatStartKind(s)
			r.StartKind = StartKind(s)
			return err
		}},
	{ColError,
		func(r *Request) (string, error) { return oneLine(r.Error), nil },
		func(r *Request, s string) error { r.Error = s; return nil }},
}

// Columns returns the column names of requests.csv, in file order:
// phase, function, scheduled_s, sent_s, done_s, e2e_ms, total_ms, func_ms,
// attempts, status, start_kind, error. The same list drives RequestWriter and
// RequestReader; the result is a new slice each call.
func Columns() []string {
	names := make([]string, len(requestColumns))
	for i, c := range requestColumns {
		names[i] = c.name
	}
	return names
}

// formatName checks a phase or function name: not empty, no line break.
func formatName(s string) (string, error) {
	if s == "" {
		return "", ErrMissing
	}
	if strings.ContainsAny(s, "\r\n") {
		return "", fmt.Errorf("%w: line break in %s", ErrBadValue, quoteCell(s))
	}
	return s, nil
}

func formatStatus(s string) (string, error) {
	if s == "" {
		return "", ErrMissing
	}
	if !Status(s).Valid() {
		return "", fmt.Errorf("%w: status %s, want ok, failed or abandoned", ErrBadValue, quoteCell(s))
	}
	return s, nil
}

func formatStartKind(s string) (string, error) {
	if !StartKind(s).Valid() {
		return "", fmt.Errorf("%w: start kind %s, want cold, restore, switch, reuse or empty",
			ErrBadValue, quoteCell(s))
	}
	return s, nil
}

// formatFloat writes x with the given decimals; NaN becomes "" unless
// required, and ±Inf is an error.
func formatFloat(x float64, decimals int, required bool) (string, error) {
	switch {
	case math.IsNaN(x):
		if required {
			return "", ErrMissing
		}
		return "", nil
	case math.IsInf(x, 0):
		return "", fmt.Errorf("%w: %v is not finite", ErrBadValue, x)
	}
	return strconv.FormatFloat(x, 'f', decimals, 64), nil
}

// parseFloat reads a finite number; "" is NaN unless required.
func parseFloat(s string, required bool) (float64, error) {
	if s == "" {
		if required {
			return math.NaN(), ErrMissing
		}
		return math.NaN(), nil
	}
	x, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
		return math.NaN(), fmt.Errorf("%w: %s is not a finite number", ErrBadValue, quoteCell(s))
	}
	return x, nil
}

// parseCount reads a non-negative decimal integer.
func parseCount(s string) (int, error) {
	if s == "" {
		return 0, ErrMissing
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%w: %s is not a non-negative integer", ErrBadValue, quoteCell(s))
	}
	return n, nil
}

// oneLine replaces each CR LF, CR or LF in s with a space.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", " ")
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// RequestWriter writes requests.csv as a run goes. The header is written
// before the first row (or by Flush, if no row comes). Rows are buffered;
// Write flushes the first row at once and then whenever FlushInterval has
// passed since the last flush, so a crash loses about FlushInterval of
// records — provided rows keep coming: call Flush when the stream goes idle
// (at the end of each phase) and when done.
//
// A RequestWriter is meant for one goroutine; it is not safe for concurrent
// use.
type RequestWriter struct {
	// FlushInterval is how long written rows may stay in the buffer before
	// a Write flushes them. 0 means DefaultFlushInterval; a negative value
	// flushes after every row.
	FlushInterval time.Duration
	// Clock reads the time FlushInterval is measured with; nil means
	// time.Now.
	Clock func() time.Time

	sink csvSink
	rec  [len(requestColumns)]string
}

// NewRequestWriter returns a RequestWriter of requests.csv to w.
func NewRequestWriter(w io.Writer) *RequestWriter {
	return &RequestWriter{sink: newCSVSink(w, Columns())}
}

// Write appends one row. It checks every field first and writes nothing if
// one is invalid (a missing required value, a NaN where a value is required,
// an infinite number, a negative attempt count, an unknown status or start
// kind, an empty name or one with a line break); the error then wraps
// ErrMissing or ErrBadValue and names the column. It returns the error of
// the underlying writer when it flushes.
func (w *RequestWriter) Write(r *Request) error {
	for i, c := range requestColumns {
		s, err := c.format(r)
		if err != nil {
			return fmt.Errorf("results: writing request: column %q: %w", c.name, err)
		}
		w.rec[i] = s
	}
	if err := w.sink.write(w.rec[:], w.Clock, w.FlushInterval); err != nil {
		return fmt.Errorf("results: writing requests: %w", err)
	}
	return nil
}

// Flush writes the header if nothing was written yet, flushes the buffered
// rows, and returns the error of any earlier write or of this flush.
func (w *RequestWriter) Flush() error {
	if err := w.sink.flush(w.Clock); err != nil {
		return fmt.Errorf("results: writing requests: %w", err)
	}
	return nil
}

// RequestReader reads requests.csv row by row, like bufio.Scanner: Next
// advances to the next row and reports false at the end of the input or on
// the first error, which Err then returns. It checks the header (Columns,
// exactly) and every cell of every row, but not relations between cells.
// A file cut short by a crash ends with a short row, reported as
// ErrFieldCount after the complete rows before it.
type RequestReader struct {
	src csvSource
	req Request
}

// NewRequestReader returns a RequestReader of r; path names it in errors.
func NewRequestReader(r io.Reader, path string) *RequestReader {
	return &RequestReader{src: newCSVSource(r, path, Columns())}
}

// Next reads the next row and reports whether there was one.
func (r *RequestReader) Next() bool {
	if !r.src.next() {
		return false
	}
	r.req = Request{}
	for i, c := range requestColumns {
		if err := c.parse(&r.req, r.src.rec[i]); err != nil {
			r.src.err = r.src.cellError(i, err)
			return false
		}
	}
	return true
}

// Request returns the row read by the last successful Next.
func (r *RequestReader) Request() Request { return r.req }

// Err returns the first error met, nil after a clean end of input. A
// non-nil error is a *ParseError.
func (r *RequestReader) Err() error { return r.src.result() }
