package report

import (
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
)

// WriteHTML writes the report as one self-contained HTML page: inline
// style, the figures inlined as base64 data URIs (plain tables when there
// are none), a red banner and red column headings for simulated runs.
func (r *Report) WriteHTML(w io.Writer) error {
	type htmlTable struct {
		table
		Simulated []bool // per column: a simulated run's column
		Left      []bool // per column: text, aligned left
	}
	type htmlSection struct {
		ID, Title string
		Problems  []string
		Tables    []htmlTable
	}
	type htmlFigure struct {
		Name string
		URI  template.URL
	}
	warning, notes := r.preamble()
	page := struct {
		Title    string
		Warning  string
		Notes    []string
		Figures  []htmlFigure
		Sections []htmlSection
	}{Title: r.title(), Warning: warning, Notes: notes}
	for _, f := range r.Figures {
		if len(f.Data) == 0 {
			continue
		}
		uri := "data:" + f.MediaType + ";base64," + base64.StdEncoding.EncodeToString(f.Data)
		page.Figures = append(page.Figures, htmlFigure{Name: f.Name, URI: template.URL(uri)})
	}
	for i, s := range r.Sections {
		hs := htmlSection{ID: fmt.Sprintf("w%d", i), Title: workloadTitle(s.Workload), Problems: s.problems()}
		simLabel := map[string]bool{}
		for r, l := range s.labels() {
			if r.Simulated {
				simLabel[l] = true
			}
		}
		for _, t := range s.tables() {
			ht := htmlTable{table: t, Simulated: make([]bool, len(t.head)), Left: make([]bool, len(t.head))}
			for j, h := range t.head {
				ht.Simulated[j] = simLabel[h]
				ht.Left[j] = j == 0 || !numericColumn(t.rows, j)
			}
			hs.Tables = append(hs.Tables, ht)
		}
		page.Sections = append(page.Sections, hs)
	}
	return htmlPage.Execute(w, page)
}

// Methods of table the template reads.
func (t table) Title() string    { return t.title }
func (t table) Note() string     { return t.note }
func (t table) Head() []string   { return t.head }
func (t table) Rows() [][]string { return t.rows }
func (t table) HasColumns() bool { return len(t.head) > 0 }

var htmlPage = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 90em; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; } h3 { font-size: 1.05em; margin-bottom: .3em; }
.sim-banner { background: #b00020; color: #fff; padding: .8em 1em; border-radius: 4px; font-weight: 600; }
.note { color: #555; margin: .2em 0 .5em; }
.problem { background: #fff3cd; padding: .4em .8em; border-left: 4px solid #e0a800; }
table { border-collapse: collapse; margin-bottom: 1em; }
th, td { border: 1px solid #ddd; padding: .25em .6em; text-align: right; white-space: nowrap; }
th:first-child, td.l { text-align: left; }
th { background: #f3f3f3; }
th.sim { background: #fde0e0; color: #8a0016; }
figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #eee; }
nav a { margin-right: 1em; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
{{if .Warning}}<p class="sim-banner">⚠ {{.Warning}}</p>{{end}}
<ul>{{range .Notes}}<li>{{.}}</li>{{end}}</ul>
<nav>{{range .Sections}}<a href="#{{.ID}}">{{.Title}}</a>{{end}}</nav>
{{if .Figures}}<h2>Figures</h2>
{{range .Figures}}<figure><img src="{{.URI}}" alt="{{.Name}}"><figcaption>{{.Name}}</figcaption></figure>
{{end}}{{end}}
{{range .Sections}}<h2 id="{{.ID}}">Workload {{.Title}}</h2>
{{range .Problems}}<p class="problem">{{.}}</p>
{{end}}{{range .Tables}}<h3>{{.Title}}</h3>
{{if .Note}}<p class="note">{{.Note}}</p>{{end}}
{{if .HasColumns}}<table>
<thead><tr>{{$sim := .Simulated}}{{range $i, $h := .Head}}<th{{if index $sim $i}} class="sim"{{end}}>{{$h}}</th>{{end}}</tr></thead>
<tbody>
{{$left := .Left}}{{range .Rows}}<tr>{{range $i, $c := .}}<td{{if index $left $i}} class="l"{{end}}>{{$c}}</td>{{end}}</tr>
{{end}}</tbody>
</table>{{end}}
{{end}}{{end}}
</body>
</html>
`))
