package vendor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"trenv-bench/system"
)

// gitRepo is a repository made by the test with `git init`, standing in
// for an upstream one.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T, branch string) *gitRepo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true but git is not installed")
		}
		t.Skip("git is not installed")
	}
	// Neither the user's nor the system's git configuration takes part.
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	r := &gitRepo{t: t, dir: t.TempDir()}
	r.git("init", "--quiet", "--initial-branch", branch)
	return r
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir, "-c", "user.name=t", "-c", "user.email=t@example.org"}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// commit writes file with content and commits it; it returns the commit.
func (r *gitRepo) commit(file, content string) string {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, file), []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
	r.git("add", file)
	r.git("commit", "--quiet", "-m", "change "+file)
	return r.git("rev-parse", "HEAD")
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// testStack is a stack of one component of each kind, in stack.yaml's
// format; upstream is the https server standing in for the download hosts.
func testStack(t *testing.T, upstream, pinnedCommit, toolSHA string) (*system.Stack, []byte) {
	t.Helper()
	data := []byte(fmt.Sprintf(`schema: 1
host: {os: Ubuntu 22.04, user: root}
components:
  - name: runc
    description: a pinned git component
    used_by: [trenv]
    git: {repository: https://example.org/runc.git, branch: switch, commit: %s, checkout: /root/runc}
  - name: kernel
    description: an unpinned git component on the default branch
    used_by: [trenv]
    git: {repository: https://example.org/linux.git, branch: HEAD, checkout: /root/linux}
    unpinned: {reason: upstream pins nothing, resolve: git-ls-remote}
  - name: tool
    description: a pinned download
    used_by: []
    download: {url: %s/gone/tool.tgz, mirrors: [%s/tool.tgz], file: /root/downloads/tool.tgz, sha256: %s}
  - name: pkgs
    description: an unpinned download
    used_by: []
    download: {url: "https://example.org/pkgs.tar.gz?dl=1", file: /root/downloads/pkgs.tar.gz, unpack: tar, into: /var/lib/faasd}
    unpinned: {reason: no checksum published, resolve: sha256}
  - name: images
    description: images
    used_by: [trenv]
    images: {namespace: openfaas-fn, refs: [docker.io/x/pyaes:latest]}
    unpinned: {reason: latest tags, resolve: image-digest}
  - name: swagger
    description: a go install
    used_by: []
    go_install: {package: example.org/swagger/cmd/swagger}
    unpinned: {reason: latest, resolve: go-buildinfo}
    install: [/root/go/bin/swagger]
`, pinnedCommit, upstream, upstream, toolSHA))
	s, err := system.ParseStack(data, "test stack")
	if err != nil {
		t.Fatal(err)
	}
	return s, data
}

// fixture is the upstream a test vendors from: two local repositories, an
// https server with the pinned download (its stack URL 404s, its stack
// mirror serves it) and a plain http server for the mirror override.
type fixture struct {
	runc, linux             *gitRepo
	pinned, later, linuxTip string
	tool, pkgs              []byte
	stack                   *system.Stack
	stackData               []byte
	https                   *httptest.Server
	mirror                  *httptest.Server
	opts                    Options
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{runc: newGitRepo(t, "switch"), linux: newGitRepo(t, "master")}
	f.pinned = f.runc.commit("a.txt", "pinned\n")
	f.later = f.runc.commit("a.txt", "after the pin\n")
	f.linux.commit("k.txt", "one\n")
	f.linuxTip = f.linux.commit("k.txt", "two\n")
	f.tool = []byte("the pinned tool\n")
	f.pkgs = []byte(strings.Repeat("pkgs", 50_000))
	f.https = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/tool.tgz" {
			w.Write(f.tool)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(f.https.Close)
	f.mirror = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/pkgs.tar.gz" {
			w.Write(f.pkgs)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(f.mirror.Close)
	f.stack, f.stackData = testStack(t, f.https.URL, f.pinned, sha(f.tool))
	f.opts = Options{
		Stack:     f.stack,
		StackData: f.stackData,
		Dir:       filepath.Join(t.TempDir(), "bundle"),
		Mirrors: map[string]string{
			"runc":   f.runc.dir,
			"kernel": "file://" + f.linux.dir,
			"pkgs":   f.mirror.URL + "/pkgs.tar.gz",
		},
		Depth: 1,
		HTTP:  f.https.Client(),
		Now:   func() time.Time { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
	return f
}

// leftovers lists what is beside the bundle directory other than itself.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if e.Name() != filepath.Base(dir) {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestVendorBundle vendors one component of each kind from local stand-ins
// and checks the bundle: each repository holds the pinned (or resolved)
// commit on its branch and clones to it; the pinned download came from the
// stack's mirror after its URL failed, the unpinned one from the mirror
// override, hashed; images and go_install are recorded as skipped.
func TestVendorBundle(t *testing.T) {
	f := newFixture(t)
	var events []Event
	f.opts.Progress = func(e Event) { events = append(events, e) }
	m, err := Vendor(context.Background(), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := leftovers(t, f.opts.Dir); len(got) > 0 {
		t.Errorf("left beside the bundle: %v", got)
	}
	read, err := ReadManifest(f.opts.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(read.Components) != len(f.stack.Components) || read.Created != "2025-01-02T03:04:05Z" || read.StackSHA256 != sha(f.stackData) {
		t.Errorf("manifest %+v", read)
	}
	if len(m.Components) != len(read.Components) {
		t.Errorf("returned %d entries, wrote %d", len(m.Components), len(read.Components))
	}

	runc, _ := read.Entry("runc")
	if runc.Commit != f.pinned || !runc.Pinned || runc.Source != f.runc.dir || runc.Branch != "switch" || runc.Path != "git/runc.git" {
		t.Errorf("runc %+v", runc)
	}
	clone := t.TempDir()
	out, err := exec.Command("git", "clone", "--quiet", filepath.Join(f.opts.Dir, runc.Path), clone).CombinedOutput()
	if err != nil {
		t.Fatalf("clone from the bundle: %v\n%s", err, out)
	}
	head, _ := exec.Command("git", "-C", clone, "rev-parse", "HEAD").Output()
	if got := strings.TrimSpace(string(head)); got != f.pinned {
		t.Errorf("a clone of the bundle's runc is at %s, want the pin %s (the branch has moved on to %s)", got, f.pinned, f.later)
	}
	if data, _ := os.ReadFile(filepath.Join(clone, "a.txt")); string(data) != "pinned\n" {
		t.Errorf("checkout content %q", data)
	}
	if err := exec.Command("git", "-C", filepath.Join(f.opts.Dir, runc.Path), "cat-file", "-e", f.later).Run(); err == nil {
		t.Error("the bundle holds the commit after the pin")
	}

	kernel, _ := read.Entry("kernel")
	if kernel.Commit != f.linuxTip || kernel.Pinned || kernel.Branch != BundleBranch {
		t.Errorf("kernel %+v: want the resolved head %s, unpinned, on branch %s", kernel, f.linuxTip, BundleBranch)
	}

	tool, _ := read.Entry("tool")
	if tool.Source != f.https.URL+"/tool.tgz" || tool.SHA256 != sha(f.tool) || !tool.Pinned || tool.Size != int64(len(f.tool)) {
		t.Errorf("tool %+v", tool)
	}
	pkgs, _ := read.Entry("pkgs")
	data, err := os.ReadFile(filepath.Join(f.opts.Dir, pkgs.Path))
	if err != nil || string(data) != string(f.pkgs) {
		t.Errorf("pkgs file: %v, %d bytes, want %d", err, len(data), len(f.pkgs))
	}
	if pkgs.SHA256 != sha(f.pkgs) || pkgs.Pinned || pkgs.Path != "files/pkgs/pkgs.tar.gz" || pkgs.Source != f.mirror.URL+"/pkgs.tar.gz" {
		t.Errorf("pkgs %+v", pkgs)
	}
	for _, name := range []string{"images", "swagger"} {
		if e, _ := read.Entry(name); e.Skipped == "" || e.Path != "" {
			t.Errorf("%s %+v: want skipped with a reason", name, e)
		}
	}

	// Progress: every component is announced, in order, and a download's
	// bytes reach its size.
	var last Event
	seen := map[string]bool{}
	for _, e := range events {
		if e.Total != len(f.stack.Components) || e.Index < last.Index {
			t.Errorf("event %+v after %+v", e, last)
		}
		if e.Component == "pkgs" && e.Size > 0 && e.Done == e.Size {
			seen["pkgs bytes"] = true
		}
		seen[e.Component] = true
		last = e
	}
	for _, c := range f.stack.Components {
		if !seen[c.Name] {
			t.Errorf("no progress for %s", c.Name)
		}
	}
	if !seen["pkgs bytes"] {
		t.Error("no progress event with pkgs' bytes complete")
	}

	// A second vendor into the same, now full, directory is refused.
	if _, err := Vendor(context.Background(), f.opts); !errors.Is(err, ErrExists) {
		t.Errorf("vendoring into the existing bundle: %v, want ErrExists", err)
	}
}

// TestVendorFailuresLeaveNothing: a checksum that does not match, a commit
// that is not in the repository and an interrupted download each fail the
// whole bundle, leaving neither it nor its partial directory.
func TestVendorFailuresLeaveNothing(t *testing.T) {
	cases := []struct {
		name  string
		setup func(f *fixture, o *Options, cancel context.CancelFunc)
		want  string
	}{
		{"checksum", func(f *fixture, o *Options, _ context.CancelFunc) {
			f.tool = []byte("tampered\n")
		}, "stack.yaml pins " + sha([]byte("the pinned tool\n"))},
		{"commit", func(f *fixture, o *Options, _ context.CancelFunc) {
			o.Mirrors["runc"] = f.linux.dir // a repository without the pinned commit
		}, "fetching commit"},
		{"interrupt", func(f *fixture, o *Options, cancel context.CancelFunc) {
			o.Progress = func(e Event) {
				if e.Component == "pkgs" && e.Done > 0 {
					cancel()
				}
			}
			f.mirror.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "1000000")
				w.Write([]byte("a first part"))
				w.(http.Flusher).Flush()
				<-r.Context().Done()
			})
		}, context.Canceled.Error()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tc.setup(f, &f.opts, cancel)
			_, err := Vendor(ctx, f.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one saying %q", err, tc.want)
			}
			if _, serr := os.Stat(f.opts.Dir); !errors.Is(serr, os.ErrNotExist) {
				t.Errorf("bundle directory after the failure: %v", serr)
			}
			if got := leftovers(t, f.opts.Dir); len(got) > 0 {
				t.Errorf("left beside the bundle: %v", got)
			}
		})
	}
}

// TestVendorOnly vendors a subset into an empty directory that exists;
// unknown names in --only or the mirrors are refused before anything is
// fetched.
func TestVendorOnly(t *testing.T) {
	f := newFixture(t)
	if err := os.Mkdir(f.opts.Dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f.opts.Only = []string{"pkgs"}
	m, err := Vendor(context.Background(), f.opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Components) != 1 || m.Components[0].Component != "pkgs" {
		t.Errorf("components %+v", m.Components)
	}
	for _, o := range []Options{
		{Stack: f.stack, Dir: t.TempDir() + "/b", Only: []string{"nope"}},
		{Stack: f.stack, Dir: t.TempDir() + "/b", Mirrors: map[string]string{"nope": "x"}},
	} {
		if _, err := Vendor(context.Background(), o); err == nil || !strings.Contains(err.Error(), `"nope"`) {
			t.Errorf("%+v: err %v", o, err)
		}
	}
}

// TestParseMirrors reads the mirrors file the playbook also reads, and
// the --mirror flag's NAME=URL.
func TestParseMirrors(t *testing.T) {
	m, err := ParseMirrors([]byte("stack_mirrors:\n  faasd: https://git.lab/faasd.git\n  go: file:///srv/go.tgz\n"), "m.yml")
	if err != nil || len(m) != 2 || m["faasd"] != "https://git.lab/faasd.git" || m["go"] != "file:///srv/go.tgz" {
		t.Errorf("%v %v", m, err)
	}
	for _, bad := range []string{"mirrors:\n  a: b\n", "stack_mirrors:\n  a: ''\n", "stack_mirrors: [a]\n"} {
		if _, err := ParseMirrors([]byte(bad), "m.yml"); err == nil || !strings.Contains(err.Error(), "m.yml") {
			t.Errorf("%q: err %v", bad, err)
		}
	}
	if n, u, err := ParseMirrorFlag("faasd=https://x/y?a=b"); err != nil || n != "faasd" || u != "https://x/y?a=b" {
		t.Errorf("%q %q %v", n, u, err)
	}
	for _, bad := range []string{"faasd", "=x", "faasd="} {
		if _, _, err := ParseMirrorFlag(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestDefaultStackVendorable: every component of the embedded stack is
// one Vendor fetches or skips with a reason.
func TestDefaultStackVendorable(t *testing.T) {
	v := &vendorer{}
	for _, c := range system.DefaultStack().Components {
		switch c.SourceKind() {
		case system.SourceGit, system.SourceDownload:
		default:
			e, err := v.component(context.Background(), &c)
			if err != nil || e.Skipped == "" {
				t.Errorf("%s: %+v %v", c.Name, e, err)
			}
		}
	}
}
