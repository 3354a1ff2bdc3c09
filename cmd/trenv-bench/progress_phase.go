package main

import (
	"fmt"

	"trenv-bench/replay"
)

// phaseBars draws one progress bar per replay phase on a terminal.
type phaseBars struct {
	s     *Streams
	phase string
	bar   *bar
}

func newPhaseBars(s *Streams) *phaseBars { return &phaseBars{s: s} }

// update follows replay's progress reports (one goroutine calls it).
func (b *phaseBars) update(p replay.Progress) {
	if !b.s.ProgressOK {
		return
	}
	if p.Phase != b.phase {
		b.done()
		b.phase = p.Phase
		b.bar = newCountBar(b.s, p.Scheduled)
	}
	b.bar.Describe(fmt.Sprintf("%-6s sent %d, failed %d, in flight %d", p.Phase, p.Sent, p.Failed, p.InFlight))
	b.bar.Set(p.Completed)
}

func (b *phaseBars) done() {
	if b.bar != nil {
		b.bar.Finish()
		fmt.Fprintln(b.s.ErrOut)
		b.bar = nil
	}
}
