package doctor

import "trenv-bench/system"

// check is one entry of the table of checks: its id (per-component checks
// add ".<component>"), what it checks, when it applies, and how.
type check struct {
	CheckInfo
	run func(*env) []Check
}

// CheckInfo describes a check for help texts and documentation.
type CheckInfo struct {
	// ID is the check's id; "stack.*" stands for one per component.
	ID string
	// Title says what is checked.
	Title string
	// When says which scopes it applies to.
	When string
}

// one adapts a check that returns a single result.
func one(f func(*env) Check) func(*env) []Check {
	return func(e *env) []Check { return []Check{f(e)} }
}

// only runs f when the scope satisfies cond; otherwise there is no result.
func only(cond func(Scope) bool, f func(*env) Check) func(*env) []Check {
	return func(e *env) []Check {
		if !cond(e.sc) {
			return nil
		}
		return []Check{f(e)}
	}
}

func needsCheckpoints(s Scope) bool { return s.HasAny(MethodTrEnv, MethodCRIU, MethodLazy) }
func needsFaaSnap(s Scope) bool     { return s.HasAny(MethodFaaSnap, MethodREAP) }
func needsTrEnv(s Scope) bool       { return s.Has(MethodTrEnv) }
func needsCXL(s Scope) bool         { return s.TrEnvPool(system.PoolCXL) }
func needsRDMA(s Scope) bool        { return s.TrEnvPool(system.PoolRDMA) }

// checks is the table of checks, in the order they run and are reported.
// To add one: give it an id (area.thing), a title, a When, and a function
// in the file of its area; keep the areas together.
func checks() []check {
	return []check{
		{CheckInfo{"host.cpu", "x86-64 CPU, Intel", "always"}, one((*env).checkCPU)},
		{CheckInfo{"host.bare-metal", "bare metal, not a VM or container", "always; warns"}, one((*env).checkBareMetal)},
		{CheckInfo{"kernel.release", "TrEnv kernel running", "always; warns without trenv"}, one((*env).checkKernelRelease)},
		{CheckInfo{"kernel.pseudo-mm", "/dev/pseudo_mm", "trenv"}, only(needsTrEnv, (*env).checkPseudoMM)},
		{CheckInfo{"kernel.config", "kernel config options of stack.yaml", "always; README options fail with trenv"}, one((*env).checkKernelConfig)},
		{CheckInfo{"cgroup.v2", "unified cgroup v2 hierarchy", "always"}, one((*env).checkCgroupV2)},
		{CheckInfo{"cgroup.controllers", "cgroup v2 controllers", "always"}, one((*env).checkCgroupControllers)},
		{CheckInfo{"pool.dax", "device-DAX: devdax, 4 KiB alignment, target node", "trenv, pool cxl"}, only(needsCXL, (*env).checkDAX)},
		{CheckInfo{"pool.rdma-link", "RXE link", "trenv, pool rdma"}, only(needsRDMA, (*env).checkRDMALink)},
		{CheckInfo{"pool.rdma-server", "pseudo-mm-rdma-server running", "trenv, pool rdma"}, only(needsRDMA, (*env).checkRDMAServer)},
		{CheckInfo{"pool.rdma-module", "pseudo_mm_rdma module loaded", "trenv, pool rdma"}, only(needsRDMA, (*env).checkRDMAModule)},
		{CheckInfo{"memory.available", "available memory holds --mem", "--mem > 0"}, one((*env).checkMemory)},
		{CheckInfo{"stack.*", "installed at its pin (commit, version, digests)", "what the runs use"}, (*env).checkComponents},
		{CheckInfo{"selfcheck.*", "the component's own check (criu check)", "what the runs use"}, (*env).checkSelfChecks},
		{CheckInfo{"criu.active", "the criu on PATH, which faasd and runc run", "always; warns"}, one((*env).checkActiveCRIU)},
		{CheckInfo{"faasd.layout", "/var/lib/faasd directories and files", "always"}, one((*env).checkFaasdLayout)},
		{CheckInfo{"faasd.secrets", "basic-auth secrets", "always"}, one((*env).checkFaasdSecrets)},
		{CheckInfo{"faasd.pkgs", "a pkgs directory per function", "always"}, one((*env).checkFaasdPkgs)},
		{CheckInfo{"checkpoints.tmpfs", "checkpoint tmpfs on the far-memory node", "trenv, criu, lazy"}, only(needsCheckpoints, (*env).checkCheckpointTmpfs)},
		{CheckInfo{"checkpoints.marker", "checkpoints made for this pool in this boot", "trenv, criu, lazy"}, only(needsCheckpoints, (*env).checkCheckpointMarker)},
		{CheckInfo{"checkpoints.images", "a checkpoint per function (converted, for trenv)", "trenv, criu, lazy"}, only(needsCheckpoints, (*env).checkCheckpointImages)},
		{CheckInfo{"faasnap.kvm", "/dev/kvm for Firecracker", "faasnap, reap"}, only(needsFaaSnap, (*env).checkKVM)},
		{CheckInfo{"faasnap.tmpfs", "snapshot tmpfs /mnt/cxl-tmp", "faasnap, reap"}, only(needsFaaSnap, (*env).checkFaaSnapTmpfs)},
		{CheckInfo{"noise.governor", "CPU frequency governor", "always; warns"}, one((*env).checkGovernor)},
		{CheckInfo{"noise.smt", "SMT (hyper-threading)", "always; warns"}, one((*env).checkSMT)},
		{CheckInfo{"noise.thp", "transparent huge pages", "always; warns"}, one((*env).checkTHP)},
		{CheckInfo{"noise.swap", "swap off", "always; warns"}, one((*env).checkSwap)},
	}
}

// Checks describes every check, in the order they run.
func Checks() []CheckInfo {
	t := checks()
	out := make([]CheckInfo, len(t))
	for i, c := range t {
		out[i] = c.CheckInfo
	}
	return out
}
