package browser

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium returns the browser, or skips the test when there is none; on
// CI (CI=true), where .ci/run installs it, a missing browser fails.
func chromium(t *testing.T) string {
	t.Helper()
	p, err := Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v: .ci/run installs it (apt-get install chromium)", err)
		}
		t.Skipf("%v; skipping the browser check", err)
	}
	return p
}

func TestCheck(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "p.html")
	// A 1x1 PNG that loads, one that does not; a box 1,500 px wide that
	// only the "wide" style sheet (print media) shows.
	const png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
	os.WriteFile(page, []byte(`<!DOCTYPE html><html><head><style id="wide" media="print">#box { width: 1500px }</style></head><body>
<div id="box">box</div><img alt="good" src="data:image/png;base64,`+png+`"><img alt="bad" src="missing.png"></body></html>`), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	l, err := Check(ctx, bin, page, Window{Width: 800, Height: 600})
	if err != nil {
		t.Fatal(err)
	}
	if l.ViewportWidth <= 0 || l.ViewportWidth > 800 || l.ScrollWidth > l.ViewportWidth || l.OverflowCount != 0 {
		t.Errorf("screen: %+v; want no overflow in an 800 px window", l)
	}
	if l.Images != 2 || len(l.Broken) != 1 || l.Broken[0] != "bad" {
		t.Errorf("images %d, broken %q; want 2 and [bad]", l.Images, l.Broken)
	}

	l, err = Check(ctx, bin, page, Window{Width: 800, Height: 600, Media: []string{"wide"}})
	if err != nil {
		t.Fatal(err)
	}
	if l.ScrollWidth < 1500 || l.OverflowCount == 0 || !strings.Contains(strings.Join(l.Overflow, "\n"), "div#box") {
		t.Errorf("with the wide style sheet: %+v; want div#box reported", l)
	}
	// The copy with the script is gone.
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files left in the page's directory", len(ents))
	}
}

func TestCheckErrors(t *testing.T) {
	bin := chromium(t)
	if _, err := Check(context.Background(), bin, filepath.Join(t.TempDir(), "none.html"), Window{Width: 100, Height: 100}); err == nil {
		t.Error("a missing page: no error")
	}
	t.Setenv("CHROMIUM", filepath.Join(t.TempDir(), "no-such-browser"))
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "$CHROMIUM") {
		t.Errorf("Find with a bad $CHROMIUM: %v", err)
	}
}
