package plots

import (
	"trenv-bench/results"
)

// Run is one run directory as the figures read it: results' one run loader
// (manifest first, records when a figure asks for them; the test phase's
// window from the manifest's phases).
type Run = results.Run

// LoadRun reads dir's manifest.json (results.LoadRun).
func LoadRun(dir string) (*Run, error) { return results.LoadRun(dir) }

// LoadRuns loads each directory with LoadRun, in order; the first error
// stops it.
func LoadRuns(dirs []string) ([]*Run, error) { return results.LoadRuns(dirs) }

// latenciesOf returns, per function, the e2e_ms of r's ok test-phase
// requests, sorted (shared: do not modify).
func latenciesOf(r *Run) (map[string][]float64, error) {
	d, err := r.Requests()
	return d.Latencies, err
}

// testFunctionsOf returns the functions r's test phase invoked, sorted.
func testFunctionsOf(r *Run) ([]string, error) {
	d, err := r.Requests()
	return d.Functions, err
}
