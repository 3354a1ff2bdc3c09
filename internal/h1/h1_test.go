package h1

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

var dialer net.Dialer

// dial connects to srv's listener.
func dial(t *testing.T, srv *httptest.Server) *Conn {
	t.Helper()
	c, err := Dial(context.Background(), dialer.DialContext, srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func post(srv *httptest.Server, path string, body []byte) []byte {
	return Request("POST", srv.Listener.Addr().String(), path,
		[]Header{{"Content-Type", "application/json"}, {"X-Test", "yes"}}, body)
}

func TestRequestIsHTTP(t *testing.T) {
	for _, tc := range []struct {
		method string
		body   string
		cl     int64
	}{{"POST", `{"n": 1}`, 8}, {"POST", "", 0}, {"GET", "", -1}} {
		b := Request(tc.method, "example.test:8081", "/invoke/pyaes?x=1", []Header{{"User-Agent", "ua"}}, []byte(tc.body))
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(b)))
		if err != nil {
			t.Fatalf("%s: %v\n%q", tc.method, err, b)
		}
		got, _ := io.ReadAll(r.Body)
		if r.Method != tc.method || r.Host != "example.test:8081" || r.URL.Path != "/invoke/pyaes" ||
			r.URL.RawQuery != "x=1" || r.UserAgent() != "ua" || string(got) != tc.body {
			t.Errorf("%s: parsed as %s %s host %s ua %q body %q", tc.method, r.Method, r.URL, r.Host, r.UserAgent(), got)
		}
		wantCL := tc.cl
		if wantCL < 0 {
			wantCL = 0 // no header: net/http reads 0 for a GET
		}
		if r.ContentLength != wantCL || (tc.cl < 0) != (r.Header.Get("Content-Length") == "") {
			t.Errorf("%s: Content-Length %d (header %q), want %d", tc.method, r.ContentLength, r.Header.Get("Content-Length"), tc.cl)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a header value with a line break did not panic")
		}
	}()
	Request("GET", "h", "/", []Header{{"X", "a\r\nInjected: 1"}}, nil)
}

// TestKeepAlive: answers with Content-Length and chunked answers are read
// whole and the connection carries the next request; the server sees what
// Request wrote.
func TestKeepAlive(t *testing.T) {
	var mu sync.Mutex
	remotes := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		remotes[r.RemoteAddr] = true
		mu.Unlock()
		b, _ := io.ReadAll(r.Body)
		if r.Method != "POST" || r.Header.Get("X-Test") != "yes" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request "+r.Method, http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/length":
			w.Write(b)
		case "/chunked":
			// Flushing before the end makes net/http send chunks.
			for i := 0; i < 3; i++ {
				w.Write(b)
				w.(http.Flusher).Flush()
			}
		case "/big":
			w.Write(bytes.Repeat([]byte("x"), 1<<20))
		case "/teapot":
			w.WriteHeader(http.StatusTeapot)
			io.WriteString(w, "short and stout")
		}
	}))
	defer srv.Close()
	c := dial(t, srv)
	for i, tc := range []struct {
		path string
		body string
		code int
		want string
	}{
		{"/length", `{"a": 1}`, 200, `{"a": 1}`},
		{"/chunked", "ab", 200, "ababab"},
		{"/length", "", 200, ""},
		{"/big", "", 200, strings.Repeat("x", 1<<20)},
		{"/teapot", "x", 418, "short and stout"},
		{"/length", strings.Repeat("y", 8<<20), 200, strings.Repeat("y", 8<<20)}, // more than a socket buffer
	} {
		ans, err := c.Do(context.Background(), post(srv, tc.path, []byte(tc.body)), "POST", 64<<20)
		if err != nil {
			t.Fatalf("request %d %s: %v", i, tc.path, err)
		}
		if ans.StatusCode != tc.code || ans.Status != fmt.Sprintf("%d %s", tc.code, http.StatusText(tc.code)) ||
			string(ans.Body) != tc.want {
			t.Errorf("request %d %s: %d %q, %d bytes", i, tc.path, ans.StatusCode, ans.Status, len(ans.Body))
		}
		if !c.Reusable() || !c.Alive() {
			t.Fatalf("request %d %s: connection not reusable (%v) or not alive", i, tc.path, c.Reusable())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(remotes) != 1 {
		t.Errorf("the server saw %d connections, want 1: %v", len(remotes), remotes)
	}
}

// rawServer answers each connection with answer and then closes it.
func rawServer(t *testing.T, answer string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				if _, err := http.ReadRequest(bufio.NewReader(nc)); err != nil {
					return
				}
				io.WriteString(nc, answer)
			}()
		}
	}()
	return ln.Addr().String()
}

// TestSpentConnections: answers that end the connection leave it not
// Reusable; a truncated or oversized body is an error.
func TestSpentConnections(t *testing.T) {
	for _, tc := range []struct {
		name, answer string
		method       string
		want         string
		err          error // nil: no error
	}{
		{"close-delimited", "HTTP/1.1 200 OK\r\n\r\nuntil the end", "POST", "until the end", nil},
		{"Connection: close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", "POST", "ok", nil},
		{"HTTP/1.0", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "POST", "ok", nil},
		{"truncated", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "POST", "abc", io.ErrUnexpectedEOF},
		{"truncated chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "POST", "ab", io.ErrUnexpectedEOF},
		{"no body, Connection: close", "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", "POST", "", nil},
		{"too large", "HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n01234567890123456789", "POST", "0123456789012345", ErrBodyTooLarge},
		{"too large chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n14\r\n01234567890123456789\r\n0\r\n\r\n", "POST", "0123456789012345", ErrBodyTooLarge},
		{"closed before answering", "", "POST", "", io.ErrUnexpectedEOF},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", "POST", "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawServer(t, tc.answer)
			c, err := Dial(context.Background(), dialer.DialContext, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			ans, err := c.Do(context.Background(), Request(tc.method, addr, "/", nil, nil), tc.method, 16)
			switch {
			case tc.name == "not HTTP":
				if err == nil {
					t.Fatalf("no error for %q", tc.answer)
				}
			case tc.err == nil && err != nil:
				t.Fatal(err)
			case tc.err != nil && !errors.Is(err, tc.err):
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if string(ans.Body) != tc.want {
				t.Errorf("body %q, want %q", ans.Body, tc.want)
			}
			if c.Reusable() {
				t.Error("the connection is still Reusable")
			}
			if _, err := c.Do(context.Background(), Request("GET", addr, "/", nil, nil), "GET", 10); err == nil {
				t.Error("Do on a spent connection did not fail")
			}
		})
	}
}

// TestHEAD: the answer to HEAD has no body even with a Content-Length, and
// the connection goes on.
func TestHEAD(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "5")
		if r.Method != "HEAD" {
			io.WriteString(w, "hello")
		}
	}))
	defer srv.Close()
	c := dial(t, srv)
	host := srv.Listener.Addr().String()
	for _, m := range []string{"HEAD", "GET", "HEAD"} {
		ans, err := c.Do(context.Background(), Request(m, host, "/", nil, nil), m, 100)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if want := map[string]string{"HEAD": "", "GET": "hello"}[m]; string(ans.Body) != want {
			t.Errorf("%s: body %q, want %q", m, ans.Body, want)
		}
	}
	if !c.Reusable() {
		t.Error("not Reusable after HEAD, GET, HEAD")
	}
}

// TestContext: a call whose context ends while the server holds the answer
// returns the context's error (its deadline or its cancellation) and spends
// the connection.
func TestContext(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)

	c := dial(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Do(ctx, post(srv, "/", nil), "POST", 10); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("past the deadline: %v, want %v", err, context.DeadlineExceeded)
	}
	if c.Reusable() {
		t.Error("Reusable after its deadline")
	}

	c = dial(t, srv)
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	if _, err := c.Do(ctx, post(srv, "/", nil), "POST", 10); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v, want %v", err, context.Canceled)
	}

	c = dial(t, srv)
	if _, err := c.Do(ctx, post(srv, "/", nil), "POST", 10); !errors.Is(err, context.Canceled) {
		t.Errorf("already cancelled: %v", err)
	}
	if !c.Reusable() {
		t.Error("a call that did not start spent the connection")
	}
}

// TestAlive: a kept connection that the server closes is no longer Alive.
func TestAlive(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	c := dial(t, srv)
	if _, err := c.Do(context.Background(), post(srv, "/", nil), "POST", 10); err != nil {
		t.Fatal(err)
	}
	if !c.Alive() {
		t.Fatal("not Alive after an answer")
	}
	srv.CloseClientConnections()
	// The FIN arrives asynchronously; wait for it (the test fails by
	// timing out, not by a measured time).
	for c.Alive() {
		time.Sleep(time.Millisecond)
	}
	if !c.Reusable() {
		t.Error("Reusable is about the answers only; it changed")
	}
	if _, err := c.Do(context.Background(), post(srv, "/", nil), "POST", 10); err == nil {
		t.Error("a request on the closed connection did not fail")
	}
}
