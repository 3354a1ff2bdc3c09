package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"trenv-bench/experiments"
	"trenv-bench/internal/browser"
	"trenv-bench/plots"
	"trenv-bench/report"
)

// Sizes the report must fit: a 1,280 px window, and the print style
// sheet's page, A4 landscape less 10 mm margins: 277 mm at 96 px per inch.
const (
	reportWindowWidth = 1280
	a4LandscapeWidth  = 277 * 960 / 254 // 1046 px
)

// TestReportInBrowser reproduces every figure on the simulator, as a user
// does, and opens report.html in headless Chromium: every image loads, and
// nothing sticks out sideways at 1,280 px, nor on the printed page. It is
// skipped without Chromium, except on CI (CI=true), where .ci/run installs
// it.
func TestReportInBrowser(t *testing.T) {
	bin, err := browser.Find()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %v: .ci/run installs it (apt-get install chromium)", err)
		}
		t.Skipf("%v; skipping the browser check of report.html", err)
	}
	if testing.Short() {
		t.Skip("-short: reproduce all takes seconds")
	}
	out := t.TempDir()
	s, _, errOut := testStreams()
	if code := Main([]string{"reproduce", "all", "--target", "sim", "--out", out}, s); code != ExitOK {
		t.Fatalf("reproduce all: exit %d\n%s", code, errOut)
	}
	page := filepath.Join(out, experiments.ReportHTMLFile)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	for _, w := range []struct {
		what   string
		window browser.Window
	}{
		{"on the screen", browser.Window{Width: reportWindowWidth, Height: 900}},
		{"in print", browser.Window{Width: a4LandscapeWidth, Height: 900, Media: []string{report.PrintStyleID}}},
	} {
		l, err := browser.Check(ctx, bin, page, w.window)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d px used of %d, %d images", w.what, l.ScrollWidth, l.ViewportWidth, l.Images)
		if want := len(plots.Names()); l.Images != want || len(l.Broken) != 0 {
			t.Errorf("%s: %d images, %d broken (%q); want the %d figures, all loaded", w.what, l.Images, len(l.Broken), l.Broken, want)
		}
		if l.ScrollWidth > l.ViewportWidth || l.OverflowCount > 0 {
			t.Errorf("%s: the page is %d px wide in %d px; %d elements overflow:\n%s",
				w.what, l.ScrollWidth, l.ViewportWidth, l.OverflowCount, strings.Join(l.Overflow, "\n"))
		}
	}
}
