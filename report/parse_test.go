package report

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// mdTables reads the tables of a Markdown report: "section/table title" →
// rows (the heading first), cells unescaped of the writer's "\|". Tables
// before the first workload section have section "".
func mdTables(t *testing.T, md string) map[string][][]string {
	t.Helper()
	out := map[string][][]string{}
	section, title := "", ""
	for _, line := range strings.Split(md, "\n") {
		switch {
		case strings.HasPrefix(line, "## Workload "):
			section, title = strings.TrimPrefix(line, "## Workload "), ""
		case strings.HasPrefix(line, "## "):
			section, title = "", strings.TrimPrefix(line, "## ")
		case strings.HasPrefix(line, "### "):
			title = strings.TrimPrefix(line, "### ")
		case strings.HasPrefix(line, "| "):
			cells := strings.Split(strings.Trim(strings.ReplaceAll(line, `\|`, "\x00"), "| "), " | ")
			for i, c := range cells {
				cells[i] = strings.ReplaceAll(c, "\x00", "|")
			}
			if len(cells) > 0 && strings.HasPrefix(cells[0], "---") {
				continue
			}
			key := section + "/" + title
			out[key] = append(out[key], cells)
		}
	}
	return out
}

// htmlPageParts is what tests read of an HTML report.
type htmlPageParts struct {
	// tables maps "section/table title" (as mdTables) to rows of cell
	// texts, lines (<br>) joined with " · ".
	tables map[string][][]string
	// banners are the texts of p.banner; imgSrcs the images' sources;
	// figures the ids of figure elements, each with the id of its section.
	banners, imgSrcs []string
	figures          map[string]string
	// sees are the texts of the p.see pointers, by section id.
	sees map[string][]string
}

// parseHTML parses an HTML report.
func parseHTML(t *testing.T, page string) htmlPageParts {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	p := htmlPageParts{tables: map[string][][]string{}, figures: map[string]string{}, sees: map[string][]string{}}
	attr := func(n *html.Node, key string) string {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val
			}
		}
		return ""
	}
	var text func(n *html.Node) string
	text = func(n *html.Node) string {
		if n.Type == html.TextNode {
			return n.Data
		}
		if n.Type == html.ElementNode && n.Data == "br" {
			return " · "
		}
		var b strings.Builder
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			b.WriteString(text(c))
		}
		return b.String()
	}
	section, sectionID, title := "", "", ""
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "section":
				sectionID, section = attr(n, "id"), ""
			case "h2":
				if h := text(n); strings.HasPrefix(h, "Workload ") {
					section, title = strings.TrimPrefix(h, "Workload "), ""
				} else {
					title = h
				}
			case "h3":
				title = text(n)
			case "p":
				switch attr(n, "class") {
				case "banner":
					p.banners = append(p.banners, text(n))
				case "see":
					p.sees[sectionID] = append(p.sees[sectionID], text(n))
				}
			case "img":
				p.imgSrcs = append(p.imgSrcs, attr(n, "src"))
			case "figure":
				p.figures[attr(n, "id")] = sectionID
			case "tr":
				var cells []string
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
						cells = append(cells, text(c))
					}
				}
				key := section + "/" + title
				p.tables[key] = append(p.tables[key], cells)
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return p
}
