package sim

import (
	"bytes"

	"trenv-bench/results"
)

// hooks is a Recorder for tests that calls the functions set and discards
// the rest.
type hooks struct {
	results.Discard
	request func(*results.Request) error
	memory  func(tS float64, bytes int64) error
	metrics func(phase string, m *results.Metrics) error
}

func (h hooks) Request(r *results.Request) error {
	if h.request == nil {
		return nil
	}
	return h.request(r)
}

func (h hooks) Memory(tS float64, b int64) error {
	if h.memory == nil {
		return nil
	}
	return h.memory(tS, b)
}

// Metrics parses the text the engine recorded, as a run directory would.
func (h hooks) Metrics(phase string, raw []byte) error {
	if h.metrics == nil {
		return nil
	}
	m, err := results.ParseMetrics(bytes.NewReader(raw), phase)
	if err != nil {
		return err
	}
	return h.metrics(phase, m)
}
