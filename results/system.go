package results

// The systems the paper compares, named as it names them: the run's start
// method, and for TrEnv its memory pool.
const (
	SystemTCXL    = "T-CXL"
	SystemTRDMA   = "T-RDMA"
	SystemFaasd   = "faasd"
	SystemCRIU    = "CRIU"
	SystemLazy    = "CRIU-lazy"
	SystemFaaSnap = "FaaSnap+"
	SystemREAP    = "REAP+"
)

// SystemName names the system of a start method and TrEnv pool as the
// paper does: trenv/cxl → T-CXL (also with no pool), trenv/rdma → T-RDMA,
// cold → faasd, criu → CRIU, lazy → CRIU-lazy, faasnap → FaaSnap+, reap →
// REAP+; any other method is its own name. Tables and figures use it, so a
// system has one name everywhere.
func SystemName(method, pool string) string {
	switch method {
	case "trenv":
		if pool == "rdma" {
			return SystemTRDMA
		}
		return SystemTCXL
	case "cold":
		return SystemFaasd
	case "criu":
		return SystemCRIU
	case "lazy":
		return SystemLazy
	case "faasnap":
		return SystemFaaSnap
	case "reap":
		return SystemREAP
	}
	return method
}

// System is the manifest's system name (SystemName).
func (m *Manifest) System() string { return SystemName(m.Method, m.Pool) }
