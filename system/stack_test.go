package system

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"trenv-bench/results"
)

// TestDefaultStack: the embedded stack.yaml parses, validates, and every
// component is pinned by its source's pin or says why not (Validate checks
// the pins' forms: 40-hex commits, 64-hex sha256s, sha256 image digests).
func TestLockDefaultStack(t *testing.T) {
	s, err := ParseStack(stackYAML, StackFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Components) < 20 {
		t.Fatalf("%d components: expected the whole stack", len(s.Components))
	}
	for _, c := range s.Components {
		if c.Pinned() == (c.Pin() == "") {
			t.Errorf("%s: pinned %v but pin %q", c.Name, c.Pinned(), c.Pin())
		}
		if !c.Pinned() && c.Unpinned.Reason == "" {
			t.Errorf("%s: unpinned without a reason", c.Name)
		}
	}
	k, ok := s.Kernel()
	if !ok || k.Kernel.Release == "" || len(k.Kernel.Config) == 0 {
		t.Fatalf("no kernel requirements: %+v", k)
	}
	if k.Pinned() {
		t.Errorf("kernel pinned to %q: upstream records no commit of switch-container/linux", k.Pin())
	}
}

// TestStackVocabulary: used_by names start methods and pools as results
// does, so doctor and the playbook scope components by the runs'
// vocabulary, and the package's pool names are results'.
func TestLockStackVocabulary(t *testing.T) {
	known := map[string]bool{}
	pools := map[string]bool{}
	for _, sys := range results.Systems() {
		known[sys.Method] = true
		if sys.Pool != "" {
			known[sys.Method+"/"+sys.Pool] = true
			pools[sys.Pool] = true
		}
	}
	if !pools[PoolCXL] || !pools[PoolRDMA] || len(pools) != 2 {
		t.Errorf("results' pools %v, package system's %s and %s", pools, PoolCXL, PoolRDMA)
	}
	for _, c := range DefaultStack().Components {
		for _, u := range c.UsedBy {
			if !known[u] {
				t.Errorf("%s: used_by %q is no method or method/pool of results.Systems()", c.Name, u)
			}
		}
	}
}

// TestEveryRunHasOneCRIU: each system's run needs exactly one CRIU variant
// (the one it puts on PATH): switch for TrEnv, cold, FaaSnap and REAP,
// vanilla for criu, lazy for lazy.
func TestLockEveryRunHasOneCRIU(t *testing.T) {
	s := DefaultStack()
	want := map[string]string{"trenv": "switch", "cold": "switch", "faasnap": "switch", "reap": "switch", "criu": "master", "lazy": "lazy"}
	for _, sys := range results.Systems() {
		var got []string
		for _, c := range s.Providers("criu") {
			if c.UsedByRun(sys.Method, sys.Pool) {
				got = append(got, c.Git.Branch)
			}
		}
		if len(got) != 1 || got[0] != want[sys.Method] {
			t.Errorf("%s: CRIU variants %v, want [%s]", sys.Name, got, want[sys.Method])
		}
	}
}

// minimalStack is a valid stack the rejection cases below break one field
// at a time.
const minimalStack = `schema: 1
host: {os: Ubuntu 22.04, user: root, packages: [git]}
components:
  - name: faasd
    description: the control plane
    used_by: [trenv, trenv/rdma]
    git:
      repository: https://github.com/switch-container/faasd.git
      branch: switch
      commit: b8cc47dc8d02cb65f0b59fcc982ce370d9ee354c
      checkout: /root/go/src/github.com/openfaas/faasd
    build:
      - [make, "-j{jobs}", local]
    install: [/usr/local/bin/faasd]
  - name: pkgs
    description: function trees
    used_by: []
    download:
      url: https://cloud.example.org/f/1/?dl=1
      file: /root/downloads/pkgs.tar.gz
      unpack: tar
      into: /var/lib/faasd
    unpinned: {reason: no checksum published, resolve: sha256}
  - name: images
    description: function images
    used_by: [cold]
    images:
      namespace: openfaas-fn
      refs: [docker.io/jialianghuang/pyaes:latest]
    unpinned: {reason: latest only, resolve: image-digest}
`

func TestLockParseStackMinimal(t *testing.T) {
	s, err := ParseStack([]byte(minimalStack), "min.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := s.Component("faasd")
	if !c.UsedByRun("trenv", "cxl") || !c.UsedByRun("trenv", "rdma") || c.UsedByRun("cold", "") {
		t.Errorf("faasd used_by %v: wrong UsedByRun", c.UsedBy)
	}
	if got := ExpandJobs(c.Build[0], 8); !slices.Equal(got, []string{"make", "-j8", "local"}) {
		t.Errorf("ExpandJobs = %q", got)
	}
	im, _ := s.Component("images")
	if got := im.Images.ImageNames(); !slices.Equal(got, []string{"pyaes"}) {
		t.Errorf("ImageNames = %q", got)
	}
}

// TestParseStackRejects: each broken field is refused with an error that
// names the component and the field.
func TestLockParseStackRejects(t *testing.T) {
	cases := []struct {
		name, old, new, want string
	}{
		{"unknown key", "    install: [/usr/local/bin/faasd]", "    install: [/usr/local/bin/faasd]\n    installs: [/x]", "field installs not found"},
		{"pinned and unpinned", "    install: [/usr/local/bin/faasd]", "    install: [/usr/local/bin/faasd]\n    unpinned: {reason: r, resolve: git-ls-remote}", `"faasd": both pinned`},
		{"neither", "      commit: b8cc47dc8d02cb65f0b59fcc982ce370d9ee354c\n", "", `"faasd": neither pinned (git.commit) nor unpinned`},
		{"short commit", "b8cc47dc8d02cb65f0b59fcc982ce370d9ee354c", "b8cc47dc", `commit "b8cc47dc": expected 40`},
		{"upper-case commit", "b8cc47dc8d02cb65f0b59fcc982ce370d9ee354c", "B8CC47DC8D02CB65F0B59FCC982CE370D9EE354C", "expected 40 lower-case hex"},
		{"wrong resolve", "resolve: sha256", "resolve: git-ls-remote", `unpinned.resolve "git-ls-remote": expected "sha256" for a download`},
		{"no reason", "reason: no checksum published, ", "", "unpinned.reason: empty"},
		{"http", "https://cloud.example.org", "http://cloud.example.org", "expected an https URL"},
		{"relative install", "[/usr/local/bin/faasd]", "[usr/local/bin/faasd]", "expected an absolute path"},
		{"unclean path", "/root/downloads/pkgs.tar.gz", "/root/downloads/../pkgs.tar.gz", "expected a clean path"},
		{"shell", `[make, "-j{jobs}", local]`, `[make, "local && make install"]`, "shell syntax"},
		{"two sources", "    build:\n", "    images: {namespace: openfaas-fn, refs: [docker.io/a/b:latest]}\n    build:\n", "2 sources"},
		{"unpack without into", "      into: /var/lib/faasd\n", "", `into: empty path`},
		{"bad used_by", "used_by: [cold]", "used_by: [Cold Start]", `used_by "Cold Start"`},
		{"duplicate", "  - name: pkgs", "  - name: faasd", `"faasd" listed twice`},
		{"partial digests", "refs: [docker.io/jialianghuang/pyaes:latest]", "refs: [docker.io/jialianghuang/pyaes@sha256:" + strings.Repeat("a", 64) + ", docker.io/jialianghuang/crypto:latest]", "1 of 2 refs carry a digest"},
		{"schema", "schema: 1", "schema: 2", "schema 2: expected 1"},
		{"build without install", "    install: [/usr/local/bin/faasd]\n", "", "install: empty, but the component has build steps"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(minimalStack, c.old) {
				t.Fatalf("case does not apply: %q not in the minimal stack", c.old)
			}
			_, err := ParseStack([]byte(strings.Replace(minimalStack, c.old, c.new, 1)), "min.yaml")
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrStack) {
				t.Errorf("error %v does not wrap ErrStack", err)
			}
			if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "min.yaml: ") {
				t.Errorf("error %q: want min.yaml: … %q", err, c.want)
			}
		})
	}
}

func TestLockKernelOptionSatisfied(t *testing.T) {
	cases := []struct {
		want, value string
		ok          bool
	}{
		{WantBuiltin, "y", true}, {WantBuiltin, "m", false}, {WantBuiltin, "", false},
		{WantModule, "m", true}, {WantModule, "y", false},
		{WantEnabled, "y", true}, {WantEnabled, "m", true}, {WantEnabled, "n", false},
		{WantUnset, "", true}, {WantUnset, "n", true}, {WantUnset, `""`, true}, {WantUnset, `"debian/certs.pem"`, false},
	}
	for _, c := range cases {
		if got := (KernelOption{Option: "CONFIG_X", Want: c.want}).Satisfied(c.value); got != c.ok {
			t.Errorf("want %s, value %q: %v", c.want, c.value, got)
		}
	}
}

// TestWriteTable: the lock table fits TableWidth columns, has one row per
// component with its branch or version, and shows each pin shortened (or
// how an unpinned component is resolved).
func TestLockWriteTable(t *testing.T) {
	s := DefaultStack()
	var b bytes.Buffer
	if err := s.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > TableWidth {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	rows := map[string]string{}
	for _, l := range lines[1:] {
		if f := strings.Fields(l); len(f) > 0 {
			rows[f[0]] = l
		}
	}
	for _, c := range s.Components {
		row, ok := rows[c.Name]
		if !ok {
			t.Errorf("no row for %s", c.Name)
			continue
		}
		want := "unpinned: " + c.Unpinned.ResolveOrEmpty()
		if c.Pinned() {
			want = c.Pin()[:ShortCommit]
			if strings.Contains(row, c.Pin()) {
				t.Errorf("%s: full pin in the table: %q", c.Name, row)
			}
		}
		if !strings.Contains(row, want) || !strings.Contains(row, c.Ref()) {
			t.Errorf("%s row %q: want %q and %q", c.Name, row, want, c.Ref())
		}
	}
	if !strings.Contains(b.String(), "components:") {
		t.Errorf("no count line:\n%s", b.String())
	}
}

func TestLockTruncateAndWrap(t *testing.T) {
	if got := Truncate("switch-container/faasd", 10); got != "switch-co…" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Truncate("short", 10); got != "short" {
		t.Errorf("Truncate = %q", got)
	}
	if got := Wrap("aaa bbb ccc\nd", 7); got != "aaa bbb\nccc\nd" {
		t.Errorf("Wrap = %q", got)
	}
}
