package results

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// pyReprCases pairs a float64 (as a hex literal, exact) with what CPython
// 3.11.7 prints for repr() of it. Generated with:
//
//	for v in vals: print('{"%s", "%s"},' % (v.hex(), repr(v)))
//
// over hand-picked values (exponent boundaries, integral values, extremes)
// and random ones (random bit patterns, random magnitudes).
var pyReprCases = []struct{ hex, want string }{
	{"0x0.0p+0", "0.0"},
	{"-0x0.0p+0", "-0.0"},
	{"0x1.0000000000000p+0", "1.0"},
	{"-0x1.0000000000000p+0", "-1.0"},
	{"0x1.9000000000000p+6", "100.0"},
	{"0x1.999999999999ap-4", "0.1"},
	{"0x1.999999999999ap-3", "0.2"},
	{"0x1.3333333333334p-2", "0.30000000000000004"},
	{"0x1.5555555555555p-2", "0.3333333333333333"},
	{"0x1.5555555555555p-1", "0.6666666666666666"},
	{"0x1.4f8b588e368f1p-17", "1e-05"},
	{"0x1.421f5f40d8376p-23", "1.5e-07"},
	{"0x1.a36e2eb1c432dp-14", "0.0001"},
	{"0x1.02e4b6ce5dc68p-13", "0.00012345"},
	{"0x1.a36371ea531a8p-14", "9.999e-05"},
	{"0x1.1c37937e08000p+53", "1e+16"},
	{"0x1.c6bf526340000p+49", "1000000000000000.0"},
	{"0x1.1c37937e07fffp+53", "9999999999999998.0"},
	{"0x1.5eddb25e04800p+53", "1.2345e+16"},
	{"0x1.b69b4ba630f35p+56", "1.2345678901234568e+17"},
	{"0x1.0f0cf064dd592p+73", "1e+22"},
	{"0x1.0624dd2f1a9fcp-10", "0.001"},
	{"0x0.0000000000001p-1022", "5e-324"},
	{"0x1.fffffffffffffp+1023", "1.7976931348623157e+308"},
	{"0x1.0000000000000p-1022", "2.2250738585072014e-308"},
	{"0x1.b307000000000p-5", "0.05310392379760742"},
	{"0x1.5182a9930be0ep-5", "0.0412"},
	{"0x1.a83f7ced91687p+5", "53.031"},
	{"0x1.249ad2594c37dp+332", "1e+100"},
	{"0x1.8000000000000p+0", "1.5"},
	{"-0x1.12e0be826d695p-32", "-2.5e-10"},
	{"0x1.81cd6c8b43958p+13", "12345.678"},
	{"0x1.921fb54442d18p+1", "3.141592653589793"},
	{"0x1.0000000000000p+53", "9007199254740992.0"},
	{"0x1.0000000000000p+63", "9.223372036854776e+18"},
	{"0x1.b1ae4d6e2ef50p+69", "1e+21"},
	{"0x1.0000000000000p-1", "0.5"},
	{"0x1.ec00000000000p+6", "123.0"},
	{"0x1.ad7f29abcaf48p-24", "1e-07"},
	{"0x1.6ce789e774eecp-15", "4.35e-05"},
	{"0x1.fe185ca57c517p+78", "6.02214076e+23"},
	{"-0x1.1c37937e08000p+53", "-1e+16"},
	{"-0x1.0624dd2f1a9fcp-10", "-0.001"},
	{"0x1.5182a9930be0dp-5", "0.041199999999999994"},
	{"0x1.18b54f22aeb03p+50", "1234567890123456.8"},
	{"0x1.a36e2eb1c432dp-15", "5e-05"},
	{"0x1.a36e2eb1c432cp-14", "9.999999999999999e-05"},
	{"0x1.a36e2e6b65cccp-14", "9.9999999e-05"},
	{"0x1.74de452e6b438p+811", "1.989032661366619e+244"},
	{"0x1.3270e269e0d37p+593", "3.8805588161425205e+178"},
	{"0x1.c7fd0a6a3a450p-827", "1.9902491793487935e-249"},
	{"0x1.f0824128b2f33p+291", "7.716417708670279e+87"},
	{"0x1.8e811892f902bp-639", "6.823792259378784e-193"},
	{"0x1.1985d5d9dc9f8p-685", "6.850567808936544e-207"},
	{"0x1.25d940ed90475p+655", "1.7160537630466207e+197"},
	{"0x1.675cc81e74ef5p-145", "3.147337620597693e-44"},
	{"0x1.0a35a099950d8p-671", "1.0613447212142254e-202"},
	{"0x1.d549b6f03675ap+689", "4.708325160387546e+207"},
	{"0x1.c172411e20b8fp-39", "3.1935080792567816e-12"},
	{"0x1.16ece1738f7d9p-815", "4.986565189284367e-246"},
	{"0x1.790c7d034b4a5p+58", "4.24519189142514e+17"},
	{"0x1.cf383c0cad64dp-5", "0.05654536941930797"},
	{"0x1.77e1e0d5513f4p+32", "6306259157.317371"},
	{"0x1.1a70744848f7ap+33", "9477089424.570057"},
	{"0x1.f6f9eba9009a5p-25", "5.8554142264038674e-08"},
	{"0x1.a34c624fa07d3p-24", "9.7625510559292e-08"},
	{"0x1.d2f6e0671fc7dp-15", "5.5666489793709265e-05"},
	{"0x1.e5e23dc88a323p-16", "2.8960928633167627e-05"},
}

func TestPyFloatRepr(t *testing.T) {
	for _, c := range pyReprCases {
		f, err := strconv.ParseFloat(c.hex, 64)
		if err != nil {
			t.Fatalf("%s: %v", c.hex, err)
		}
		if got := PyFloatRepr(f); got != c.want {
			t.Errorf("PyFloatRepr(%s) = %q, want %q", c.hex, got, c.want)
		}
	}
	// Decimal literals, as a reader thinks of them.
	for _, c := range []struct {
		f    float64
		want string
	}{
		{1e-05, "1e-05"},
		{1.5e-07, "1.5e-07"},
		{0.0001, "0.0001"},
		{100, "100.0"},
		{1e16, "1e+16"},
		{1e15, "1000000000000000.0"},
		{0, "0.0"},
		{2, "2.0"},
		{-3, "-3.0"},
		{0.5, "0.5"},
		{1e100, "1e+100"},
		{-1e-100, "-1e-100"},
		{math.Inf(1), "inf"},
		{math.Inf(-1), "-inf"},
		{nan, "nan"},
	} {
		if got := PyFloatRepr(c.f); got != c.want {
			t.Errorf("PyFloatRepr(%v) = %q, want %q", c.f, got, c.want)
		}
	}
}

func TestTestLogLines(t *testing.T) {
	zone := time.FixedZone("CEST", 2*3600)
	// The same instants given in UTC: the writer prints them in its
	// Location.
	at := func(h, m, s, ms int) time.Time {
		return time.Date(2024, 4, 9, h-2, m, s, ms*1_000_000+999_999, time.UTC)
	}
	var buf bytes.Buffer
	l := NewTestLogWriter(&buf)
	l.Location = zone
	steps := []error{
		l.StartWarmup(at(12, 0, 0, 0)),
		l.Success(at(12, 0, 1, 234), "pyaes", 0.05310392379760742, 0.0412, 0),
		l.AttemptFailed(at(12, 0, 2, 1), "image-processing_1", 0, "[500 Internal Server Error] Failed to make ctr instance for image-processing_1\n"),
		l.AttemptFailed(at(12, 0, 2, 502), "image-processing_1", 1, "HTTPConnectionPool(host='127.0.0.1', port=8081): Read timed out. (read timeout=60)"),
		l.FinallyFailed(at(12, 0, 9, 500), "image-processing_1", "[502 Bad Gateway] "),
		l.Success(at(12, 0, 10, 999), "json-serde_2", 1e-05, 100, 3),
		l.WarmupFinished(at(12, 5, 0, 0), 1, 1),
		l.StartTest(at(12, 5, 0, 7)),
		l.Success(at(12, 5, 1, 50), "h-memory", 1.5e-07, 0.0001, 1),
		l.TestFinished(at(13, 5, 0, 0), 0, 4338),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	want := `[INFO] 2024-04-09 12:00:00,000 START warmup...
[INFO] 2024-04-09 12:00:01,234 pyaes {'e2e_latency': 0.05310392379760742, 'latency': 0.0412, 'retry_count': 0}
[WARNING] 2024-04-09 12:00:02,001 invoke image-processing_1 try 0th failed: [500 Internal Server Error] Failed to make ctr instance for image-processing_1

[WARNING] 2024-04-09 12:00:02,502 invoke image-processing_1 try 1th failed: HTTPConnectionPool(host='127.0.0.1', port=8081): Read timed out. (read timeout=60)
[ERROR] 2024-04-09 12:00:09,500 invoke image-processing_1 FINALLY failed: [502 Bad Gateway] 
[INFO] 2024-04-09 12:00:10,999 json-serde_2 {'e2e_latency': 1e-05, 'latency': 100.0, 'retry_count': 3}
[INFO] 2024-04-09 12:05:00,000 warm up finished: failed num 1, succeed num 1 !
[INFO] 2024-04-09 12:05:00,007 START test...
[INFO] 2024-04-09 12:05:01,050 h-memory {'e2e_latency': 1.5e-07, 'latency': 0.0001, 'retry_count': 1}
[INFO] 2024-04-09 13:05:00,000 test succeed and finish: failed num 0 succeed_num 4338 !
`
	if got := buf.String(); got != want {
		t.Errorf("test.log:\n%s\nwant:\n%s", got, want)
	}
}

// TestTestLogUpstreamExample checks the line of spec/upstream-tooling.md §3.5.
func TestTestLogUpstreamExample(t *testing.T) {
	var buf bytes.Buffer
	l := NewTestLogWriter(&buf)
	l.Location = time.FixedZone("X", -5*3600)
	if err := l.Success(time.Date(2024, 4, 9, 12, 0, 1, 234_500_000, l.Location), "pyaes", 0.0531, 0.0412, 0); err != nil {
		t.Fatal(err)
	}
	want := "[INFO] 2024-04-09 12:00:01,234 pyaes {'e2e_latency': 0.0531, 'latency': 0.0412, 'retry_count': 0}\n"
	if buf.String() != want {
		t.Errorf("got %q, want %q", buf.String(), want)
	}
}

func TestTestLogWriteErrorSticks(t *testing.T) {
	l := NewTestLogWriter(failingWriter{})
	t0 := time.Date(2024, 4, 9, 12, 0, 0, 0, time.UTC)
	err := l.StartTest(t0)
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("StartTest: %v, want disk full", err)
	}
	if err2 := l.TestFinished(t0, 0, 0); !errors.Is(err2, errDiskFull) || l.Err() == nil {
		t.Errorf("later line: %v, Err %v", err2, l.Err())
	}
}

func TestTestLogConcurrent(t *testing.T) {
	var buf bytes.Buffer
	l := NewTestLogWriter(&buf)
	l.Location = time.UTC
	t0 := time.Date(2024, 4, 9, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 50 {
				l.Success(t0, "f"+strconv.Itoa(i), float64(j), 0.5, 0)
			}
		})
	}
	wg.Wait()
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("%d lines, want 400", len(lines))
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, "[INFO] 2024-04-09 12:00:00,000 f") || !strings.HasSuffix(line, "'retry_count': 0}") {
			t.Fatalf("interleaved line %q", line)
		}
	}
}

// writeCounter counts the Writes it gets and keeps their bytes.
type writeCounter struct {
	bytes.Buffer
	writes int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestTestLogFlushInterval checks the buffering: the first line at once,
// the next ones together when FlushInterval has passed, the rest on Flush,
// each write of whole lines.
func TestTestLogFlushInterval(t *testing.T) {
	var w writeCounter
	clock := &fakeClock{now: time.Unix(1700000000, 0)}
	l := NewTestLogWriter(&w)
	l.Location, l.Clock = time.UTC, clock.Now
	t0 := time.Date(2024, 4, 9, 12, 0, 0, 0, time.UTC)
	lines := func() int { return strings.Count(w.String(), "\n") }
	l.StartTest(t0)
	if lines() != 1 || w.writes != 1 {
		t.Fatalf("after the first line: %d lines in %d writes, want 1 in 1", lines(), w.writes)
	}
	for i := range 5 {
		clock.Advance(100 * time.Millisecond)
		l.Success(t0, "pyaes", float64(i), 0.5, 0)
	}
	if lines() != 1 {
		t.Fatalf("after 0.5 s: %d lines on the writer, want 1 (the rest buffered)", lines())
	}
	clock.Advance(600 * time.Millisecond)
	l.Success(t0, "pyaes", 9, 0.5, 0)
	if lines() != 7 || w.writes != 2 {
		t.Fatalf("after 1.1 s: %d lines in %d writes, want 7 in 2", lines(), w.writes)
	}
	l.FinallyFailed(t0, "pyaes", "[500 Internal Server Error] no instance")
	if lines() != 7 {
		t.Fatalf("a line right after a flush was written at once")
	}
	if err := l.Flush(); err != nil || lines() != 8 || !strings.HasSuffix(w.String(), "no instance\n") {
		t.Fatalf("Flush: %v, %d lines, ends %q", err, lines(), w.String()[max(0, w.Len()-20):])
	}
	if err := l.Flush(); err != nil || w.writes != 3 {
		t.Errorf("an empty Flush: %v, %d writes, want no write", err, w.writes)
	}
	f := NewTestLogWriter(failingWriter{})
	f.Clock = clock.Now
	f.StartTest(t0)
	if err := f.Flush(); !errors.Is(err, errDiskFull) {
		t.Errorf("Flush after a failed write: %v, want the write's error", err)
	}
}
