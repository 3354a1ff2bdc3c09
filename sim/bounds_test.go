package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
	"trenv-bench/workloads"
)

// boundModel returns a cost model with every number at the largest value
// calibration.Validate accepts, for pyaes and its copy pyaes_1.
func boundModel(t *testing.T) *calibration.Model {
	t.Helper()
	m := tinyModel("pyaes")
	src := "estimate: test"
	wide := calibration.Dist{MedianMs: calibration.MaxMs, Sigma: calibration.MaxSigma, Source: src}
	m.Sources = map[string]string{}
	m.Platform.HTTPOverheadMs.Value = calibration.MaxMs
	m.Platform.Reuse = wide
	m.Platform.ConcurrentStartSlowdown = map[string]calibration.Number{}
	for _, k := range calibration.Methods {
		m.Platform.ConcurrentStartSlowdown[k] = calibration.Number{Value: calibration.MaxSlowdown, Source: src}
	}
	for name, f := range m.Functions {
		f.Exec = wide
		for _, k := range calibration.Methods {
			f.Startup[k] = wide
			f.FirstExecFactor[k] = calibration.Number{Value: calibration.MaxFactor, Source: src}
			f.WarmExecFactor[k] = calibration.Number{Value: calibration.MaxFactor, Source: src}
			f.ResidentMB[k] = calibration.Number{Value: calibration.MaxResidentMB, Source: src}
		}
		m.Functions[name] = f
	}
	m.Version = calibration.FormatVersion
	m.Platform.HostThreads = calibration.Number{Value: calibration.MaxHostThreads, Source: src}
	m.Platform.VMVCPUs = calibration.Number{Value: calibration.MaxThreads, Source: src}
	m.Platform.DeviceMBps = map[string]calibration.Number{calibration.DeviceCXLTmpfs: {Value: calibration.MaxMBps, Source: src}}
	m.Platform.PageIn = map[string]calibration.PageIn{calibration.MethodCRIU: {Device: calibration.DeviceCXLTmpfs, Phase: calibration.PhaseStartup,
		StreamMBps: calibration.Number{Value: calibration.MaxMBps, Source: src}}}
	m.Platform.ResidentAtStart = map[string]calibration.Number{}
	for _, k := range calibration.Methods {
		m.Platform.ResidentAtStart[k] = calibration.Number{Value: 1, Source: src}
	}
	m.Platform.RepurposeCarry = calibration.Number{Value: 0.999, Source: src}
	for name, f := range m.Functions {
		f.Threads = calibration.Number{Value: calibration.MaxThreads, Source: src}
		f.PageInMs = map[string]calibration.Number{calibration.MethodCRIU: {Value: calibration.MaxMs, Source: src}}
		m.Functions[name] = f
	}
	m.Variants = map[string]calibration.Variant{"pyaes_1": {ExecFactor: calibration.Number{Value: calibration.MaxVariantFactor, Source: src}}}
	if err := m.Validate([]string{"pyaes", "pyaes_1"}); err != nil {
		t.Fatalf("the model at the bounds does not validate: %v", err)
	}
	return m
}

// TestCalibrationBoundsFitDuration checks that the longest attempt a
// validated model can compose — overhead, a start slowed by every other
// start worker at the largest slowdown, and an execution at the largest
// factors, each draw at calibration.MaxDraw — leaves room in a Duration for
// a phase at workloads.MaxSeconds and its retries.
func TestCalibrationBoundsFitDuration(t *testing.T) {
	draw := float64(calibration.MaxDraw)
	worst := float64(calibration.MaxMs)*float64(time.Millisecond) +
		draw*(1+calibration.MaxSlowdown*StartWorkers) +
		draw*calibration.MaxFactor*calibration.MaxVariantFactor
	if room := float64(math.MaxInt64) / 4; worst > room {
		t.Errorf("worst attempt %v years, over a quarter of a Duration (%v years)",
			worst/float64(365*24*time.Hour), room/float64(365*24*time.Hour))
	}
}

// TestEngineAtTheBounds runs a model with every number at its bound, whose
// draws reach calibration.MaxDraw (median_ms 1e17 once made latencies
// negative): every record's times are non-negative and in order, and each
// attempt times out after workloads.DriverAttemptTimeout.
func TestEngineAtTheBounds(t *testing.T) {
	m := boundModel(t)
	for _, method := range []string{MethodCold, MethodTrEnv} {
		cfg := EngineConfig{Platform: DefaultConfig(method), Model: m, JitterSeed: 3}
		w := workloads.Workload{Test: workloads.Phase{
			{Function: "pyaes", Counts: []int{100, 100, 100}},
			{Function: "pyaes_1", Counts: []int{100, 100, 100}},
		}}
		recs, _, sum := collect(t, cfg, w)
		if len(recs) != w.Test.Requests() {
			t.Fatalf("%s: %d records, want %d", method, len(recs), w.Test.Requests())
		}
		if sum.End < 0 {
			t.Errorf("%s: run ended at %v", method, sum.End)
		}
		for _, r := range recs {
			for _, v := range []float64{r.ScheduledS, r.SentS, r.DoneS, r.E2EMs, r.TotalMs, r.FuncMs} {
				if v < 0 {
					t.Fatalf("%s: negative time in %+v", method, r)
				}
			}
			if r.DoneS < r.ScheduledS {
				t.Fatalf("%s: done before scheduled: %+v", method, r)
			}
			if r.Status == results.StatusOK && r.E2EMs > float64(workloads.DriverAttemptTimeout/time.Millisecond) {
				t.Fatalf("%s: an attempt of %v ms succeeded, past the attempt timeout: %+v", method, r.E2EMs, r)
			}
		}
	}
}

// TestConfigBounds checks Validate's bounds on the platform flags: the
// bound itself is accepted, one past it is an ErrConfig naming the flag and
// the value.
func TestConfigBounds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(*Config)
		ok     bool
		naming []string
	}{
		{"idle-num at MaxIdleNum", func(c *Config) { c.IdleNum = MaxIdleNum }, true, nil},
		{"idle-num over", func(c *Config) { c.IdleNum = MaxIdleNum + 1 }, false, []string{"--idle-num", fmt.Sprint(MaxIdleNum + 1)}},
		{"idle-num 2^31-1", func(c *Config) { c.IdleNum = math.MaxInt32 }, false, []string{"--idle-num", fmt.Sprint(math.MaxInt32)}},
		{"negative idle-num", func(c *Config) { c.IdleNum = -1 }, false, []string{"--idle-num", "-1"}},
		{"gc at MaxGC", func(c *Config) { c.GC = MaxGC }, true, nil},
		{"gc over", func(c *Config) { c.GC = MaxGC + time.Second }, false, []string{"--gc", (MaxGC + time.Second).String()}},
		{"negative gc", func(c *Config) { c.GC = -time.Minute }, false, []string{"--gc", "-1m0s"}},
		{"mem at the bound", func(c *Config) { c.MemBytes = MaxMemBytes }, false, []string{fmt.Sprint(MaxMemBytes)}},
		{"mem under the bound", func(c *Config) { c.MemBytes = MaxMemBytes - 1 }, true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig(MethodTrEnv)
			tc.edit(&c)
			err := c.Validate()
			if tc.ok {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("Validate = %v, want ErrConfig", err)
			}
			for _, s := range tc.naming {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not name %q", err, s)
				}
			}
		})
	}
}

// TestRunRefusesOverTheLimits: a workload over the limits (one cell of
// 2^31 − 1 once exhausted memory scheduling its second) is refused before
// anything is simulated.
func TestRunRefusesOverTheLimits(t *testing.T) {
	cfg := EngineConfig{Platform: DefaultConfig(MethodCold), Model: tinyModel("pyaes")}
	w := workloads.Workload{Test: workloads.Phase{{Function: "pyaes", Counts: []int{1, math.MaxInt32}}}}
	records := 0
	_, err := Run(context.Background(), cfg, w, hooks{request: func(*results.Request) error { records++; return nil }})
	if !errors.Is(err, workloads.ErrCountLimit) || records != 0 {
		t.Fatalf("Run = %v after %d records, want ErrCountLimit before any", err, records)
	}
}
