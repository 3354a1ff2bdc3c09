package sim

import (
	"testing"

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
