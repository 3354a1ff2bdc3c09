package report

import (
	"encoding/base64"
	"html/template"
	"io"
	"path"
	"path/filepath"
	"strings"
)

// PrintStyleID is the id of the HTML page's print style sheet (a <style
// media="print"> element): a test can switch it on for the screen
// (media="all") to check the printed layout in a browser window.
const PrintStyleID = "print-css"

// WriteHTML writes the report as one self-contained HTML page, laid out to
// be read at a glance and to fit a 1,280 px window and an A4 page:
//
//   - red banners for simulated runs and invented trace data;
//   - the summary: per workload, T-CXL's P50/P99 and peak memory and, against
//     each other system, the speed-ups and the memory ratio, values below 1×
//     in red with ▼;
//   - one section per workload, in the report's order: where its data came
//     from, its figures (inlined as base64 data URIs, unescaped) with a
//     caption saying what they show, then its tables, narrow enough to fit;
//   - figures of no workload, then what the manifests record (tool, command,
//     dates, seeds, calibration digest, host).
//
// Its print style sheet (id PrintStyleID) prints on A4 landscape, starts
// each workload on a new page, and lets every text cell wrap, so that no
// column is cut off on paper.
func (r *Report) WriteHTML(w io.Writer) error {
	page := htmlPage{Title: r.title(), Warnings: r.preamble(), Notes: notes(), PrintID: PrintStyleID}
	if len(r.Sections) > 0 {
		page.Summary = htmlTableOf(r.summary(), nil)
		page.Summary.Top, page.Summary.Class = true, "summary"
		page.About = htmlTableOf(r.about(), nil)
		page.About.Top = true
	}
	in, refs, rest := r.placeFigures()
	for i, s := range r.Sections {
		hs := htmlSection{ID: sectionID(i), Title: workloadTitle(s.Workload), Synthetic: s.synthetic(),
			Sources: s.sources(), Problems: s.problems()}
		simLabel := map[string]bool{}
		for r, l := range s.labels() {
			if r.Simulated {
				simLabel[l] = true
			}
		}
		for _, f := range in[i] {
			hs.Figures = append(hs.Figures, htmlFigureOf(f))
		}
		for _, f := range refs[i] {
			home := r.homeOf(f)
			hs.Refs = append(hs.Refs, htmlRef{Figure: f.heading(), ID: figureID(f), Section: workloadTitle(r.Sections[home].Workload)})
		}
		for _, t := range s.tables() {
			hs.Tables = append(hs.Tables, htmlTableOf(t, simLabel))
		}
		page.Sections = append(page.Sections, hs)
	}
	for _, f := range rest {
		page.Others = append(page.Others, htmlFigureOf(f))
	}
	return htmlTemplate.Execute(w, page)
}

type htmlPage struct {
	Title, PrintID string
	Warnings       []string
	Summary        *htmlTable
	Notes          []string
	Sections       []htmlSection
	Others         []htmlFigure
	About          *htmlTable
}

type htmlSection struct {
	ID, Title         string
	Synthetic         bool
	Sources, Problems []string
	Figures           []htmlFigure
	Refs              []htmlRef
	Tables            []*htmlTable
}

// htmlRef points from a section to a figure shown in another one.
type htmlRef struct{ Figure, ID, Section string }

type htmlFigure struct {
	ID, Heading, Caption, File string
	// Img is the <img> element, its data URI written as is: html/template
	// would escape every "+" of the base64 text in an attribute.
	Img template.HTML
}

type htmlTable struct {
	Title, Note string
	// Top: the table is a section of its own (heading h2, not h3);
	// Class is the table element's class.
	Top   bool
	Class string
	Head  []htmlCell
	Rows  [][]htmlCell
}

type htmlCell struct {
	// Class is "n" (a number: right-aligned), "t" (text) or "sim" (the
	// heading of a simulated run's column).
	Class string
	// HTML is the cell's content, escaped, lines joined by <br>.
	HTML template.HTML
	// Link, if not "", is the anchor the cell links to.
	Link string
}

// figureID is the HTML anchor of a figure.
func figureID(f *Figure) string { return "fig-" + f.Name }

func htmlFigureOf(f *Figure) htmlFigure {
	out := htmlFigure{ID: figureID(f), Heading: f.heading(), Caption: f.Caption, File: path.Base(filepath.ToSlash(f.Path))}
	if len(f.Data) > 0 {
		// The base64 alphabet (A–Z a–z 0–9 + / =) and a media type need no
		// escaping inside a double-quoted attribute.
		uri := "data:" + f.MediaType + ";base64," + base64.StdEncoding.EncodeToString(f.Data)
		out.Img = template.HTML(`<img src="` + uri + `" alt="` + template.HTMLEscapeString(f.heading()) + `">`)
	}
	return out
}

// htmlTableOf renders t's cells; headings in sim are simulated runs'.
func htmlTableOf(t table, sim map[string]bool) *htmlTable {
	out := &htmlTable{Title: t.title, Note: t.note}
	for _, h := range t.head {
		c := htmlCell{Class: "t", HTML: cellHTML(h)}
		if sim[h] {
			c.Class = "sim"
		}
		out.Head = append(out.Head, c)
	}
	num := make([]bool, len(t.head))
	for j := range t.head {
		num[j] = j > 0 && numericColumn(t.rows, j)
	}
	for i, row := range t.rows {
		var cells []htmlCell
		for j, v := range row {
			c := htmlCell{Class: "t", HTML: cellHTML(v)}
			if num[j] {
				c.Class = "n"
			}
			if j == 0 && i < len(t.links) {
				c.Link = t.links[i]
			}
			cells = append(cells, c)
		}
		out.Rows = append(out.Rows, cells)
	}
	return out
}

// cellHTML escapes a cell's text, joins its lines with <br>, and marks
// warnings and the parts (split by " · ") of a line below 1×.
func cellHTML(s string) template.HTML {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, markWarn) {
			lines[i] = `<span class="warn">` + template.HTMLEscapeString(l) + `</span>`
			continue
		}
		parts := strings.Split(l, " · ")
		for j, p := range parts {
			parts[j] = template.HTMLEscapeString(p)
			if strings.Contains(p, markBelow) {
				parts[j] = `<span class="below">` + parts[j] + `</span>`
			}
		}
		lines[i] = strings.Join(parts, " · ")
	}
	return template.HTML(strings.Join(lines, "<br>"))
}

var htmlTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1240px; padding: 1em 1.2em 3em; color: #222; }
h1 { font-size: 1.6em; margin: .3em 0; }
h2 { margin: 1.8em 0 .5em; border-bottom: 1px solid #ccc; }
h3 { font-size: 1.05em; margin: 1.2em 0 .3em; }
.banner { background: #b00020; color: #fff; padding: .5em 1em; border-radius: 4px; font-weight: 600; margin: .4em 0; }
.source { background: #f2f5f7; border-left: 4px solid #7a8c99; padding: .4em .8em; margin: .4em 0; overflow-wrap: anywhere; }
.note { color: #555; margin: .2em 0 .5em; max-width: 62em; }
.notes { color: #555; margin: .3em 0; padding-left: 1.4em; }
.problem { background: #fff3cd; padding: .4em .8em; border-left: 4px solid #e0a800; overflow-wrap: anywhere; }
nav { margin: .6em 0 0; line-height: 1.9; }
nav a { margin-right: 1.1em; white-space: nowrap; }
.tbl { max-width: 100%; overflow-x: auto; }
table { border-collapse: collapse; margin: .2em 0 1em; }
th, td { border: 1px solid #ddd; padding: .2em .5em; vertical-align: top; }
th { background: #f3f3f3; text-align: left; font-weight: 600; }
th.sim { background: #fde0e0; color: #8a0016; }
td.n { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.t { text-align: left; overflow-wrap: anywhere; }
table.summary td { white-space: nowrap; font-variant-numeric: tabular-nums; }
.below, .warn { color: #b00020; font-weight: 600; }
figure { margin: 1em 0 1.6em; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid #e4e4e4; }
figcaption { margin-top: .35em; max-width: 62em; }
figcaption .file { color: #777; }
.see { font-style: italic; }
</style>
<style media="print" id="{{.PrintID}}">
@page { size: A4 landscape; margin: 10mm; }
body { max-width: none; padding: 0; font-size: 9pt; }
h1 { font-size: 15pt; } h2 { margin-top: 0; }
nav { display: none; }
.tbl { overflow: visible; }
table { font-size: 8pt; }
th, td { padding: 1px 4px; }
td.t, th { white-space: normal; overflow-wrap: anywhere; }
section.workload, #about { break-before: page; }
figure, tr, .banner { break-inside: avoid; }
figure img { width: auto; max-height: 140mm; }
h2, h3 { break-after: avoid; }
.banner { background: none; color: #b00020; border: 2px solid #b00020; }
th { background: #eee; }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
{{range .Warnings}}<p class="banner">⚠ {{.}}</p>
{{end}}<nav><a href="#summary">Summary</a>{{range .Sections}} <a href="#{{.ID}}">{{.Title}}</a>{{end}}{{if .Others}} <a href="#others">Other figures</a>{{end}}{{if .About}} <a href="#about">About these runs</a>{{end}}</nav>
</header>
<section id="summary">
{{with .Summary}}{{template "table" .}}{{else}}<p>No runs.</p>{{end}}
<ul class="notes">{{range .Notes}}<li>{{.}}</li>{{end}}</ul>
</section>
{{range .Sections}}<section class="workload" id="{{.ID}}">
<h2>Workload {{.Title}}</h2>
{{$synthetic := .Synthetic}}{{range .Sources}}{{if $synthetic}}<p class="banner">⚠ {{.}}</p>{{else}}<p class="source">{{.}}</p>{{end}}
{{end}}{{range .Problems}}<p class="problem">{{.}}</p>
{{end}}{{range .Figures}}{{template "figure" .}}{{end}}{{range .Refs}}<p class="see">{{.Figure}} also shows this workload: <a href="#{{.ID}}">see it in the section {{.Section}}</a>.</p>
{{end}}{{range .Tables}}{{template "table" .}}{{end}}</section>
{{end}}{{if .Others}}<section class="workload" id="others">
<h2>Other figures</h2>
{{range .Others}}{{template "figure" .}}{{end}}</section>
{{end}}{{with .About}}<section id="about">
{{template "table" .}}</section>
{{end}}</body>
</html>
{{define "figure"}}<figure id="{{.ID}}">
{{.Img}}
<figcaption><b>{{.Heading}}.</b>{{if .Caption}} {{.Caption}}{{end}}{{if .File}} <span class="file">({{.File}})</span>{{end}}</figcaption>
</figure>
{{end}}{{define "table"}}{{if .Top}}<h2>{{.Title}}</h2>{{else}}<h3>{{.Title}}</h3>{{end}}
{{if .Note}}<p class="note">{{.Note}}</p>
{{end}}{{if .Head}}<div class="tbl"><table{{if .Class}} class="{{.Class}}"{{end}}>
<thead><tr>{{range .Head}}<th class="{{.Class}}">{{.HTML}}</th>{{end}}</tr></thead>
<tbody>
{{range .Rows}}<tr>{{range .}}<td class="{{.Class}}">{{if .Link}}<a href="#{{.Link}}">{{.HTML}}</a>{{else}}{{.HTML}}{{end}}</td>{{end}}</tr>
{{end}}</tbody>
</table></div>
{{end}}{{end}}`))
