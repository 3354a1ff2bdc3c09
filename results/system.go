package results

import (
	"errors"
	"slices"
)

// ErrModelOnly is wrapped when something that exists on the platform model
// only — a model variant (ModelVariants), Figure 14 — is asked of a real
// host or a gateway.
var ErrModelOnly = errors.New("exists on the platform model only (target sim or twin): " +
	"Figure 14's intermediate steps are model variants of TrEnv's start path built from the paper's step costs, which no host runs")

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
	// Variant is the model variant of TrEnv's start path the system is
	// (ModelVariants: Figure 14's intermediate steps), as a run's manifest
	// records it (Manifest.ModelVariant); "" for the paper's systems.
	Variant string
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
	{Name: SystemTCXL, Method: MethodTrEnv, Pool: "cxl"},
	{Name: SystemTRDMA, Method: MethodTrEnv, Pool: "rdma"},
	{Name: SystemFaasd, Method: MethodCold},
	{Name: SystemCRIU, Method: MethodCRIU},
	{Name: SystemLazy, Method: MethodLazy},
	{Name: SystemFaaSnap, Method: MethodFaaSnap},
	{Name: SystemREAP, Method: MethodREAP},
}

// The model variants of TrEnv's start path: Figure 14's steps between CRIU
// and TrEnv, which exist on the platform model only (no host runs them).
// Each is TrEnv's policy (repurposing) with start-up costs built from the
// paper's step costs (sim/startpath).
const (
	// VariantReconfig ("Reconfig", sandbox reuse only): the sandbox is
	// repurposed instead of created, but the process's cgroup is still
	// migrated and its memory copied as CRIU copies it.
	VariantReconfig = "reconfig"
	// VariantCgroup ("Cgroup", + CLONE_INTO_CGROUP): Reconfig, with the
	// restored process spawned straight into its cgroup; memory is still
	// copied.
	VariantCgroup = "cgroup"

	SystemReconfig = "Reconfig"
	SystemCgroup   = "Cgroup"
)

// ModelVariantsNote says what the model variants' numbers are, for reports
// and figures that show them.
const ModelVariantsNote = "Reconfig and Cgroup are model variants of TrEnv's start path (Figure 14's intermediate steps): " +
	"their start-ups are built from the paper's step costs (sim/startpath), which are Figure 14's own numbers, as the cost model's " +
	"other start-ups of those functions are calibrated on the same figure, so their results restate the calibration: a check of the model's plumbing, " +
	"not a prediction. They exist on the platform model only."

// variants is the table of model variants, in Figure 14's order.
var variants = [...]System{
	{Name: SystemReconfig, Method: MethodTrEnv, Pool: "cxl", Variant: VariantReconfig},
	{Name: SystemCgroup, Method: MethodTrEnv, Pool: "cxl", Variant: VariantCgroup},
}

// Systems returns every system the paper compares, in order: those a host
// runs too. A new slice each call.
func Systems() []System { return slices.Clone(systems[:]) }

// ModelVariants returns the model variants of TrEnv's start path (Figure
// 14's steps), in order: systems that exist on the platform model only. A
// new slice each call.
func ModelVariants() []System { return slices.Clone(variants[:]) }

// ModelOnly reports whether the system exists on the platform model only
// (a model variant).
func (s System) ModelOnly() bool { return s.Variant != "" }

// SystemOfVariant returns the system of a run's start method, TrEnv pool
// and model variant: SystemOf when variant is "", else the model variant
// of that name (for its method and pool only); false when there is none.
func SystemOfVariant(method, pool, variant string) (System, bool) {
	if variant == "" {
		return SystemOf(method, pool)
	}
	if method == MethodTrEnv && pool == "" {
		pool = "cxl"
	}
	for _, v := range variants {
		if v.Variant == variant && v.Method == method && v.Pool == pool {
			return v, true
		}
	}
	return System{}, false
}

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

// SystemNamed returns the system called name, one of Systems or of
// ModelVariants; false if there is none.
func SystemNamed(name string) (System, bool) {
	for _, table := range [][]System{systems[:], variants[:]} {
		if i := slices.IndexFunc(table, func(s System) bool { return s.Name == name }); i >= 0 {
			return table[i], true
		}
	}
	return System{}, false
}

// Rank is the system's position in the order of Systems, the model
// variants after them in their order; an unknown system ranks after all.
func (s System) Rank() int {
	if i := slices.Index(systems[:], s); i >= 0 {
		return i
	}
	if i := slices.Index(variants[:], s); i >= 0 {
		return len(systems) + i
	}
	return len(systems) + len(variants)
}

// SystemName names the system of a start method and TrEnv pool as the
// paper does (SystemOf's Name); an unknown method is its own name.
func SystemName(method, pool string) string {
	if s, ok := SystemOf(method, pool); ok {
		return s.Name
	}
	return method
}

// System is the manifest's system name: SystemName, or for a model
// variant's run (ModelVariant) the variant's name; an unknown variant is
// "method/variant".
func (m *Manifest) System() string {
	if m.ModelVariant == "" {
		return SystemName(m.Method, m.Pool)
	}
	if s, ok := SystemOfVariant(m.Method, m.Pool, m.ModelVariant); ok {
		return s.Name
	}
	return m.Method + "/" + m.ModelVariant
}
