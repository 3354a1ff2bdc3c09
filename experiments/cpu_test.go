package experiments

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
)

// TestSimRunRecordsModelCPU: a sim run's cpu.csv is the platform model's
// host — a row a second, busy while the workload's start-ups and
// executions run, idle after — not the machine the harness runs on.
func TestSimRunRecordsModelCPU(t *testing.T) {
	model, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	flags := sim.DefaultFlags()
	spec := &Spec{
		Dir: filepath.Join(t.TempDir(), "run"), Target: results.TargetSim,
		Platform: sim.ConfigFor(sim.MethodCold, "", flags, 1), Model: model, Workload: hostWorkload(),
		Manifest: results.Manifest{Method: sim.MethodCold, Platform: flags}, JitterSeed: 1,
	}
	if _, err := Execute(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(spec.Dir, results.CPUFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := results.NewCPUReader(f, results.CPUFile)
	var rows []results.CPUSample
	for rd.Next() {
		rows = append(rows, rd.Sample())
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	// A handful of starts and executions on 128 threads: a little busy,
	// never more than the few threads they need.
	busy := 0
	for _, r := range rows {
		if r.Utilization > 0 {
			busy++
		}
		if r.Utilization > 10.0/128 {
			t.Errorf("second %v: %v of the model host busy, more than the workload's few threads", r.TimeS, r.Utilization)
		}
	}
	if len(rows) < 2 || busy == 0 || rows[0].TimeS != 1 {
		t.Errorf("cpu.csv rows %v: want one a second from 1 s, some busy", rows)
	}
}

// TestGatewayTwinCPU: against a twin served elsewhere, cpu.csv comes from
// the model host's busy time in GET /sim/memory, between two readings.
func TestGatewayTwinCPU(t *testing.T) {
	model, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	twin, err := sim.NewTwin(sim.TwinConfig{Platform: sim.DefaultConfig(sim.MethodTrEnv), Model: model, Speed: 1000})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(twin.Handler())
	defer srv.Close()
	sample := gatewayCPU(context.Background(), srv.URL)
	if _, ok := sample(); ok {
		t.Error("the first reading gave a utilisation; it has nothing to compare with")
	}
	u, ok := sample()
	if !ok || u != 0 {
		t.Errorf("an idle twin: %v, %v; want 0, true", u, ok)
	}
}
