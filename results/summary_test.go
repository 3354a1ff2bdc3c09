package results

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

// handRequests is a small requests.csv written by hand; its statistics are
// computed by hand below.
const handRequests = `phase,function,scheduled_s,sent_s,done_s,e2e_ms,total_ms,func_ms,attempts,status,start_kind,error
warmup,pyaes,0.1,0.1,0.2,5,100,1,1,ok,cold,
test,pyaes,0,0,0.1,30,30,1,1,ok,reuse,
test,pyaes,0,0,0.1,10,10,1,1,ok,reuse,
test,b,0,0,0.1,100,100,1,1,ok,switch,
test,pyaes,0,0,0.1,100,100,1,1,ok,cold,
test,pyaes,0,0,0.1,20,20,1,1,ok,reuse,
test,pyaes,0,0,0.1,90,90,1,1,ok,reuse,
test,b,0,0,0.1,4.5,4.5,1,1,ok,restore,
test,pyaes,0,0,0.1,40,40,1,1,ok,reuse,
test,pyaes,0,0,0.1,60,60,1,1,ok,reuse,
test,pyaes,0,0,1.5,,1500,,4,failed,,[500 Internal Server Error] no
test,pyaes,0,0,0.1,50,50,1,1,ok,reuse,
test,b,0,0,0.1,3,3,1,1,ok,reuse,
test,pyaes,0,0,0.1,70,70,1,1,ok,reuse,
test,c,0,0,2,,2000,,4,failed,cold,boom
test,pyaes,0,,,,,,0,abandoned,,
test,b,0,0,0.1,1.5,1.5,1,1,ok,reuse,
test,pyaes,0,0,0.1,80,80,1,1,ok,reuse,
`

// Hand-computed, nearest rank ⌈p·n/100⌉:
//   - test/pyaes, e2e 10..100 (n=10): p50 rank 5 = 50, p90 rank 9 = 90,
//     p99 and p99.9 rank 10 = 100; mean 55.
//   - test/b, e2e 1.5, 3, 4.5, 100 (n=4): p50 rank 2 = 3, p90 rank ⌈3.6⌉ = 4
//     = 100; mean 109/4 = 27.25.
//   - test/c: no OK request, so no statistics.
const handSummary = `phase,function,count,ok,failed,abandoned,p50_ms,p90_ms,p99_ms,p99.9_ms,mean_ms,max_ms,cold,restore,switch,reuse
warmup,pyaes,1,1,0,0,5.000,5.000,5.000,5.000,5.000,5.000,1,0,0,0
test,b,4,4,0,0,3.000,100.000,100.000,100.000,27.250,100.000,0,1,1,2
test,c,1,0,1,0,,,,,,,1,0,0,0
test,pyaes,12,10,1,1,50.000,90.000,100.000,100.000,55.000,100.000,1,0,0,9
`

func TestSummarizeHandMade(t *testing.T) {
	s, err := Summarize(strings.NewReader(handRequests), "requests.csv")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, s); err != nil {
		t.Fatal(err)
	}
	if buf.String() != handSummary {
		t.Errorf("summary.csv:\n%s\nwant:\n%s", buf.String(), handSummary)
	}
	want := RequestCounts{Scheduled: 18, OK: 15, Failed: 2, Abandoned: 1}
	if got := s.Totals(); got != want {
		t.Errorf("Totals = %+v, want %+v", got, want)
	}
	if r := s.Rows[1]; r.MeanMs != 27.25 || r.P90Ms != 100 || r.P50Ms != 3 {
		t.Errorf("test/b row %+v", r)
	}
	if r := s.Rows[2]; !math.IsNaN(r.P50Ms) || !math.IsNaN(r.MeanMs) || !math.IsNaN(r.MaxMs) {
		t.Errorf("test/c row without OK requests has statistics: %+v", r)
	}

	// summary.csv reads back to the same rows.
	back, err := ReadSummary(strings.NewReader(buf.String()), "summary.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Rows) != len(s.Rows) {
		t.Fatalf("read %d rows, want %d", len(back.Rows), len(s.Rows))
	}
	for i := range s.Rows {
		if !sameSummaryRow(back.Rows[i], s.Rows[i]) {
			t.Errorf("row %d read back as %+v, want %+v", i, back.Rows[i], s.Rows[i])
		}
	}
}

func sameSummaryRow(a, b SummaryRow) bool {
	fa, fb := []float64{a.P50Ms, a.P90Ms, a.P99Ms, a.P999Ms, a.MeanMs, a.MaxMs},
		[]float64{b.P50Ms, b.P90Ms, b.P99Ms, b.P999Ms, b.MeanMs, b.MaxMs}
	for i := range fa {
		if !sameFloat(fa[i], fb[i]) {
			return false
		}
	}
	a.P50Ms, a.P90Ms, a.P99Ms, a.P999Ms, a.MeanMs, a.MaxMs = 0, 0, 0, 0, 0, 0
	b.P50Ms, b.P90Ms, b.P99Ms, b.P999Ms, b.MeanMs, b.MaxMs = 0, 0, 0, 0, 0, 0
	return reflect.DeepEqual(a, b)
}

func TestPercentileNearestRank(t *testing.T) {
	thousand := make([]float64, 1000)
	for i := range thousand {
		thousand[i] = float64(i + 1)
	}
	for _, c := range []struct {
		v    []float64
		p    float64
		want float64
	}{
		{[]float64{10, 20, 30, 40}, 50, 20},
		{[]float64{10, 20, 30, 40}, 90, 40},
		{[]float64{10, 20, 30, 40}, 25, 10},
		{[]float64{10, 20, 30, 40}, 25.0001, 20},
		{[]float64{10, 20, 30, 40}, 100, 40},
		{[]float64{10, 20, 30}, 50, 20},
		{[]float64{7}, 99.9, 7},
		{thousand, 50, 500},
		{thousand, 90, 900},
		{thousand, 99, 990},
		{thousand, 99.9, 999},
		{thousand, 0.1, 1},
		{thousand, 100, 1000},
	} {
		if got := Percentile(c.v, c.p); got != c.want {
			t.Errorf("Percentile(n=%d, %v) = %v, want %v", len(c.v), c.p, got, c.want)
		}
	}
	for _, p := range []float64{0, -1, 100.5, math.NaN()} {
		if got := Percentile(thousand, p); !math.IsNaN(got) {
			t.Errorf("Percentile(%v) = %v, want NaN", p, got)
		}
	}
	if got := Percentile(nil, 50); !math.IsNaN(got) {
		t.Errorf("Percentile of nothing = %v, want NaN", got)
	}
}

// A requests.csv cut short by a crash: the summary covers the rows before
// the cut, and the error says where.
func TestSummarizeCutShort(t *testing.T) {
	in := handRequests[:strings.Index(handRequests, "test,pyaes,0,0,0.1,20")] + "test,pyaes,0,0,0."
	s, err := Summarize(strings.NewReader(in), "requests.csv")
	var pe *ParseError
	if !errors.As(err, &pe) || !errors.Is(err, ErrFieldCount) || pe.Line != 7 {
		t.Fatalf("error %v, want a field-count error on line 7", err)
	}
	if got := s.Totals(); got.Scheduled != 5 || got.OK != 5 {
		t.Errorf("Totals = %+v, want the 5 rows before the cut", got)
	}
}

func TestSummarizerZeroValue(t *testing.T) {
	var s Summarizer
	if got := s.Summary(); len(got.Rows) != 0 {
		t.Errorf("empty summarizer: %+v", got)
	}
	var buf bytes.Buffer
	if err := WriteSummary(&buf, s.Summary()); err != nil {
		t.Fatal(err)
	}
	if buf.String() != strings.Join(SummaryColumns(), ",")+"\n" {
		t.Errorf("empty summary.csv %q", buf.String())
	}
}

func TestReadSummaryErrors(t *testing.T) {
	head := strings.Join(SummaryColumns(), ",") + "\n"
	for _, c := range []struct {
		in     string
		column string
		want   error
	}{
		{"phase,function\n", "count", ErrHeader},
		{head + "test,f,1,1,0,0,1,2,3,4,5,6,0,0,0\n", "", ErrFieldCount},
		{head + "test,f,x,1,0,0,1,2,3,4,5,6,0,0,0,0\n", ColCount, ErrBadValue},
		{head + "test,f,1,1,0,0,1,2,3,4,5,NaN,0,0,0,0\n", ColMaxMs, ErrBadValue},
		{head + "test,f,1,1,0,0,1,2,3,4,5,6,0,0,0,-1\n", ColReuse, ErrBadValue},
		{head + ",f,1,1,0,0,1,2,3,4,5,6,0,0,0,0\n", ColPhase, ErrMissing},
	} {
		_, err := ReadSummary(strings.NewReader(c.in), "summary.csv")
		var pe *ParseError
		if !errors.As(err, &pe) || !errors.Is(err, c.want) || pe.Column != c.column {
			t.Errorf("%q: error %v, want %v in column %q", c.in, err, c.want, c.column)
		}
	}
}
