package sim

import (
	"testing"
	"time"

	"trenv-bench/results"
)

// TestMethodsAreTheSystems: the model has a method for every system of
// results' one table, and no method the table lacks.
func TestMethodsAreTheSystems(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range results.Systems() {
		cfg := DefaultConfig(s.Method)
		if s.Pool != "" {
			cfg.Pool = s.Pool
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("system %s: %v", s.Name, err)
		}
		seen[s.Method] = true
	}
	for _, m := range Methods {
		if !seen[m] {
			t.Errorf("method %s has no system in results.Systems", m)
		}
	}
}

// TestConfigFor: the flags' units become the configuration's (GiB to
// bytes, minutes to a duration, fractions kept), every flag is carried, and
// test.sh's defaults give DefaultConfig.
func TestConfigFor(t *testing.T) {
	f := results.PlatformFlags{MemGB: 0.5, GCMin: 2.5, IdleNum: 3, NoReuse: true, NoBgTask: true}
	got := ConfigFor(MethodTrEnv, PoolRDMA, f, 7)
	want := Config{Method: MethodTrEnv, Pool: PoolRDMA, MemBytes: 1 << 29, GC: 150 * time.Second,
		IdleNum: 3, NoReuse: true, NoBgTask: true, Seed: 7}
	if got != want {
		t.Errorf("ConfigFor = %+v, want %+v", got, want)
	}
	def := DefaultConfig(MethodREAP)
	if def.MemBytes != 64<<30 || def.GC != 10*time.Minute || def.IdleNum != 70 || def.Pool != PoolCXL ||
		def.NoReuse || def.NoBgTask || def.Seed != 0 {
		t.Errorf("DefaultConfig = %+v, want test.sh's defaults", def)
	}
}
