package system

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"strings"
)

// Resolution is the value an unpinned component has on a host, as a run's
// manifest records it.
type Resolution struct {
	// Component is the component's name.
	Component string `json:"component"`
	// Item is the image ref for images; "" otherwise.
	Item string `json:"item,omitempty"`
	// Method is the component's unpinned.resolve.
	Method string `json:"method"`
	// Value is what was found: a commit (git-ls-remote), a sha256 hex
	// (sha256), an image digest "sha256:…" (image-digest) or a module
	// version (go-buildinfo); "" when Error is set.
	Value string `json:"value,omitempty"`
	// Error says why there is no value.
	Error string `json:"error,omitempty"`
}

// Resolver finds the values of a stack's unpinned components on a host.
type Resolver struct {
	// Runner runs git and ctr.
	Runner Runner
	// Root is the host's root directory (os.DirFS("/")), for the files
	// that sha256 and go-buildinfo read.
	Root fs.FS
}

// Resolve returns one Resolution per unpinned component (per image ref for
// images), in stack order. A value that cannot be found is a Resolution
// with Error set, not an error: the others are still resolved. Resolve
// returns an error only when ctx ends.
func (r Resolver) Resolve(ctx context.Context, s *Stack) ([]Resolution, error) {
	var out []Resolution
	for i := range s.Components {
		c := &s.Components[i]
		if c.Pinned() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return out, err
		}
		switch c.Unpinned.Resolve {
		case ResolveGitLsRemote:
			out = append(out, r.gitHead(ctx, c))
		case ResolveSHA256:
			out = append(out, r.fileSHA256(c))
		case ResolveGoBuildinfo:
			out = append(out, r.goVersion(c))
		case ResolveImageDigest:
			out = append(out, r.imageDigests(ctx, c)...)
		default:
			out = append(out, Resolution{Component: c.Name, Method: c.Unpinned.Resolve,
				Error: fmt.Sprintf("unknown resolve method %q", c.Unpinned.Resolve)})
		}
	}
	return out, ctx.Err()
}

func (r Resolution) fail(format string, args ...any) Resolution {
	r.Error = fmt.Sprintf(format, args...)
	return r
}

// gitHead runs `git ls-remote REPOSITORY REF` for the branch's head.
func (r Resolver) gitHead(ctx context.Context, c *Component) Resolution {
	res := Resolution{Component: c.Name, Method: ResolveGitLsRemote}
	if c.Git == nil {
		return res.fail("not a git source")
	}
	ref := "refs/heads/" + c.Git.Branch
	if c.Git.Branch == BranchDefault {
		ref = BranchDefault
	}
	out, err := r.Runner.Run(ctx, "git", "ls-remote", c.Git.Repository, ref)
	if err != nil {
		return res.fail("%v", err)
	}
	commit, err := parseLsRemote(out, ref)
	if err != nil {
		return res.fail("git ls-remote %s %s: %v", c.Git.Repository, ref, err)
	}
	res.Value = commit
	return res
}

// parseLsRemote finds ref's commit in `git ls-remote` output (lines of
// "<commit>\t<ref>").
func parseLsRemote(out []byte, ref string) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		commit, name, ok := strings.Cut(sc.Text(), "\t")
		if ok && name == ref {
			if !commitRE.MatchString(commit) {
				return "", fmt.Errorf("%q: expected a 40-hex commit", commit)
			}
			return commit, nil
		}
	}
	return "", fmt.Errorf("no line for %s (the remote has no such branch)", ref)
}

// fileSHA256 hashes the download's file on the host.
func (r Resolver) fileSHA256(c *Component) Resolution {
	res := Resolution{Component: c.Name, Method: ResolveSHA256}
	if c.Download == nil {
		return res.fail("not a download")
	}
	f, err := r.Root.Open(RootRel(c.Download.File))
	if err != nil {
		return res.fail("%s: %v (not downloaded yet?)", c.Download.File, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return res.fail("%s: %v", c.Download.File, err)
	}
	res.Value = hex.EncodeToString(h.Sum(nil))
	return res
}

// goVersion reads the module version Go recorded in the installed binary.
func (r Resolver) goVersion(c *Component) Resolution {
	res := Resolution{Component: c.Name, Method: ResolveGoBuildinfo}
	if len(c.Install) == 0 {
		return res.fail("no install path to read")
	}
	bin := c.Install[0]
	bi, err := ReadBuildInfo(r.Root, bin)
	if err != nil {
		return res.fail("%v", err)
	}
	if bi.Main.Version == "" || bi.Main.Version == "(devel)" {
		return res.fail("%s: Go records no module version (%q): not installed with go install PKG@VERSION", bin, bi.Main.Version)
	}
	res.Value = bi.Main.Version
	return res
}

// ReadBuildInfo reads the Go build information of the binary at the
// absolute host path bin under root.
func ReadBuildInfo(root fs.FS, bin string) (*buildinfo.BuildInfo, error) {
	f, err := root.Open(RootRel(bin))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ra, ok := f.(io.ReaderAt)
	if !ok {
		data, err := io.ReadAll(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", bin, err)
		}
		ra = bytes.NewReader(data)
	}
	bi, err := buildinfo.Read(ra)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	return bi, nil
}

// imageDigests lists the namespace's images once (`ctr --namespace NS
// images ls`) and finds each ref's digest.
func (r Resolver) imageDigests(ctx context.Context, c *Component) []Resolution {
	if c.Images == nil {
		return []Resolution{{Component: c.Name, Method: ResolveImageDigest, Error: "not an images source"}}
	}
	out, err := r.Runner.Run(ctx, "ctr", "--namespace", c.Images.Namespace, "images", "ls")
	var digests map[string]string
	if err == nil {
		digests, err = ParseCtrImages(out)
	}
	res := make([]Resolution, 0, len(c.Images.Refs))
	for _, ref := range c.Images.Refs {
		one := Resolution{Component: c.Name, Item: ref, Method: ResolveImageDigest}
		switch d, ok := digests[ref]; {
		case err != nil:
			one = one.fail("%v", err)
		case !ok:
			one = one.fail("not pulled into containerd namespace %s", c.Images.Namespace)
		default:
			one.Value = d
		}
		res = append(res, one)
	}
	return res
}

// ParseCtrImages reads `ctr images ls` output (a header "REF TYPE DIGEST
// SIZE PLATFORMS LABELS", then one image per line) into ref → digest.
func ParseCtrImages(out []byte) (map[string]string, error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	digests := map[string]string{}
	line := 0
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		if line == 1 && f[0] == "REF" {
			continue
		}
		if len(f) < 3 || !digestRE.MatchString(f[2]) {
			return nil, fmt.Errorf("ctr images ls: line %d: %q: expected REF TYPE DIGEST …", line, sc.Text())
		}
		digests[f[0]] = f[2]
	}
	return digests, sc.Err()
}
