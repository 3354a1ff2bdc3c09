package results

import "slices"

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

// System is one system the paper compares: how a run's manifest says it
// (Method, and Pool for TrEnv) and how tables, figures and experiment
// matrices name it.
type System struct {
	// Name is the paper's name (T-CXL, …), the one name of the system in
	// every table, figure and matrix.
	Name string
	// Method is the start method: trenv, cold, criu, lazy, faasnap, reap.
	Method string
	// Pool is TrEnv's memory pool (cxl, rdma); "" for the baselines.
	Pool string
}

// systems is the one table of systems, in the order of every legend, table
// and bar group: TrEnv first, then the baselines from the slowest start to
// the VM-snapshot ones. Figures give each a colour by its position.
// The start methods: TrEnv, and the five baselines faasd runs with
// --baseline. Every package names them by these.
const (
	MethodTrEnv   = "trenv"
	MethodCold    = "cold"
	MethodCRIU    = "criu"
	MethodLazy    = "lazy"
	MethodFaaSnap = "faasnap"
	MethodREAP    = "reap"
)

var systems = [...]System{
	{SystemTCXL, MethodTrEnv, "cxl"},
	{SystemTRDMA, MethodTrEnv, "rdma"},
	{SystemFaasd, MethodCold, ""},
	{SystemCRIU, MethodCRIU, ""},
	{SystemLazy, MethodLazy, ""},
	{SystemFaaSnap, MethodFaaSnap, ""},
	{SystemREAP, MethodREAP, ""},
}

// Systems returns every system, in order. A new slice each call.
func Systems() []System { return slices.Clone(systems[:]) }

// SystemOf returns the system of a start method and TrEnv pool (trenv with
// no pool is T-CXL, the default pool); false for an unknown method or pool.
func SystemOf(method, pool string) (System, bool) {
	if method == "trenv" && pool == "" {
		pool = "cxl"
	}
	for _, s := range systems {
		if s.Method == method && (s.Pool == pool || s.Method != "trenv" && pool == "") {
			return s, true
		}
	}
	return System{}, false
}

// SystemNamed returns the system called name; false if there is none.
func SystemNamed(name string) (System, bool) {
	i := slices.IndexFunc(systems[:], func(s System) bool { return s.Name == name })
	if i < 0 {
		return System{}, false
	}
	return systems[i], true
}

// Rank is the system's position in the order of Systems; an unknown system
// ranks after all of them.
func (s System) Rank() int {
	if i := slices.Index(systems[:], s); i >= 0 {
		return i
	}
	return len(systems)
}

// SystemName names the system of a start method and TrEnv pool as the
// paper does (SystemOf's Name); an unknown method is its own name.
func SystemName(method, pool string) string {
	if s, ok := SystemOf(method, pool); ok {
		return s.Name
	}
	return method
}

// System is the manifest's system name (SystemName).
func (m *Manifest) System() string { return SystemName(m.Method, m.Pool) }
