package plots

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"

	"trenv-bench/results"
)

// Run is one run directory: its manifest, read by LoadRun, and its records,
// read the first time a figure asks for them and kept. A Run is safe for
// concurrent use.
type Run struct {
	// Dir is the run directory.
	Dir string
	// Manifest is its manifest.json.
	Manifest *results.Manifest

	reqOnce sync.Once
	req     requestData
	reqErr  error

	memOnce sync.Once
	mem     []results.MemorySample
	memErr  error

	metOnce sync.Once
	met     *results.Metrics
	metErr  error
}

// requestData is what the figures need of requests.csv, gathered in one
// pass.
type requestData struct {
	// latencies maps a function to the e2e_ms of its ok test-phase
	// requests, sorted ascending.
	latencies map[string][]float64
	// functions are the functions the test phase invoked (any status),
	// sorted.
	functions []string
	// testStartS and testEndS bound the test phase in memory.csv's time
	// (seconds since the first phase started); see TestWindow.
	testStartS, testEndS float64
}

// LoadRun reads dir's manifest.json. Errors name the directory and file.
func LoadRun(dir string) (*Run, error) {
	m, err := results.ReadManifest(filepath.Join(dir, results.ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("plots: run %s: %w", dir, err)
	}
	return &Run{Dir: dir, Manifest: m}, nil
}

// LoadRuns loads each directory with LoadRun, in order; the first error
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
	return runs, nil
}

// System returns the run's system (see SystemOf).
func (r *Run) System() (System, bool) { return SystemOf(r.Manifest) }

// Workload returns the manifest's workload name ("1", "2", "func",
// "azure", "huawei", or a directory).
func (r *Run) Workload() string { return r.Manifest.Workload.Name }

// Simulated reports whether the run measured the platform model (target
// sim or twin) rather than a real host.
func (r *Run) Simulated() bool {
	return r.Manifest.Target.Simulated()
}

func (r *Run) requests() (*requestData, error) {
	r.reqOnce.Do(func() { r.req, r.reqErr = readRequests(filepath.Join(r.Dir, results.RequestsFile)) })
	return &r.req, r.reqErr
}

// Latencies returns, per function, the e2e_ms of the ok test-phase
// requests, sorted ascending (results.Percentile's input). The maps and
// slices are shared: do not modify them.
func (r *Run) Latencies() (map[string][]float64, error) {
	d, err := r.requests()
	return d.latencies, err
}

// TestFunctions returns the functions the test phase invoked, whatever
// became of the requests, sorted.
func (r *Run) TestFunctions() ([]string, error) {
	d, err := r.requests()
	return d.functions, err
}

// TestWindow returns when the test phase started and ended, in seconds
// since the run's first phase started (memory.csv's time). requests.csv
// times each phase from its own start, so the test phase's start is
// estimated as the warmup's end: its last request's done_s (or, if some
// were abandoned, its deadline, 1.2 × its length rounded up to a second).
// This is exact on the simulator; on the twin and a host the metrics
// reset between the phases (milliseconds) is not counted. The end is the
// start plus the test phase's last done_s.
func (r *Run) TestWindow() (startS, endS float64, err error) {
	d, err := r.requests()
	return d.testStartS, d.testEndS, err
}

// Memory returns memory.csv's samples, in file order.
func (r *Run) Memory() ([]results.MemorySample, error) {
	r.memOnce.Do(func() {
		path := filepath.Join(r.Dir, results.MemoryFile)
		f, err := os.Open(path)
		if err != nil {
			r.memErr = fmt.Errorf("plots: run %s: %w", r.Dir, err)
			return
		}
		defer f.Close()
		mr := results.NewMemoryReader(f, path)
		for mr.Next() {
			r.mem = append(r.mem, mr.Sample())
		}
		if err := mr.Err(); err != nil {
			r.memErr = fmt.Errorf("plots: run %s: %w", r.Dir, err)
		}
	})
	return r.mem, r.memErr
}

// Metrics returns the test phase's faasd metrics (metrics.output).
func (r *Run) Metrics() (*results.Metrics, error) {
	r.metOnce.Do(func() {
		path := filepath.Join(r.Dir, results.MetricsFile)
		f, err := os.Open(path)
		if err != nil {
			r.metErr = fmt.Errorf("plots: run %s: %w", r.Dir, err)
			return
		}
		defer f.Close()
		if r.met, err = results.ParseMetrics(f, path); err != nil {
			r.metErr = fmt.Errorf("plots: run %s: %w", r.Dir, err)
		}
	})
	return r.met, r.metErr
}

// TestMemory returns the memory samples of the test phase (TestWindow),
// times made relative to its start.
func (r *Run) TestMemory() ([]results.MemorySample, error) {
	start, end, err := r.TestWindow()
	if err != nil {
		return nil, err
	}
	all, err := r.Memory()
	if err != nil {
		return nil, err
	}
	var out []results.MemorySample
	for _, s := range all {
		// A sample on the boundary belongs to the test phase: the
		// simulator samples on whole seconds.
		if s.TimeS >= start-1e-6 && s.TimeS <= end+1e-6 {
			out = append(out, results.MemorySample{TimeS: s.TimeS - start, Bytes: s.Bytes})
		}
	}
	return out, nil
}

// readRequests streams requests.csv into a requestData.
func readRequests(path string) (requestData, error) {
	d := requestData{latencies: map[string][]float64{}}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return d, fmt.Errorf("plots: run %s: %w", filepath.Dir(path), err)
		}
		return d, err
	}
	defer f.Close()
	fns := map[string]bool{}
	var warmEnd, warmSched, testEnd float64
	warmAbandoned := false
	rr := results.NewRequestReader(f, path)
	for rr.Next() {
		q := rr.Request()
		switch q.Phase {
		case results.PhaseWarmup:
			warmSched = math.Max(warmSched, q.ScheduledS)
			if math.IsNaN(q.DoneS) {
				warmAbandoned = true
			} else {
				warmEnd = math.Max(warmEnd, q.DoneS)
			}
		case results.PhaseTest:
			fns[q.Function] = true
			if !math.IsNaN(q.DoneS) {
				testEnd = math.Max(testEnd, q.DoneS)
			}
			if q.Status == results.StatusOK && !math.IsNaN(q.E2EMs) {
				d.latencies[q.Function] = append(d.latencies[q.Function], q.E2EMs)
			}
		}
	}
	if err := rr.Err(); err != nil {
		return d, fmt.Errorf("plots: run %s: %w", filepath.Dir(path), err)
	}
	for _, v := range d.latencies {
		sort.Float64s(v)
	}
	for fn := range fns {
		d.functions = append(d.functions, fn)
	}
	slices.Sort(d.functions)
	if warmAbandoned {
		warmEnd = math.Max(warmEnd, math.Floor(math.Ceil(warmSched)*1.2))
	}
	d.testStartS = warmEnd
	d.testEndS = warmEnd + testEnd
	return d, nil
}
