package report

import (
	"bufio"
	"io"
	"strings"
)

// WriteMarkdown writes the report as Markdown: the warnings (simulated
// runs, invented data), the summary, then one section per workload (where
// its data came from, its figures as image links with their captions, its
// tables), the figures of no section, and what the runs' manifests record
// (About these runs).
func (r *Report) WriteMarkdown(w io.Writer) error {
	bw := bufio.NewWriter(w)
	p := func(s ...string) {
		for _, x := range s {
			bw.WriteString(x)
		}
		bw.WriteByte('\n')
	}
	p("# ", mdEscape(r.title()))
	p()
	for _, warning := range r.preamble() {
		p("> **⚠ ", mdEscape(warning), "**")
		p()
	}
	if len(r.Sections) == 0 {
		p("No runs.")
		p()
	} else {
		writeMDTable(bw, r.summary(), "##")
		for _, n := range notes() {
			p("- ", mdEscape(n))
		}
		p()
	}
	in, refs, rest := r.placeFigures()
	figure := func(f *Figure) {
		p("### ", mdEscape(f.heading()))
		p()
		p("![", mdEscape(f.heading()), "](", strings.ReplaceAll(f.Path, " ", "%20"), ")")
		p()
		if f.Caption != "" {
			p("*", mdEscape(f.Caption), "*")
			p()
		}
	}
	for i, s := range r.Sections {
		p("## Workload ", mdEscape(workloadTitle(s.Workload)))
		p()
		for _, src := range s.sources() {
			if s.synthetic() {
				p("> **⚠ ", mdEscape(src), "**")
			} else {
				p(mdEscape(src))
			}
			p()
		}
		for _, n := range s.problems() {
			p("> ", mdEscape(n))
			p()
		}
		for _, f := range in[i] {
			figure(f)
		}
		for _, f := range refs[i] {
			p("(", mdEscape(f.heading()), " also shows this workload: see the section ", mdEscape(workloadTitle(r.Sections[r.homeOf(f)].Workload)), ".)")
			p()
		}
		for _, t := range s.tables() {
			writeMDTable(bw, t, "###")
		}
	}
	if len(rest) > 0 {
		p("## Other figures")
		p()
		for _, f := range rest {
			figure(f)
		}
	}
	if len(r.Sections) > 0 {
		writeMDTable(bw, r.about(), "##")
	}
	return bw.Flush()
}

// writeMDTable writes t under a heading of level (e.g. "###").
func writeMDTable(bw *bufio.Writer, t table, level string) {
	p := func(s ...string) {
		for _, x := range s {
			bw.WriteString(x)
		}
		bw.WriteByte('\n')
	}
	p(level, " ", mdEscape(t.title))
	p()
	if t.note != "" {
		p(mdEscape(t.note))
		p()
	}
	if len(t.head) == 0 {
		return
	}
	cells := func(row []string) []string {
		out := make([]string, len(row))
		for i, c := range row {
			out[i] = mdEscape(strings.ReplaceAll(c, "\n", " · "))
		}
		return out
	}
	writeMDRow(bw, cells(t.head))
	sep := make([]string, len(t.head))
	for i := range sep {
		sep[i] = "---"
		if i > 0 && numericColumn(t.rows, i) {
			sep[i] = "---:"
		}
	}
	writeMDRow(bw, sep)
	for _, row := range t.rows {
		writeMDRow(bw, cells(row))
	}
	p()
}

func writeMDRow(w *bufio.Writer, cells []string) {
	w.WriteString("|")
	for _, c := range cells {
		w.WriteString(" ")
		w.WriteString(c)
		w.WriteString(" |")
	}
	w.WriteString("\n")
}

// mdEscape keeps text from breaking a table or turning into markup.
// Underscores within words and brackets not followed by a link target are
// plain text in CommonMark, so they stay as they are.
var mdReplacer = strings.NewReplacer("|", `\|`, "*", `\*`, "`", "\\`", "<", "&lt;", ">", "&gt;")

func mdEscape(s string) string { return mdReplacer.Replace(oneLine(s)) }

// numericColumn reports whether every cell of column i holds a number
// (or the dash of a missing one): such columns are right-aligned.
func numericColumn(rows [][]string, i int) bool {
	for _, row := range rows {
		c := row[i]
		if c == dash {
			continue
		}
		if c[0] == '-' {
			c = c[1:] // a negative number, not a flag
		}
		if c == "" || c[0] < '0' || c[0] > '9' {
			return false
		}
	}
	return true
}
