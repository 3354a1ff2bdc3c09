package system

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// TableWidth is the widest line WriteTable writes.
const TableWidth = 100

// ShortCommit is how many hex digits of a commit or checksum the table shows.
const ShortCommit = 12

// lockColumn is a column of the lock table.
type lockColumn struct {
	head  string
	width int
}

// lockColumns are the lock table's headers and widths; with two spaces
// between columns they add up to TableWidth.
func lockColumns() []lockColumn {
	return []lockColumn{{"COMPONENT", 17}, {"SOURCE", 39}, {"BRANCH/VERSION", 14}, {"PIN", 24}}
}

// WriteTable writes the stack as a table that fits TableWidth columns: one
// row per component with its source, branch or version and pin (commits
// and checksums shortened to ShortCommit digits; "unpinned: METHOD" for
// what the host resolves), then a count. `--json` has the full data.
func (s *Stack) WriteTable(w io.Writer) error {
	var b strings.Builder
	cols := lockColumns()
	row := func(cells ...string) {
		for i, c := range cells {
			width := cols[i].width
			c = Truncate(c, width)
			if i == len(cells)-1 {
				b.WriteString(c)
				break
			}
			b.WriteString(c)
			b.WriteString(strings.Repeat(" ", width-utf8.RuneCountInString(c)+2))
		}
		b.WriteByte('\n')
	}
	heads := make([]string, len(cols))
	for i, c := range cols {
		heads[i] = c.head
	}
	row(heads...)
	pinned := 0
	for i := range s.Components {
		c := &s.Components[i]
		ref := c.Ref()
		if ref == "" {
			ref = "-"
		}
		pin := "unpinned: " + c.Unpinned.ResolveOrEmpty()
		if c.Pinned() {
			pinned++
			pin = shortPin(c.Pin())
		}
		row(c.Name, sourceLabel(c), ref, pin)
	}
	fmt.Fprintf(&b, "\n%d components: %d pinned, %d unpinned (resolved on the host at install: git ls-remote, image digest after the pull, sha256 after the first download, Go build info).\n",
		len(s.Components), pinned, len(s.Components)-pinned)
	_, err := io.WriteString(w, Wrap(b.String(), TableWidth))
	return err
}

// ResolveOrEmpty is the resolve method, "" for a nil Unpinned.
func (u *Unpinned) ResolveOrEmpty() string {
	if u == nil {
		return ""
	}
	return u.Resolve
}

func shortPin(pin string) string {
	f := strings.Fields(pin)
	if len(f) > 1 { // image digests
		return fmt.Sprintf("%d digests", len(f))
	}
	pin = strings.TrimPrefix(pin, "sha256:")
	if len(pin) > ShortCommit && isHex(pin) {
		return pin[:ShortCommit]
	}
	return pin
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// sourceLabel names where a component comes from, short: owner/repo for
// GitHub, host and path for downloads, the common prefix of image refs.
func sourceLabel(c *Component) string {
	switch c.SourceKind() {
	case SourceGit:
		s := strings.TrimSuffix(c.Git.Repository, ".git")
		return strings.TrimPrefix(s, "https://github.com/")
	case SourceDownload:
		s := strings.TrimPrefix(c.Download.URL, "https://")
		return strings.TrimSuffix(s, "?dl=1")
	case SourceImages:
		refs := c.Images.Refs
		prefix := refs[0]
		for _, r := range refs[1:] {
			for !strings.HasPrefix(r, prefix) {
				prefix = prefix[:len(prefix)-1]
			}
		}
		if i := strings.LastIndex(prefix, "/"); i >= 0 {
			prefix = prefix[:i+1]
		}
		return fmt.Sprintf("%s* (%d images)", prefix, len(refs))
	case SourceGoInstall:
		return "go install " + c.GoInstall.Package
	}
	return ""
}

// Truncate shortens s to at most width runes, ending it with "…" when cut.
func Truncate(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}

// Wrap breaks the lines of s longer than width at spaces.
func Wrap(s string, width int) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		nl := strings.HasSuffix(line, "\n")
		line = strings.TrimSuffix(line, "\n")
		for utf8.RuneCountInString(line) > width {
			r := []rune(line)
			cut := strings.LastIndex(string(r[:width+1]), " ")
			if cut <= 0 {
				break
			}
			b.WriteString(line[:cut])
			b.WriteByte('\n')
			line = line[cut+1:]
		}
		b.WriteString(line)
		if nl {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
