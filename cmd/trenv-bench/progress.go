package main

import (
	"io"
	"path/filepath"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"

	"trenv-bench/traces/tracefile"
)

// bar is a progress bar that stays on one line of its terminal: its
// description is cut to the room the bar and its figures leave.
type bar struct {
	*progressbar.ProgressBar
	room int // the most runes a description may take
}

// Describe sets the bar's description, cut to fit the line.
func (b *bar) Describe(text string) { b.ProgressBar.Describe(fitText(text, b.room)) }

// Widths of a bar's parts, in columns.
const (
	maxBarWidth = 30
	minBarWidth = 5
	// statsWidth is what the library prints around the bar itself: the
	// percentage, the brackets and the time left ("100% |…| [1h2m3s:4m5s]").
	statsWidth = 26
	// bytesWidth is the transfer figures of a byte-counting bar
	// ("(123 MB/456 MB, 78 MB/s)").
	bytesWidth = 28
)

// newBar returns the commands' progress bar on s.ErrOut, redrawn at most
// every 100 ms. It fits one line of s.Columns: the bar takes what is left
// after the figures, between minBarWidth and maxBarWidth columns, and a
// description longer than the rest is cut (Describe). counts is how many
// columns the count figures take ("(12/34) "); bytes adds transfer figures.
func newBar(s *Streams, total int64, counts int, bytes bool, opts ...progressbar.Option) *bar {
	cols := s.Columns
	if cols <= 0 {
		cols = DefaultColumns
	}
	fixed := statsWidth + counts + 1 // one column spare: a full line would wrap on some terminals
	if bytes {
		fixed += bytesWidth
	}
	width := min(maxBarWidth, max(minBarWidth, cols-fixed-30))
	room := max(0, cols-fixed-width)
	base := []progressbar.Option{
		progressbar.OptionSetWriter(s.ErrOut),
		progressbar.OptionSetWidth(width),
		progressbar.OptionThrottle(100 * time.Millisecond),
	}
	if bytes {
		base = append(base, progressbar.OptionShowBytes(true))
	}
	return &bar{ProgressBar: progressbar.NewOptions64(total, append(base, opts...)...), room: room}
}

// newCountBar is newBar for counted items (requests, runs): the count and
// the time left are shown.
func newCountBar(s *Streams, total int, opts ...progressbar.Option) *bar {
	digits := len(strconv.Itoa(total))
	return newBar(s, int64(total), 2*digits+4, false, append([]progressbar.Option{
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
	}, opts...)...)
}

// fitText returns text cut to at most room runes, ending in "…" when cut.
func fitText(text string, room int) string {
	if utf8.RuneCountInString(text) <= room {
		return text
	}
	if room <= 0 {
		return ""
	}
	r := []rune(text)
	return string(r[:room-1]) + "…"
}

// barMeter draws one progress bar per dataset file on a terminal.
type barMeter struct {
	s   *Streams
	bar *bar
}

// newMeter returns a Meter that draws on s.ErrOut when it is a terminal and
// reports nothing otherwise.
func newMeter(s *Streams) tracefile.Meter {
	if !s.ProgressOK {
		return tracefile.NopMeter{}
	}
	return &barMeter{s: s}
}

func (m *barMeter) Begin(label string, total int64) {
	if total <= 0 {
		total = -1 // unknown: a spinner
	}
	m.bar = newBar(m.s, total, 0, true,
		progressbar.OptionClearOnFinish(),
		progressbar.OptionOnCompletion(func() { io.WriteString(m.s.ErrOut, "\r") }),
	)
	m.bar.Describe("reading " + filepath.Base(label))
}

func (m *barMeter) Advance(n int64) {
	if m.bar != nil {
		m.bar.Add64(n)
	}
}

func (m *barMeter) End() {
	if m.bar != nil {
		m.bar.Finish()
		m.bar = nil
	}
}
