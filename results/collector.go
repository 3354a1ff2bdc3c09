package results

import (
	"io"
	"sync"
	"time"
)

// Collector is a Recorder that keeps everything in memory, for tests and
// for tools that look at a run without writing a directory. It is safe for
// concurrent use. Read its fields once the run has ended.
type Collector struct {
	mu sync.Mutex

	Origin        time.Time
	Phases        []PhaseSpan
	Requests      []Request
	Retries       int
	MemorySamples []MemorySample
	CPUSamples    []CPUSample
	// Metrics holds each phase's raw metrics text.
	RawMetrics map[string][]byte
	Health     MetricsHealth
	Attached   map[string][]byte
}

var _ Recorder = (*Collector)(nil)

// Start implements Recorder.
func (c *Collector) Start(origin time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Origin = origin
	return nil
}

// PhaseStart implements Recorder.
func (c *Collector) PhaseStart(phase string, atS float64, scheduled int) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Phases = append(c.Phases, PhaseSpan{Name: phase, StartS: atS, Scheduled: scheduled})
	return nil
}

// PhaseEnd implements Recorder.
func (c *Collector) PhaseEnd(phase string, atS float64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.Phases {
		if c.Phases[i].Name == phase {
			end := atS
			c.Phases[i].EndS = &end
		}
	}
	return nil
}

// Request implements Recorder; the record is copied.
func (c *Collector) Request(r *Request) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Requests = append(c.Requests, *r)
	return nil
}

// Retry implements Recorder: it counts retried attempts.
func (c *Collector) Retry(string, string, float64, int, string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Retries++
	return nil
}

// Memory implements Recorder.
func (c *Collector) Memory(atS float64, bytes int64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.MemorySamples = append(c.MemorySamples, MemorySample{TimeS: atS, Bytes: bytes})
	return nil
}

// CPU implements Recorder.
func (c *Collector) CPU(atS float64, utilization float64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.CPUSamples = append(c.CPUSamples, CPUSample{TimeS: atS, Utilization: utilization})
	return nil
}

// Metrics implements Recorder; raw is copied.
func (c *Collector) Metrics(phase string, raw []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.RawMetrics == nil {
		c.RawMetrics = map[string][]byte{}
	}
	c.RawMetrics[phase] = append([]byte(nil), raw...)
	return nil
}

// MetricsFailed implements Recorder.
func (c *Collector) MetricsFailed(phase string, op MetricsOp, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if op == MetricsReset {
		c.Health.ResetError = err.Error()
	} else {
		c.Health.Missing = append(c.Health.Missing, phase+": "+err.Error())
	}
	return nil
}

// Attach implements Recorder.
func (c *Collector) Attach(name string, r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Attached == nil {
		c.Attached = map[string][]byte{}
	}
	c.Attached[name] = b
	return nil
}
