package replay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"trenv-bench/workloads"
)

const testPassword = "s3cret-pw"

func lookup(t testing.TB, name string) workloads.Function {
	t.Helper()
	fn, ok := workloads.DefaultCatalog().Lookup(name)
	if !ok {
		t.Fatalf("%s is not in the catalog", name)
	}
	return fn
}

func TestGatewayRegister(t *testing.T) {
	for _, tc := range []struct {
		fn   string
		want map[string]any
	}{
		{"pyaes", map[string]any{
			"service": "pyaes", "image": "jialianghuang/pyaes:latest", "envProcess": "python index.py",
			"envVars": map[string]any{"port": "9005"}, "limits": map[string]any{"memory": "64M"},
			"labels": map[string]any{}, "annotations": map[string]any{}}},
		{"crypto_1", map[string]any{
			"service": "crypto_1", "image": "jialianghuang/crypto:latest", "envProcess": "node index.js",
			"envVars": map[string]any{"port": "9108"}, "limits": map[string]any{"memory": "192M"},
			"labels": map[string]any{}, "annotations": map[string]any{}}},
		// No declared limit: no limits object, faasd charges 1G.
		{"h-memory", map[string]any{
			"service": "h-memory", "image": "jialianghuang/h-memory:latest", "envProcess": "python index.py",
			"envVars": map[string]any{"port": "9000"},
			"labels":  map[string]any{}, "annotations": map[string]any{}}},
	} {
		t.Run(tc.fn, func(t *testing.T) {
			var got map[string]any
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				user, pass, ok := r.BasicAuth()
				switch {
				case r.Method != http.MethodPost || r.URL.Path != "/system/register":
					t.Errorf("%s %s, want POST /system/register", r.Method, r.URL.Path)
				case !ok || user != "admin" || pass != testPassword:
					t.Errorf("basic auth %q %q %v, want admin and the password", user, pass, ok)
				case r.Header.Get("Content-Type") != "application/json":
					t.Errorf("Content-Type %q", r.Header.Get("Content-Type"))
				}
				if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
					t.Error(err)
				}
			}))
			defer srv.Close()
			g := &Gateway{URL: srv.URL + "/", Client: srv.Client(), Password: testPassword}
			if err := g.Register(context.Background(), lookup(t, tc.fn)); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("posted %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestGatewayErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/system/register":
			w.Header().Set("WWW-Authenticate", `Basic realm="Restricted"`)
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, "invalid credentials")
		case "/system/metrics":
			http.Error(w, "metrics are broken", http.StatusInternalServerError)
		case "/healthz":
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // nothing listens there any more

	g := &Gateway{URL: srv.URL, Client: srv.Client(), Password: testPassword}
	gDead := &Gateway{URL: dead.URL, Password: testPassword}
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		call     func() error
		code     int      // the *StatusError's, 0 = none
		contains []string // in the message
	}{
		{"register 401", func() error { return g.Register(ctx, lookup(t, "pyaes")) },
			401, []string{"register pyaes", "/system/register", "401 Unauthorized", "invalid credentials"}},
		{"metrics 500", func() error { _, err := g.Metrics(ctx); return err },
			500, []string{"GET", "/system/metrics", "metrics are broken"}},
		{"reset 500", func() error { return g.ResetMetrics(ctx) },
			500, []string{"DELETE", "/system/metrics", "metrics are broken"}},
		{"health 503", func() error { return g.Health(ctx) },
			503, []string{"GET " + srv.URL + "/healthz", "503 Service Unavailable"}},
		{"health refused", func() error { return gDead.Health(ctx) },
			0, []string{"GET " + dead.URL + "/healthz", "refused"}},
		{"register refused", func() error { return gDead.Register(ctx, lookup(t, "pyaes")) },
			0, []string{"register pyaes", dead.URL, "refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil {
				t.Fatal("no error")
			}
			var se *StatusError
			if got := errors.As(err, &se); got != (tc.code != 0) || got && se.Code != tc.code {
				t.Errorf("error %v: StatusError %v, want code %d", err, se, tc.code)
			}
			for _, s := range tc.contains {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			if strings.Contains(err.Error(), testPassword) {
				t.Errorf("error %q shows the password", err)
			}
		})
	}
}

func TestGatewayMetrics(t *testing.T) {
	const text = "Metrics:\n{\"label\":\"invoke-count\",\"data\":4}\n{\"label\":\"peak-mem\",\"data\":0}"
	var deleted int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet:
			io.WriteString(w, text)
		case http.MethodDelete:
			deleted++
		}
	}))
	defer srv.Close()
	g := &Gateway{URL: srv.URL}
	raw, err := g.Metrics(context.Background())
	if err != nil || string(raw) != text {
		t.Errorf("Metrics = %q, %v; want the text as served", raw, err)
	}
	if err := g.ResetMetrics(context.Background()); err != nil || deleted != 1 {
		t.Errorf("ResetMetrics: %v, %d DELETEs", err, deleted)
	}
	if err := g.Health(context.Background()); err != nil {
		t.Errorf("Health: %v", err)
	}
}

// TestGatewayInvoke checks the request upstream's driver sends (a JSON body
// with its content type, or no body and no content type) and how answers
// are read.
func TestGatewayInvoke(t *testing.T) {
	type seen struct {
		method, path, ctype, body string
		length                    int64
	}
	for _, tc := range []struct {
		name    string
		fn      string
		status  int
		answer  string
		want    seen
		wantRes Response
		wantErr error // errors.Is; nil = no error
		code    int   // the *StatusError's
	}{
		{name: "json body", fn: "pyaes", status: 200,
			answer: `{"latency": 0.0412, "start_kind": "switch", "data": [1, 2]}`,
			want: seen{"POST", "/invoke/pyaes", "application/json",
				`{"length_of_message": 1000, "num_of_iterations": 150}`, 53},
			wantRes: Response{Status: 200, LatencyS: 0.0412, StartKind: "switch"}},
		{name: "no body", fn: "image-processing", status: 200, answer: `{"latency":1.5}`,
			want:    seen{"POST", "/invoke/image-processing", "", "", 0},
			wantRes: Response{Status: 200, LatencyS: 1.5}},
		{name: "start_kind not a string", fn: "image-processing", status: 200, answer: `{"latency":2,"start_kind":3}`,
			want:    seen{"POST", "/invoke/image-processing", "", "", 0},
			wantRes: Response{Status: 200, LatencyS: 2}},
		{name: "the twin's account", fn: "image-processing", status: 200,
			answer:  `{"latency":0.5,"start_kind":"reuse","served_model_s":0.5021,"served_wall_s":0.025}`,
			want:    seen{"POST", "/invoke/image-processing", "", "", 0},
			wantRes: Response{Status: 200, LatencyS: 0.5, StartKind: "reuse", Served: true, ServedModelS: 0.5021, ServedWallS: 0.025}},
		{name: "half an account is none", fn: "image-processing", status: 200,
			answer:  `{"latency":0.5,"served_model_s":0.5021}`,
			want:    seen{"POST", "/invoke/image-processing", "", "", 0},
			wantRes: Response{Status: 200, LatencyS: 0.5}},
		{name: "a bad account is none", fn: "image-processing", status: 200,
			answer:  `{"latency":0.5,"served_model_s":-1,"served_wall_s":"x"}`,
			want:    seen{"POST", "/invoke/image-processing", "", "", 0},
			wantRes: Response{Status: 200, LatencyS: 0.5}},
		{name: "500", fn: "image-processing", status: 500,
			answer: "Failed to make ctr instance for image-processing: reach memory limitation\n",
			want:   seen{"POST", "/invoke/image-processing", "", "", 0},
			code:   500, wantRes: Response{Status: 500}},
		{name: "201 is a failure too", fn: "image-processing", status: 201, answer: `{"latency":1}`,
			want: seen{"POST", "/invoke/image-processing", "", "", 0}, code: 201, wantRes: Response{Status: 201}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seenCh := make(chan seen, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				seenCh <- seen{r.Method, r.URL.Path, r.Header.Get("Content-Type"), string(b), r.ContentLength}
				w.WriteHeader(tc.status)
				io.WriteString(w, tc.answer)
			}))
			defer srv.Close()
			fn := lookup(t, tc.fn)
			var body []byte
			if fn.Payload != "" {
				body = []byte(fn.Payload)
			}
			for _, cl := range clients {
				res, err := (&Gateway{URL: srv.URL, Client: cl.make()}).Invoke(context.Background(), fn, body)
				if got := <-seenCh; got != tc.want {
					t.Errorf("%s: server saw %+v\nwant %+v", cl.name, got, tc.want)
				}
				var se *StatusError
				switch {
				case tc.code != 0:
					if !errors.As(err, &se) || se.Code != tc.code || se.Body != tc.answer {
						t.Errorf("%s: error %v, want a StatusError %d with the body", cl.name, err, tc.code)
					}
					if want := fmt.Sprintf("[%d %s] %s", tc.code, http.StatusText(tc.code), tc.answer); err.Error() != want {
						t.Errorf("%s: error %q, want upstream's %q", cl.name, err, want)
					}
				case err != nil:
					t.Errorf("%s: error %v", cl.name, err)
				}
				if string(res.Body) != tc.answer {
					t.Errorf("%s: Body %q, want %q", cl.name, res.Body, tc.answer)
				}
				res.Body = nil
				if !reflect.DeepEqual(res, tc.wantRes) {
					t.Errorf("%s: Response %+v, want %+v", cl.name, res, tc.wantRes)
				}
			}
		})
	}
}

func TestGatewayHidesPassword(t *testing.T) {
	g := &Gateway{URL: "http://user:urlpass@127.0.0.1:8081", Password: testPassword}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		s := fmt.Sprintf(f, g)
		if strings.Contains(s, testPassword) || strings.Contains(s, "urlpass") {
			t.Errorf("%s shows a password: %s", f, s)
		}
	}
}
