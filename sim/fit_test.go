package sim

import (
	"math"
	"strings"
	"testing"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
)

func TestFitRecoversDistributions(t *testing.T) {
	base := defaultModel(t)
	// A run whose start-ups and executions follow known log-normals.
	m := &results.Metrics{}
	want := calibration.Dist{MedianMs: 12, Sigma: 0.2}
	wantExec := calibration.Dist{MedianMs: 400, Sigma: 0.1}
	for i := 0; i < 2000; i++ {
		z := math.Sqrt2 * math.Erfinv(2*(float64(i)+0.5)/2000-1) // evenly spaced normal quantiles
		m.AddLatency(results.LabelSwitchLatency, "pyaes", want.FromNormal(z))
		// pyaes_1 runs 0.96x pyaes's work: its values are scaled back.
		m.AddLatency(results.LabelReuseExecLatency, "pyaes_1", time.Duration(float64(wantExec.FromNormal(z))*0.96))
	}
	m.AddLatency(results.LabelStartNewLatency, "crypto", time.Second) // too few samples: kept
	fitted, report, err := Fit(base, m, MethodTrEnv, PoolRDMA, "run/metrics.output")
	if err != nil {
		t.Fatal(err)
	}
	got := fitted.Functions["pyaes"].Startup[calibration.MethodTrEnvRDMA]
	if math.Abs(got.MedianMs-12)/12 > 0.01 || math.Abs(got.Sigma-0.2) > 0.01 || !strings.HasPrefix(got.Source, "fitted: switch-latency, 2000 samples") {
		t.Errorf("switch fit %+v", got)
	}
	exec := fitted.Functions["pyaes"].Exec
	if math.Abs(exec.MedianMs-400)/400 > 0.01 || math.Abs(exec.Sigma-0.1) > 0.01 {
		t.Errorf("exec fit %+v (copies not scaled back to the base?)", exec)
	}
	if fitted.Functions["crypto"].Startup[calibration.MethodCold] != base.Functions["crypto"].Startup[calibration.MethodCold] {
		t.Error("an entry with 1 sample was fitted")
	}
	if base.Functions["pyaes"].Exec.MedianMs == exec.MedianMs {
		t.Error("Fit changed its base model")
	}
	if len(report) != 2 {
		t.Errorf("report %+v, want 2 fitted numbers", report)
	}
	if err := fitted.Validate(nil); err != nil {
		t.Errorf("fitted model does not validate: %v", err)
	}
	if _, _, err := Fit(base, m, "firecracker", "", "x"); err == nil {
		t.Error("unknown method accepted")
	}
}
