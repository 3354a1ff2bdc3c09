package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"trenv-bench/system"
	"trenv-bench/system/doctor"
)

// TestSystemLock: the table has a row per component; --json is the whole
// embedded stack, decoding back to what system.DefaultStack holds.
func TestSystemLock(t *testing.T) {
	s, out, _ := testStreams()
	if code := Main([]string{"system", "lock"}, s); code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	st := system.DefaultStack()
	for _, c := range st.Components {
		if !strings.Contains(out.String(), "\n"+c.Name+" ") {
			t.Errorf("no row for %s", c.Name)
		}
	}
	out.Reset()
	if code := Main([]string{"system", "lock", "--json"}, s); code != ExitOK {
		t.Fatalf("--json: exit %d", code)
	}
	var got system.Stack
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, st) {
		t.Error("--json does not round-trip to the embedded stack")
	}
	if !strings.Contains(out.String(), "/var/lib/faasd/pkgs/<lambda>") {
		t.Error("--json escapes < and >")
	}
}

// TestSystemDoctorFlags: flags reach the options; a pool for a baseline,
// an unknown method or pool and an impossible --mem are usage errors.
func TestSystemDoctorFlags(t *testing.T) {
	var got *systemDoctorOptions
	capture := func(_ context.Context, o *systemDoctorOptions) error { got = o; return nil }
	s, _, _ := testStreams()
	if err := execLine(newCmdSystemDoctor(s, capture), "--method trenv --pool rdma --mem 32 --json --dax-device /dev/dax1.0"); err != nil {
		t.Fatal(err)
	}
	if got.Method != "trenv" || got.Pool != "rdma" || got.MemGiB != 32 || !got.JSON || got.DAXDevice != "/dev/dax1.0" || got.Host.Root == nil {
		t.Errorf("options %+v", got)
	}
	if err := execLine(newCmdSystemDoctor(s, capture), ""); err != nil || got.Method != "" || got.Pool != "cxl" || got.MemGiB != 64 {
		t.Errorf("defaults: %+v %v", got, err)
	}
	for _, line := range []string{"--method cold --pool rdma", "--method switch", "--pool dax", "--mem 256", "--mem -1", "extra"} {
		err := execLine(newCmdSystemDoctor(s, capture), line)
		var fe *FlagError
		if !errors.As(err, &fe) {
			t.Errorf("%q: err %v, want a usage error", line, err)
		}
	}
}

// TestSystemDoctorHere runs `trenv-bench system doctor --json` on this
// machine: it completes, reports the missing TrEnv kernel, and exits 1.
func TestSystemDoctorHere(t *testing.T) {
	rel, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		t.Skip("no /proc: not Linux")
	}
	k, _ := system.DefaultStack().Kernel()
	if strings.Contains(string(rel), k.Kernel.Release) {
		t.Skip("this is the TrEnv kernel")
	}
	s, out, errOut := testStreams()
	code := Main([]string{"system", "doctor", "--json"}, s)
	if code != ExitError {
		t.Errorf("exit %d, want %d", code, ExitError)
	}
	var rep doctor.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, out)
	}
	c, ok := rep.Check("kernel.release")
	if !ok || c.Status != doctor.Fail || !strings.Contains(c.Detail, "TrEnv needs "+k.Kernel.Release) {
		t.Errorf("kernel.release %+v", c)
	}
	if rep.OK || !strings.Contains(errOut.String(), "the host is not ready") || !strings.Contains(errOut.String(), "kernel.release") {
		t.Errorf("stderr %q", errOut)
	}
}
