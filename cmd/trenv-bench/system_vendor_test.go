package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"trenv-bench/system"
	"trenv-bench/system/vendor"
)

// TestSystemVendorFlags: flags reach the options; the mirrors file and
// --mirror merge (the flag wins); unknown components, a missing -o and a
// bad NAME=URL are usage errors.
func TestSystemVendorFlags(t *testing.T) {
	var got *systemVendorOptions
	capture := func(_ context.Context, o *systemVendorOptions) error { got = o; return nil }
	s, _, _ := testStreams()
	mf := filepath.Join(t.TempDir(), "mirrors.yml")
	if err := os.WriteFile(mf, []byte("stack_mirrors:\n  faasd: https://git.lab/faasd.git\n  runc: https://git.lab/runc.git\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	line := "-o /tmp/b --mirrors " + mf + " --mirror runc=/srv/runc.git --only runc,faasd --depth 0"
	if err := execLine(newCmdSystemVendor(s, capture), line); err != nil {
		t.Fatal(err)
	}
	o := got.Opts
	if o.Dir != "/tmp/b" || o.Depth != 0 || strings.Join(o.Only, ",") != "runc,faasd" ||
		o.Mirrors["faasd"] != "https://git.lab/faasd.git" || o.Mirrors["runc"] != "/srv/runc.git" || len(o.Mirrors) != 2 {
		t.Errorf("options %+v", o)
	}
	if o.Stack == nil || string(o.StackData) != string(system.StackYAML()) {
		t.Error("not the embedded stack")
	}
	for _, line := range []string{"", "-o b --mirror nope=https://x", "-o b --mirror faasd", "-o b --only nope", "-o b --depth -1", "-o b --mirrors /no/such/file", "-o b extra"} {
		err := execLine(newCmdSystemVendor(s, capture), line)
		var fe *FlagError
		if !errors.As(err, &fe) {
			t.Errorf("%q: err %v, want a usage error", line, err)
		}
	}
}

// TestSystemVendorRun vendors a one-download stack from a local server
// through the command's run function: the bundle and its manifest are
// there, and progress went to stderr.
func TestSystemVendorRun(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("pkgs")) }))
	defer srv.Close()
	data := []byte(`schema: 1
host: {os: Ubuntu 22.04, user: root}
components:
  - name: function-pkgs
    description: d
    used_by: []
    download: {url: https://example.org/pkgs.tar.gz, file: /root/downloads/pkgs.tar.gz}
    unpinned: {reason: r, resolve: sha256}
  - name: function-images
    description: d
    used_by: []
    images: {namespace: openfaas-fn, refs: [docker.io/x/pyaes:latest]}
    unpinned: {reason: r, resolve: image-digest}
`)
	st, err := system.ParseStack(data, "t")
	if err != nil {
		t.Fatal(err)
	}
	s, out, errOut := testStreams()
	dir := filepath.Join(t.TempDir(), "bundle")
	o := &systemVendorOptions{Streams: s, Opts: vendor.Options{Stack: st, StackData: data, Dir: dir,
		Mirrors: map[string]string{"function-pkgs": srv.URL + "/pkgs.tar.gz"}}}
	if err := runSystemVendor(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	m, err := vendor.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := m.Entry("function-pkgs"); !ok || e.Size != 4 {
		t.Errorf("manifest %+v", m)
	}
	if !strings.Contains(out.String(), "1 components") || !strings.Contains(out.String(), "not bundled (see the manifest for why): function-images") {
		t.Errorf("stdout %q", out)
	}
	if !strings.Contains(errOut.String(), "vendor [1/2] function-pkgs: downloading "+srv.URL) {
		t.Errorf("stderr %q", errOut)
	}
}
