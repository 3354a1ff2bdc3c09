package results

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Control-plane duties a shard may own (ShardInfo.Owns): the one owner of
// an experiment's shards does them all, the others none.
const (
	OwnsRegister = "register"
	OwnsMetrics  = "metrics"
	OwnsSamples  = "samples"
)

// ShardInfo says that a run is one slice of an experiment replayed by
// several load generators (run --shard I/N --start-at T).
type ShardInfo struct {
	// Index and Count are I and N.
	Index int `json:"index"`
	Count int `json:"count"`
	// StartAt is T, when every shard started its warmup; the shards of
	// one experiment share it.
	StartAt time.Time `json:"start_at"`
	// Owns lists the control-plane duties this shard did (Owns*); the
	// owner, shard 1, does all, the others none.
	Owns []string `json:"owns"`
	// ClockOffsetS estimates the gateway's clock minus this machine's,
	// in seconds, from the gateway's Date header (timed at a turn of its
	// second), within ± ClockOffsetUncertaintyS; both nil when no answer
	// carried one. Shards whose offsets differ by more than their
	// uncertainties did not start at the same T by the gateway's clock.
	ClockOffsetS            *float64 `json:"clock_offset_s,omitempty"`
	ClockOffsetUncertaintyS *float64 `json:"clock_offset_uncertainty_s,omitempty"`
}

// Owner reports whether this shard owned the control plane.
func (s *ShardInfo) Owner() bool { return slices.Contains(s.Owns, OwnsMetrics) }

// ErrShards is wrapped when the shards of an experiment do not make a
// complete result.
var ErrShards = errors.New("results: incomplete sharded experiment")

// experimentKey identifies the shards of one experiment.
type experimentKey struct {
	start        int64
	count        int
	method, pool string
	target       Target
	// The workload by content: each load generator may keep it under
	// a path of its own.
	warmup, test string
}

func keyOf(m *Manifest) experimentKey {
	return experimentKey{m.Shard.StartAt.UnixNano(), m.Shard.Count, m.Method, m.Pool, m.Target, m.Workload.WarmupSHA256, m.Workload.TestSHA256}
}

// mergeShards merges runs that are shards of one experiment into one run
// each, in the position of the experiment's first shard: the owner's
// manifest, memory, CPU and metrics; every shard's requests; request
// counts summed. A shard missing from the runs given, given twice, not
// complete, or an experiment without its owner is an error wrapping
// ErrShards that names the shard: a merge never passes for complete what
// is not.
func mergeShards(runs []*Run) ([]*Run, error) {
	groups := map[experimentKey][]*Run{}
	var order []experimentKey
	var out []*Run
	for _, r := range runs {
		if r.Manifest.Shard == nil || r.Manifest.Shard.Count <= 1 {
			out = append(out, r)
			continue
		}
		k := keyOf(r.Manifest)
		if _, ok := groups[k]; !ok {
			order = append(order, k)
			out = append(out, nil) // the merged run's place
		}
		groups[k] = append(groups[k], r)
	}
	merged := make([]*Run, 0, len(order))
	var errs []error
	for _, k := range order {
		m, err := mergeGroup(groups[k])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		merged = append(merged, m)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for i, r := range out {
		if r == nil {
			out[i], merged = merged[0], merged[1:]
		}
	}
	return out, nil
}

func mergeGroup(shards []*Run) (*Run, error) {
	first := shards[0].Manifest
	n := first.Shard.Count
	what := fmt.Sprintf("%s of %s, %d shards started %s", first.System(), first.Workload.Name, n, first.Shard.StartAt.Format(time.RFC3339))
	byIndex := make([]*Run, n+1)
	for _, r := range shards {
		i := r.Manifest.Shard.Index
		if i < 1 || i > n {
			return nil, fmt.Errorf("%w: %s: %s is shard %d of %d", ErrShards, what, r.Dir, i, n)
		}
		if byIndex[i] != nil {
			return nil, fmt.Errorf("%w: %s: shard %d/%d given twice (%s and %s)", ErrShards, what, i, n, byIndex[i].Dir, r.Dir)
		}
		byIndex[i] = r
	}
	var missing, incomplete []string
	var owner *Run
	for i := 1; i <= n; i++ {
		r := byIndex[i]
		switch {
		case r == nil:
			missing = append(missing, fmt.Sprintf("%d/%d", i, n))
		case r.Manifest.Status != RunComplete:
			incomplete = append(incomplete, fmt.Sprintf("%d/%d (%s: %s)", i, n, r.Dir, r.Manifest.Status))
		case r.Manifest.Shard.Owner():
			owner = r
		}
	}
	switch {
	case len(missing) > 0:
		return nil, fmt.Errorf("%w: %s: shard %s missing", ErrShards, what, strings.Join(missing, ", "))
	case len(incomplete) > 0:
		return nil, fmt.Errorf("%w: %s: shard %s not complete", ErrShards, what, strings.Join(incomplete, ", "))
	case owner == nil:
		return nil, fmt.Errorf("%w: %s: no shard owned the control plane (metrics, samples)", ErrShards, what)
	}
	m := *owner.Manifest
	m.Requests = RequestCounts{}
	m.PeakInFlight = 0
	for _, r := range byIndex[1:] {
		c := r.Manifest.Requests
		m.Requests.Scheduled += c.Scheduled
		m.Requests.OK += c.OK
		m.Requests.Failed += c.Failed
		m.Requests.Abandoned += c.Abandoned
		m.PeakInFlight += r.Manifest.PeakInFlight // an upper bound: the shards' peaks need not coincide
	}
	merged := &Run{Dir: owner.Dir, Name: owner.Name, Manifest: &m}
	for _, r := range byIndex[1:] {
		merged.shardDirs = append(merged.shardDirs, r.Dir)
	}
	return merged, nil
}
