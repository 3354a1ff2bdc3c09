package doctor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trenv-bench/baselines"
	"trenv-bench/internal/criutest"
	"trenv-bench/system"
)

// realCRIU runs doctor on this machine for the criu method, with stack.yaml's
// vanilla variant (criu-master) installed as the real binary bin and bin's
// directory as the PATH faasd and runc would search, and returns the
// variant's own check (selfcheck.criu-master) and the active-criu check.
func realCRIU(t *testing.T, bin string) (self, active Check) {
	t.Helper()
	st := system.DefaultStack()
	c, ok := st.Component(baselines.CRIUMaster)
	if !ok {
		t.Fatalf("stack.yaml has no %s", baselines.CRIUMaster)
	}
	c.Install = []string{bin}
	c.VersionCommand = []string{bin, "--version"}
	c.CheckCommand = []string{bin, "check"}
	host := Host{Root: os.DirFS("/"), Runner: system.ExecRunner{}, Path: []string{filepath.Dir(bin)}}
	rep, err := Run(t.Context(), host, st, Scope{Methods: []string{MethodCRIU}})
	if err != nil {
		t.Fatal(err)
	}
	self, active = mustCheck(t, rep, "selfcheck."+baselines.CRIUMaster), mustCheck(t, rep, "criu.active")
	t.Logf("%s: %s: %s", self.ID, self.Status, self.Detail)
	t.Logf("%s: %s: %s", active.ID, active.Status, active.Detail)
	return self, active
}

// TestDoctorRealCRIU41 runs doctor's CRIU checks on the real CRIU 4.1.1
// that .ci/build-criu builds: its criu check passes on this kernel, and
// doctor recognises it as the variant by its checksum.
func TestDoctorRealCRIU41(t *testing.T) {
	c := criutest.Current(t)
	self, active := realCRIU(t, c.Path)
	if self.Status != Pass || !strings.Contains(self.Detail, "Looks good") {
		t.Errorf("selfcheck: %s %q (%s), want a pass saying criu check's \"Looks good.\"", self.Status, self.Detail, self.Remedy)
	}
	want := c.Path + " (CRIU " + c.Version + ") is " + baselines.CRIUMaster + "; criu check: Looks good"
	if active.Status != Pass || !strings.Contains(active.Detail, want) {
		t.Errorf("criu.active: %s %q, want a pass containing %q", active.Status, active.Detail, want)
	}
}

// TestDoctorRealCRIUBookworm runs doctor's CRIU checks on bookworm's real
// criu 3.17.1: on a kernel from 6.13 on its criu check fails on the vDSO,
// and doctor says that this is CRIU < 4.1 on a new kernel, not a
// generic failure.
func TestDoctorRealCRIUBookworm(t *testing.T) {
	c := criutest.Bookworm(t)
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		t.Skip("no /proc: not Linux")
	}
	kernel := strings.TrimSpace(string(rel))
	if !versionAtLeast(kernel, 6, 13) {
		t.Skipf("kernel %s: CRIU %s reads the vDSO of kernels before 6.13", kernel, c.Version)
	}
	self, active := realCRIU(t, c.Path)
	want := "CRIU " + c.Version + " cannot run on kernel " + kernel +
		": CRIU before 4.1 does not understand the vDSO layout of kernels from 6.13 on (\"" + VDSOBoundsError + "\")"
	if self.Status != Fail || !self.Required || self.Detail != want {
		t.Errorf("selfcheck: %s required=%v %q\n want a required fail %q", self.Status, self.Required, self.Detail, want)
	}
	if !strings.Contains(self.Remedy, "CRIU ≥ 4.1") {
		t.Errorf("selfcheck remedy %q: want CRIU ≥ 4.1 named", self.Remedy)
	}
	if active.Status != Warn || !strings.Contains(active.Detail, "is "+baselines.CRIUMaster+", but its criu check fails: "+want) {
		t.Errorf("criu.active: %s %q\n want a warning that the variant's check fails: %q", active.Status, active.Detail, want)
	}
}
