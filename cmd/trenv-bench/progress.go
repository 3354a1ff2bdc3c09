package main

import (
	"io"
	"path/filepath"
	"time"

	"github.com/schollz/progressbar/v3"

	"trenv-bench/traces/tracefile"
)

// newBar returns the commands' progress bar on w: 30 columns, redrawn at
// most every 100 ms, with opts added.
func newBar(w io.Writer, total int64, opts ...progressbar.Option) *progressbar.ProgressBar {
	base := []progressbar.Option{
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100 * time.Millisecond),
	}
	return progressbar.NewOptions64(total, append(base, opts...)...)
}

// newCountBar is newBar for counted items (requests, runs): the count and
// the time left are shown.
func newCountBar(w io.Writer, total int, opts ...progressbar.Option) *progressbar.ProgressBar {
	return newBar(w, int64(total), append([]progressbar.Option{
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
	}, opts...)...)
}

// barMeter draws one progress bar per dataset file on a terminal.
type barMeter struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

// newMeter returns a Meter that draws on s.ErrOut when it is a terminal and
// reports nothing otherwise.
func newMeter(s *Streams) tracefile.Meter {
	if !s.ProgressOK {
		return tracefile.NopMeter{}
	}
	return &barMeter{w: s.ErrOut}
}

func (m *barMeter) Begin(label string, total int64) {
	if total <= 0 {
		total = -1 // unknown: a spinner
	}
	m.bar = newBar(m.w, total,
		progressbar.OptionSetDescription("reading "+filepath.Base(label)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionOnCompletion(func() { io.WriteString(m.w, "\r") }),
	)
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
