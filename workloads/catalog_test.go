package workloads

import (
	"strings"
	"testing"
)

func TestDefaultCatalog(t *testing.T) {
	cat := DefaultCatalog()
	bases := map[string]int{}
	for _, f := range cat.Functions {
		bases[f.Base]++
	}
	// stack.yml: h-memory, h-hello-world, and 11 benchmarks × (base, _1, _2).
	if len(bases) != 13 || len(cat.Functions) != 2+11*3 {
		t.Fatalf("catalog has %d functions over %d bases, want 35 over 13", len(cat.Functions), len(bases))
	}
	for b, n := range bases {
		if !strings.HasPrefix(b, "h-") && n != 3 {
			t.Errorf("base %s has %d entries, want 3", b, n)
		}
	}
	// Caps per base, upstream-tooling.md §1.4.
	for name, cap := range map[string]int{"chameleon_2": 17, "image-recognition": 7, "dynamic-html_1": 80, "js-json-serde": 25} {
		if f, _ := cat.Lookup(name); f.Cap != cap {
			t.Errorf("%s cap %d, want %d", name, f.Cap, cap)
		}
	}
	f, _ := cat.Lookup("h-memory")
	if b, _ := f.MemoryBytes(); b != DefaultMemoryBytes {
		t.Errorf("h-memory charged %d, want the 1G default", b)
	}
	f, _ = cat.Lookup("image-flip-rotate_1")
	if b, _ := f.MemoryBytes(); b != 650_000_000 || f.WatchdogPort != 9109 || f.Payload != "" {
		t.Errorf("image-flip-rotate_1 = %+v", f)
	}
	f, _ = cat.Lookup("chameleon")
	if f.Payload != `{"num_of_rows": 400, "num_of_cols": 400}` || f.Functional == nil {
		t.Errorf("chameleon payloads = %q, %v", f.Payload, f.Functional)
	}
	// Every workload function is in the catalog (Generate validates too).
	for _, kind := range []string{"1", "2", "func"} {
		var p BurstParams
		if kind != "func" {
			if err := loadParams("w"+kind, &p); err != nil {
				t.Fatal(err)
			}
			for _, s := range p.Functions {
				if _, ok := cat.Lookup(s.Name); !ok {
					t.Errorf("w%s names %s, not in the catalog", kind, s.Name)
				}
			}
		}
	}
}

func TestParseCatalogErrors(t *testing.T) {
	for name, in := range map[string]string{
		"bad name":     "functions:\n  - {name: 'Py AES', base: py, language: python}\n",
		"bad language": "functions:\n  - {name: pyaes, base: pyaes, language: rust}\n",
		"bad memory":   "functions:\n  - {name: pyaes, base: pyaes, language: python, memory: 12X}\n",
		"duplicate":    "functions:\n  - {name: pyaes, base: pyaes, language: python}\n  - {name: pyaes, base: pyaes, language: python}\n",
		"unknown key":  "functions:\n  - {name: pyaes, base: pyaes, language: python, colour: red}\n",
		"bad base":     "functions:\n  - {name: pyaes, base: crypto, language: python}\n",
	} {
		if _, err := ParseCatalog([]byte(in), "c.yaml"); err == nil || !strings.Contains(err.Error(), "c.yaml") {
			t.Errorf("%s: got %v, want an error naming c.yaml", name, err)
		}
	}
}
