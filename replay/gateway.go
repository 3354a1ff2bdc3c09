package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v5"
	"github.com/valyala/fastjson"

	"trenv-bench/results"
	"trenv-bench/workloads"
)

// Defaults of the gateway client.
const (
	// DefaultGatewayURL is where faasd provider listens (upstream
	// config.yml's provider.gateway).
	DefaultGatewayURL = "http://127.0.0.1:8081"
	// DefaultUser is faasd's basic-auth user, the only one it has.
	DefaultUser = "admin"
	// MaxIdleConnsPerHost is the keep-alive pool of NewClient's transport,
	// sized for bursts (upstream's requests adapter keeps 500; a W1
	// dynamic-html burst is up to 220 requests in one second, an Azure
	// second a few hundred).
	MaxIdleConnsPerHost = 4096
	// MaxConcurrentDials bounds the connections NewClient's transport
	// opens at once. Without a bound, the first instants of a phase at
	// 20,000 req/s (or any burst meeting an empty pool) start one connect
	// per request, overflow the server's accept backlog and stall for the
	// 1 s SYN retransmission, while requests could have reused the first
	// connections to come back.
	MaxConcurrentDials = 8
	// MaxResponseBody bounds the body read from an answer, in bytes; a
	// longer body fails the attempt. The benchmark functions answer a few
	// kB at most (json-serde's data is not echoed).
	MaxResponseBody = 64 << 20
	// MaxLatency is the longest "latency" an answer may report, seconds:
	// an attempt that succeeded cannot have computed for longer than the
	// attempt timeout (upstream's 60 s, model time).
	MaxLatency = 60.0
	// maxErrorBody bounds how much of a failed answer's body an error
	// message quotes, in bytes.
	maxErrorBody = 1024
)

// Errors of the gateway client; test for them with errors.Is.
var (
	// ErrNoLatency means an HTTP 200 whose body is not a JSON object with a
	// numeric "latency" (missing, null, a string…). Upstream's driver fails
	// such a request without retrying it, and so does Run.
	ErrNoLatency = errors.New("replay: answer has no numeric JSON \"latency\"")
	// ErrBadLatency means a numeric "latency" that cannot be a function's
	// compute time: negative, too large to be a number, or longer than
	// MaxLatency. It wraps ErrNoLatency, so such a request fails at once
	// as one without a latency does.
	ErrBadLatency = fmt.Errorf("%w: the latency is not a function's compute time", ErrNoLatency)
	// ErrBodyTooLarge means an answer longer than MaxResponseBody.
	ErrBodyTooLarge = errors.New("replay: answer body too large")
)

// StatusError is an answer whose HTTP status was not 200. Its message is
// upstream's driver's: "[<code> <reason>] <body>", e.g.
// "[500 Internal Server Error] Failed to make ctr instance for pyaes: …".
type StatusError struct {
	// Code is the HTTP status code.
	Code int
	// Status is the status line's text, e.g. "500 Internal Server Error".
	Status string
	// Body is the start of the answer's body (at most 1 KiB).
	Body string
}

func (e *StatusError) Error() string {
	return "[" + e.Status + "] " + e.Body
}

// Gateway is a client of faasd provider's HTTP API (or of anything serving
// it, such as the twin): /healthz, /system/register, /system/metrics and
// /invoke/<function>. Its methods are safe for concurrent use.
//
// Password is never written into an error, and String hides it, so a
// Gateway can be printed with %v.
type Gateway struct {
	// URL is faasd's base URL, e.g. DefaultGatewayURL; a trailing slash
	// is ignored. It must not change once the Gateway is in use.
	URL string
	// Client, when not nil, sends every request (net/http: a transport of
	// one's own, TLS…). nil means the Gateway's own clients: invocations
	// of an http:// URL go through a small HTTP/1.1 client
	// (internal/h1) that does the I/O in the invoking goroutine over a
	// pool of keep-alive connections sized as NewClient's; the
	// control-plane calls, and invocations of any other URL, through a
	// client made once by NewClient. Per-request deadlines come from the
	// context.
	Client *http.Client
	// User and Password are the basic-auth credentials of
	// /system/register; User "" means DefaultUser. The password is faasd's
	// basic-auth-password secret.
	User, Password string
	// Control is the policy of Health and Register; zero means
	// DefaultControl.
	Control Control
	// Warn, when not nil, is told of each failed control-plane attempt
	// that is retried.
	Warn func(string)

	once    sync.Once
	own     *http.Client
	invOnce sync.Once
	inv     *invoker // nil when Client is set or the URL is not http://
	answers fastjson.ParserPool
}

// Target is what Run replays a workload against: invocations and faasd's
// metrics. *Gateway implements it over HTTP; a test may use anything else.
type Target interface {
	// Invoke invokes fn once with body (nil = no body). A nil error means
	// HTTP 200 with a numeric latency; otherwise the error wraps
	// ErrNoLatency (a 200 without one: not worth retrying), is a
	// *StatusError (another status), or is a transport error.
	Invoke(ctx context.Context, fn workloads.Function, body []byte) (Response, error)
	// Metrics returns faasd's metrics text, as served.
	Metrics(ctx context.Context) ([]byte, error)
	// ResetMetrics clears faasd's metrics.
	ResetMetrics(ctx context.Context) error
}

var _ Target = (*Gateway)(nil)

// Response is an invocation's answer.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Body is the answer's body, as received.
	Body []byte
	// LatencyS is the function's own compute time, its JSON "latency", in
	// seconds (required on a 200).
	LatencyS float64
	// StartKind is the JSON "start_kind" when the answer has one as a
	// string (the twin says cold|restore|switch|reuse; faasd says
	// nothing), else "".
	StartKind string
	// Served reports that the answer gave the twin's own account of the
	// request (sim.InvokeResponse): ServedModelS, its end-to-end latency
	// in model time, and ServedWallS, the wall time the twin held it, both
	// in seconds. A faasd gives neither.
	Served                    bool
	ServedModelS, ServedWallS float64
}

// NewClient returns the HTTP client a Gateway uses by default: one
// connection pool for every request, keeping up to MaxIdleConnsPerHost
// idle connections to faasd and opening as many as a burst needs
// (MaxConnsPerHost 0 = no limit). It sets no overall timeout: Run bounds
// each attempt with its context.
func NewClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 0 // no limit
	tr.MaxIdleConnsPerHost = MaxIdleConnsPerHost
	tr.MaxConnsPerHost = 0
	tr.IdleConnTimeout = 90 * time.Second
	tr.DialContext = limitDials((&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxConcurrentDials)
	return &http.Client{Transport: tr}
}

// limitDials lets at most n dials run at once; the others wait for a slot
// (or their context). A request waiting for a dial also takes the first
// connection another request returns to the pool, so this bounds the
// connect storm of a burst, not the requests in flight.
func limitDials(dial func(ctx context.Context, network, addr string) (net.Conn, error), n int) func(ctx context.Context, network, addr string) (net.Conn, error) {
	slots := make(chan struct{}, n)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-slots }()
		return dial(ctx, network, addr)
	}
}

// String describes the gateway without its password.
func (g *Gateway) String() string {
	pw := ""
	if g.Password != "" {
		pw = " password:<hidden>"
	}
	return fmt.Sprintf("replay.Gateway{URL:%s User:%s%s}", results.RedactURL(g.URL), g.user(), pw)
}

// GoString is String, so %#v hides the password too.
func (g *Gateway) GoString() string { return g.String() }

func (g *Gateway) user() string {
	if g.User == "" {
		return DefaultUser
	}
	return g.User
}

// client returns g.Client, or a client made by NewClient on first use and
// kept for the Gateway's life (one connection pool for all its requests).
func (g *Gateway) client() *http.Client {
	if g.Client != nil {
		return g.Client
	}
	g.once.Do(func() { g.own = NewClient() })
	return g.own
}

// invoker returns the h1 invoker of the Gateway, made on first use, or nil
// when invocations go through net/http.
func (g *Gateway) invoker() *invoker {
	if g.Client != nil {
		return nil
	}
	g.invOnce.Do(func() { g.inv = newInvoker(g.URL) })
	return g.inv
}

// CloseIdleConnections closes the keep-alive connections the Gateway's own
// clients hold idle (not those of a Client given to it).
func (g *Gateway) CloseIdleConnections() {
	if inv := g.invoker(); inv != nil {
		inv.closeIdle()
	}
	if g.Client == nil {
		g.client().CloseIdleConnections()
	}
}

func (g *Gateway) url(path string) string {
	return strings.TrimSuffix(g.URL, "/") + path
}

// do sends a request and reads the whole answer (at most MaxResponseBody
// bytes). When the client has no cookie jar and no overall timeout, it
// calls the client's transport directly: faasd never redirects these
// routes, and http.Client.Do's redirect bookkeeping (a header copy per
// request) is a tenth of the replayer's CPU at 20,000 req/s.
func (g *Gateway) do(req *http.Request) (int, string, []byte, error) {
	c := g.client()
	var resp *http.Response
	var err error
	if c.Jar == nil && c.Timeout == 0 && c.CheckRedirect == nil {
		rt := c.Transport
		if rt == nil {
			rt = http.DefaultTransport
		}
		resp, err = rt.RoundTrip(req)
		if err != nil {
			err = &url.Error{Op: req.Method[:1] + strings.ToLower(req.Method[1:]), URL: req.URL.Redacted(), Err: err}
		}
	} else {
		resp, err = c.Do(req)
	}
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		return resp.StatusCode, resp.Status, body, err
	}
	return resp.StatusCode, resp.Status, body, nil
}

func readBody(resp *http.Response) ([]byte, error) {
	var buf []byte
	if resp.ContentLength >= 0 && resp.ContentLength <= MaxResponseBody {
		buf = make([]byte, 0, resp.ContentLength+1)
	}
	b := bytes.NewBuffer(buf)
	n, err := b.ReadFrom(io.LimitReader(resp.Body, MaxResponseBody+1))
	if err != nil {
		return b.Bytes(), fmt.Errorf("reading the answer: %w", err)
	}
	if n > MaxResponseBody {
		return b.Bytes()[:MaxResponseBody], fmt.Errorf("%w: more than %d bytes", ErrBodyTooLarge, MaxResponseBody)
	}
	return b.Bytes(), nil
}

func statusError(code int, status string, body []byte) *StatusError {
	if status == "" {
		status = strconv.Itoa(code) + " " + http.StatusText(code)
	}
	if len(body) > maxErrorBody {
		body = append(body[:maxErrorBody:maxErrorBody], "…"...)
	}
	return &StatusError{Code: code, Status: status, Body: string(body)}
}

// Health checks that faasd answers GET /healthz with 200, retrying as the
// control-plane policy says (a 4xx is not retried). The error says which
// URL was tried and what happened.
func (g *Gateway) Health(ctx context.Context) error {
	u := g.url("/healthz")
	err := retryControl(ctx, g.Control, "GET "+results.RedactURL(u), g.Warn, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return backoff.Permanent(err)
		}
		code, status, body, err := g.do(req)
		if err == nil && code != http.StatusOK {
			err = statusError(code, status, body)
		}
		return permanentOn4xx(err)
	})
	if err != nil {
		return fmt.Errorf("replay: health check failed (is faasd provider or the twin running there?): %w", err)
	}
	return nil
}

// functionDeployment is faas-provider's FunctionDeployment as faas-cli
// register fills it from stack.yml (the fields faasd reads).
type functionDeployment struct {
	Service     string            `json:"service"`
	Image       string            `json:"image"`
	EnvProcess  string            `json:"envProcess"`
	EnvVars     map[string]string `json:"envVars"`
	Limits      *functionLimits   `json:"limits,omitempty"`
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	Secrets     []string          `json:"secrets,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
}

type functionLimits struct {
	Memory string `json:"memory,omitempty"`
	CPU    string `json:"cpu,omitempty"`
}

// envProcess is the fprocess of the function's template: hybrid-py runs
// "python index.py", hybrid-node18 "node index.js".
func envProcess(language string) string {
	if language == "node" {
		return "node index.js"
	}
	return "python index.py"
}

// Deployment returns the FunctionDeployment JSON that Register posts for
// fn: service, image "jialianghuang/<base>:latest", envProcess of its
// template, envVars {"port": watchdog port}, limits {"memory"} (omitted
// when fn declares none: faasd then charges 1G), empty labels and
// annotations.
func Deployment(fn workloads.Function) ([]byte, error) {
	d := functionDeployment{
		Service:     fn.Name,
		Image:       "jialianghuang/" + fn.Base + ":latest",
		EnvProcess:  envProcess(fn.Language),
		EnvVars:     map[string]string{"port": strconv.Itoa(fn.WatchdogPort)},
		Labels:      map[string]string{},
		Annotations: map[string]string{},
	}
	if fn.Memory != "" {
		d.Limits = &functionLimits{Memory: fn.Memory}
	}
	return json.Marshal(d)
}

// Register registers fn with faasd (POST /system/register with basic auth
// and the body of Deployment), as faas-cli register does. Registering a
// name twice is harmless: faasd keeps the first. A non-200 answer is an
// error quoting the server's message (a *StatusError) and is never retried,
// since faasd keeps the first registration of a name even when it failed
// half-way; only an attempt that got no answer at all is retried.
func (g *Gateway) Register(ctx context.Context, fn workloads.Function) error {
	body, err := Deployment(fn)
	if err != nil {
		return fmt.Errorf("replay: register %s: %w", fn.Name, err)
	}
	return g.RegisterDeployment(ctx, fn.Name, body)
}

// RegisterDeployment is Register with the FunctionDeployment JSON given
// (Stack.Deployment's, say) for the service name.
func (g *Gateway) RegisterDeployment(ctx context.Context, name string, body []byte) error {
	u := g.url("/system/register")
	err := retryControl(ctx, g.Control, "register "+name+" at POST "+results.RedactURL(u), g.Warn, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
		if err != nil {
			return backoff.Permanent(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.SetBasicAuth(g.user(), g.Password)
		code, status, ans, err := g.do(req)
		if err == nil && code != http.StatusOK {
			err = statusError(code, status, bytes.TrimSpace(ans))
		}
		return permanentOnAnswer(err)
	})
	if err != nil {
		return fmt.Errorf("replay: %w", err)
	}
	return nil
}

// Metrics returns faasd's metrics (GET /system/metrics), the raw text as
// served. A non-200 answer is an error (a *StatusError).
func (g *Gateway) Metrics(ctx context.Context) ([]byte, error) {
	u := g.url("/system/metrics")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("replay: metrics: %w", err)
	}
	code, status, body, err := g.do(req)
	if err == nil && code != http.StatusOK {
		err = statusError(code, status, body)
	}
	if err != nil {
		return nil, fmt.Errorf("replay: GET %s: %w", results.RedactURL(u), err)
	}
	return body, nil
}

// ResetMetrics clears faasd's metrics (DELETE /system/metrics). A non-200
// answer is an error (a *StatusError).
func (g *Gateway) ResetMetrics(ctx context.Context) error {
	u := g.url("/system/metrics")
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u, nil)
	if err != nil {
		return fmt.Errorf("replay: reset metrics: %w", err)
	}
	code, status, body, err := g.do(req)
	if err == nil && code != http.StatusOK {
		err = statusError(code, status, body)
	}
	if err != nil {
		return fmt.Errorf("replay: DELETE %s: %w", results.RedactURL(u), err)
	}
	return nil
}

// Invoke invokes fn once: POST /invoke/<name> with body, as upstream's
// driver does — with "Content-Type: application/json" when there is a
// body, and no body and no content type otherwise (Content-Length: 0).
// It reads the whole answer. The error is nil only for a 200 whose body is
// a JSON object with a numeric "latency"; a 200 without one returns the
// Response and an error wrapping ErrNoLatency; any other status returns the
// Response and a *StatusError; a transport error (refused, reset, timed
// out, cancelled) is returned as the client gives it.
func (g *Gateway) Invoke(ctx context.Context, fn workloads.Function, body []byte) (Response, error) {
	if inv := g.invoker(); inv != nil {
		code, status, ans, err := inv.invoke(ctx, fn.Name, body)
		return g.answered(code, status, ans, err)
	}
	var rd io.Reader = http.NoBody
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url("/invoke/"+fn.Name), rd)
	if err != nil {
		return Response{}, err
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	return g.answered(g.do(req))
}

// answered makes an invocation's Response from the answer read whole.
func (g *Gateway) answered(code int, status string, ans []byte, err error) (Response, error) {
	resp := Response{Status: code, Body: ans}
	if err != nil {
		return resp, err
	}
	if code != http.StatusOK {
		return resp, statusError(code, status, ans)
	}
	err = parseAnswer(&g.answers, ans, &resp)
	return resp, err
}
