package results

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
)

// AllFunctions is the Function of the summary row over every function.
const AllFunctions = "(all)"

// ErrMetricsUnusable is wrapped by Run.Metrics when the run's manifest says
// its test-phase metrics are missing or mixed with the warmup's.
var ErrMetricsUnusable = errors.New("results: the run's server-side metrics cannot be used")

// Run is one run directory as figures and reports read it: the manifest,
// read by LoadRun, and the records, each file read in one pass the first
// time something asks for it and kept. Phase boundaries come from the
// manifest (Manifest.Phases), never from the records. A Run is safe for
// concurrent use.
type Run struct {
	// Dir is the run directory; Name its last element.
	Dir, Name string
	// Manifest is its manifest.json (for a merged sharded experiment, the
	// owner shard's, with the request counts of all).
	Manifest *Manifest
	// shardDirs are the run directories of a merged experiment's shards,
	// in shard order; nil for a run of one directory.
	shardDirs []string

	reqOnce sync.Once
	req     RunRequests
	reqErr  error

	memOnce sync.Once
	mem     []MemorySample
	memErr  error

	metOnce sync.Once
	met     *Metrics
	metErr  error
}

// RunRequests is what figures and reports need of requests.csv, gathered in
// one pass.
type RunRequests struct {
	// Latencies maps a function to the e2e_ms of its ok test-phase
	// requests, sorted ascending (Percentile's input).
	Latencies map[string][]float64
	// Functions are the functions the test phase invoked (any status),
	// sorted.
	Functions []string
	// Test holds the test phase per function, sorted by name (counts by
	// status and start kind, nearest-rank percentiles of e2e_ms over the
	// ok requests); All is the test phase over every function (Function
	// AllFunctions).
	Test []SummaryRow
	All  SummaryRow
	// Warmup counts the warmup phase's requests by status.
	Warmup RequestCounts
}

// LoadRun reads dir's manifest.json; the records are read when asked for.
// Errors name the directory; a manifest of another schema wraps
// ErrOldSchema.
func LoadRun(dir string) (*Run, error) {
	m, err := ReadManifest(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("run %s: %w", dir, err)
	}
	return &Run{Dir: dir, Name: filepath.Base(filepath.Clean(dir)), Manifest: m}, nil
}

// LoadRuns loads each directory with LoadRun, in order, and merges the
// shards of a sharded experiment into one run, in the place of its first
// shard (its requests are all the shards'; its memory, CPU and metrics the
// owner's): an experiment whose shards are not all there and complete is
// an error wrapping ErrShards that names the shards. The first error
// stops it.
func LoadRuns(dirs []string) ([]*Run, error) {
	runs := make([]*Run, 0, len(dirs))
	for _, d := range dirs {
		r, err := LoadRun(d)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	return mergeShards(runs)
}

// ShardDirs are the directories of a merged experiment's shards, in shard
// order; nil for a run of one directory.
func (r *Run) ShardDirs() []string { return r.shardDirs }

// System is the run's system name (SystemName).
func (r *Run) System() string { return r.Manifest.System() }

// Workload is the manifest's workload name ("1", "azure", …).
func (r *Run) Workload() string { return r.Manifest.Workload.Name }

// Simulated reports whether the run measured the platform model.
func (r *Run) Simulated() bool { return r.Manifest.Target.Simulated() }

// Phase returns the manifest's span of a phase; false if it did not start.
func (r *Run) Phase(name string) (PhaseSpan, bool) {
	for _, p := range r.Manifest.Phases {
		if p.Name == name {
			return p, true
		}
	}
	return PhaseSpan{}, false
}

// TestWindow returns when the test phase started and ended on the run
// clock (memory.csv's), as the manifest records them; false when the test
// phase did not start. A test phase that did not end runs to +Inf.
func (r *Run) TestWindow() (startS, endS float64, ok bool) {
	p, ok := r.Phase(PhaseTest)
	if !ok {
		return 0, 0, false
	}
	if p.EndS == nil {
		return p.StartS, math.Inf(1), true
	}
	return p.StartS, *p.EndS, true
}

// Requests returns what requests.csv says, read once. The maps and slices
// are shared: do not modify them. On a read error the part read before it
// is returned with the error.
func (r *Run) Requests() (*RunRequests, error) {
	r.reqOnce.Do(func() {
		paths := []string{filepath.Join(r.Dir, RequestsFile)}
		if r.shardDirs != nil {
			paths = paths[:0]
			for _, d := range r.shardDirs {
				paths = append(paths, filepath.Join(d, RequestsFile))
			}
		}
		r.req, r.reqErr = readRunRequests(paths...)
	})
	return &r.req, r.reqErr
}

func readRunRequests(paths ...string) (d RunRequests, err error) {
	d.Latencies = map[string][]float64{}
	var per, all Summarizer
	defer func() {
		d.Test = per.Summary().Rows
		if rows := all.Summary().Rows; len(rows) == 1 {
			d.All = rows[0]
		} else {
			d.All = SummaryRow{Phase: PhaseTest, Function: AllFunctions, P50Ms: math.NaN(), P90Ms: math.NaN(),
				P99Ms: math.NaN(), P999Ms: math.NaN(), MeanMs: math.NaN(), MaxMs: math.NaN()}
		}
		for _, v := range d.Latencies {
			sort.Float64s(v)
		}
		slices.Sort(d.Functions)
	}()
	fns := map[string]bool{} // the deferred summary fills d.Test and d.All, named results
	for _, path := range paths {
		if err := readRequestsInto(&d, fns, &per, &all, path); err != nil {
			return d, err
		}
	}
	return d, nil
}

// readRequestsInto adds one requests.csv to d and the summaries.
func readRequestsInto(d *RunRequests, fns map[string]bool, per, all *Summarizer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	rr := NewRequestReader(bufio.NewReaderSize(f, 1<<16), path)
	for rr.Next() {
		q := rr.Request()
		switch q.Phase {
		case PhaseTest:
			if !fns[q.Function] {
				fns[q.Function] = true
				d.Functions = append(d.Functions, q.Function)
			}
			if q.Status == StatusOK && !math.IsNaN(q.E2EMs) {
				d.Latencies[q.Function] = append(d.Latencies[q.Function], q.E2EMs)
			}
			per.Add(&q)
			q.Function = AllFunctions
			all.Add(&q)
		case PhaseWarmup:
			d.Warmup.Scheduled++
			switch q.Status {
			case StatusOK:
				d.Warmup.OK++
			case StatusFailed:
				d.Warmup.Failed++
			case StatusAbandoned:
				d.Warmup.Abandoned++
			}
		}
	}
	return rr.Err()
}

// Memory returns memory.csv's samples, in file order, read once.
func (r *Run) Memory() ([]MemorySample, error) {
	r.memOnce.Do(func() {
		path := filepath.Join(r.Dir, MemoryFile)
		f, err := os.Open(path)
		if err != nil {
			r.memErr = err
			return
		}
		defer f.Close()
		mr := NewMemoryReader(bufio.NewReaderSize(f, 1<<16), path)
		for mr.Next() {
			r.mem = append(r.mem, mr.Sample())
		}
		r.memErr = mr.Err()
	})
	return r.mem, r.memErr
}

// TestMemory returns the memory samples of the test phase (TestWindow),
// times made relative to its start; none when the test phase did not
// start.
func (r *Run) TestMemory() ([]MemorySample, error) {
	start, end, ok := r.TestWindow()
	all, err := r.Memory()
	if err != nil || !ok {
		return nil, err
	}
	var out []MemorySample
	for _, s := range all {
		// A sample on a boundary belongs to the test phase: the simulator
		// samples on whole seconds.
		if s.TimeS >= start-1e-6 && s.TimeS <= end+1e-6 {
			out = append(out, MemorySample{TimeS: s.TimeS - start, Bytes: s.Bytes})
		}
	}
	return out, nil
}

// Metrics returns the test phase's faasd metrics (metrics.output), read
// once. When the manifest says they are missing or were not reset after
// the warmup (MetricsHealth.Usable), the error wraps ErrMetricsUnusable
// and says why, so nothing draws on them.
func (r *Run) Metrics() (*Metrics, error) {
	r.metOnce.Do(func() {
		if h := r.Manifest.Metrics; !h.Usable() {
			why := h.ResetError
			if why == "" {
				why = fmt.Sprint(h.Missing)
			}
			r.metErr = fmt.Errorf("run %s: %w: %s", r.Dir, ErrMetricsUnusable, why)
			return
		}
		path := filepath.Join(r.Dir, MetricsFile)
		f, err := os.Open(path)
		if err != nil {
			r.metErr = fmt.Errorf("run %s: %w", r.Dir, err)
			return
		}
		defer f.Close()
		if r.met, err = ParseMetrics(f, path); err != nil {
			r.metErr = fmt.Errorf("run %s: %w", r.Dir, err)
		}
	})
	return r.met, r.metErr
}
