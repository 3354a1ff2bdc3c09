package experiments

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
	"trenv-bench/sim/startpath"
	"trenv-bench/workloads"
)

// TestReproduceFig14: Figure 14's runs on the simulator. Every request of
// a step is a start of its kind (a switch for the TrEnv steps, a new
// instance for the baselines); the model variants record their variant
// and their own calibration digest, and their mean switch start-up is the
// step costs' sum worked out by hand (IR Reconfig 18 + 290 + 49 = 357 ms,
// Cgroup 308 ms; JS 88 and 75 ms) times a log-normal's mean over its
// median, exp(0.15²/2) = 1.011, within the spread of twenty draws.
func TestReproduceFig14(t *testing.T) {
	out := t.TempDir()
	ctx := context.Background()
	res, err := Reproduce(ctx, Options{Figure: "fig14", Target: results.TargetSim, OutDir: out})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Ran) != 14 || len(res.Failed) != 0 {
		t.Fatalf("ran %v, failed %v", res.Ran, res.Failed)
	}
	def, _ := calibration.Default()
	defDigest, _ := CalibrationDigest(def)
	want := map[string]float64{
		"steps-image-recognition-trenv-cxl-reconfig-sim": 357, "steps-image-recognition-trenv-cxl-cgroup-sim": 308,
		"steps-image-recognition-trenv-cxl-sim":   18,
		"steps-json-serde-trenv-cxl-reconfig-sim": 88, "steps-json-serde-trenv-cxl-cgroup-sim": 75, "steps-json-serde-trenv-cxl-sim": 8,
	}
	for _, name := range res.Plan.Figures[0].Runs {
		r, err := results.LoadRun(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		m := r.Manifest
		fn := strings.TrimPrefix(m.Workload.Name, "steps-")
		req, err := r.Requests()
		if err != nil {
			t.Fatal(err)
		}
		row := req.Test[0]
		starts := row.Switch
		if m.Method != results.MethodTrEnv {
			starts = row.Cold + row.Restore
		}
		if row.OK != 20 || starts != 20 {
			t.Errorf("%s: %d ok, %d starts of its kind; want 20 single starts (%+v)", name, row.OK, starts, row)
		}
		variant := strings.Contains(name, "-reconfig-") || strings.Contains(name, "-cgroup-")
		if (m.ModelVariant != "") != variant || (variant && !strings.Contains(name, "-"+m.ModelVariant+"-")) {
			t.Errorf("%s: model_variant %q", name, m.ModelVariant)
		}
		if (m.CalibrationSHA256 == defDigest) == variant {
			t.Errorf("%s: calibration digest %s (default %s)", name, m.CalibrationSHA256, defDigest)
		}
		if ms, ok := want[name]; ok {
			met, err := r.Metrics()
			if err != nil {
				t.Fatal(err)
			}
			v := met.LatencyMs[results.LabelSwitchLatency][fn]
			if len(v) != 20 {
				t.Fatalf("%s: %d switch latencies of %s", name, len(v), fn)
			}
			sum := 0.0
			for _, x := range v {
				sum += float64(x)
			}
			// Twenty log-normal draws, sigma 0.15: the mean is within 3
			// standard errors (0.15/√20 ≈ 3.4 %) of median × 1.011.
			if mean := sum / 20; math.Abs(mean/(ms*math.Exp(0.15*0.15/2))-1) > 0.11 {
				t.Errorf("%s: mean switch start-up %.1f ms, want ≈ %v ms", name, mean, ms)
			}
		}
	}

	// A second reproduction skips every run; one on a host is refused as
	// model-only, before it asks for the host's procedures.
	res, err = Reproduce(ctx, Options{Figure: "fig14", Target: results.TargetSim, OutDir: out})
	if err != nil || len(res.Skipped) != 14 || len(res.Ran) != 0 {
		t.Errorf("second reproduce: ran %v, skipped %d, %v", res.Ran, len(res.Skipped), err)
	}
	if _, err := Reproduce(ctx, Options{Figure: "fig14", Target: results.TargetHost, OutDir: t.TempDir()}); !errors.Is(err, results.ErrModelOnly) {
		t.Errorf("fig14 on a host: %v, want ErrModelOnly", err)
	}
	if _, err := Reproduce(ctx, Options{Figure: "fig10a", Target: results.TargetHost, OutDir: t.TempDir()}); errors.Is(err, results.ErrModelOnly) ||
		err == nil || !strings.Contains(err.Error(), "needs the host's preparation") {
		t.Errorf("fig10a on a host without its procedures: %v", err)
	}
}

// TestExecuteRefusesVariantOnHost: a model variant never reaches a host or
// a gateway, and leaves no run directory.
func TestExecuteRefusesVariantOnHost(t *testing.T) {
	for _, target := range []results.Target{results.TargetHost, results.TargetGateway} {
		dir := filepath.Join(t.TempDir(), "run")
		_, err := Execute(context.Background(), &Spec{Dir: dir, Target: target, Gateway: "http://127.0.0.1:1",
			Manifest: results.Manifest{Method: results.MethodTrEnv, Pool: "cxl", ModelVariant: results.VariantCgroup}})
		if !errors.Is(err, results.ErrModelOnly) || results.IsRunDir(dir) {
			t.Errorf("%s: %v (run dir made: %v), want ErrModelOnly and no directory", target, err, results.IsRunDir(dir))
		}
	}
}

// TestVariantModelCoversWorkload: a variant refuses a workload that invokes
// a function without step costs.
func TestVariantModelCoversWorkload(t *testing.T) {
	model, _ := calibration.Default()
	steps, _ := startpath.Default()
	ok := workloads.Steady{Name: "s", Function: "json-serde", Seconds: 2, PerSecond: 1}.Workload()
	if _, err := VariantModel(model, steps, results.VariantReconfig, ok); err != nil {
		t.Error(err)
	}
	bad := workloads.Steady{Name: "s", Function: "pyaes", Seconds: 2, PerSecond: 1}.Workload()
	_, err := VariantModel(model, steps, results.VariantReconfig, bad)
	if err == nil || !strings.Contains(err.Error(), "image-recognition and json-serde only, and the workload invokes pyaes") {
		t.Errorf("pyaes: %v", err)
	}
}
