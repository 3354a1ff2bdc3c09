package system

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// fakeRunner answers commands from a table keyed by the command line.
type fakeRunner map[string]string

func (f fakeRunner) Run(_ context.Context, name string, args ...string) ([]byte, error) {
	out, ok := f[CommandLine(name, args...)]
	if !ok {
		return nil, &CmdError{Name: name, Args: args, ExitCode: -1, Err: exec.ErrNotFound}
	}
	return []byte(out), nil
}

// ctrImages is `ctr images ls` output as containerd 1.6 prints it.
const ctrImages = `REF                                              TYPE                                                 DIGEST                                                                  SIZE      PLATFORMS   LABELS
docker.io/jialianghuang/pyaes:latest             application/vnd.docker.distribution.manifest.v2+json sha256:1111111111111111111111111111111111111111111111111111111111111111 312.5 MiB linux/amd64 -
docker.io/jialianghuang/h-hello-world:latest     application/vnd.docker.distribution.manifest.v2+json sha256:2222222222222222222222222222222222222222222222222222222222222222 301.0 MiB linux/amd64 -
`

func unpinnedStack(repo string) *Stack {
	return &Stack{Components: []Component{
		{Name: "runc", Git: &Git{Repository: repo, Branch: "switch", Commit: strings.Repeat("a", 40)}},
		{Name: "kernel", Git: &Git{Repository: repo, Branch: BranchDefault}, Unpinned: &Unpinned{Reason: "r", Resolve: ResolveGitLsRemote}},
		{Name: "linux-switch", Git: &Git{Repository: repo, Branch: "switch"}, Unpinned: &Unpinned{Reason: "r", Resolve: ResolveGitLsRemote}},
		{Name: "gone", Git: &Git{Repository: repo, Branch: "no-such-branch"}, Unpinned: &Unpinned{Reason: "r", Resolve: ResolveGitLsRemote}},
	}}
}

// TestResolveGitLsRemote resolves branch heads of a local repository with
// the real git: the default branch (HEAD) and a named one; a missing
// branch is an error in its Resolution, not a failure of Resolve.
func TestLockResolveGitLsRemote(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	// Neither the user's nor the system's git configuration takes part.
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	dir := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "init.defaultBranch=switch"}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	if err := os.WriteFile(filepath.Join(dir, "pseudo_mm.c"), []byte("// mm-templates\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "-q", "-m", "pseudo_mm")
	head := git("rev-parse", "HEAD")

	res, err := Resolver{Runner: ExecRunner{}}.Resolve(context.Background(), unpinnedStack("file://"+dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d resolutions: %+v (pinned runc must be skipped)", len(res), res)
	}
	for _, r := range res[:2] {
		if r.Value != head || r.Error != "" || r.Method != ResolveGitLsRemote {
			t.Errorf("%s: %+v, want %s", r.Component, r, head)
		}
	}
	if res[2].Value != "" || !strings.Contains(res[2].Error, "no such branch") {
		t.Errorf("missing branch: %+v", res[2])
	}
}

// TestResolveImagesAndFiles: image digests come from one `ctr images ls`;
// a ref not pulled, a file not downloaded and a binary without Go build
// info each say why they have no value.
func TestLockResolveImagesAndFiles(t *testing.T) {
	pkgs := []byte("pkgs.tar.gz content")
	sum := sha256.Sum256(pkgs)
	root := fstest.MapFS{
		"root/downloads/pkgs.tar.gz": {Data: pkgs},
		"root/go/bin/swagger":        {Data: []byte("#!/bin/sh\n")},
	}
	st := &Stack{Components: []Component{
		{Name: "images", Images: &Images{Namespace: "openfaas-fn", Refs: []string{"docker.io/jialianghuang/pyaes:latest", "docker.io/jialianghuang/crypto:latest"}},
			Unpinned: &Unpinned{Reason: "r", Resolve: ResolveImageDigest}},
		{Name: "pkgs", Download: &Download{File: "/root/downloads/pkgs.tar.gz"}, Unpinned: &Unpinned{Reason: "r", Resolve: ResolveSHA256}},
		{Name: "vmlinux", Download: &Download{File: "/root/faasnap/vmlinux"}, Unpinned: &Unpinned{Reason: "r", Resolve: ResolveSHA256}},
		{Name: "go-swagger", GoInstall: &GoInstall{Package: "github.com/go-swagger/go-swagger/cmd/swagger"}, Install: []string{"/root/go/bin/swagger"},
			Unpinned: &Unpinned{Reason: "r", Resolve: ResolveGoBuildinfo}},
	}}
	runner := fakeRunner{"ctr --namespace openfaas-fn images ls": ctrImages}
	res, err := Resolver{Runner: runner, Root: root}.Resolve(context.Background(), st)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ item, value, err string }{
		{"docker.io/jialianghuang/pyaes:latest", "sha256:" + strings.Repeat("1", 64), ""},
		{"docker.io/jialianghuang/crypto:latest", "", "not pulled into containerd namespace openfaas-fn"},
		{"", hex.EncodeToString(sum[:]), ""},
		{"", "", "not downloaded yet"},
		{"", "", "/root/go/bin/swagger"},
	}
	if len(res) != len(want) {
		t.Fatalf("%d resolutions: %+v", len(res), res)
	}
	for i, w := range want {
		r := res[i]
		if r.Item != w.item || r.Value != w.value || (w.err == "") != (r.Error == "") || !strings.Contains(r.Error, w.err) {
			t.Errorf("%d %s: %+v, want %+v", i, r.Component, r, w)
		}
	}

	// containerd not answering: every ref says so.
	res, _ = Resolver{Runner: fakeRunner{}, Root: root}.Resolve(context.Background(), &Stack{Components: st.Components[:1]})
	for _, r := range res {
		if !strings.Contains(r.Error, "ctr") {
			t.Errorf("%s: %+v, want ctr's error", r.Item, r)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Resolver{Runner: runner, Root: root}).Resolve(ctx, st); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: err %v", err)
	}
}

// TestResolveGoBuildinfoOfTestBinary: Go build info is read from a real Go
// binary (this test's own); a binary built from a checkout records no
// module version, which is said, not guessed.
func TestLockResolveGoBuildinfoOfTestBinary(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bi, err := ReadBuildInfo(os.DirFS("/"), exe)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(bi.GoVersion, "go1.") {
		t.Errorf("GoVersion %q", bi.GoVersion)
	}
	st := &Stack{Components: []Component{{Name: "self", GoInstall: &GoInstall{Package: "x"}, Install: []string{exe}, Unpinned: &Unpinned{Reason: "r", Resolve: ResolveGoBuildinfo}}}}
	res, _ := Resolver{Root: os.DirFS("/")}.Resolve(context.Background(), st)
	if len(res) != 1 || (res[0].Value == "" && !strings.Contains(res[0].Error, "records no module version")) {
		t.Errorf("%+v", res)
	}
}

func TestLockParseCtrImages(t *testing.T) {
	d, err := ParseCtrImages([]byte(ctrImages))
	if err != nil || len(d) != 2 || d["docker.io/jialianghuang/h-hello-world:latest"] != "sha256:"+strings.Repeat("2", 64) {
		t.Fatalf("%v %v", d, err)
	}
	if _, err := ParseCtrImages([]byte("REF TYPE DIGEST\npyaes oops\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("bad line: %v", err)
	}
}
