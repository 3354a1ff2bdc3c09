package results

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Log levels of test.log, as Python's logging names them.
const (
	LevelInfo    = "INFO"
	LevelWarning = "WARNING"
	LevelError   = "ERROR"
)

// TestLogTimeLayout is Python logging's default asctime,
// "2024-04-09 12:00:01,234": local time, milliseconds after a comma,
// truncated (not rounded) as Python's record.msecs is.
const TestLogTimeLayout = "2006-01-02 15:04:05,000"

// TestLogWriter writes test.log in the line format of the upstream driver
// (spec/upstream-tooling.md §3.5), Python logging's
// "[%(levelname)s] %(asctime)s %(message)s", so notebooks that parse the
// upstream log read ours:
//
//	[INFO] 2024-04-09 12:00:00,000 START warmup...
//	[INFO] 2024-04-09 12:00:01,234 pyaes {'e2e_latency': 0.05310392379760742, 'latency': 0.0412, 'retry_count': 0}
//	[WARNING] 2024-04-09 12:00:02,001 invoke pyaes try 0th failed: [500 Internal Server Error] no instance
//	[ERROR] 2024-04-09 12:00:09,500 invoke pyaes FINALLY failed: [500 Internal Server Error] no instance
//	[INFO] 2024-04-09 12:05:00,000 warm up finished: failed num 1, succeed num 1 !
//	[INFO] 2024-04-09 12:05:00,000 START test...
//	[INFO] 2024-04-09 13:05:00,000 test succeed and finish: failed num 0 succeed_num 4338 !
//
// Lines are buffered as the CSV writers' rows are: the first line is written
// at once, later ones when FlushInterval has passed since the last write or
// on Flush, so a crash loses about FlushInterval of lines (RunDir flushes
// once a second and on Close). Every write holds whole lines. Messages are
// written verbatim, as Python does: an error text that ends in a line break
// (faasd's bodies do) leaves an empty line after its own.
//
// The first write error is kept: every later call returns it and writes
// nothing. A TestLogWriter is safe for concurrent use.
type TestLogWriter struct {
	// Location is the time zone of the timestamps; nil means time.Local
	// (Python logs local time). Set it before the first line.
	Location *time.Location
	// FlushInterval is how long lines may stay in the buffer before a
	// line flushes them. 0 means DefaultFlushInterval; a negative value
	// writes every line at once.
	FlushInterval time.Duration
	// Clock reads the time FlushInterval is measured with; nil means
	// time.Now.
	Clock func() time.Time

	mu        sync.Mutex
	w         io.Writer
	buf       []byte // lines not yet written
	started   bool   // a write happened; lastFlush is set
	lastFlush time.Time
	err       error
}

// NewTestLogWriter returns a TestLogWriter of test.log to w.
func NewTestLogWriter(w io.Writer) *TestLogWriter {
	return &TestLogWriter{w: w}
}

// StartWarmup logs "START warmup...", written before the warmup phase.
func (l *TestLogWriter) StartWarmup(t time.Time) error {
	return l.line(t, LevelInfo, "START warmup...")
}

// StartTest logs "START test...", written before the test phase.
func (l *TestLogWriter) StartTest(t time.Time) error {
	return l.line(t, LevelInfo, "START test...")
}

// Success logs a request that succeeded:
// "<fn> {'e2e_latency': <e2eS>, 'latency': <latencyS>, 'retry_count': <retries>}".
// e2eS is the client-side duration of the successful attempt and latencyS
// the compute time the function reported, both in seconds, printed as
// Python's repr(float) prints them (PyFloatRepr); retries is the number of
// failed attempts before the successful one.
func (l *TestLogWriter) Success(t time.Time, fn string, e2eS, latencyS float64, retries int) error {
	var b strings.Builder
	b.Grow(len(fn) + 80)
	b.WriteString(fn)
	b.WriteString(" {'e2e_latency': ")
	b.WriteString(PyFloatRepr(e2eS))
	b.WriteString(", 'latency': ")
	b.WriteString(PyFloatRepr(latencyS))
	b.WriteString(", 'retry_count': ")
	b.WriteString(strconv.Itoa(retries))
	b.WriteString("}")
	return l.line(t, LevelInfo, b.String())
}

// AttemptFailed logs a failed attempt that will be retried, as a WARNING
// "invoke <fn> try <k>th failed: <msg>". k counts as upstream does: 0 for
// the first attempt (so "try 0th", "try 1th", "try 2th"); msg is the
// failure as upstream prints the exception, for a non-200 answer
// "[<code> <reason>] <body>".
func (l *TestLogWriter) AttemptFailed(t time.Time, fn string, k int, msg string) error {
	return l.line(t, LevelWarning, "invoke "+fn+" try "+strconv.Itoa(k)+"th failed: "+msg)
}

// FinallyFailed logs a request whose last attempt failed, as an ERROR
// "invoke <fn> FINALLY failed: <msg>".
func (l *TestLogWriter) FinallyFailed(t time.Time, fn string, msg string) error {
	return l.line(t, LevelError, "invoke "+fn+" FINALLY failed: "+msg)
}

// WarmupFinished logs the warmup's outcome,
// "warm up finished: failed num <failed>, succeed num <ok> !".
func (l *TestLogWriter) WarmupFinished(t time.Time, failed, ok int) error {
	return l.line(t, LevelInfo, fmt.Sprintf("warm up finished: failed num %d, succeed num %d !", failed, ok))
}

// TestFinished logs the test phase's outcome,
// "test succeed and finish: failed num <failed> succeed_num <ok> !"
// (upstream's wording and punctuation).
func (l *TestLogWriter) TestFinished(t time.Time, failed, ok int) error {
	return l.line(t, LevelInfo, fmt.Sprintf("test succeed and finish: failed num %d succeed_num %d !", failed, ok))
}

// Err returns the first write error, nil if none.
func (l *TestLogWriter) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// Flush writes the buffered lines and returns the first write error, if
// any.
func (l *TestLogWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushAt(readClock(l.Clock))
}

// flushAt writes the buffer at clock reading now.
func (l *TestLogWriter) flushAt(now time.Time) error {
	if l.err != nil {
		return l.err
	}
	l.started, l.lastFlush = true, now
	if len(l.buf) == 0 {
		return nil
	}
	_, err := l.w.Write(l.buf)
	l.buf = l.buf[:0]
	if err != nil {
		l.err = fmt.Errorf("results: writing test log: %w", err)
	}
	return l.err
}

// line buffers "[level] asctime msg\n" and writes the buffer when it is
// the first line or FlushInterval has passed since the last write.
func (l *TestLogWriter) line(t time.Time, level, msg string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	loc := l.Location
	if loc == nil {
		loc = time.Local
	}
	b := l.buf
	b = append(b, '[')
	b = append(b, level...)
	b = append(b, "] "...)
	b = t.In(loc).AppendFormat(b, TestLogTimeLayout)
	b = append(b, ' ')
	b = append(b, msg...)
	b = append(b, '\n')
	l.buf = b
	interval := l.FlushInterval
	if interval == 0 {
		interval = DefaultFlushInterval
	}
	now := readClock(l.Clock)
	if !l.started || interval < 0 || now.Sub(l.lastFlush) >= interval {
		return l.flushAt(now)
	}
	return nil
}

// PyFloatRepr formats f exactly as Python 3's repr(float) does: the
// shortest decimal that reads back as f; in scientific notation when the
// decimal exponent is below -4 or at least 16, with a sign and at least two
// exponent digits; otherwise positional, with ".0" added to an integral
// value. Infinities and NaN are "inf", "-inf" and "nan".
//
//	1e-05  1.5e-07  0.0001  0.1  100.0  -0.0  9999999999999998.0  1e+16  5e-324
func PyFloatRepr(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	// Go's 'e' with precision -1 is the shortest round-trip digit string,
	// as Python's (David Gay's dtoa mode 0), and writes the exponent as
	// Python does: a sign and at least two digits.
	s := strconv.FormatFloat(f, 'e', -1, 64)
	i := strings.IndexByte(s, 'e')
	exp, _ := strconv.Atoi(s[i+1:])
	if exp < -4 || exp >= 16 {
		return s
	}
	s = strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsRune(s, '.') {
		s += ".0"
	}
	return s
}
