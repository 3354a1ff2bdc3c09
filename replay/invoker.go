package replay

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"trenv-bench/internal/h1"
)

// invoker sends a Gateway's invocations through internal/h1 when the
// Gateway has no Client of its own and its URL is http: each call takes a
// keep-alive connection from a pool (the one used last, so a steady stream
// keeps a few connections warm), writes the request prepared once per
// function, reads the answer in the caller's goroutine and puts the
// connection back. As NewClient's transport it keeps up to
// MaxIdleConnsPerHost idle connections for up to idleConnTimeout, opens as
// many as a burst needs, and at most MaxConcurrentDials at once; a call
// waiting for a dial takes a connection another call puts back first.
type invoker struct {
	base   string // the Gateway's URL, for requests and (redacted) errors
	dialer net.Dialer
	slots  chan struct{} // a token per dial in progress
	back   chan struct{} // a connection was put back (non-blocking sends)

	mu   sync.Mutex
	idle []*h1.Conn

	reqMu sync.RWMutex
	reqs  map[string]*prepared // by function name
}

// idleConnTimeout is how long an idle connection is kept (NewClient's
// IdleConnTimeout).
const idleConnTimeout = 90 * time.Second

// userAgent is the User-Agent of invocations: net/http's, as before the
// replayer had its own client.
const userAgent = "Go-http-client/1.1"

// prepared is an invocation's request as bytes, for one body.
type prepared struct {
	body []byte
	addr string // host:port to dial
	url  string // for errors, redacted
	req  []byte
}

// newInvoker returns the invoker of base, or nil when h1 cannot serve it
// (not http://, no host).
func newInvoker(base string) *invoker {
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "http" || u.Host == "" || u.Opaque != "" {
		return nil
	}
	return &invoker{base: base, dialer: net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
		slots: make(chan struct{}, MaxConcurrentDials), back: make(chan struct{}), reqs: map[string]*prepared{}}
}

// prepare returns fn's request with body, made once per function (again if
// the body changes).
func (inv *invoker) prepare(fn string, body []byte) (*prepared, error) {
	inv.reqMu.RLock()
	p := inv.reqs[fn]
	inv.reqMu.RUnlock()
	if p != nil && string(p.body) == string(body) {
		return p, nil
	}
	raw := strings.TrimSuffix(inv.base, "/") + "/invoke/" + fn
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	// No Authorization from the URL's credentials: Gateway.do sends
	// invocations through the transport, which sends none either, and
	// faasd's /invoke needs none.
	hs := []h1.Header{{Name: "User-Agent", Value: userAgent}}
	if len(body) > 0 {
		hs = append(hs, h1.Header{Name: "Content-Type", Value: "application/json"})
	}
	p = &prepared{body: append([]byte(nil), body...), addr: addr, url: u.Redacted(),
		req: h1.Request("POST", u.Host, u.RequestURI(), hs, body)}
	inv.reqMu.Lock()
	inv.reqs[fn] = p
	inv.reqMu.Unlock()
	return p, nil
}

// invoke sends fn's invocation with body and reads the whole answer, as
// Gateway.do does for net/http: the status code and text and the body, or
// a *url.Error naming the request.
func (inv *invoker) invoke(ctx context.Context, fn string, body []byte) (int, string, []byte, error) {
	p, err := inv.prepare(fn, body)
	if err != nil {
		return 0, "", nil, err
	}
	// A kept connection that the server closes as the request goes out
	// fails the attempt, as with net/http, which sends a POST again only
	// when nothing of it was written; popAlive makes that rare.
	c, err := inv.get(ctx, p.addr)
	if err != nil {
		return 0, "", nil, &url.Error{Op: "Post", URL: p.url, Err: err}
	}
	ans, err := c.Do(ctx, p.req, "POST", MaxResponseBody)
	inv.put(c)
	switch {
	case errors.Is(err, h1.ErrBodyTooLarge):
		return ans.StatusCode, ans.Status, ans.Body, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, MaxResponseBody)
	case err != nil:
		return ans.StatusCode, ans.Status, ans.Body, &url.Error{Op: "Post", URL: p.url, Err: err}
	}
	return ans.StatusCode, ans.Status, ans.Body, nil
}

// get returns an idle connection that is still alive, or dials one.
func (inv *invoker) get(ctx context.Context, addr string) (*h1.Conn, error) {
	for {
		if c := inv.popAlive(); c != nil {
			return c, nil
		}
		select {
		case inv.slots <- struct{}{}:
			c, err := h1.Dial(ctx, inv.dialer.DialContext, addr)
			<-inv.slots
			return c, err
		case <-inv.back:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// popAlive takes the connection put back last that is still alive, closing
// the dead and stale ones it meets; nil when there is none.
func (inv *invoker) popAlive() *h1.Conn {
	for {
		inv.mu.Lock()
		n := len(inv.idle)
		if n == 0 {
			inv.mu.Unlock()
			return nil
		}
		c := inv.idle[n-1]
		inv.idle[n-1] = nil
		inv.idle = inv.idle[:n-1]
		inv.mu.Unlock()
		if time.Since(c.IdleSince()) < idleConnTimeout && c.Alive() {
			return c
		}
		c.Close()
	}
}

// put keeps c for another call if it can be reused, else closes it.
func (inv *invoker) put(c *h1.Conn) {
	if !c.Reusable() {
		c.Close()
		return
	}
	inv.mu.Lock()
	if len(inv.idle) >= MaxIdleConnsPerHost {
		inv.mu.Unlock()
		c.Close()
		return
	}
	inv.idle = append(inv.idle, c)
	inv.mu.Unlock()
	select { // wake one call waiting for a dial slot, if any
	case inv.back <- struct{}{}:
	default:
	}
}

// closeIdle closes the idle connections.
func (inv *invoker) closeIdle() {
	inv.mu.Lock()
	idle := inv.idle
	inv.idle = nil
	inv.mu.Unlock()
	for _, c := range idle {
		c.Close()
	}
}
