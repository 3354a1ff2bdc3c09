package results

import (
	"errors"
	"testing"
)

func TestSystems(t *testing.T) {
	for i, s := range Systems() {
		if s.Rank() != i {
			t.Errorf("%s ranks %d, is %d in the order", s.Name, s.Rank(), i)
		}
		if got, ok := SystemOf(s.Method, s.Pool); !ok || got != s {
			t.Errorf("SystemOf(%q, %q) = %+v, %v", s.Method, s.Pool, got, ok)
		}
		if got, ok := SystemNamed(s.Name); !ok || got != s {
			t.Errorf("SystemNamed(%q) = %+v, %v", s.Name, got, ok)
		}
	}
	for _, c := range []struct{ method, pool, want string }{
		{"trenv", "", SystemTCXL}, {"trenv", "rdma", SystemTRDMA}, {"cold", "", SystemFaasd},
		{"lazy", "", SystemLazy}, {"firecracker", "", "firecracker"}, {"trenv", "nvme", "trenv"}, {"criu", "cxl", "criu"},
	} {
		if got := SystemName(c.method, c.pool); got != c.want {
			t.Errorf("SystemName(%q, %q) = %q, want %q", c.method, c.pool, got, c.want)
		}
	}
	if _, ok := SystemNamed("Lazy"); ok {
		t.Error("a second name for lazy CRIU")
	}
	if (System{Name: "x"}).Rank() != len(Systems())+len(ModelVariants()) {
		t.Error("an unknown system does not rank last")
	}
}

func TestModelVariants(t *testing.T) {
	vs := ModelVariants()
	if len(vs) != 2 || vs[0].Name != SystemReconfig || vs[1].Name != SystemCgroup {
		t.Fatalf("ModelVariants() = %+v", vs)
	}
	for i, v := range vs {
		if !v.ModelOnly() || v.Method != MethodTrEnv || v.Pool != "cxl" {
			t.Errorf("%+v: want a model-only TrEnv variant on cxl", v)
		}
		if v.Rank() != len(Systems())+i {
			t.Errorf("%s ranks %d, want %d (after the paper's systems)", v.Name, v.Rank(), len(Systems())+i)
		}
		if got, ok := SystemNamed(v.Name); !ok || got != v {
			t.Errorf("SystemNamed(%q) = %+v, %v", v.Name, got, ok)
		}
		for _, pool := range []string{"cxl", ""} {
			if got, ok := SystemOfVariant(MethodTrEnv, pool, v.Variant); !ok || got != v {
				t.Errorf("SystemOfVariant(trenv, %q, %q) = %+v, %v", pool, v.Variant, got, ok)
			}
		}
		if _, ok := SystemOfVariant(MethodCRIU, "", v.Variant); ok {
			t.Errorf("variant %s of CRIU found", v.Variant)
		}
		m := Manifest{Method: MethodTrEnv, Pool: "cxl", ModelVariant: v.Variant}
		if m.System() != v.Name {
			t.Errorf("manifest of variant %s: System() = %q", v.Variant, m.System())
		}
	}
	for _, s := range Systems() {
		if s.ModelOnly() {
			t.Errorf("%s is one of the paper's systems but model-only", s.Name)
		}
		if got, ok := SystemOfVariant(s.Method, s.Pool, ""); !ok || got != s {
			t.Errorf("SystemOfVariant(%q, %q, \"\") = %+v, %v", s.Method, s.Pool, got, ok)
		}
	}
	if m := (Manifest{Method: MethodTrEnv, ModelVariant: "turbo"}); m.System() != "trenv/turbo" {
		t.Errorf("unknown variant: System() = %q", m.System())
	}
}

// TestManifestModelVariantChecked: a manifest names a known variant of its
// method, and never on a host or gateway run.
func TestManifestModelVariantChecked(t *testing.T) {
	for _, c := range []struct {
		m    Manifest
		ok   bool
		only bool
	}{
		{Manifest{Method: MethodTrEnv, Pool: "cxl", ModelVariant: VariantCgroup, Target: TargetSim}, true, false},
		{Manifest{Method: MethodTrEnv, Pool: "cxl", ModelVariant: VariantReconfig, Target: TargetTwin}, true, false},
		{Manifest{Method: MethodTrEnv, Pool: "cxl", ModelVariant: VariantReconfig, Target: TargetHost}, false, true},
		{Manifest{Method: MethodTrEnv, Pool: "cxl", ModelVariant: VariantReconfig, Target: TargetGateway}, false, true},
		{Manifest{Method: MethodTrEnv, Pool: "rdma", ModelVariant: VariantReconfig, Target: TargetSim}, false, false},
		{Manifest{Method: MethodCold, ModelVariant: VariantCgroup, Target: TargetSim}, false, false},
	} {
		c.m.Status = RunComplete
		_, err := c.m.Marshal()
		if (err == nil) != c.ok || errors.Is(err, ErrModelOnly) != c.only {
			t.Errorf("%s/%s variant %s on %s: %v (want ok %v, model-only error %v)", c.m.Method, c.m.Pool, c.m.ModelVariant, c.m.Target, err, c.ok, c.only)
		}
	}
}
