// Package h1 is a small HTTP/1.1 client connection for a load generator's
// hot path: one keep-alive TCP connection, used by one goroutine at a time,
// that writes a request prepared once as bytes (Request) and reads the
// answer in the calling goroutine (Conn.Do).
//
// net/http's Transport runs two goroutines per connection (a read loop and a
// write loop) and hands every request and answer between them and the
// caller; at a few hundred requests a second on a 2-core machine those
// hand-offs, each waking a thread, are most of a replayer's CPU. Here the
// caller's goroutine does the I/O itself and sleeps only in the network
// poller while it waits for the answer.
//
// The answer is parsed by net/http's own ReadResponse (status line,
// headers, Content-Length, chunked and close-delimited bodies, Connection:
// close). A connection that answered with "Connection: close", whose answer
// was not read whole, or whose call was cancelled is not Reusable. Deadlines
// come from the context: when it ends, the connection's deadline is set in
// the past, the call returns the context's error and the connection is
// spent.
//
//	req := h1.Request("POST", "127.0.0.1:8081", "/invoke/pyaes", []h1.Header{{"Content-Type", "application/json"}}, body)
//	c, err := h1.Dial(ctx, dialer.DialContext, "127.0.0.1:8081")
//	ans, err := c.Do(ctx, req, "POST", 64<<20) // ans.StatusCode 200, ans.Body `{"latency": 0.04}`
//	if c.Reusable() { /* keep c for the next request */ }
//
// It imports only the standard library.
package h1

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ErrBodyTooLarge is returned by Do for an answer longer than its limit.
var ErrBodyTooLarge = errors.New("h1: answer body too large")

// Header is a request header line: name and value.
type Header struct{ Name, Value string }

// Request returns an HTTP/1.1 request as the bytes to send: the request
// line for method and target (the path and query, e.g. "/invoke/pyaes"),
// Host, the headers in order, Content-Length (when there is a body, or the
// method is POST, PUT or PATCH: then 0 without one) and the body. It
// panics if a name, value, host or target holds a line break (they come
// from the program, not from the network).
func Request(method, host, target string, headers []Header, body []byte) []byte {
	check := func(s string) {
		if strings.ContainsAny(s, "\r\n") {
			panic(fmt.Sprintf("h1: line break in request field %q", s))
		}
	}
	check(method)
	check(host)
	check(target)
	b := make([]byte, 0, 128+len(body))
	b = append(b, method...)
	b = append(b, ' ')
	b = append(b, target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, host...)
	b = append(b, "\r\n"...)
	for _, h := range headers {
		check(h.Name)
		check(h.Value)
		b = append(b, h.Name...)
		b = append(b, ": "...)
		b = append(b, h.Value...)
		b = append(b, "\r\n"...)
	}
	if len(body) > 0 || method == http.MethodPost || method == http.MethodPut || method == http.MethodPatch {
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, int64(len(body)), 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}

// DialFunc opens a connection, as net.Dialer.DialContext does.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Conn is an HTTP/1.1 client connection. It is not safe for concurrent use:
// one goroutine at a time calls Do.
type Conn struct {
	nc       net.Conn
	w        io.Writer // nc, or raw system calls on it (io_linux.go)
	br       *bufio.Reader
	reusable bool
	idleAt   time.Time // when the last answer was read
}

// Dial connects to addr (host:port) over TCP with dial.
func Dial(ctx context.Context, dial DialFunc, addr string) (*Conn, error) {
	nc, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return NewConn(nc), nil
}

// NewConn returns a Conn over nc, which it owns from then on.
func NewConn(nc net.Conn) *Conn {
	r, w := newIO(nc)
	return &Conn{nc: nc, w: w, br: bufio.NewReaderSize(r, 4096), reusable: true, idleAt: time.Now()}
}

// Answer is an HTTP answer read whole.
type Answer struct {
	// StatusCode is the status code, e.g. 200; Status the status line's
	// text after the protocol, e.g. "200 OK".
	StatusCode int
	Status     string
	// Body is the answer's body; after an error, what was read of it
	// (for ErrBodyTooLarge, its first limit bytes).
	Body []byte
}

// Do sends req (a whole request, as Request makes it) and reads the answer,
// its body up to limit bytes (a longer one is ErrBodyTooLarge). method is
// req's method (a HEAD answer has no body). When ctx ends first, Do returns
// ctx.Err() and the connection is no longer Reusable; so it is after any
// error. An error of the connection is returned as the net package gives
// it (a *net.OpError, io.EOF, io.ErrUnexpectedEOF).
func (c *Conn) Do(ctx context.Context, req []byte, method string, limit int64) (Answer, error) {
	if err := ctx.Err(); err != nil {
		return Answer{}, err
	}
	if !c.reusable {
		return Answer{}, errors.New("h1: connection is spent")
	}
	c.reusable = false // until the answer is read whole
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	ans, keep, err := c.roundTrip(req, method, limit)
	if !stop() { // ctx ended: its error says why, whatever I/O error it caused
		return ans, ctx.Err()
	}
	if err == nil && keep {
		c.reusable, c.idleAt = true, time.Now()
	}
	return ans, err
}

func (c *Conn) roundTrip(req []byte, method string, limit int64) (Answer, bool, error) {
	if _, err := c.w.Write(req); err != nil {
		return Answer{}, false, err
	}
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		return Answer{}, false, err
	}
	ans := Answer{StatusCode: resp.StatusCode, Status: resp.Status}
	if resp.Body == http.NoBody { // HEAD, 204, 304: a Content-Length says what GET would get
		return ans, !resp.Close, nil
	}
	if n := resp.ContentLength; n >= 0 && n <= limit {
		// One exact-size read; a body shorter than announced is
		// io.ErrUnexpectedEOF.
		ans.Body = make([]byte, n)
		if m, err := io.ReadFull(resp.Body, ans.Body); err != nil {
			ans.Body = ans.Body[:m]
			return ans, false, err
		}
	} else {
		ans.Body, err = io.ReadAll(io.LimitReader(resp.Body, limit+1))
		if err != nil {
			return ans, false, err
		}
		if int64(len(ans.Body)) > limit {
			ans.Body = ans.Body[:limit]
			return ans, false, fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, limit)
		}
	}
	return ans, !resp.Close, nil
}

// Reusable reports whether another request may be sent: the last answer was
// read whole, did not ask to close the connection, and the call was not
// cancelled.
func (c *Conn) Reusable() bool { return c.reusable }

// Alive reports whether a request may be sent now: the connection is
// Reusable and, since the last answer, the server has neither closed it nor
// sent anything (a non-blocking peek at the socket, on Linux). A server
// closes idle connections when it likes; a request written on one that it
// just closed would be lost.
func (c *Conn) Alive() bool {
	return c.reusable && c.br.Buffered() == 0 && peerQuiet(c.nc)
}

// IdleSince is when the last answer was read (or the connection opened).
func (c *Conn) IdleSince() time.Time { return c.idleAt }

// Close closes the connection.
func (c *Conn) Close() error {
	c.reusable = false
	return c.nc.Close()
}
