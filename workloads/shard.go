package workloads

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxShards bounds how many load generators a workload is split across.
const MaxShards = 64

// Shard is the I-th of N disjoint slices of a phase's requests (1-based;
// the zero value, and 1/1, is the whole phase). The slices partition every
// second: its requests, numbered j = 0, 1, … in the order the schedule
// draws them (function by function), go to slice (j + t) mod N + 1 for
// second t. So every request of the unsharded schedule is in exactly one
// slice, with the send time the unsharded schedule gives it for the same
// seed (every slice draws every send time, and keeps its own); each slice
// has, of each function in each second, ⌊c/N⌋ or ⌈c/N⌉ of its c requests,
// and of each second's total likewise; the rotation by t spreads the
// remainders over the slices.
type Shard struct {
	Index, Count int
}

// ParseShard parses "I/N" (1 ≤ I ≤ N ≤ MaxShards).
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	a, erra := strconv.Atoi(i)
	b, errb := strconv.Atoi(n)
	sh := Shard{a, b}
	if !ok || erra != nil || errb != nil {
		return Shard{}, fmt.Errorf("shard %q: expected I/N, such as 1/2", s)
	}
	return sh, sh.Validate()
}

// Validate checks the bounds.
func (s Shard) Validate() error {
	if s == (Shard{}) {
		return nil
	}
	if s.Count < 1 || s.Count > MaxShards || s.Index < 1 || s.Index > s.Count {
		return fmt.Errorf("shard %d/%d: expected I/N with 1 ≤ I ≤ N ≤ %d", s.Index, s.Count, MaxShards)
	}
	return nil
}

// Whole reports whether s is the whole phase.
func (s Shard) Whole() bool { return s.Count <= 1 }

// String is "I/N".
func (s Shard) String() string {
	if s.Whole() {
		return "1/1"
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// keeps reports whether request j of second t is in s.
func (s Shard) keeps(t, j int) bool {
	return s.Whole() || (j+t)%s.Count == s.Index-1
}

// Requests is how many of p's requests s holds.
func (s Shard) Requests(p Phase) int {
	if s.Whole() {
		return p.Requests()
	}
	n := 0
	for t := 0; t < p.Seconds(); t++ {
		total := 0
		for _, series := range p {
			total += series.Counts[t]
		}
		// j in [0, total) with (j + t) mod N = I - 1.
		first := ((s.Index-1-t)%s.Count + s.Count) % s.Count
		if first < total {
			n += (total-first-1)/s.Count + 1
		}
	}
	return n
}
