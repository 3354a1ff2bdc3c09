package doctor

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"trenv-bench/system"
)

// faasd's state on the host (`faasd install` makes it; the paths are
// hard-coded in faasd).
const (
	FaasdDir     = "/var/lib/faasd"
	FaasdSecrets = FaasdDir + "/secrets"
	FaasdPkgs    = FaasdDir + "/pkgs"
	// FaasdComponent is faasd's name in stack.yaml.
	FaasdComponent = "faasd"
)

// FaaSnap's snapshot tmpfs (upstream's machine-prepare.sh and test.sh).
const (
	FaaSnapTmpfs       = "/mnt/cxl-tmp"
	FaaSnapSnapshotDir = FaaSnapTmpfs + "/faasnap/snapshot"
)

// Sizes of upstream's tmpfs mounts, for remedies.
const (
	checkpointTmpfsSize = "16g"
	faasnapTmpfsSize    = "100g"
)

// faasdInstallRemedy says how upstream creates /var/lib/faasd.
func (e *env) faasdInstallRemedy() string {
	dir := "the faasd checkout"
	if c, ok := e.st.Component(FaasdComponent); ok && c.Git != nil {
		dir = c.Git.Checkout
	}
	return fmt.Sprintf("run /usr/local/bin/faasd install in %s (it copies resolv.conf and network.sh from there)", dir)
}

func (e *env) checkFaasdLayout() Check {
	res := result("faasd.layout", FaasdDir+" directories and files", true)
	if !e.isDir(FaasdDir) {
		return res.fail("no "+FaasdDir, e.faasdInstallRemedy())
	}
	var missing []string
	for _, d := range []string{"checkpoints/images", "checkpoints/criu-c-workdir", "checkpoints/criu-r-workdir", "app", "pkgs"} {
		if !e.isDir(path.Join(FaasdDir, d)) {
			missing = append(missing, d+"/")
		}
	}
	files := []string{"resolv.conf"}
	if needsFaaSnap(e.sc) {
		files = append(files, "network.sh") // builds the fc<N> namespaces
	}
	for _, f := range files {
		if !e.exists(path.Join(FaasdDir, f)) {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 {
		return res.fail(fmt.Sprintf("%s lacks %s", FaasdDir, strings.Join(missing, ", ")), e.faasdInstallRemedy())
	}
	return res.pass(FaasdDir + " laid out as faasd install leaves it")
}

func (e *env) checkFaasdSecrets() Check {
	res := result("faasd.secrets", "basic-auth secrets", true)
	var bad []string
	for _, f := range []string{"basic-auth-user", "basic-auth-password"} {
		p := path.Join(FaasdSecrets, f)
		s, err := e.readString(p)
		switch {
		case err != nil:
			bad = append(bad, p+" missing")
		case s == "":
			bad = append(bad, p+" empty")
		}
	}
	if len(bad) > 0 {
		return res.fail(strings.Join(bad, ", ")+": faasd provider exits at start without them", e.faasdInstallRemedy())
	}
	return res.pass(FaasdSecrets + "/basic-auth-{user,password} present")
}

// functionNames are the lambda names of stack.yaml's images (the pkgs
// directories and checkpoints the functions need).
func (e *env) functionNames() []string {
	var names []string
	for i := range e.st.Components {
		if im := e.st.Components[i].Images; im != nil {
			names = append(names, im.ImageNames()...)
		}
	}
	return names
}

func (e *env) checkFaasdPkgs() Check {
	res := result("faasd.pkgs", "a pkgs directory per function", true)
	names := e.functionNames()
	if len(names) == 0 {
		return res.skip("stack.yaml lists no function images")
	}
	var missing []string
	for _, n := range names {
		if !e.isDir(path.Join(FaasdPkgs, n)) {
			missing = append(missing, n)
		}
	}
	remedy := "extract pkgs.tar.gz into " + FaasdDir + " and chown -R 100 " + FaasdPkgs + " (stack.yaml: function-pkgs); faasd indexes pkgs only at start"
	if len(missing) == len(names) {
		return res.fail(fmt.Sprintf("no function under %s (%d expected)", FaasdPkgs, len(names)), remedy)
	}
	if len(missing) > 0 {
		return res.fail(fmt.Sprintf("%s lacks %s", FaasdPkgs, strings.Join(missing, ", ")), remedy)
	}
	return res.pass(fmt.Sprintf("%d functions under %s", len(names), FaasdPkgs))
}

func (e *env) checkCheckpointTmpfs() Check {
	res := result("checkpoints.tmpfs", "checkpoint tmpfs on the far-memory node", true)
	return e.checkTmpfs(res, system.CheckpointsDir, checkpointTmpfsSize, e.sc.TrEnvPool(system.PoolCXL))
}

// prepareRemedy says how checkpoints are made.
func (e *env) prepareRemedy() string {
	pool := "dax --dax-device " + e.sc.DAXDevice
	if e.sc.Pool == system.PoolRDMA {
		pool = "rdma"
	}
	return fmt.Sprintf("make the checkpoints again for this boot (trenv-bench system prepare --pool %s; upstream: faasd checkpoint --mem-pool %s <ids> under a provider started with --no-bgtask), which writes %s", e.sc.Pool, pool, system.CheckpointMarkerPath)
}

func (e *env) checkCheckpointMarker() Check {
	res := result("checkpoints.marker", "checkpoints made for this pool in this boot", true)
	m, err := system.ReadCheckpointMarker(e.h.Root)
	if errors.Is(err, fs.ErrNotExist) {
		return res.fail("no "+system.CheckpointMarkerPath+": nothing says which pool and boot the checkpoints were made for", e.prepareRemedy())
	}
	if err != nil {
		return res.fail(err.Error(), e.prepareRemedy())
	}
	var problems []string
	trenv := e.sc.Has(MethodTrEnv)
	if trenv && m.Pool != e.sc.Pool {
		problems = append(problems, fmt.Sprintf("made for the %s pool, not %s", m.Pool, e.sc.Pool))
	}
	if trenv && m.Pool == system.PoolCXL && e.sc.Pool == system.PoolCXL && m.DAXDevice != e.sc.DAXDevice {
		problems = append(problems, fmt.Sprintf("converted into %s, not %s", m.DAXDevice, e.sc.DAXDevice))
	}
	boot, err := system.ReadBootID(e.h.Root)
	switch {
	case err != nil:
		problems = append(problems, fmt.Sprintf("cannot read %s: %v", system.BootIDPath, err))
	case boot != m.BootID && trenv:
		problems = append(problems, fmt.Sprintf("made in boot %s, this is %s: mm-templates vanish at reboot", m.BootID, boot))
	}
	if rel := e.release(); trenv && rel != "" && rel != m.Kernel {
		problems = append(problems, fmt.Sprintf("made on kernel %s, running %s", m.Kernel, rel))
	}
	detail := fmt.Sprintf("%d services, pool %s, %s", len(m.Services), m.Pool, m.Created.UTC().Format("2006-01-02 15:04 UTC"))
	if len(problems) > 0 {
		return res.fail(detail+": "+strings.Join(problems, "; "), e.prepareRemedy())
	}
	return res.pass(detail + ", this boot")
}

func (e *env) checkCheckpointImages() Check {
	res := result("checkpoints.images", "a checkpoint per function (converted, for trenv)", true)
	want := e.functionNames()
	if m, err := system.ReadCheckpointMarker(e.h.Root); err == nil {
		for _, s := range m.Services {
			if !slices.Contains(want, s) {
				want = append(want, s)
			}
		}
	}
	if len(want) == 0 {
		return res.skip("no functions to look for")
	}
	trenv := e.sc.Has(MethodTrEnv)
	var missing, unconverted []string
	for _, s := range want {
		dir := path.Join(system.CheckpointImagesDir, s)
		ents, err := e.readDir(dir)
		if err != nil {
			missing = append(missing, s)
			continue
		}
		if trenv && !slices.ContainsFunc(ents, func(d fs.DirEntry) bool { return strings.HasPrefix(d.Name(), "pseudo_mm_id-") }) {
			unconverted = append(unconverted, s)
		}
	}
	var problems []string
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("no checkpoint for %s", listSome(missing, 6)))
	}
	if len(unconverted) > 0 {
		problems = append(problems, fmt.Sprintf("not converted to mm-templates (no pseudo_mm_id-*): %s", listSome(unconverted, 6)))
	}
	if len(problems) > 0 {
		return res.fail(fmt.Sprintf("%s: %s", system.CheckpointImagesDir, strings.Join(problems, "; ")), e.prepareRemedy())
	}
	what := "CRIU images"
	if trenv {
		what = "converted checkpoints"
	}
	return res.pass(fmt.Sprintf("%d %s in %s", len(want), what, system.CheckpointImagesDir))
}

// listSome lists up to n items and how many more there are.
func listSome(items []string, n int) string {
	if len(items) <= n {
		return strings.Join(items, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(items[:n], ", "), len(items)-n)
}

func (e *env) checkKVM() Check {
	res := result("faasnap.kvm", "/dev/kvm for Firecracker", true)
	if e.exists("/dev/kvm") {
		return res.pass("/dev/kvm present")
	}
	return res.fail("no /dev/kvm: Firecracker cannot start VMs", "enable VT-x in the firmware and modprobe kvm_intel (in a VM: nested virtualisation)")
}

func (e *env) checkFaaSnapTmpfs() Check {
	res := result("faasnap.tmpfs", "snapshot tmpfs "+FaaSnapTmpfs, true)
	r := e.checkTmpfs(res, FaaSnapTmpfs, faasnapTmpfsSize, false)
	if r.Status == Fail {
		return r
	}
	if !e.isDir(FaaSnapSnapshotDir) {
		return res.fail("no "+FaaSnapSnapshotDir, "mkdir -p "+FaaSnapSnapshotDir+" (FaaSnap's prepare writes its snapshots and snapshots_<mode>.json there)")
	}
	return r
}
