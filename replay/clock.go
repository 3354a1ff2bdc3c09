package replay

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"trenv-bench/results"
)

// ClockOffset is an estimate of a gateway's clock minus this machine's.
type ClockOffset struct {
	// Offset is the gateway's time minus this machine's.
	Offset time.Duration
	// Uncertainty bounds the error of Offset: the true offset lies within
	// Offset ± Uncertainty, if the gateway's Date header is truncated to
	// the second as HTTP servers write it.
	Uncertainty time.Duration
}

// clockPoll is how often ClockOffset asks while it waits for the gateway's
// Date header to turn to the next second.
const clockPoll = 10 * time.Millisecond

// ClockOffset estimates the gateway's clock against this machine's from
// the Date header of its GET /healthz answers. A Date header has whole
// seconds, so one answer alone says the offset to ±0.5 s; ClockOffset
// instead polls every 10 ms for up to budget (at least 1.1 s makes sure a
// second boundary falls inside) and times the moment the header turns to
// the next second, which pins the offset to about half the poll interval
// plus the round trip. When no boundary was seen in budget, it falls back
// to the coarse estimate. It returns ok false when the answers carry no
// Date header; an error only when the gateway does not answer.
func (g *Gateway) ClockOffset(ctx context.Context, budget time.Duration) (off ClockOffset, ok bool, err error) {
	type sample struct {
		sent, recv time.Time
		date       time.Time
	}
	ask := func() (sample, bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url("/healthz"), nil)
		if err != nil {
			return sample{}, false, err
		}
		s := sample{sent: time.Now()}
		resp, err := g.client().Do(req)
		if err != nil {
			return sample{}, false, fmt.Errorf("replay: clock offset: GET %s: %w", results.RedactURL(req.URL.String()), err)
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		s.recv = time.Now()
		d, perr := http.ParseTime(resp.Header.Get("Date"))
		if perr != nil {
			return s, false, nil
		}
		s.date = d
		return s, true, nil
	}
	first, ok, err := ask()
	if err != nil || !ok {
		return ClockOffset{}, false, err
	}
	mid := func(s sample) time.Time { return s.sent.Add(s.recv.Sub(s.sent) / 2) }
	prev := first
	deadline := first.sent.Add(budget)
	tick := time.NewTicker(clockPoll)
	defer tick.Stop()
	for time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return ClockOffset{}, false, ctx.Err()
		case <-tick.C:
		}
		cur, ok, err := ask()
		if err != nil || !ok {
			return ClockOffset{}, false, err
		}
		if cur.date.After(prev.date) {
			// The gateway's clock read cur.date at some moment after it
			// answered prev and before it answered cur.
			from, to := prev.sent, cur.recv
			boundary := from.Add(to.Sub(from) / 2)
			return ClockOffset{Offset: cur.date.Sub(boundary), Uncertainty: to.Sub(from) / 2}, true, nil
		}
		prev = cur
	}
	// No boundary seen: the gateway's clock was in [date, date+1 s) when
	// it answered the first request.
	rtt := first.recv.Sub(first.sent)
	return ClockOffset{Offset: first.date.Add(500 * time.Millisecond).Sub(mid(first)), Uncertainty: 500*time.Millisecond + rtt/2}, true, nil
}
