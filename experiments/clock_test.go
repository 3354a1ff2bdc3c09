package experiments

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"trenv-bench/replay"
	"trenv-bench/results"
)

// TestClockWarning: a twin run whose measured model shift exceeds
// TwinShiftLimit warns and records the shift; below it, or on a gateway
// (no shift to speak of), it records the clock and says nothing.
func TestClockWarning(t *testing.T) {
	test := replay.PhaseSummary{Ran: true, Sent: 10, LatenessP50: 100 * time.Microsecond,
		LatenessP99: time.Millisecond, OverheadP50: 400 * time.Microsecond, Overheads: 10}
	for _, tc := range []struct {
		name      string
		tgt       results.Target
		speed     float64
		wantShift float64 // ms; 0: none recorded
		warn      bool
	}{
		{"twin slow", results.TargetTwin, 20, 10, false},
		{"twin fast", results.TargetTwin, 100, 50, true},
		{"gateway", results.TargetGateway, 1, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var notes bytes.Buffer
			e := &replayEngine{o: &Spec{Notes: &notes}, tgt: tc.tgt, speed: tc.speed}
			c := e.clock(replay.Summary{Test: test})
			if c == nil || c.Phase != results.PhaseTest || c.LatenessP50Ms != 0.1 || c.LatenessP99Ms != 1 ||
				c.OverheadP50Ms == nil || *c.OverheadP50Ms != 0.4 {
				t.Fatalf("clock %+v", c)
			}
			switch {
			case tc.wantShift == 0 && c.ModelShiftMs != nil:
				t.Errorf("model shift %v recorded on a %s run", *c.ModelShiftMs, tc.tgt)
			case tc.wantShift != 0 && (c.ModelShiftMs == nil || *c.ModelShiftMs != tc.wantShift):
				t.Errorf("model shift %v, want %v ms", c.ModelShiftMs, tc.wantShift)
			}
			if got := strings.Contains(notes.String(), "warning"); got != tc.warn {
				t.Errorf("warned %v, want %v: %q", got, tc.warn, notes.String())
			}
		})
	}
	// A run whose test phase never ran is described by its warmup.
	e := &replayEngine{o: &Spec{}, tgt: results.TargetTwin, speed: 1}
	if c := e.clock(replay.Summary{Warmup: test}); c == nil || c.Phase != results.PhaseWarmup {
		t.Errorf("clock %+v, want the warmup's", c)
	}
	if c := e.clock(replay.Summary{}); c != nil {
		t.Errorf("clock %+v of a run that sent nothing", c)
	}
}
