package startpath

import (
	"errors"
	"math"
	"strings"
	"testing"

	"trenv-bench/results"
	"trenv-bench/sim/calibration"
)

func defaults(t *testing.T) (*calibration.Model, *Steps) {
	t.Helper()
	m, err := calibration.Default()
	if err != nil {
		t.Fatal(err)
	}
	s, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

// TestVariantStartups: the variants' start-ups are the paper's step costs
// on top of the T-CXL start-up, worked out by hand from TrEnv §6.4
// (image-recognition: T-CXL 18 ms, mm-template 290 ms, CLONE_INTO_CGROUP
// 49 ms; json-serde: 8, 67 and 13 ms), and land on Figure 14's bars as
// calibration-sources §1.1 reads them (IR Reconfig ≈ 357, Cgroup ≈ 308;
// JS ≈ 88, 76).
func TestVariantStartups(t *testing.T) {
	model, steps := defaults(t)
	if got := steps.FunctionNames(); len(got) != 2 || got[0] != "image-recognition" || got[1] != "json-serde" {
		t.Fatalf("functions with step costs: %v", got)
	}
	want := map[string]map[string]float64{
		results.VariantReconfig: {"image-recognition": 18 + 290 + 49, "json-serde": 8 + 67 + 13},
		results.VariantCgroup:   {"image-recognition": 18 + 290, "json-serde": 8 + 67},
	}
	for variant, fns := range want {
		v, err := Variant(model, steps, variant)
		if err != nil {
			t.Fatal(err)
		}
		if err := v.Validate(nil); err != nil {
			t.Errorf("%s: the variant model does not validate: %v", variant, err)
		}
		for fn, ms := range fns {
			f := v.Functions[fn]
			if got := f.Startup[calibration.MethodTrEnvCXL]; got.MedianMs != ms || got.Sigma != model.Functions[fn].Startup[calibration.MethodTrEnvCXL].Sigma {
				t.Errorf("%s %s: trenv-cxl start-up %+v, want median %v ms", variant, fn, got, ms)
			}
			if !strings.Contains(f.Startup[calibration.MethodTrEnvCXL].Source, "sim/startpath") {
				t.Errorf("%s %s: source %q does not say how it was built", variant, fn, f.Startup[calibration.MethodTrEnvCXL].Source)
			}
			criu := model.Functions[fn]
			for what, pair := range map[string][2]float64{
				"first": {f.FirstExecFactor[calibration.MethodTrEnvCXL].Value, criu.FirstExecFactor[calibration.MethodCRIU].Value},
				"warm":  {f.WarmExecFactor[calibration.MethodTrEnvCXL].Value, criu.WarmExecFactor[calibration.MethodCRIU].Value},
				"mem":   {f.ResidentMB[calibration.MethodTrEnvCXL].Value, criu.ResidentMB[calibration.MethodCRIU].Value},
			} {
				if pair[0] != pair[1] {
					t.Errorf("%s %s: %s %v, want CRIU's %v", variant, fn, what, pair[0], pair[1])
				}
			}
			// Nothing else of the function changes.
			for _, k := range calibration.Methods {
				if k == calibration.MethodTrEnvCXL {
					continue
				}
				if f.Startup[k] != criu.Startup[k] || f.FirstExecFactor[k] != criu.FirstExecFactor[k] || f.ResidentMB[k] != criu.ResidentMB[k] {
					t.Errorf("%s %s: method %s changed", variant, fn, k)
				}
			}
		}
		// Functions without step costs keep T-CXL's costs.
		if v.Functions["pyaes"].Startup[calibration.MethodTrEnvCXL] != model.Functions["pyaes"].Startup[calibration.MethodTrEnvCXL] {
			t.Errorf("%s: pyaes changed", variant)
		}
	}
	// The model passed in is untouched.
	if got := model.Functions["image-recognition"].Startup[calibration.MethodTrEnvCXL].MedianMs; got != 18 {
		t.Errorf("Variant modified its input: IR T-CXL start-up %v", got)
	}
}

// TestVariantResources: in the resource model a variant's start-up copies
// the memory in as CRIU's restore does: CRIU's page-in (device, phase,
// rate) and resident_at_start on the trenv-cxl key, a page-in as long as
// the mm-template saving (IR 290 ms, JS 67 ms), none for the functions
// without step costs; the model passed in keeps T-CXL's.
func TestVariantResources(t *testing.T) {
	model, steps := defaults(t)
	pm := model.Platform
	criu := pm.PageIn[calibration.MethodCRIU]
	if _, ok := pm.PageIn[calibration.MethodTrEnvCXL]; ok || criu.Phase != calibration.PhaseStartup {
		t.Fatalf("the default model: T-CXL page-in %v, CRIU's %+v; want none and one in the start-up", ok, criu)
	}
	for _, variant := range Variants() {
		v, err := Variant(model, steps, variant)
		if err != nil {
			t.Fatal(err)
		}
		got := v.Platform.PageIn[calibration.MethodTrEnvCXL]
		if got.Device != criu.Device || got.Phase != criu.Phase || got.StreamMBps.Value != criu.StreamMBps.Value {
			t.Errorf("%s: trenv-cxl page-in %+v, want CRIU's %+v", variant, got, criu)
		}
		if a, c := v.Platform.ResidentAtStart[calibration.MethodTrEnvCXL].Value, pm.ResidentAtStart[calibration.MethodCRIU].Value; a != c {
			t.Errorf("%s: resident_at_start %v, want CRIU's %v", variant, a, c)
		}
		for fn, want := range map[string]float64{"image-recognition": 290, "json-serde": 67, "pyaes": 0, "h-hello-world": 0} {
			if got := v.Functions[fn].PageInMs[calibration.MethodTrEnvCXL].Value; got != want {
				t.Errorf("%s %s: trenv-cxl page-in %v ms, want %v", variant, fn, got, want)
			}
		}
	}
	if _, ok := model.Platform.PageIn[calibration.MethodTrEnvCXL]; ok || model.Platform.ResidentAtStart[calibration.MethodTrEnvCXL].Value != 0 {
		t.Errorf("Variant modified its input's platform: %+v", model.Platform.PageIn)
	}
	if _, ok := model.Functions["image-recognition"].PageInMs[calibration.MethodTrEnvCXL]; ok {
		t.Errorf("Variant modified its input's page-in times")
	}
}

// TestCRIUGap: the chain of step costs meets the cost model's CRIU start-up
// (a line through Figure 14's CRIU bars) within 10 %: IR (18 + 290 + 49 +
// 200) ÷ 552 = 1.009, JS (8 + 67 + 13 + 200) ÷ 308 = 0.935.
func TestCRIUGap(t *testing.T) {
	model, steps := defaults(t)
	for fn, want := range map[string]float64{"image-recognition": 557.0 / 552, "json-serde": 288.0 / 308} {
		got, err := CRIUGap(model, steps, fn)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(got-want) > 1e-9 || math.Abs(got-1) > 0.1 {
			t.Errorf("%s: gap %v, want %v (within 10 %% of 1)", fn, got, want)
		}
	}
	if _, err := CRIUGap(model, steps, "pyaes"); !errors.Is(err, ErrSteps) {
		t.Errorf("pyaes: %v, want ErrSteps", err)
	}
}

func TestCovers(t *testing.T) {
	_, steps := defaults(t)
	for fn, want := range map[string]bool{"image-recognition": true, "json-serde": true, "json-serde_1": true,
		"pyaes": false, "pyaes_1": false, "json-serde_x": false, "h-hello-world": false} {
		if got := steps.Covers(fn); got != want {
			t.Errorf("Covers(%q) = %v, want %v", fn, got, want)
		}
	}
}

func TestVariantErrors(t *testing.T) {
	model, steps := defaults(t)
	if _, err := Variant(model, steps, "turbo"); !errors.Is(err, ErrSteps) || !strings.Contains(err.Error(), "reconfig, cgroup") {
		t.Errorf("unknown variant: %v", err)
	}
	small := *model
	small.Functions = map[string]calibration.Function{"pyaes": model.Functions["pyaes"]}
	if _, err := Variant(&small, steps, results.VariantCgroup); !errors.Is(err, ErrSteps) || !strings.Contains(err.Error(), "image-recognition") {
		t.Errorf("a model without the functions: %v", err)
	}
}

// TestParseErrors: every field is checked and named.
func TestParseErrors(t *testing.T) {
	good := string(stepsYAML)
	for _, c := range []struct{ name, from, to, want string }{
		{"version", "version: 1", "version: 2", "version: must be 1"},
		{"unknown field", "version: 1", "version: 1\nextra: 3", "field extra not found"},
		{"zero", "{value: 49,", "{value: 0,", "clone_into_cgroup_saving_ms: 0 ms"},
		{"negative", "{value: 290,", "{value: -290,", "mm_template_saving_ms: -290 ms"},
		{"unknown source", `{value: 67, source: "TrEnv`, `{value: 67, source: "Paper`, `source "Paper`},
	} {
		data := strings.Replace(good, c.from, c.to, 1)
		if data == good {
			t.Fatalf("%s: %q is not in steps.yaml", c.name, c.from)
		}
		_, err := Parse([]byte(data), "x.yaml")
		if err == nil || !errors.Is(err, ErrSteps) || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "x.yaml: ") {
			t.Errorf("%s: %v; want ErrSteps naming x.yaml and %q", c.name, err, c.want)
		}
	}
	s, _ := Default()
	s.SandboxRepurposeSavingMs.Source = "estimate:  "
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "says nothing about how") {
		t.Errorf("empty estimate: %v", err)
	}
	s.Functions = nil
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "no function has step costs") {
		t.Errorf("no functions: %v", err)
	}
}
