package replay

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// countConns counts the connections srv accepts.
func countConns(srv *httptest.Server) *atomic.Int64 {
	var n atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

// TestInvokerKeepsConnections: a Gateway without a Client invokes through
// internal/h1 over keep-alive connections: one for a sequence of calls, no
// more than a burst needs, reused by the next burst, and a new one when the
// server closed the kept ones.
func TestInvokerKeepsConnections(t *testing.T) {
	const burst = 20
	var arrived sync.WaitGroup
	hold := make(chan struct{})
	var holding atomic.Bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if holding.Load() {
			arrived.Done()
			<-hold
		}
		io.WriteString(w, `{"latency": 0.01}`)
	}))
	conns := countConns(srv)
	srv.Start()
	defer srv.Close()
	g := &Gateway{URL: srv.URL}
	if g.invoker() == nil {
		t.Fatal("no h1 invoker for an http:// URL")
	}
	fn := lookup(t, "pyaes")
	invoke := func() error {
		res, err := g.Invoke(context.Background(), fn, []byte(fn.Payload))
		if err == nil && res.LatencyS != 0.01 {
			err = errors.New("wrong latency")
		}
		return err
	}
	for i := 0; i < 10; i++ {
		if err := invoke(); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("10 calls in a row opened %d connections, want 1", n)
	}

	// A burst held by the server needs a connection per call; the next
	// burst finds them all idle.
	for round := 0; round < 2; round++ {
		holding.Store(true)
		arrived.Add(burst)
		errs := make(chan error, burst)
		for i := 0; i < burst; i++ {
			go func() { errs <- invoke() }()
		}
		arrived.Wait()
		holding.Store(false)
		hold <- struct{}{} // one at a time: they all arrived
		for i := 1; i < burst; i++ {
			hold <- struct{}{}
		}
		for i := 0; i < burst; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if n := conns.Load(); n != burst {
			t.Errorf("round %d: %d connections after bursts of %d, want %d", round, n, burst, burst)
		}
	}

	// The server closes its idle connections: the next call dials.
	srv.CloseClientConnections()
	if err := invoke(); err != nil {
		t.Fatalf("after the server closed the idle connections: %v", err)
	}
	if n := conns.Load(); n != burst+1 {
		t.Errorf("%d connections, want %d", n, burst+1)
	}
	g.CloseIdleConnections()
	if err := invoke(); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != burst+2 {
		t.Errorf("after CloseIdleConnections: %d connections, want %d", n, burst+2)
	}
}

// TestInvokerClosedAsSent: when the server closes a connection on
// receiving a request without answering, the call fails (once: a POST is
// not sent again, as net/http does not) with a *url.Error naming the URL
// without its password, and the next call gets a new connection.
func TestInvokerClosedAsSent(t *testing.T) {
	var calls, drop atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if drop.Load() == 1 {
			if nc, _, err := w.(http.Hijacker).Hijack(); err == nil {
				nc.Close()
			}
			return
		}
		io.WriteString(w, `{"latency": 0.01}`)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("user", "urlpass")
	g := &Gateway{URL: u.String()}
	fn := lookup(t, "pyaes")
	if _, err := g.Invoke(context.Background(), fn, nil); err != nil {
		t.Fatal(err)
	}
	drop.Store(1)
	_, err := g.Invoke(context.Background(), fn, nil)
	var ue *url.Error
	if !errors.As(err, &ue) || strings.Contains(err.Error(), "urlpass") || !strings.Contains(err.Error(), "/invoke/pyaes") {
		t.Errorf("error %v, want a *url.Error naming the URL, password redacted", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("the server saw %d calls, want 2", n)
	}
	drop.Store(0)
	if res, err := g.Invoke(context.Background(), fn, nil); err != nil || res.LatencyS != 0.01 {
		t.Errorf("after a dropped call: %+v, %v", res, err)
	}
}

// TestInvokerCredentials: a URL's credentials are not sent with
// invocations, as Gateway.do's net/http path sends none.
func TestInvokerCredentials(t *testing.T) {
	type seen struct {
		auth, ua string
	}
	got := make(chan seen, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- seen{r.Header.Get("Authorization"), r.UserAgent()}
		io.WriteString(w, `{"latency": 0.01}`)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	u.User = url.UserPassword("user", "pw")
	fn := lookup(t, "pyaes")
	for _, cl := range clients {
		if _, err := (&Gateway{URL: u.String(), Client: cl.make()}).Invoke(context.Background(), fn, nil); err != nil {
			t.Fatalf("%s: %v", cl.name, err)
		}
	}
	h1, nh := <-got, <-got
	if h1 != nh || h1.auth != "" {
		t.Errorf("h1 sent %+v, net/http %+v", h1, nh)
	}
}

// TestInvokerOnlyHTTP: other URLs go through net/http.
func TestInvokerOnlyHTTP(t *testing.T) {
	for _, u := range []string{"https://127.0.0.1:8081", "unix:/run/faasd.sock", "http://"} {
		if (&Gateway{URL: u}).invoker() != nil {
			t.Errorf("%s: an h1 invoker", u)
		}
	}
	if (&Gateway{URL: "http://127.0.0.1:8081", Client: NewClient()}).invoker() != nil {
		t.Error("an h1 invoker beside a Client of the caller's")
	}
}
