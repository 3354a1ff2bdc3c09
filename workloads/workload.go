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

// Errors reported by Validate; test for them with errors.Is.
var (
	ErrLengthMismatch = errors.New("workloads: series of different lengths")
	ErrNegativeCount  = errors.New("workloads: negative request count")
	ErrDuplicateName  = errors.New("workloads: function named twice")
	ErrUnknownFunc    = errors.New("workloads: function not in the catalog")
)

// Seconds is the phase's length in seconds (0 for an empty phase).
func (p Phase) Seconds() int {
	if len(p) == 0 {
		return 0
	}
	return len(p[0].Counts)
}

// Requests is the total number of requests in the phase.
func (p Phase) Requests() int {
	n := 0
	for _, s := range p {
		for _, c := range s.Counts {
			n += c
		}
	}
	return n
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
// count and no duplicate name, and — when cat is not nil — that every
// function is in the catalog.
func (p Phase) Validate(cat *Catalog) error {
	seen := make(map[string]bool, len(p))
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
			if c < 0 {
				return fmt.Errorf("%w: %q second %d holds %d", ErrNegativeCount, s.Function, i, c)
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

// Validate validates both phases (see Phase.Validate).
func (w Workload) Validate(cat *Catalog) error {
	if err := w.Warmup.Validate(cat); err != nil {
		return fmt.Errorf("warmup phase: %w", err)
	}
	if err := w.Test.Validate(cat); err != nil {
		return fmt.Errorf("test phase: %w", err)
	}
	return nil
}
