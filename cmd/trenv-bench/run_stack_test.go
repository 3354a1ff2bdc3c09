package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"trenv-bench/replay"
)

// registrar is a faasd that records what each registration posted and
// answers invocations at once.
type registrar struct {
	mu     sync.Mutex
	bodies map[string]string
}

func (g *registrar) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	switch {
	case r.URL.Path == "/system/register":
		if u, p, ok := r.BasicAuth(); !ok || u != "admin" || p != "pw" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		var d struct{ Service string }
		json.Unmarshal(body, &d)
		g.mu.Lock()
		g.bodies[d.Service] = string(body)
		g.mu.Unlock()
	case strings.HasPrefix(r.URL.Path, "/invoke/"):
		io.WriteString(w, `{"latency": 0.001}`)
	}
}

const testStack = `provider: {name: openfaas}
functions:
  pyaes:
    lang: hybrid-py
    image: lab/pyaes:v2
    limits: {memory: 99M}
    port: 5005
    environment: {port: 9005}
  dynamic-html:
    lang: hybrid-py
    image: lab/dynamic-html:v2
    environment: {port: 9003}
  json-serde_1:
    lang: hybrid-py
    image: lab/json-serde:v2
    environment: {port: 9111, exec_timeout: 20}
`

// TestRunStack: run --stack registers the workload's functions from the
// user's stack file — what faas-cli register would post for each — and
// attaches it to the run directory; a stack without one of the
// workload's functions fails the pre-flight, naming it.
func TestRunStack(t *testing.T) {
	g := &registrar{bodies: map[string]string{}}
	srv := httptest.NewServer(g)
	defer srv.Close()
	dir := t.TempDir()
	pw, stackFile := filepath.Join(dir, "pw"), filepath.Join(dir, "stack.yml")
	os.WriteFile(pw, []byte("pw\n"), 0o600)
	os.WriteFile(stackFile, []byte(testStack), 0o644)
	wl, out := writeWorkload(t, 2), t.TempDir()
	s, _, errOut := testStreams()
	if code := Main([]string{"run", "--method", "cold", "--workload-dir", wl, "--gateway", srv.URL, "--password-file", pw,
		"--stack", stackFile, "--out", out, "--name", "r"}, s); code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	st, err := replay.LoadStack(stackFile)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.bodies) != 3 {
		t.Fatalf("registered %v", g.bodies)
	}
	for name, got := range g.bodies {
		want, err := st.Deployment(name)
		if err != nil || got != string(want) {
			t.Errorf("%s registered %s\nwant %s (%v)", name, got, want, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(out, "r", "stack.yml")); err != nil || string(b) != testStack {
		t.Errorf("stack.yml not attached as given (%v)", err)
	}

	short := strings.Replace(testStack, "json-serde_1", "json-serde_2", 1)
	os.WriteFile(stackFile, []byte(short), 0o644)
	errOut.Reset()
	if code := Main([]string{"run", "--method", "cold", "--workload-dir", wl, "--gateway", srv.URL, "--password-file", pw,
		"--stack", stackFile, "--out", out, "--name", "short"}, s); code == ExitOK || !strings.Contains(errOut.String(), "no function json-serde_1") {
		t.Errorf("a stack without a workload function: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(out, "short")); err == nil {
		t.Error("the refused run left a run directory")
	}
	for _, args := range [][]string{
		{"run", "--method", "cold", "-w", "1", "--stack", stackFile},
		{"run", "--method", "cold", "-w", "1", "--gateway", srv.URL, "--stack", stackFile},
	} {
		if code := Main(args, s); code != ExitUsage {
			t.Errorf("%q: exit %d, want a usage error", args, code)
		}
	}
}
