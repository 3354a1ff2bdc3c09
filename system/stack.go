// Package system holds what trenv-bench knows about a real TrEnv host: the
// pinned stack (stack.yaml, embedded; the Ansible playbook reads the same
// file), the command runner every host procedure goes through, and the
// record a prepared host keeps of its checkpoints. Host checks live in
// system/doctor.
//
// It imports only the standard library (and yaml.v3 for stack.yaml).
package system

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed stack.yaml
var stackYAML []byte

// StackYAML returns the embedded stack.yaml's bytes (a copy).
func StackYAML() []byte { return bytes.Clone(stackYAML) }

// StackFile names the embedded stack in errors.
const StackFile = "system/stack.yaml"

// StackSchema is the schema version this package reads.
const StackSchema = 1

// ErrStack is wrapped by every error about a stack file's content.
var ErrStack = errors.New("system: bad stack")

// Source kinds: what a component is fetched as.
const (
	SourceGit       = "git"
	SourceDownload  = "download"
	SourceImages    = "images"
	SourceGoInstall = "go_install"
)

// Resolve methods of an unpinned component: how the host finds the value
// a run records (stack.yaml's schema comment says what each runs).
const (
	ResolveGitLsRemote = "git-ls-remote"
	ResolveImageDigest = "image-digest"
	ResolveSHA256      = "sha256"
	ResolveGoBuildinfo = "go-buildinfo"
)

// ResolveFor is the one resolve method a source kind allows: what an
// unpinned component of that kind records on the host.
func ResolveFor(kind string) string {
	switch kind {
	case SourceGit:
		return ResolveGitLsRemote
	case SourceDownload:
		return ResolveSHA256
	case SourceImages:
		return ResolveImageDigest
	case SourceGoInstall:
		return ResolveGoBuildinfo
	}
	return ""
}

// Unpack values of a download.
const (
	UnpackNone = ""
	UnpackTar  = "tar"
	UnpackZip  = "zip"
)

// BranchDefault as a git branch means the remote's default branch (HEAD).
const BranchDefault = "HEAD"

// JobsPlaceholder in a build argument stands for the number of CPUs.
const JobsPlaceholder = "{jobs}"

// Stack is the pinned TrEnv stack: stack.yaml decoded. Field names are the
// YAML keys (and the JSON keys of `trenv-bench system lock --json`).
type Stack struct {
	// Schema is the file's schema version, StackSchema.
	Schema int `yaml:"schema" json:"schema"`
	// Host is the machine the stack is built on.
	Host Host `yaml:"host" json:"host"`
	// Components in build order, names unique.
	Components []Component `yaml:"components" json:"components"`
}

// Host is the machine upstream documents the stack on.
type Host struct {
	// OS is the distribution, "Ubuntu 22.04".
	OS string `yaml:"os" json:"os"`
	// User every path assumes, "root".
	User string `yaml:"user" json:"user"`
	// Packages are apt packages the host needs at run time.
	Packages []string `yaml:"packages" json:"packages"`
}

// Component is one piece of the stack. Exactly one of Git, Download,
// Images and GoInstall is set; it is pinned by that source's pin field
// (commit, sha256, digests, version) or Unpinned says why not, never both.
type Component struct {
	// Name is unique: lower-case letters, digits and '-'.
	Name string `yaml:"name" json:"name"`
	// Description is one line.
	Description string `yaml:"description" json:"description"`
	// UsedBy lists the runs that need the component on the host at run
	// time: start methods (trenv, cold, criu, lazy, faasnap, reap) or
	// "trenv/cxl", "trenv/rdma" for one of TrEnv's pools. Empty for what
	// only a build needs.
	UsedBy []string `yaml:"used_by" json:"used_by"`

	Git       *Git       `yaml:"git,omitempty" json:"git,omitempty"`
	Download  *Download  `yaml:"download,omitempty" json:"download,omitempty"`
	Images    *Images    `yaml:"images,omitempty" json:"images,omitempty"`
	GoInstall *GoInstall `yaml:"go_install,omitempty" json:"go_install,omitempty"`

	// Unpinned is set when upstream pins nothing for the source.
	Unpinned *Unpinned `yaml:"unpinned,omitempty" json:"unpinned,omitempty"`

	// Packages are apt packages the build needs.
	Packages []string `yaml:"packages,omitempty" json:"packages,omitempty"`
	// Build is the commands run in order, each an argument list (no
	// shell), in the git checkout or the download's directory;
	// JobsPlaceholder stands for the number of CPUs.
	Build [][]string `yaml:"build,omitempty" json:"build,omitempty"`
	// Install lists absolute paths that exist once it is installed.
	Install []string `yaml:"install,omitempty" json:"install,omitempty"`
	// VersionCommand prints the installed version: the pinned commit (or
	// the download's version) appears in its output.
	VersionCommand []string `yaml:"version_command,omitempty" json:"version_command,omitempty"`
	// CheckCommand is the component's own check of the host (criu check):
	// it must exit 0.
	CheckCommand []string `yaml:"check_command,omitempty" json:"check_command,omitempty"`
	// Provides names the command a run puts on PATH from Install[0] when
	// it uses this component ("criu": one of the CRIU variants becomes
	// /usr/local/sbin/criu); "" for none.
	Provides string `yaml:"provides,omitempty" json:"provides,omitempty"`
	// Kernel is set for the kernel only.
	Kernel *Kernel `yaml:"kernel,omitempty" json:"kernel,omitempty"`
	// Notes are free text.
	Notes string `yaml:"notes,omitempty" json:"notes,omitempty"`
}

// Git is a component built from a git repository.
type Git struct {
	// Repository is an https URL.
	Repository string `yaml:"repository" json:"repository"`
	// Branch is the branch upstream uses; BranchDefault for the remote's
	// default branch.
	Branch string `yaml:"branch" json:"branch"`
	// Commit is the pinned commit, 40 lower-case hex digits; "" when the
	// component is unpinned.
	Commit string `yaml:"commit,omitempty" json:"commit,omitempty"`
	// Checkout is the absolute path of the clone on the host.
	Checkout string `yaml:"checkout" json:"checkout"`
}

// Download is a component fetched as one file.
type Download struct {
	// URL is where upstream downloads it (https).
	URL string `yaml:"url" json:"url"`
	// Mirrors are other https URLs of the same file.
	Mirrors []string `yaml:"mirrors,omitempty" json:"mirrors,omitempty"`
	// Version is upstream's name for the release, if it has one.
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
	// File is the absolute path the download is saved as.
	File string `yaml:"file" json:"file"`
	// SHA256 is the pinned checksum of File, 64 lower-case hex digits; ""
	// when the component is unpinned.
	SHA256 string `yaml:"sha256,omitempty" json:"sha256,omitempty"`
	// Unpack is UnpackNone (File is what gets installed), UnpackTar (a
	// gzipped tar) or UnpackZip.
	Unpack string `yaml:"unpack,omitempty" json:"unpack,omitempty"`
	// Into is the absolute directory File is unpacked into; set iff Unpack is.
	Into string `yaml:"into,omitempty" json:"into,omitempty"`
}

// Images are container images pulled into a containerd namespace.
type Images struct {
	// Namespace is containerd's namespace, "openfaas-fn".
	Namespace string `yaml:"namespace" json:"namespace"`
	// Refs are NAME:TAG, or NAME@sha256:DIGEST when pinned (all or none).
	Refs []string `yaml:"refs" json:"refs"`
}

// GoInstall is a command installed with `go install PACKAGE@VERSION`.
type GoInstall struct {
	// Package is the command's import path.
	Package string `yaml:"package" json:"package"`
	// Version is the pinned module version; "" when unpinned.
	Version string `yaml:"version,omitempty" json:"version,omitempty"`
}

// Unpinned says why upstream pins nothing for a component and how the host
// resolves the value a run records.
type Unpinned struct {
	// Reason is why there is no pin.
	Reason string `yaml:"reason" json:"reason"`
	// Resolve is the method: ResolveGitLsRemote for git, ResolveSHA256 for
	// downloads, ResolveImageDigest for images, ResolveGoBuildinfo for
	// go_install.
	Resolve string `yaml:"resolve" json:"resolve"`
}

// Kernel is what the TrEnv kernel must be.
type Kernel struct {
	// Release is what the running kernel's release (uname -r) contains.
	Release string `yaml:"release" json:"release"`
	// Config lists the kernel config options the stack needs.
	Config []KernelOption `yaml:"config" json:"config"`
}

// Wanted values of a kernel config option.
const (
	WantBuiltin = "y"  // =y
	WantModule  = "m"  // =m
	WantEnabled = "ym" // =y or =m
	WantUnset   = "n"  // not set, =n or =""
)

// Sources of a kernel config requirement.
const (
	OptionReadme   = "readme"   // upstream's README requires it
	OptionEstimate = "estimate" // implied by the rest of the stack, unverified
)

// KernelOption is one kernel config requirement.
type KernelOption struct {
	// Option is the symbol with its prefix, "CONFIG_DAX".
	Option string `yaml:"option" json:"option"`
	// Want is WantBuiltin, WantModule, WantEnabled or WantUnset.
	Want string `yaml:"want" json:"want"`
	// Source is OptionReadme or OptionEstimate.
	Source string `yaml:"source" json:"source"`
}

// Satisfied reports whether value, the option's value in a kernel config
// ("y", "m", `"text"`, or "" when the option is not set), is what Want asks.
func (o KernelOption) Satisfied(value string) bool {
	switch o.Want {
	case WantBuiltin:
		return value == "y"
	case WantModule:
		return value == "m"
	case WantEnabled:
		return value == "y" || value == "m"
	case WantUnset:
		return value == "" || value == "n" || value == `""`
	}
	return false
}

// SourceKind is the component's source: SourceGit, SourceDownload,
// SourceImages or SourceGoInstall ("" if none is set).
func (c *Component) SourceKind() string {
	switch {
	case c.Git != nil:
		return SourceGit
	case c.Download != nil:
		return SourceDownload
	case c.Images != nil:
		return SourceImages
	case c.GoInstall != nil:
		return SourceGoInstall
	}
	return ""
}

// Pinned reports whether upstream pins the component (Unpinned is nil).
func (c *Component) Pinned() bool { return c.Unpinned == nil }

// Pin is the component's pin: the commit, sha256, go_install version, or
// the image refs' digests joined by spaces; "" when unpinned.
func (c *Component) Pin() string {
	switch c.SourceKind() {
	case SourceGit:
		return c.Git.Commit
	case SourceDownload:
		return c.Download.SHA256
	case SourceGoInstall:
		return c.GoInstall.Version
	case SourceImages:
		var d []string
		for _, r := range c.Images.Refs {
			if _, digest, ok := strings.Cut(r, "@"); ok {
				d = append(d, digest)
			}
		}
		return strings.Join(d, " ")
	}
	return ""
}

// Ref is the version a pin belongs to: the git branch, the download's
// version, or "" when there is none.
func (c *Component) Ref() string {
	switch c.SourceKind() {
	case SourceGit:
		return c.Git.Branch
	case SourceDownload:
		return c.Download.Version
	}
	return ""
}

// UsedByRun reports whether a run of method (with TrEnv's pool, for trenv)
// needs the component on the host.
func (c *Component) UsedByRun(method, pool string) bool {
	for _, u := range c.UsedBy {
		m, p, hasPool := strings.Cut(u, "/")
		if m == method && (!hasPool || p == pool) {
			return true
		}
	}
	return false
}

// Component returns the named component; false if there is none.
func (s *Stack) Component(name string) (*Component, bool) {
	i := slices.IndexFunc(s.Components, func(c Component) bool { return c.Name == name })
	if i < 0 {
		return nil, false
	}
	return &s.Components[i], true
}

// Kernel returns the component that carries the kernel requirements; false
// if the stack has none.
func (s *Stack) Kernel() (*Component, bool) {
	i := slices.IndexFunc(s.Components, func(c Component) bool { return c.Kernel != nil })
	if i < 0 {
		return nil, false
	}
	return &s.Components[i], true
}

// DefaultStack returns the embedded stack.yaml. It panics if the file is
// invalid, which the package's tests rule out.
func DefaultStack() *Stack {
	s, err := ParseStack(stackYAML, StackFile)
	if err != nil {
		panic(err)
	}
	return s
}

// ParseStack decodes and validates a stack in stack.yaml's format; name
// is the file's name in errors. Unknown keys are refused.
func ParseStack(data []byte, name string) (*Stack, error) {
	var s Stack
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w: %w", name, ErrStack, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &s, nil
}

var (
	nameRE    = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	commitRE  = regexp.MustCompile(`^[0-9a-f]{40}$`)
	sha256RE  = regexp.MustCompile(`^[0-9a-f]{64}$`)
	optionRE  = regexp.MustCompile(`^CONFIG_[A-Z0-9_]+$`)
	usedByRE  = regexp.MustCompile(`^[a-z]+(/[a-z]+)?$`)
	packageRE = regexp.MustCompile(`^[a-z0-9][a-z0-9.+-]*$`)
	digestRE  = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)
	// shellRE catches build arguments written for a shell, which the
	// harness and the playbook never use.
	shellRE = regexp.MustCompile("&&|\\|\\||[|;<>`]|\\$\\(|\\$\\{")
)

// Validate checks the stack: schema version, unique names, one source per
// component, pinned XOR unpinned with the resolve method of its source,
// https URLs, absolute clean paths, 40-hex commits, 64-hex sha256s, build
// commands as argument lists without shell syntax. Errors wrap ErrStack
// and name the component and field.
func (s *Stack) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrStack}, args...)...)
	}
	if s.Schema != StackSchema {
		return bad("schema %d: expected %d", s.Schema, StackSchema)
	}
	if s.Host.OS == "" || s.Host.User == "" {
		return bad("host: os and user are required")
	}
	for _, p := range s.Host.Packages {
		if !packageRE.MatchString(p) {
			return bad("host.packages: %q: expected an apt package name", p)
		}
	}
	if len(s.Components) == 0 {
		return bad("components: none")
	}
	seen := map[string]bool{}
	kernels := 0
	for i := range s.Components {
		c := &s.Components[i]
		if !nameRE.MatchString(c.Name) {
			return bad("component %d: name %q: expected lower-case letters, digits and '-'", i+1, c.Name)
		}
		if seen[c.Name] {
			return bad("component %q listed twice", c.Name)
		}
		seen[c.Name] = true
		if err := c.validate(); err != nil {
			return bad("component %q: %w", c.Name, err)
		}
		if c.Kernel != nil {
			kernels++
		}
	}
	if kernels > 1 {
		return bad("%d components carry kernel requirements: expected at most one", kernels)
	}
	return nil
}

func (c *Component) validate() error {
	if strings.TrimSpace(c.Description) == "" {
		return errors.New("description: empty")
	}
	for _, u := range c.UsedBy {
		if !usedByRE.MatchString(u) {
			return fmt.Errorf("used_by %q: expected a start method, or method/pool", u)
		}
	}
	n := 0
	for _, set := range []bool{c.Git != nil, c.Download != nil, c.Images != nil, c.GoInstall != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%d sources: expected exactly one of git, download, images, go_install", n)
	}
	kind := c.SourceKind()
	if err := c.validateSource(); err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	switch pin := c.Pin(); {
	case c.Unpinned == nil && pin == "":
		return fmt.Errorf("neither pinned (%s) nor unpinned: expected one of them", pinField(kind))
	case c.Unpinned != nil && pin != "":
		return fmt.Errorf("both pinned (%s %s) and unpinned: expected one of them", pinField(kind), pin)
	case c.Unpinned != nil:
		if strings.TrimSpace(c.Unpinned.Reason) == "" {
			return errors.New("unpinned.reason: empty: say why upstream pins nothing")
		}
		if want := ResolveFor(kind); c.Unpinned.Resolve != want {
			return fmt.Errorf("unpinned.resolve %q: expected %q for a %s source", c.Unpinned.Resolve, want, kind)
		}
	}
	for _, p := range c.Packages {
		if !packageRE.MatchString(p) {
			return fmt.Errorf("packages: %q: expected an apt package name", p)
		}
	}
	for i, argv := range c.Build {
		if err := checkArgv(argv); err != nil {
			return fmt.Errorf("build step %d: %w", i+1, err)
		}
	}
	if len(c.Build) > 0 && len(c.Install) == 0 {
		return errors.New("install: empty, but the component has build steps: expected what they install")
	}
	for _, p := range c.Install {
		if err := checkPath(p); err != nil {
			return fmt.Errorf("install: %w", err)
		}
	}
	if c.VersionCommand != nil {
		if err := checkArgv(c.VersionCommand); err != nil {
			return fmt.Errorf("version_command: %w", err)
		}
	}
	if c.CheckCommand != nil {
		if err := checkArgv(c.CheckCommand); err != nil {
			return fmt.Errorf("check_command: %w", err)
		}
	}
	if c.Provides != "" {
		if !nameRE.MatchString(c.Provides) || len(c.Install) == 0 {
			return fmt.Errorf("provides %q: expected a command name, and install naming its binary first", c.Provides)
		}
	}
	if c.Kernel != nil {
		if err := c.Kernel.validate(); err != nil {
			return fmt.Errorf("kernel: %w", err)
		}
	}
	return nil
}

func pinField(kind string) string {
	switch kind {
	case SourceGit:
		return "git.commit"
	case SourceDownload:
		return "download.sha256"
	case SourceImages:
		return "images.refs digests"
	case SourceGoInstall:
		return "go_install.version"
	}
	return kind
}

func (c *Component) validateSource() error {
	switch {
	case c.Git != nil:
		g := c.Git
		if err := checkURL(g.Repository); err != nil {
			return fmt.Errorf("repository: %w", err)
		}
		if g.Branch == "" || strings.ContainsAny(g.Branch, " \t~^:?*[\\") {
			return fmt.Errorf("branch %q: expected a branch name, or %s for the default branch", g.Branch, BranchDefault)
		}
		if g.Commit != "" && !commitRE.MatchString(g.Commit) {
			return fmt.Errorf("commit %q: expected 40 lower-case hex digits", g.Commit)
		}
		if err := checkPath(g.Checkout); err != nil {
			return fmt.Errorf("checkout: %w", err)
		}
	case c.Download != nil:
		d := c.Download
		if err := checkURL(d.URL); err != nil {
			return fmt.Errorf("url: %w", err)
		}
		for _, m := range d.Mirrors {
			if err := checkURL(m); err != nil {
				return fmt.Errorf("mirrors: %w", err)
			}
		}
		if err := checkPath(d.File); err != nil {
			return fmt.Errorf("file: %w", err)
		}
		if d.SHA256 != "" && !sha256RE.MatchString(d.SHA256) {
			return fmt.Errorf("sha256 %q: expected 64 lower-case hex digits", d.SHA256)
		}
		switch d.Unpack {
		case UnpackNone:
			if d.Into != "" {
				return fmt.Errorf("into %q without unpack: expected unpack tar or zip", d.Into)
			}
		case UnpackTar, UnpackZip:
			if err := checkPath(d.Into); err != nil {
				return fmt.Errorf("into: %w", err)
			}
		default:
			return fmt.Errorf("unpack %q: expected \"\", %q or %q", d.Unpack, UnpackTar, UnpackZip)
		}
	case c.Images != nil:
		im := c.Images
		if !nameRE.MatchString(im.Namespace) {
			return fmt.Errorf("namespace %q: expected a containerd namespace", im.Namespace)
		}
		if len(im.Refs) == 0 {
			return errors.New("refs: none")
		}
		digests := 0
		for _, r := range im.Refs {
			name, digest, pinned := strings.Cut(r, "@")
			if pinned {
				digests++
				if !digestRE.MatchString(digest) {
					return fmt.Errorf("ref %q: digest %q: expected sha256: and 64 lower-case hex digits", r, digest)
				}
			}
			if name == "" || strings.ContainsAny(name, " \t") || !strings.Contains(name, "/") {
				return fmt.Errorf("ref %q: expected REGISTRY/NAME:TAG", r)
			}
			if imageName(r) == "" {
				return fmt.Errorf("ref %q: expected a name after the last '/'", r)
			}
		}
		if digests != 0 && digests != len(im.Refs) {
			return fmt.Errorf("%d of %d refs carry a digest: expected all (pinned) or none (unpinned)", digests, len(im.Refs))
		}
	case c.GoInstall != nil:
		if c.GoInstall.Package == "" || strings.ContainsAny(c.GoInstall.Package, " @") {
			return fmt.Errorf("package %q: expected an import path without @version", c.GoInstall.Package)
		}
	}
	return nil
}

func (k *Kernel) validate() error {
	if k.Release == "" {
		return errors.New("release: empty")
	}
	seen := map[string]bool{}
	for _, o := range k.Config {
		if !optionRE.MatchString(o.Option) {
			return fmt.Errorf("config option %q: expected CONFIG_ and upper-case letters, digits, '_'", o.Option)
		}
		if seen[o.Option] {
			return fmt.Errorf("config option %s listed twice", o.Option)
		}
		seen[o.Option] = true
		switch o.Want {
		case WantBuiltin, WantModule, WantEnabled, WantUnset:
		default:
			return fmt.Errorf("config option %s: want %q: expected y, m, ym or n", o.Option, o.Want)
		}
		switch o.Source {
		case OptionReadme, OptionEstimate:
		default:
			return fmt.Errorf("config option %s: source %q: expected readme or estimate", o.Option, o.Source)
		}
	}
	return nil
}

// ImageNames are the names of the refs without registry, owner, tag or
// digest ("docker.io/jialianghuang/pyaes:latest" → "pyaes"): the functions'
// lambda names.
func (im *Images) ImageNames() []string {
	names := make([]string, 0, len(im.Refs))
	for _, r := range im.Refs {
		names = append(names, imageName(r))
	}
	return names
}

func imageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	base := path.Base(ref)
	if i := strings.LastIndex(base, ":"); i >= 0 {
		base = base[:i]
	}
	if base == "." || base == "/" {
		return ""
	}
	return base
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Errorf("%q: %w", s, err)
	case u.Scheme != "https":
		return fmt.Errorf("%q: expected an https URL", s)
	case u.Host == "" || u.User != nil:
		return fmt.Errorf("%q: expected a host and no user", s)
	}
	return nil
}

func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case !path.IsAbs(p):
		return fmt.Errorf("%q: expected an absolute path", p)
	case path.Clean(p) != p:
		return fmt.Errorf("%q: expected a clean path (%q)", p, path.Clean(p))
	}
	return nil
}

func checkArgv(argv []string) error {
	if len(argv) == 0 || argv[0] == "" {
		return errors.New("empty command: expected an argument list")
	}
	for _, a := range argv {
		if shellRE.MatchString(a) {
			return fmt.Errorf("argument %q: shell syntax; expected a plain argument list", a)
		}
	}
	return nil
}

// Providers returns the components that provide command (see
// Component.Provides), in stack order.
func (s *Stack) Providers(command string) []*Component {
	var out []*Component
	for i := range s.Components {
		if s.Components[i].Provides == command {
			out = append(out, &s.Components[i])
		}
	}
	return out
}

// ExpandJobs returns argv with JobsPlaceholder replaced by jobs.
func ExpandJobs(argv []string, jobs int) []string {
	out := slices.Clone(argv)
	for i, a := range out {
		out[i] = strings.ReplaceAll(a, JobsPlaceholder, fmt.Sprint(jobs))
	}
	return out
}
