package main

import (
	"strings"
	"testing"

	"trenv-bench/system"
)

// TestSystemPrepareDryRun runs `system prepare --dry-run` on this machine:
// it prints every step with its commands, changes nothing and exits 0.
func TestSystemPrepareDryRun(t *testing.T) {
	for _, pool := range []string{"dax", "rdma"} {
		s, out, errOut := testStreams()
		args := []string{"system", "prepare", "--mem-pool", pool, "--dry-run", "--state-dir", t.TempDir()}
		if pool == "rdma" {
			args = append(args, "--node", "1")
		}
		if code := Main(args, s); code != 0 {
			t.Fatalf("%s: exit %d: %s", pool, code, errOut)
		}
		text := out.String()
		for _, want := range []string{"[1/", "kernel", "dry run: nothing was changed", "faasd provider --pull-policy no --no-bgtask",
			map[string]string{"dax": "faasd checkpoint --mem-pool dax --dax-device /dev/dax0.0 h-hello-world h-memory pyaes",
				"rdma": "modprobe pseudo_mm_rdma sport=50000 sip=172.16.2.1 cip=172.16.2.1 node=1"}[pool]} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the plan lacks %q:\n%s", pool, want, text)
			}
		}
	}
}

func TestSystemPrepareFlags(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"--mem-pool nvme --dry-run", "--mem-pool \"nvme\""},
		{"--mem-pool rdma --dry-run", "--node"},
		{"--mem-pool cxl --dax-device /dev/sda --dry-run", "--dax-device"},
		{"--mem-pool rdma --node 1 --nic eth0;reboot --dry-run", "--nic"},
	} {
		s, _, errOut := testStreams()
		code := Main(append([]string{"system", "prepare"}, strings.Fields(tc.args)...), s)
		if code == 0 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%s: exit %d, %q: want an error naming %s", tc.args, code, errOut, tc.want)
		}
	}
}

// TestSystemCleanDryRun: on this machine, with nothing started, clean
// --dry-run succeeds and changes nothing; a run holding the lock makes it
// refuse.
func TestSystemCleanDryRun(t *testing.T) {
	state := t.TempDir()
	s, out, errOut := testStreams()
	if code := Main([]string{"system", "clean", "--dry-run", "--state-dir", state}, s); code != 0 ||
		!strings.Contains(out.String(), "dry run: nothing was changed") {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	sup, err := system.OpenSupervisor(state)
	if err != nil {
		t.Fatal(err)
	}
	defer sup.Close()
	s, _, errOut = testStreams()
	if code := Main([]string{"system", "clean", "--state-dir", state}, s); code == 0 || !strings.Contains(errOut.String(), "another trenv-bench run") {
		t.Errorf("clean while the host is held: exit %d: %s", code, errOut)
	}
}
