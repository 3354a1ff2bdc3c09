package workloads

import (
	"errors"
	"fmt"
)

// Series is one function's per-second request counts: Counts[i] requests
// start during second i of the phase. Counts are never negative.
type Series struct {
	Function string
	Counts   []int
}

// Phase is one phase of a workload: an ordered list of series, in the order
// they are written to JSON. All series of a phase have the same length.
type Phase []Series

// Workload is what a generator makes: a warmup phase (warmup.json) and the
// measured phase (workload.json).
type Workload struct {
	Warmup Phase
	Test   Phase
}

// Limits on a workload, checked by Validate and, with the line of the
// offending count, by DecodePhase, so that no input can make a run take
// more memory or time than a real one would. They sit far above every
// workload the paper uses: the upstream generator's outputs (testdata/golden)
// hold at most 220 requests in one second of one function, 3,300 s per
// phase and 50,000 requests per run, and the Azure and Huawei traces about
// 400 requests per minute per function.
const (
	// MaxCount bounds one cell, the requests of one function in one second:
	// 100,000 is 450 times the largest golden cell and 15,000 times the
	// traces' busiest functions. A second's schedule holds at most
	// functions × MaxCount arrivals (16 bytes each: 1.6 MB per function).
	MaxCount = 100_000
	// MaxSeconds bounds a phase's length: one day, 26 times the longest
	// golden phase (the traces' 3,300 s test phase).
	MaxSeconds = 86_400
	// MaxRequests bounds the requests of a run, both phases together: 10
	// million, 200 times the largest golden run. Whatever the schedule, a
	// run keeps something of every request until it ends (faasd's metrics
	// list every latency; summary.csv's percentiles are exact) and writes
	// a row of requests.csv and a line of test.log for each: measured with
	// --target sim, 10 M requests take 1.2 GB of memory at the peak, 2.4 GB
	// of run directory and 96 s on one core.
	MaxRequests = 10_000_000
	// MaxFileBytes bounds a workload file ReadPhase and ReadDir read into
	// memory: 64 MiB. A phase at the limits for the whole catalog (35
	// functions × MaxSeconds, "    100000,\n" per count in upstream's
	// layout) takes 36 MB; the largest golden file 0.4 MB.
	MaxFileBytes = 64 << 20
)

// Errors reported by Validate; test for them with errors.Is.
var (
	ErrLengthMismatch = errors.New("workloads: series of different lengths")
	ErrNegativeCount  = errors.New("workloads: negative request count")
	ErrDuplicateName  = errors.New("workloads: function named twice")
	ErrUnknownFunc    = errors.New("workloads: function not in the catalog")
	// ErrCountLimit: a cell holds more than MaxCount requests.
	ErrCountLimit = errors.New("workloads: more requests in one second of one function than the limit")
	// ErrSecondsLimit: a phase is longer than MaxSeconds.
	ErrSecondsLimit = errors.New("workloads: phase longer than the limit")
	// ErrRequestsLimit: a phase or a run holds more than MaxRequests
	// requests.
	ErrRequestsLimit = errors.New("workloads: more requests than a run may hold")
	// ErrFileLimit: a workload file is larger than MaxFileBytes.
	ErrFileLimit = errors.New("workloads: workload file larger than the limit")
)

// Seconds is the phase's length in seconds (0 for an empty phase).
func (p Phase) Seconds() int {
	if len(p) == 0 {
		return 0
	}
	return len(p[0].Counts)
}

// Requests is the total number of requests in the phase. It cannot
// overflow for a phase Validate accepts.
func (p Phase) Requests() int {
	n := 0
	for _, s := range p {
		for _, c := range s.Counts {
			n += c
		}
	}
	return n
}

// PeakRate is the most requests the phase holds in one second, all
// functions together.
func (p Phase) PeakRate() int {
	peak := 0
	for t := range p.Seconds() {
		n := 0
		for _, s := range p {
			if t < len(s.Counts) { // equal lengths once validated
				n += s.Counts[t]
			}
		}
		peak = max(peak, n)
	}
	return peak
}

// Lookup returns the series of the named function, or nil.
func (p Phase) Lookup(name string) *Series {
	for i := range p {
		if p[i].Function == name {
			return &p[i]
		}
	}
	return nil
}

// Validate checks that the phase's series have equal lengths, no negative
// count, no count above MaxCount, no more than MaxSeconds seconds and
// MaxRequests requests in all, and no duplicate name, and — when cat is not
// nil — that every function is in the catalog.
func (p Phase) Validate(cat *Catalog) error {
	if n := p.Seconds(); n > MaxSeconds {
		return fmt.Errorf("%w: %d seconds (%q), expected at most %d", ErrSecondsLimit, n, p[0].Function, MaxSeconds)
	}
	seen := make(map[string]bool, len(p))
	total := 0
	for _, s := range p {
		if seen[s.Function] {
			return fmt.Errorf("%w: %q", ErrDuplicateName, s.Function)
		}
		seen[s.Function] = true
		if len(s.Counts) != p.Seconds() {
			return fmt.Errorf("%w: %q has %d seconds, %q has %d",
				ErrLengthMismatch, s.Function, len(s.Counts), p[0].Function, p.Seconds())
		}
		for i, c := range s.Counts {
			switch {
			case c < 0:
				return fmt.Errorf("%w: %q second %d holds %d", ErrNegativeCount, s.Function, i, c)
			case c > MaxCount:
				return fmt.Errorf("%w: %q second %d holds %d, expected at most %d", ErrCountLimit, s.Function, i, c, MaxCount)
			}
			// Each term is at most MaxCount and there are at most
			// MaxSeconds of them per series, so total cannot overflow
			// before it passes the limit.
			if total += c; total > MaxRequests {
				return fmt.Errorf("%w: more than %d requests by %q second %d", ErrRequestsLimit, MaxRequests, s.Function, i)
			}
		}
		if cat != nil {
			if _, ok := cat.Lookup(s.Function); !ok {
				return fmt.Errorf("%w: %q (the catalog has %d functions; see workloads/catalog.yaml)",
					ErrUnknownFunc, s.Function, len(cat.Functions))
			}
		}
	}
	return nil
}

// Validate validates both phases (see Phase.Validate) and checks that
// together they hold at most MaxRequests requests.
func (w Workload) Validate(cat *Catalog) error {
	if err := w.Warmup.Validate(cat); err != nil {
		return fmt.Errorf("warmup phase: %w", err)
	}
	if err := w.Test.Validate(cat); err != nil {
		return fmt.Errorf("test phase: %w", err)
	}
	return w.checkRequests()
}

// checkRequests checks the run's total, for phases already validated.
func (w Workload) checkRequests() error {
	if warm, test := w.Warmup.Requests(), w.Test.Requests(); warm+test > MaxRequests {
		return fmt.Errorf("%w: %d warmup + %d test requests, expected at most %d in all",
			ErrRequestsLimit, warm, test, MaxRequests)
	}
	return nil
}
