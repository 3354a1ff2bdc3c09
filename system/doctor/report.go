package doctor

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"trenv-bench/system"
)

// Widths of the table WriteTable writes; the lines fit system.TableWidth.
const (
	statusWidth = 4
	idWidth     = 22
	gap         = 2
	detailWidth = system.TableWidth - statusWidth - idWidth - 2*gap
)

// WriteTable writes the report for a person: the scope, one row per check
// (status, id, what was found; a remedy below each fail and warn), then
// the counts and the verdict. Lines fit system.TableWidth columns.
func (r *Report) WriteTable(w io.Writer) error {
	var b strings.Builder
	methods := make([]string, 0, len(r.Scope.Methods))
	for _, m := range r.Scope.Methods {
		if m == MethodTrEnv {
			m += " (pool " + r.Scope.Pool + ")"
		}
		methods = append(methods, m)
	}
	head := "trenv-bench system doctor: " + strings.Join(methods, ", ")
	if r.Scope.MemGiB > 0 {
		head += fmt.Sprintf("; --mem %d GiB", r.Scope.MemGiB)
	}
	b.WriteString(system.Wrap(head, system.TableWidth))
	b.WriteString("\n\n")
	indent := strings.Repeat(" ", statusWidth+gap+idWidth+gap)
	for _, c := range r.Checks {
		id := system.Truncate(c.ID, idWidth)
		lines := wrapLines(c.Detail, detailWidth)
		if c.Remedy != "" {
			lines = append(lines, wrapLines("fix: "+c.Remedy, detailWidth)...)
		}
		fmt.Fprintf(&b, "%-*s%s%s%s%s\n", statusWidth, strings.ToUpper(string(c.Status)), pad(gap), id, pad(idWidth-utf8.RuneCountInString(id)+gap), lines[0])
		for _, l := range lines[1:] {
			b.WriteString(indent)
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	fmt.Fprintf(&b, "\ndoctor: %d pass, %d fail, %d warn, %d skip: ", r.Counts.Pass, r.Counts.Fail, r.Counts.Warn, r.Counts.Skip)
	if r.OK {
		b.WriteString("the host is ready for this scope\n")
	} else {
		fmt.Fprintf(&b, "not ready, %d required checks fail\n", r.Counts.Fail)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON writes the report as indented JSON (the form the package
// comment documents).
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

func pad(n int) string { return strings.Repeat(" ", max(n, 1)) }

// wrapLines wraps s into lines of at most width runes (words longer than
// width are cut).
func wrapLines(s string, width int) []string {
	var out []string
	line := ""
	for _, w := range strings.Fields(s) {
		for utf8.RuneCountInString(w) > width {
			r := []rune(w)
			if line != "" {
				out = append(out, line)
				line = ""
			}
			out = append(out, string(r[:width]))
			w = string(r[width:])
		}
		switch {
		case line == "":
			line = w
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) <= width:
			line += " " + w
		default:
			out = append(out, line)
			line = w
		}
	}
	if line != "" || len(out) == 0 {
		out = append(out, line)
	}
	return out
}
