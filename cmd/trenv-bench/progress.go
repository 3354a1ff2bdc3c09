package main

import (
	"io"
	"path/filepath"

	"github.com/schollz/progressbar/v3"

	"trenv-bench/traces/tracefile"
)

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
	m.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(m.w),
		progressbar.OptionSetDescription("reading "+filepath.Base(label)),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100e6),
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
