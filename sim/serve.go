package sim

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"
)

// TwinHeader is the response header by which the twin announces itself on
// every answer, so that a client replaying against a URL can tell the model
// from a real faasd (and never file a model's run as a measurement). Its
// value is TwinHeaderValue.
const (
	TwinHeader      = "X-Trenv-Bench-Twin"
	TwinHeaderValue = "platform-model"
)

// EffectiveConfig is the model's configuration as a run records it (the
// manifest's effective_config) and as GET /sim/info serves it.
type EffectiveConfig struct {
	// Engine is "sim" (virtual time) or "twin" (HTTP, real time).
	Engine   string `json:"engine"`
	Method   string `json:"method"`
	Pool     string `json:"pool,omitempty"`
	MemBytes int64  `json:"mem_bytes"`
	// GCS is the keep-alive in seconds (0: none).
	GCS      float64 `json:"gc_s"`
	IdleNum  int     `json:"idle_num"`
	NoReuse  bool    `json:"no_reuse"`
	NoBgTask bool    `json:"no_bgtask"`
	Seed     uint64  `json:"seed"`
	// Speed is the twin's model seconds per wall second; 0 on the engine.
	Speed float64 `json:"speed,omitempty"`
}

// Effective returns c as a run records it, for engine ("sim" or "twin")
// at speed (twin only).
func (c Config) Effective(engine string, speed float64) EffectiveConfig {
	e := EffectiveConfig{Engine: engine, Method: c.Method, MemBytes: c.MemBytes, GCS: c.GC.Seconds(),
		IdleNum: c.IdleNum, NoReuse: c.NoReuse, NoBgTask: c.NoBgTask, Seed: c.Seed}
	if c.trenv() {
		e.Pool = c.Pool
	}
	if engine == "twin" {
		e.Speed = speed
	}
	return e
}

// announce sets TwinHeader on every answer of h.
func announce(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(TwinHeader, TwinHeaderValue)
		h.ServeHTTP(w, r)
	})
}

// handleInfo serves GET /sim/info: the twin's EffectiveConfig as JSON.
func (t *Twin) handleInfo(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(t.cfg.Platform.Effective("twin", t.cfg.Speed))
}

// Serve serves t on ln until ctx ends, with its background tasks, then
// shuts the server down (requests in flight get up to 5 s) and returns nil;
// any other serving error is returned. Both `sim serve` and the twin runs of
// `run` host the twin through it.
func (t *Twin) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{Handler: t.Handler(), ReadHeaderTimeout: 10 * time.Second}
	bg, stop := context.WithCancel(ctx)
	defer stop()
	go t.RunBackground(bg)
	done := make(chan struct{})
	go func() {
		defer close(done)
		<-bg.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	err := srv.Serve(ln)
	stop()
	<-done
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}
