package doctor

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"path"
	"regexp"
	"strings"

	"trenv-bench/system"
)

// ContainerdSocket is containerd's socket; doctor asks containerd about
// images only when it answers there.
const ContainerdSocket = "/run/containerd/containerd.sock"

// usedByScope reports whether any run of the scope needs c.
func (e *env) usedByScope(c *system.Component) bool {
	for _, m := range e.sc.Methods {
		if c.UsedByRun(m, e.sc.Pool) {
			return true
		}
	}
	return false
}

// checkComponents checks every component the scope's runs need, except
// the kernel (kernel.*): installed, and at its pin.
func (e *env) checkComponents() []Check {
	var out []Check
	for i := range e.st.Components {
		c := &e.st.Components[i]
		if c.Kernel != nil || !e.usedByScope(c) {
			continue
		}
		res := result("stack."+c.Name, c.Description, true)
		if c.Images != nil {
			out = append(out, e.checkImages(c, res))
			continue
		}
		out = append(out, e.checkInstalled(c, res))
	}
	return out
}

// installRemedy says how to install c as stack.yaml describes it, with
// the host's CPU count for the build's jobs.
func (e *env) installRemedy(c *system.Component) string {
	jobs := 1
	if b, err := e.read("/proc/cpuinfo"); err == nil {
		jobs = max(ParseCPUInfo(b).Processors, 1)
	}
	var steps []string
	for _, argv := range c.Build {
		argv = system.ExpandJobs(argv, jobs)
		steps = append(steps, system.CommandLine(argv[0], argv[1:]...))
	}
	build := ""
	if len(steps) > 0 {
		build = ", then " + strings.Join(steps, "; ")
	}
	switch c.SourceKind() {
	case system.SourceGit:
		commit := c.Git.Commit
		if len(commit) > system.ShortCommit {
			commit = commit[:system.ShortCommit]
		}
		if commit == "" {
			commit = "the head of " + c.Git.Branch
		}
		return fmt.Sprintf("clone %s at %s into %s%s (stack.yaml: %s)", c.Git.Repository, commit, c.Git.Checkout, build, c.Name)
	case system.SourceDownload:
		d := c.Download
		to := d.File
		if d.Unpack != system.UnpackNone {
			to += " and unpack it into " + d.Into
		}
		return fmt.Sprintf("download %s to %s%s (stack.yaml: %s)", d.URL, to, build, c.Name)
	case system.SourceGoInstall:
		return fmt.Sprintf("go install %s@latest (stack.yaml: %s)", c.GoInstall.Package, c.Name)
	}
	return "install it as stack.yaml's " + c.Name + " says"
}

func (e *env) checkInstalled(c *system.Component, res Check) Check {
	var missing []string
	for _, p := range c.Install {
		if !e.exists(p) {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		what := "missing " + strings.Join(missing, ", ")
		if len(missing) == len(c.Install) {
			what = "not installed: no " + strings.Join(missing, ", ")
		}
		return res.fail(what, e.installRemedy(c))
	}
	where := strings.Join(c.Install, ", ")
	if len(c.VersionCommand) == 0 {
		return res.pass("installed: " + where)
	}
	out, err := e.run(c.VersionCommand[0], c.VersionCommand[1:]...)
	text := string(out)
	var ce *system.CmdError
	if errors.As(err, &ce) {
		text += "\n" + ce.Stderr
	}
	switch {
	case c.Git != nil && c.Git.Commit != "":
		return e.compareCommit(c, res, text, err)
	case c.Download != nil && c.Download.Version != "":
		if strings.Contains(text, c.Download.Version) {
			return res.pass(fmt.Sprintf("%s at %s", c.Download.Version, where))
		}
		if err != nil {
			return res.fail(fmt.Sprintf("%s: %v", system.CommandLine(c.VersionCommand[0], c.VersionCommand[1:]...), err), e.installRemedy(c))
		}
		return res.fail(fmt.Sprintf("%s prints %q, not version %s", c.VersionCommand[0], firstLine(text), c.Download.Version), e.installRemedy(c))
	}
	return res.pass("installed: " + where)
}

// hexRE is a commit or its abbreviation: 7 to 40 lower-case hex digits.
var hexRE = regexp.MustCompile(`^[0-9a-f]{7,40}$`)

// commitsIn returns the commit-like words of version output: 7 to 40 hex
// digits, alone or after git describe's "g" ("v1.6.20-6-g684e67c33").
func commitsIn(s string) []string {
	var out []string
	words := strings.FieldsFunc(s, func(r rune) bool {
		return !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z')
	})
	for _, w := range words {
		switch {
		case hexRE.MatchString(w):
			out = append(out, w)
		case strings.HasPrefix(w, "g") && hexRE.MatchString(w[1:]):
			out = append(out, w[1:])
		}
	}
	return out
}

// compareCommit decides whether the installed binary is c's pinned commit:
// from its version output, else from the VCS revision Go records in the
// binary (the forks' `make local` stamps no version of their own).
func (e *env) compareCommit(c *system.Component, res Check, text string, runErr error) Check {
	pin := c.Git.Commit
	short := pin[:system.ShortCommit]
	bin := c.VersionCommand[0]
	tokens := commitsIn(text)
	for _, t := range tokens {
		if strings.HasPrefix(pin, t) {
			return res.pass(fmt.Sprintf("%s at %s", short, bin))
		}
	}
	if path.IsAbs(bin) {
		if bi, err := system.ReadBuildInfo(e.h.Root, bin); err == nil {
			for _, s := range bi.Settings {
				if s.Key != "vcs.revision" || s.Value == "" {
					continue
				}
				if s.Value == pin {
					return res.pass(fmt.Sprintf("%s at %s (Go build info)", short, bin))
				}
				return res.fail(fmt.Sprintf("%s was built from %s (Go build info), not the pinned %s", bin, s.Value, pin), e.installRemedy(c))
			}
		}
	}
	if len(tokens) > 0 {
		return res.fail(fmt.Sprintf("%s reports commit %s, not the pinned %s", bin, tokens[0], short), e.installRemedy(c))
	}
	if runErr != nil {
		return res.fail(fmt.Sprintf("%s: %v", system.CommandLine(c.VersionCommand[0], c.VersionCommand[1:]...), runErr), e.installRemedy(c))
	}
	return res.warn(fmt.Sprintf("installed at %s, but neither its version output (%q) nor Go build info names a commit: cannot compare with the pin %s", bin, firstLine(text), short),
		"rebuild from the pinned checkout with git present, so Go records the commit ("+e.installRemedy(c)+")")
}

func (e *env) checkImages(c *system.Component, res Check) Check {
	im := c.Images
	if !e.exists(ContainerdSocket) {
		return res.skip(fmt.Sprintf("containerd is not running (no %s): %d images not checked", ContainerdSocket, len(im.Refs)))
	}
	out, err := e.run("ctr", "--namespace", im.Namespace, "images", "ls")
	if err != nil {
		return res.fail(fmt.Sprintf("ctr images ls: %v", err), "start containerd (containerd -l debug), then check again")
	}
	digests, err := system.ParseCtrImages(out)
	if err != nil {
		return res.fail(err.Error(), "check containerd's ctr against stack.yaml's containerd")
	}
	var missing []string
	for _, r := range im.Refs {
		name, pinned, isPinned := strings.Cut(r, "@")
		d, ok := digests[r]
		if !ok && isPinned {
			d, ok = digests[name]
			if ok && d != pinned {
				missing = append(missing, fmt.Sprintf("%s (digest %s)", name, d))
				continue
			}
		}
		if !ok {
			missing = append(missing, r)
		}
	}
	if len(missing) > 0 {
		return res.fail(fmt.Sprintf("%d of %d images missing from namespace %s: %s", len(missing), len(im.Refs), im.Namespace, strings.Join(missing, ", ")),
			fmt.Sprintf("ctr --namespace %s images pull REF for each (faasd looks there, not in the default namespace)", im.Namespace))
	}
	return res.pass(fmt.Sprintf("all %d images in namespace %s", len(im.Refs), im.Namespace))
}

// checkSelfChecks runs each in-scope component's check_command.
func (e *env) checkSelfChecks() []Check {
	var out []Check
	for i := range e.st.Components {
		c := &e.st.Components[i]
		if len(c.CheckCommand) == 0 || !e.usedByScope(c) {
			continue
		}
		argv := c.CheckCommand
		res := result("selfcheck."+c.Name, system.CommandLine(argv[0], argv[1:]...), true)
		if path.IsAbs(argv[0]) && !e.exists(argv[0]) {
			out = append(out, res.skip(fmt.Sprintf("%s is not installed (see stack.%s)", argv[0], c.Name)))
			continue
		}
		out = append(out, e.selfCheck(res, argv, c.VersionCommand))
	}
	return out
}

// selfCheck runs argv and explains a failure; versionCmd (may be nil)
// prints the program's version for the explanation.
func (e *env) selfCheck(res Check, argv, versionCmd []string) Check {
	out, err := e.run(argv[0], argv[1:]...)
	if err == nil {
		msg := firstLine(string(out))
		if msg == "" {
			msg = "exit 0"
		}
		return res.pass(msg)
	}
	stderr := ""
	var ce *system.CmdError
	if errors.As(err, &ce) {
		stderr = ce.Stderr
	}
	version := ""
	if len(versionCmd) > 0 {
		if v, err := e.run(versionCmd[0], versionCmd[1:]...); err == nil {
			version = criuVersion(string(v))
		}
	}
	detail, remedy := e.diagnoseCRIU(stderr, version)
	if detail == "" {
		detail = err.Error()
		remedy = fmt.Sprintf("run %s -v4 for the details; CRIU needs root and the kernel features of stack.yaml's kernel config", system.CommandLine(argv[0], argv[1:]...))
	}
	return res.fail(detail, remedy)
}

// VDSOBoundsError is what CRIU before 4.1 prints on kernels from 6.13 on,
// whose vDSO layout it does not understand.
const VDSOBoundsError = "Unexpected rt vDSO area bounds"

// diagnoseCRIU explains a failed criu check from its stderr; "" when it
// recognises nothing.
func (e *env) diagnoseCRIU(stderr, version string) (detail, remedy string) {
	rel := e.release()
	switch {
	case strings.Contains(stderr, VDSOBoundsError):
		v := "CRIU"
		if version != "" {
			v = "CRIU " + version
		}
		detail = fmt.Sprintf("%s cannot run on kernel %s: %q", v, rel, VDSOBoundsError)
		if (version == "" || !versionAtLeast(version, 4, 1)) && versionAtLeast(rel, 6, 13) {
			detail = fmt.Sprintf("%s cannot run on kernel %s: CRIU before 4.1 does not understand the vDSO layout of kernels from 6.13 on (%q)", v, rel, VDSOBoundsError)
		}
		remedy = "boot the TrEnv kernel (6.1.0-rc8), on which the 3.18-based CRIU forks work; on a kernel from 6.13 on only CRIU ≥ 4.1 passes criu check"
		return detail, remedy
	case strings.Contains(stderr, "must be run by root"), strings.Contains(stderr, "Operation not permitted"):
		return "criu check lacks privileges: " + lastErrorLine(stderr), "run doctor as root (CRIU needs CAP_SYS_ADMIN and friends)"
	}
	return "", ""
}

// criuVersion finds "Version: X" in `criu --version` output.
func criuVersion(out string) string {
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Version:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func lastErrorLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "Error") {
			return strings.TrimSpace(lines[i])
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// checkActiveCRIU looks at the criu faasd and runc would run: the first on
// Path. Runs install their variant there, so this only warns.
func (e *env) checkActiveCRIU() Check {
	res := result("criu.active", "the criu on PATH, which faasd and runc run", false)
	variants := e.st.Providers("criu")
	if len(e.h.Path) == 0 {
		return res.skip("no PATH given")
	}
	found := ""
	for _, dir := range e.h.Path {
		if p := path.Join(dir, "criu"); path.IsAbs(p) && e.exists(p) {
			found = p
			break
		}
	}
	if found == "" {
		return res.warn("no criu on PATH ("+strings.Join(e.h.Path, ":")+")",
			"a run installs its CRIU variant as /usr/local/sbin/criu (from stack.yaml's criu-* builds); build them")
	}
	variant := ""
	if sum, err := e.sha256(found); err == nil {
		for _, v := range variants {
			if vs, err := e.sha256(v.Install[0]); err == nil && bytes.Equal(vs, sum) {
				variant = v.Name
			}
		}
	}
	version := ""
	if out, err := e.run(found, "--version"); err == nil {
		version = criuVersion(string(out))
	}
	desc := found
	if version != "" {
		desc += " (CRIU " + version + ")"
	}
	check := e.selfCheck(result(res.ID, res.Title, false), []string{found, "check"}, []string{found, "--version"})
	switch {
	case variant == "" && check.Status != Pass:
		return res.warn(desc+" is none of stack.yaml's CRIU variants, and its criu check fails: "+check.Detail,
			check.Remedy+"; a run replaces it with its variant (/usr/local/sbin/criu)")
	case variant == "":
		return res.warn(desc+" is none of stack.yaml's CRIU variants (criu check passes)",
			"a run replaces it with its variant (/usr/local/sbin/criu); make sure that directory comes first on PATH")
	case check.Status != Pass:
		return res.warn(desc+" is "+variant+", but its criu check fails: "+check.Detail, check.Remedy)
	}
	return res.pass(desc + " is " + variant + "; criu check: " + check.Detail)
}

// sha256 hashes the host file p.
func (e *env) sha256(p string) ([]byte, error) {
	f, err := e.h.Root.Open(system.RootRel(p))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
