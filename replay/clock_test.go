package replay

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// skewed serves /healthz with a Date header skew ahead of this machine's
// clock (nil Date when skew is nil).
func skewed(t *testing.T, skew *time.Duration) *Gateway {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if skew == nil {
			w.Header()["Date"] = nil // net/http then writes none
		} else {
			w.Header().Set("Date", time.Now().Add(*skew).UTC().Format(http.TimeFormat))
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	return &Gateway{URL: srv.URL}
}

func TestClockOffset(t *testing.T) {
	for _, skew := range []time.Duration{3200 * time.Millisecond, -1700 * time.Millisecond, 0} {
		g := skewed(t, &skew)
		off, ok, err := g.ClockOffset(context.Background(), 1500*time.Millisecond)
		if err != nil || !ok {
			t.Fatalf("skew %v: ClockOffset = %+v, %v, %v", skew, off, ok, err)
		}
		if d := off.Offset - skew; d < -off.Uncertainty || d > off.Uncertainty {
			t.Errorf("skew %v: offset %v ± %v does not hold it", skew, off.Offset, off.Uncertainty)
		}
		if off.Uncertainty > 200*time.Millisecond {
			t.Errorf("skew %v: uncertainty %v: the second boundary was not timed", skew, off.Uncertainty)
		}
	}
}

func TestClockOffsetCoarse(t *testing.T) {
	skew := 2 * time.Second
	g := skewed(t, &skew)
	off, ok, err := g.ClockOffset(context.Background(), 0) // one answer only
	if err != nil || !ok {
		t.Fatalf("ClockOffset = %+v, %v, %v", off, ok, err)
	}
	if off.Uncertainty < 500*time.Millisecond {
		t.Errorf("one answer gives ±0.5 s at best, got ±%v", off.Uncertainty)
	}
	if d := off.Offset - skew; d < -off.Uncertainty || d > off.Uncertainty {
		t.Errorf("offset %v ± %v does not hold %v", off.Offset, off.Uncertainty, skew)
	}
}

func TestClockOffsetNoDate(t *testing.T) {
	g := skewed(t, nil)
	if off, ok, err := g.ClockOffset(context.Background(), time.Second); ok || err != nil {
		t.Errorf("no Date header: ClockOffset = %+v, %v, %v; want not ok, no error", off, ok, err)
	}
	g = &Gateway{URL: "http://127.0.0.1:1"}
	if _, _, err := g.ClockOffset(context.Background(), time.Second); err == nil {
		t.Error("no gateway: want an error")
	}
}
