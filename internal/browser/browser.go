// Package browser checks a page as a reader sees it, in headless Chromium
// (Debian's chromium package): it loads an HTML file with a short script
// added that measures the laid-out page and writes what it found into the
// DOM, which Chromium prints with --dump-dom. No DevTools protocol, no
// dependency beyond the browser binary.
//
//	path, err := browser.Find()           // $CHROMIUM, or chromium on PATH
//	l, err := browser.Check(ctx, path, "report.html", browser.Window{Width: 1280, Height: 900})
//	l.Overflow // elements that stick out past the window's right edge
//
// Chromium runs as its own process group, stopped by that group's id when
// the context ends; its profile lives in a temporary directory removed
// afterwards. It imports only the standard library.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrNotFound is returned by Find when no Chromium binary is found.
var ErrNotFound = errors.New("browser: no chromium found (set $CHROMIUM, or install Debian's chromium package)")

// names are the binaries Find looks for on PATH, in order.
var names = [...]string{"chromium", "chromium-browser", "google-chrome"}

// Find returns the Chromium binary: $CHROMIUM if set, else the first of
// chromium, chromium-browser and google-chrome on PATH.
func Find() (string, error) {
	if p := os.Getenv("CHROMIUM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("browser: $CHROMIUM: %w", err)
		}
		return p, nil
	}
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Window is the headless window a page is checked in.
type Window struct {
	// Width and Height are the window's size in CSS pixels (the viewport,
	// vertical scroll bar included).
	Width, Height int
	// Media lists ids of <style> (or <link>) elements whose media is set
	// to "all" before measuring: a page's print style sheet, say, to check
	// the printed layout on the screen.
	Media []string
}

// Layout is what Check measured, after the page's load event.
type Layout struct {
	// ViewportWidth is the width the page can use (the window less the
	// scroll bar); ScrollWidth the page's width: above ViewportWidth, the
	// page scrolls sideways.
	ViewportWidth int `json:"viewportWidth"`
	ScrollWidth   int `json:"scrollWidth"`
	// Images counts the page's images; Broken lists the alt text (or the
	// start of the source) of those that did not load.
	Images int      `json:"images"`
	Broken []string `json:"broken"`
	// Overflow lists (up to 50 of) the elements whose box passes the
	// viewport's right edge, and the table cells and scrolling boxes whose
	// content is wider than they are; OverflowCount counts them all.
	Overflow      []string `json:"overflow"`
	OverflowCount int      `json:"overflowCount"`
}

// resultID is the id of the element the script writes its findings into.
const resultID = "__browser_layout"

// measure is the script added to the page. %s is the JSON list of ids of
// Window.Media.
const measure = `<script>
(function () {
  function describe(e) {
    var s = e.tagName.toLowerCase();
    if (e.id) s += "#" + e.id;
    if (e.className && typeof e.className === "string") s += "." + e.className.trim().split(/\s+/).join(".");
    var t = (e.textContent || "").trim().slice(0, 40);
    return t ? s + " \"" + t + "\"" : s;
  }
  function run() {
    %s.forEach(function (id) { var e = document.getElementById(id); if (e) e.media = "all"; });
    var de = document.documentElement, vw = de.clientWidth, over = [];
    document.querySelectorAll("body *").forEach(function (e) {
      var r = e.getBoundingClientRect();
      if (r.width > 0 && r.right > vw + 0.5) over.push(describe(e) + ": right edge at " + Math.round(r.right) + " px");
    });
    document.querySelectorAll("td, th, div, pre, figure").forEach(function (e) {
      if (e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) over.push(describe(e) + ": content " + e.scrollWidth + " px wide in " + e.clientWidth + " px");
    });
    var broken = [];
    Array.prototype.forEach.call(document.images, function (i) {
      if (!(i.complete && i.naturalWidth > 0)) broken.push(i.alt || i.src.slice(0, 60));
    });
    var out = {viewportWidth: vw, scrollWidth: de.scrollWidth, images: document.images.length, broken: broken,
      overflow: over.slice(0, 50), overflowCount: over.length};
    var p = document.createElement("pre");
    p.id = "` + resultID + `";
    p.style.display = "none";
    p.textContent = JSON.stringify(out);
    document.body.appendChild(p);
  }
  if (document.readyState === "complete") run(); else window.addEventListener("load", run);
})();
</script>`

// flags are the Chromium flags every check uses: headless, as root
// (--no-sandbox), and no network of its own (a closed network refuses
// Chromium's background connections, which would slow or stall it).
var flags = [...]string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
	"--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--disable-extensions", "--mute-audio",
}

// Check loads the HTML file page in chromium's headless window w and
// returns what the page looks like there once loaded. It reads page, adds
// the measuring script before </body>, and loads that copy (written beside
// page, so relative links resolve, and removed afterwards). Errors name the
// page and hold the end of Chromium's stderr.
func Check(ctx context.Context, chromium, page string, w Window) (Layout, error) {
	var l Layout
	src, err := os.ReadFile(page)
	if err != nil {
		return l, fmt.Errorf("browser: %w", err)
	}
	ids, _ := json.Marshal(w.Media)
	if w.Media == nil {
		ids = []byte("[]")
	}
	script := []byte(fmt.Sprintf(measure, ids))
	if i := bytes.LastIndex(src, []byte("</body>")); i >= 0 {
		src = append(src[:i:i], append(script, src[i:]...)...)
	} else {
		src = append(src, script...)
	}
	tmp, err := os.CreateTemp(filepath.Dir(page), ".browser-check-*.html")
	if err != nil {
		return l, fmt.Errorf("browser: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(src); err != nil {
		tmp.Close()
		return l, fmt.Errorf("browser: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return l, fmt.Errorf("browser: %w", err)
	}
	profile, err := os.MkdirTemp("", "browser-profile-")
	if err != nil {
		return l, fmt.Errorf("browser: %w", err)
	}
	defer os.RemoveAll(profile)
	abs, err := filepath.Abs(tmp.Name())
	if err != nil {
		return l, fmt.Errorf("browser: %w", err)
	}
	args := append(flags[:len(flags):len(flags)],
		"--user-data-dir="+profile,
		fmt.Sprintf("--window-size=%d,%d", w.Width, w.Height),
		"--virtual-time-budget=5000",
		"--dump-dom",
		(&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String())
	cmd := exec.CommandContext(ctx, chromium, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ownGroup(cmd)
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		return l, fmt.Errorf("browser: %s %s: %w; stderr ends: %s", chromium, page, err, tail(stderr.String(), 2000))
	}
	dom := stdout.String()
	start := strings.Index(dom, `id="`+resultID+`"`)
	if start < 0 {
		return l, fmt.Errorf("browser: %s: the measuring script wrote nothing (page did not load?); stderr ends: %s", page, tail(stderr.String(), 2000))
	}
	body := dom[start:]
	body = body[strings.IndexByte(body, '>')+1:]
	body = body[:strings.Index(body, "</pre>")]
	if err := json.Unmarshal([]byte(html.UnescapeString(body)), &l); err != nil {
		return l, fmt.Errorf("browser: %s: reading the script's findings: %w", page, err)
	}
	return l, nil
}

// tail is the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
