package results

import "testing"

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
	if (System{Name: "x"}).Rank() != len(Systems()) {
		t.Error("an unknown system does not rank last")
	}
}
