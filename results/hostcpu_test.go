package results

import "testing"

func TestParseProcStatCPU(t *testing.T) {
	stat := []byte("cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 1\n")
	busy, total, ok := parseProcStatCPU(stat)
	if !ok || busy != 100+5+50+3+2 || total != busy+800+40 {
		t.Errorf("busy %d, total %d, ok %v", busy, total, ok)
	}
	if _, _, ok := parseProcStatCPU([]byte("cpu0 1 2 3 4 5 6 7 8\n")); ok {
		t.Error("read a per-core line as the aggregate")
	}
	if _, _, ok := parseProcStatCPU([]byte("cpu  1 x 3 4 5 6 7 8\n")); ok {
		t.Error("read a bad number")
	}
}

func TestHostCPU(t *testing.T) {
	s := HostCPU()
	u, ok := s()
	if !ok {
		t.Skip("no /proc/stat here")
	}
	if u < 0 || u > 1 {
		t.Errorf("utilisation %v", u)
	}
}
