package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"trenv-bench/experiments"
	"trenv-bench/replay"
)

// TestBarsStayOnOneLine draws each kind of bar on a narrow and a wide
// terminal, with long descriptions and large counts, and checks that no
// frame is wider than the terminal (a wider one wraps, and every redraw
// then leaves a line behind).
func TestBarsStayOnOneLine(t *testing.T) {
	for _, cols := range []int{40, 50, 80, 120} {
		var out bytes.Buffer
		s := &Streams{ErrOut: &out, ProgressOK: true, Columns: cols}

		pb := newPhaseBars(s)
		for i := 0; i <= 4; i++ {
			pb.update(replay.Progress{Phase: "warmup", Scheduled: 123456, Sent: 100000 * i / 4, Completed: 100000 * i / 4, Failed: 99999, InFlight: 12345})
			time.Sleep(110 * time.Millisecond) // past the redraw throttle
		}
		pb.done()

		m := newMeter(s)
		m.Begin("/data/azure/invocations_per_function_md.anon.d03.csv.gz", 987_654_321)
		m.Advance(123_456_789)
		time.Sleep(110 * time.Millisecond)
		m.Advance(500_000_000)
		m.End()

		mb := newMatrixBar(s)
		mb.step(experiments.Step{Total: 42, Done: 7, Run: "azure-reap-twin-with-a-long-name", Action: experiments.StepRun})
		time.Sleep(110 * time.Millisecond)
		mb.step(experiments.Step{Total: 42, Done: 30, Run: "huawei-faasnap-twin", Action: experiments.StepSkip})
		mb.done()

		frames := 0
		for _, line := range strings.Split(out.String(), "\n") {
			for _, frame := range strings.Split(line, "\r") {
				frame = strings.TrimRight(frame, " ")
				if frame == "" {
					continue
				}
				frames++
				if n := utf8.RuneCountInString(frame); n >= cols {
					t.Errorf("%d columns: a frame takes %d: %q", cols, n, frame)
				}
			}
		}
		if frames < 5 {
			t.Errorf("%d columns: only %d frames drawn: %q", cols, frames, out.String())
		}
	}
}

func TestFitText(t *testing.T) {
	for _, c := range []struct {
		in   string
		room int
		want string
	}{
		{"reading day_01.csv", 40, "reading day_01.csv"},
		{"reading day_01.csv", 10, "reading d…"},
		{"héllo", 5, "héllo"},
		{"héllo", 4, "hél…"},
		{"x", 0, ""},
	} {
		if got := fitText(c.in, c.room); got != c.want {
			t.Errorf("fitText(%q, %d) = %q, want %q", c.in, c.room, got, c.want)
		}
	}
}
