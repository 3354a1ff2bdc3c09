// Package vendor fetches the pinned TrEnv stack (system/stack.yaml) into
// one bundle directory with a manifest, so a lab can carry the whole stack
// to a testbed that reaches no upstream: `trenv-bench system vendor`, and
// the Ansible playbook's stack_bundle.
//
// Git components are fetched at their commit into a bare repository each
// (git through os/exec with argument lists), downloads are checked against
// their sha256 or hashed and recorded when upstream gives none, and every
// component's location can be overridden (mirrors). The bundle is built
// in a temporary directory beside the destination and renamed into place
// only when complete: a failure or an interrupt leaves nothing behind.
package vendor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"trenv-bench/system"
)

// ManifestFile is the manifest's name inside a bundle.
const ManifestFile = "manifest.json"

// ManifestSchema is the manifest format's version.
const ManifestSchema = 1

// Directories of a bundle: one bare repository per git component, one
// directory per download.
const (
	GitDir   = "git"
	FilesDir = "files"
)

// BundleBranch names the branch a bundle's repository holds for a
// component whose stack branch is the remote's default (HEAD).
const BundleBranch = "default"

// Manifest is a bundle's manifest.json: what was fetched, from where, at
// which commit or checksum, and where it is in the bundle.
type Manifest struct {
	// Schema is ManifestSchema.
	Schema int `json:"schema"`
	// Created is when the bundle was completed (RFC 3339, UTC).
	Created string `json:"created"`
	// StackSHA256 is the sha256 of the stack file the bundle was made from.
	StackSHA256 string `json:"stack_sha256"`
	// Components are the stack's components in stack order (those asked
	// for, with --only).
	Components []Entry `json:"components"`
}

// Entry is one component in a bundle.
type Entry struct {
	// Component is the stack component's name.
	Component string `json:"component"`
	// Kind is the component's source kind (system.SourceGit, …).
	Kind string `json:"kind"`
	// Source is where it was fetched from: the repository or URL, a
	// mirror's if one was used.
	Source string `json:"source,omitempty"`
	// Branch is the bundle repository's branch holding Commit (git).
	Branch string `json:"branch,omitempty"`
	// Commit is the commit fetched (git).
	Commit string `json:"commit,omitempty"`
	// SHA256 is the file's checksum (download).
	SHA256 string `json:"sha256,omitempty"`
	// Size is the file's size in bytes (download).
	Size int64 `json:"size,omitempty"`
	// Pinned tells whether Commit or SHA256 is stack.yaml's pin (true) or
	// was resolved while vendoring an unpinned component (false).
	Pinned bool `json:"pinned"`
	// Path is the repository or file, relative to the bundle.
	Path string `json:"path,omitempty"`
	// Skipped says why a component is not in the bundle (images and
	// go_install sources); its other fields are then empty.
	Skipped string `json:"skipped,omitempty"`
}

// Options are the inputs of Vendor.
type Options struct {
	// Stack is the stack to vendor; StackData is its file's bytes, hashed
	// into the manifest.
	Stack     *system.Stack
	StackData []byte
	// Dir is the bundle directory to create. It must not exist, or be an
	// empty directory.
	Dir string
	// Mirrors maps a component's name to the location used instead of its
	// stack source: a git repository (URL or path) for git, an http(s) or
	// file URL for a download.
	Mirrors map[string]string
	// Only lists the components to vendor; empty = all.
	Only []string
	// Depth is the history fetched with each commit (git fetch --depth);
	// 0 fetches the full history.
	Depth int
	// Git runs git; nil = system.ExecRunner{}.
	Git system.Runner
	// HTTP fetches downloads; nil = a client that also reads file:// URLs.
	HTTP *http.Client
	// Progress, if set, is told of each step and of download bytes.
	Progress func(Event)
	// Now is the clock for Manifest.Created; nil = time.Now.
	Now func() time.Time
}

// Event is one step of Vendor's progress.
type Event struct {
	// Index counts the components from 1 to Total.
	Index, Total int
	// Component is the component's name.
	Component string
	// Step says what is being done ("fetching …", "skipped: …", "done").
	Step string
	// Done and Size count a download's bytes (Size -1 when unknown); both
	// 0 for other steps.
	Done, Size int64
}

// ErrExists is returned when the bundle directory exists and is not empty.
var ErrExists = errors.New("vendor: the bundle directory exists and is not empty")

// Vendor fetches the stack's components into a new bundle at o.Dir and
// returns its manifest. On an error, or when ctx ends, nothing is left at
// o.Dir nor beside it.
func Vendor(ctx context.Context, o Options) (*Manifest, error) {
	if o.Stack == nil {
		return nil, errors.New("vendor: no stack")
	}
	comps, err := selectComponents(o.Stack, o.Only)
	if err != nil {
		return nil, err
	}
	for name := range o.Mirrors {
		if _, ok := o.Stack.Component(name); !ok {
			return nil, fmt.Errorf("vendor: mirror for %q: no such component in the stack", name)
		}
	}
	if o.Depth < 0 {
		return nil, fmt.Errorf("vendor: depth %d: expected 0 (full history) or more", o.Depth)
	}
	if o.Git == nil {
		o.Git = system.ExecRunner{}
	}
	if o.HTTP == nil {
		o.HTTP = DefaultClient()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	dir := filepath.Clean(o.Dir)
	if err := checkDest(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return nil, fmt.Errorf("vendor: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "."+filepath.Base(dir)+".partial-")
	if err != nil {
		return nil, fmt.Errorf("vendor: %w", err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, fmt.Errorf("vendor: %w", err)
	}
	sum := sha256.Sum256(o.StackData)
	m := &Manifest{Schema: ManifestSchema, StackSHA256: hex.EncodeToString(sum[:])}
	v := &vendorer{o: o, tmp: tmp}
	for i, c := range comps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("vendor: %w", err)
		}
		v.index, v.total = i+1, len(comps)
		e, err := v.component(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("vendor: %s: %w", c.Name, err)
		}
		m.Components = append(m.Components, e)
		if e.Skipped != "" {
			v.say(c.Name, "skipped: "+e.Skipped)
		} else {
			v.say(c.Name, "done: "+e.Path)
		}
	}
	m.Created = o.Now().UTC().Format(time.RFC3339)
	if err := writeManifest(filepath.Join(tmp, ManifestFile), m); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("vendor: %w", err)
	}
	// An empty directory at dir (checked above) gives way to the bundle.
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("vendor: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return nil, fmt.Errorf("vendor: %w", err)
	}
	done = true
	return m, nil
}

// checkDest refuses a destination that exists and is not an empty
// directory.
func checkDest(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("vendor: %s: %w", dir, err)
	case len(entries) > 0:
		return fmt.Errorf("%w: %s", ErrExists, dir)
	}
	return nil
}

func selectComponents(s *system.Stack, only []string) ([]*system.Component, error) {
	for _, name := range only {
		if _, ok := s.Component(name); !ok {
			return nil, fmt.Errorf("vendor: --only %q: no such component in the stack", name)
		}
	}
	var out []*system.Component
	for i := range s.Components {
		c := &s.Components[i]
		if len(only) == 0 || slices.Contains(only, c.Name) {
			out = append(out, c)
		}
	}
	return out, nil
}

type vendorer struct {
	o            Options
	tmp          string
	index, total int
}

func (v *vendorer) say(component, step string) {
	if v.o.Progress != nil {
		v.o.Progress(Event{Index: v.index, Total: v.total, Component: component, Step: step})
	}
}

func (v *vendorer) component(ctx context.Context, c *system.Component) (Entry, error) {
	e := Entry{Component: c.Name, Kind: c.SourceKind(), Pinned: c.Pinned()}
	switch e.Kind {
	case system.SourceGit:
		return v.git(ctx, c, e)
	case system.SourceDownload:
		return v.download(ctx, c, e)
	case system.SourceImages:
		e.Pinned = false
		e.Skipped = "container images are pulled by containerd into namespace " + c.Images.Namespace +
			" (system prepare); carry them with `ctr images export` from a connected host"
		return e, nil
	case system.SourceGoInstall:
		e.Pinned = false
		e.Skipped = "go install fetches " + c.GoInstall.Package + " through the Go module proxy; an air-gapped host needs a GOPROXY mirror or a prebuilt binary"
		return e, nil
	}
	return e, fmt.Errorf("source kind %q: not vendored", e.Kind)
}

// git fetches the component's commit (resolving the branch head first when
// it is unpinned) into a bare repository of its own.
func (v *vendorer) git(ctx context.Context, c *system.Component, e Entry) (Entry, error) {
	src := c.Git.Repository
	if m, ok := v.o.Mirrors[c.Name]; ok {
		src = m
	}
	e.Source = src
	e.Branch = c.Git.Branch
	if e.Branch == system.BranchDefault {
		e.Branch = BundleBranch
	}
	e.Commit = c.Git.Commit
	if !c.Pinned() {
		v.say(c.Name, "resolving "+c.Git.Branch+" of "+src)
		one := *c
		g := *c.Git
		g.Repository = src
		one.Git = &g
		res, err := system.Resolver{Runner: v.o.Git}.Resolve(ctx, &system.Stack{Components: []system.Component{one}})
		if err != nil {
			return e, err
		}
		if len(res) != 1 || res[0].Error != "" {
			return e, fmt.Errorf("resolving the head of %s: %s", src, res[0].Error)
		}
		e.Commit = res[0].Value
	}
	e.Path = path.Join(GitDir, c.Name+".git")
	repo := filepath.Join(v.tmp, filepath.FromSlash(e.Path))
	if err := os.MkdirAll(filepath.Dir(repo), 0o755); err != nil {
		return e, err
	}
	git := func(args ...string) error {
		_, err := v.o.Git.Run(ctx, "git", append([]string{"-C", repo}, args...)...)
		return err
	}
	if _, err := v.o.Git.Run(ctx, "git", "init", "--quiet", "--bare", repo); err != nil {
		return e, err
	}
	depth := []string{}
	if v.o.Depth > 0 {
		depth = []string{"--depth", fmt.Sprint(v.o.Depth)}
	}
	v.say(c.Name, "fetching "+short(e.Commit)+" from "+src)
	fetch := append(append([]string{"fetch", "--quiet", "--no-tags"}, depth...), src, e.Commit)
	if err := git(fetch...); err != nil {
		// A server that refuses a fetch by commit: fetch the branch and
		// find the commit in it.
		if ctx.Err() != nil {
			return e, err
		}
		ref := "refs/heads/" + c.Git.Branch
		if c.Git.Branch == system.BranchDefault {
			ref = system.BranchDefault
		}
		v.say(c.Name, "fetching "+c.Git.Branch+" from "+src+" (the server refused the commit: "+err.Error()+")")
		if err2 := git("fetch", "--quiet", "--no-tags", src, ref); err2 != nil {
			return e, fmt.Errorf("fetching commit %s: %w; fetching %s: %w", e.Commit, err, ref, err2)
		}
	}
	if err := git("rev-parse", "--quiet", "--verify", e.Commit+"^{commit}"); err != nil {
		return e, fmt.Errorf("commit %s is not in %s (branch %s): %w", e.Commit, src, c.Git.Branch, err)
	}
	if err := git("update-ref", "refs/heads/"+e.Branch, e.Commit); err != nil {
		return e, err
	}
	if err := git("symbolic-ref", "HEAD", "refs/heads/"+e.Branch); err != nil {
		return e, err
	}
	// FETCH_HEAD names the source; the bundle is self-contained without it.
	if err := os.Remove(filepath.Join(repo, "FETCH_HEAD")); err != nil && !errors.Is(err, os.ErrNotExist) {
		return e, err
	}
	return e, nil
}

// download fetches the file from the mirror given for it, or from the
// stack's URL and then its mirrors, the first that answers with the
// pinned checksum.
func (v *vendorer) download(ctx context.Context, c *system.Component, e Entry) (Entry, error) {
	d := c.Download
	sources := append([]string{d.URL}, d.Mirrors...)
	if m, ok := v.o.Mirrors[c.Name]; ok {
		sources = []string{m}
	}
	e.Path = path.Join(FilesDir, c.Name, path.Base(d.File))
	file := filepath.Join(v.tmp, filepath.FromSlash(e.Path))
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return e, err
	}
	var errs []error
	for _, src := range sources {
		v.say(c.Name, "downloading "+src)
		sum, n, err := v.fetch(ctx, c.Name, src, file)
		if err == nil && d.SHA256 != "" && sum != d.SHA256 {
			err = fmt.Errorf("sha256 %s, stack.yaml pins %s", sum, d.SHA256)
		}
		if err == nil {
			e.Source, e.SHA256, e.Size = src, sum, n
			return e, nil
		}
		if ctx.Err() != nil {
			return e, err
		}
		errs = append(errs, fmt.Errorf("%s: %w", src, err))
	}
	os.Remove(file)
	return e, errors.Join(errs...)
}

// fetch saves url's body as file, hashing it on the way.
func (v *vendorer) fetch(ctx context.Context, component, url, file string) (string, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", 0, err
	}
	resp, err := v.o.HTTP.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("HTTP %s", resp.Status)
	}
	f, err := os.OpenFile(file, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return "", 0, err
	}
	h := sha256.New()
	pw := &progressWriter{v: v, component: component, size: resp.ContentLength}
	n, err := io.Copy(io.MultiWriter(f, h, pw), resp.Body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", n, err
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return "", n, fmt.Errorf("%d of %d bytes", n, resp.ContentLength)
	}
	if v.o.Progress != nil {
		v.o.Progress(Event{Index: v.index, Total: v.total, Component: component, Step: "downloaded", Done: n, Size: n})
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// progressWriter reports a download's bytes at most every 100 ms.
type progressWriter struct {
	v         *vendorer
	component string
	size      int64
	done      int64
	last      time.Time
}

func (p *progressWriter) Write(b []byte) (int, error) {
	p.done += int64(len(b))
	if p.v.o.Progress != nil && (time.Since(p.last) >= 100*time.Millisecond || p.done == p.size) {
		p.last = time.Now()
		p.v.o.Progress(Event{Index: p.v.index, Total: p.v.total, Component: p.component, Step: "downloading", Done: p.done, Size: p.size})
	}
	return len(b), nil
}

// DefaultClient is an HTTP client that also reads file:// URLs (a mirror
// on a local disk).
func DefaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.RegisterProtocol("file", http.NewFileTransport(http.Dir("/")))
	return &http.Client{Transport: t}
}

func writeManifest(file string, m *Manifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("vendor: manifest: %w", err)
	}
	if err := os.WriteFile(file, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("vendor: %w", err)
	}
	return nil
}

// ReadManifest reads and checks the manifest of the bundle at dir: its
// schema, and that every entry's path exists in the bundle.
func ReadManifest(dir string) (*Manifest, error) {
	file := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("vendor: %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("vendor: %s: %w", file, err)
	}
	if m.Schema != ManifestSchema {
		return nil, fmt.Errorf("vendor: %s: schema %d: expected %d", file, m.Schema, ManifestSchema)
	}
	for _, e := range m.Components {
		if e.Skipped != "" {
			continue
		}
		if e.Path == "" || !filepath.IsLocal(filepath.FromSlash(e.Path)) {
			return nil, fmt.Errorf("vendor: %s: %s: path %q: expected a path inside the bundle", file, e.Component, e.Path)
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(e.Path))); err != nil {
			return nil, fmt.Errorf("vendor: %s: %s: %w", file, e.Component, err)
		}
	}
	return &m, nil
}

// Entry returns the manifest's entry for a component; false if none.
func (m *Manifest) Entry(component string) (Entry, bool) {
	i := slices.IndexFunc(m.Components, func(e Entry) bool { return e.Component == component })
	if i < 0 {
		return Entry{}, false
	}
	return m.Components[i], true
}

func short(commit string) string {
	if len(commit) > 12 {
		return commit[:12]
	}
	return commit
}
