package faasnap_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trenv-bench/baselines/faasnap"
	fake "trenv-bench/internal/fakes/faasnap"
)

func funcs() []faasnap.Func {
	return []faasnap.Func{
		{Name: "pyaes", Image: "debian-python", Params: `{"length_of_message":2000}`},
		{Name: "crypto", Image: "debian-nodejs"},
	}
}

func serve(t *testing.T, f *fake.Fake) *faasnap.Client {
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &faasnap.Client{URL: srv.URL}
}

// TestPrepare prepares both modes against the fake daemon: each function
// gets its own namespace and a snapshot the daemon knows, no VM is left
// running, and snapshots_<mode>.json maps each lambda name to the id the
// daemon gave.
func TestPrepare(t *testing.T) {
	for _, mode := range []string{faasnap.ModeFaaSnap, faasnap.ModeREAP} {
		t.Run(mode, func(t *testing.T) {
			f := fake.New()
			c := serve(t, f)
			dir := t.TempDir()
			ids, err := faasnap.Prepare(context.Background(), c, faasnap.Options{Mode: mode, Dir: dir, Functions: funcs(), VCPU: 2, Tries: 1})
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(faasnap.SnapshotsFile(dir, mode))
			if err != nil {
				t.Fatal(err)
			}
			var onDisk map[string]string
			if err := json.Unmarshal(b, &onDisk); err != nil {
				t.Fatal(err)
			}
			if len(onDisk) != 2 || onDisk["pyaes"] != ids["pyaes"] || onDisk["crypto"] != ids["crypto"] {
				t.Fatalf("snapshots file %v, Prepare returned %v", onDisk, ids)
			}
			if n := f.RunningVMs(); n != 0 {
				t.Errorf("%d VMs left running", n)
			}
			taken := map[string]bool{}
			for _, call := range f.Calls() {
				if call.Code != 200 {
					t.Errorf("%s %s answered %d", call.Method, call.Path, call.Code)
				}
				if call.Method == "PUT" && strings.HasPrefix(call.Path, "/net-ifaces/") {
					taken[strings.TrimPrefix(call.Path, "/net-ifaces/")] = true
				}
			}
			if !taken["fc1"] || !taken["fc2"] {
				t.Errorf("namespaces set up: %v, want fc1 and fc2", taken)
			}
			if mode == faasnap.ModeFaaSnap {
				if _, err := os.Stat(filepath.Join(dir, "pyaes_wsfile")); err != nil {
					t.Errorf("no working-set file: %v", err)
				}
			}
		})
	}
}

// TestPrepareRetries: snapshot generation that fails now and then is
// retried up to Tries, cleaning up the VMs of each failed attempt; one
// that keeps failing fails Prepare with the daemon's message and leaves
// no snapshots file.
func TestPrepareRetries(t *testing.T) {
	f := fake.New()
	f.FailSnapshots = 2
	c := serve(t, f)
	dir := t.TempDir()
	var said []string
	o := faasnap.Options{Mode: faasnap.ModeFaaSnap, Dir: dir, Functions: funcs()[:1], Tries: 3,
		Progress: func(s string) { said = append(said, s) }}
	if _, err := faasnap.Prepare(context.Background(), c, o); err != nil {
		t.Fatalf("with 2 failures and 3 tries: %v (%q)", err, said)
	}
	if n := f.RunningVMs(); n != 0 {
		t.Errorf("%d VMs left running after retries", n)
	}

	f = fake.New()
	f.FailSnapshots = 10
	c = serve(t, f)
	dir = t.TempDir()
	o.Tries = 2
	_, err := faasnap.Prepare(context.Background(), c, o)
	if err == nil || !strings.Contains(err.Error(), "failed 2 times") || !strings.Contains(err.Error(), "connection reset by peer") {
		t.Fatalf("err = %v, want the attempts and the daemon's message", err)
	}
	if _, err := os.Stat(faasnap.SnapshotsFile(dir, faasnap.ModeFaaSnap)); !os.IsNotExist(err) {
		t.Errorf("a failed preparation left a snapshots file (%v)", err)
	}
	if n := f.RunningVMs(); n != 0 {
		t.Errorf("%d VMs left running after a failed preparation", n)
	}
}

// TestPrepareRefuses: a bad mode, a name that is no lambda name, a missing
// directory (the daemon cannot write the snapshot) and a cancelled context.
func TestPrepareRefuses(t *testing.T) {
	c := serve(t, fake.New())
	dir := t.TempDir()
	cases := map[string]faasnap.Options{
		"mode":      {Mode: "cold", Dir: dir, Functions: funcs()},
		"name":      {Mode: faasnap.ModeREAP, Dir: dir, Functions: []faasnap.Func{{Name: "../etc"}}},
		"directory": {Mode: faasnap.ModeREAP, Dir: filepath.Join(dir, "missing"), Functions: funcs()},
	}
	for name, o := range cases {
		if _, err := faasnap.Prepare(context.Background(), c, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := faasnap.Prepare(ctx, c, faasnap.Options{Mode: faasnap.ModeREAP, Dir: dir, Functions: funcs(), Tries: 5}); err == nil ||
		!strings.Contains(err.Error(), "context canceled") {
		t.Errorf("cancelled: err = %v", err)
	}
}
