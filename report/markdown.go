package report

import (
	"bufio"
	"io"
	"strings"
)

// WriteMarkdown writes the report as Markdown: a warning when runs are
// simulated, the figures as image links (their Path), then one section per
// workload with its tables.
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
	warning, notes := r.preamble()
	if warning != "" {
		p("> **⚠ ", mdEscape(warning), "**")
		p()
	}
	for _, n := range notes {
		p("- ", mdEscape(n))
	}
	p()
	if len(r.Figures) > 0 {
		p("## Figures")
		p()
		for _, f := range r.Figures {
			p("![", mdEscape(f.Name), "](", strings.ReplaceAll(f.Path, " ", "%20"), ")")
			p()
		}
	}
	if len(r.Sections) == 0 {
		p("No runs.")
	}
	for _, s := range r.Sections {
		p("## Workload ", mdEscape(workloadTitle(s.Workload)))
		p()
		for _, n := range s.problems() {
			p("> ", mdEscape(n))
			p()
		}
		for _, t := range s.tables() {
			p("### ", mdEscape(t.title))
			p()
			if t.note != "" {
				p(mdEscape(t.note))
				p()
			}
			if len(t.head) == 0 {
				continue
			}
			head := make([]string, len(t.head))
			for i, c := range t.head {
				head[i] = mdEscape(c)
			}
			writeMDRow(bw, head)
			sep := make([]string, len(t.head))
			for i := range sep {
				sep[i] = "---"
				if i > 0 && numericColumn(t.rows, i) {
					sep[i] = "---:"
				}
			}
			writeMDRow(bw, sep)
			for _, row := range t.rows {
				cells := make([]string, len(row))
				for i, c := range row {
					cells[i] = mdEscape(c)
				}
				writeMDRow(bw, cells)
			}
			p()
		}
	}
	return bw.Flush()
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
		if c == "" || !strings.ContainsRune("0123456789-", rune(c[0])) {
			return false
		}
	}
	return true
}
