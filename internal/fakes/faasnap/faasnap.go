// Package faasnap is a stand-in for the FaaSnap/REAP daemon, which needs
// KVM, Firecracker and guest images: an HTTP handler serving the part of
// its REST API that snapshot preparation and faasd use, with the state
// checks the real daemon makes (a VM of a registered function in a
// namespace whose network was set up; snapshots of running VMs; loads of
// existing snapshots) and random ss_XXXXXXXX snapshot ids held only in
// memory, as the real daemon's are. Taking a snapshot writes small files
// at its paths, so a preparation into a missing directory fails as it
// would on a host. The command in ./daemon serves it as a process.
package faasnap

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
)

// Call is one request the fake served, as it records them.
type Call struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Query  string          `json:"query,omitempty"`
	Body   json.RawMessage `json:"body,omitempty"`
	Code   int             `json:"code"`
}

// Fake is the daemon's state. FailSnapshots makes that many snapshot
// takes fail first, as the real daemon's snapshot generation sometimes
// does.
type Fake struct {
	FailSnapshots int
	// Record, when set, is told each call.
	Record func(Call)

	mu        sync.Mutex
	functions map[string]bool
	netns     map[string]bool
	vms       map[string]string // id → function
	snapshots map[string]string // id → function
	calls     []Call
}

// New returns a fake with no state.
func New() *Fake {
	return &Fake{functions: map[string]bool{}, netns: map[string]bool{}, vms: map[string]string{}, snapshots: map[string]string{}}
}

// Calls returns the calls served so far.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Call(nil), f.calls...)
}

// RunningVMs returns how many VMs are running.
func (f *Fake) RunningVMs() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.vms)
}

func newID(prefix string) string {
	b := make([]byte, 4)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// ServeHTTP implements the API.
func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	f.mu.Lock()
	code, out := f.serve(r, body)
	c := Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Code: code}
	if json.Valid(body) {
		c.Body = body
	}
	f.calls = append(f.calls, c)
	f.mu.Unlock()
	if f.Record != nil {
		f.Record(c)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	if code != http.StatusOK {
		out = map[string]string{"message": fmt.Sprint(out)}
	}
	if out != nil {
		json.NewEncoder(w).Encode(out)
	}
}

func (f *Fake) serve(r *http.Request, body []byte) (int, any) {
	var in map[string]any
	if strings.HasSuffix(r.URL.Path, "/reap") && r.Method == http.MethodPatch {
		var cache bool
		if err := json.Unmarshal(body, &cache); err != nil {
			return http.StatusBadRequest, "bad body: want a boolean: " + err.Error()
		}
	} else if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			return http.StatusBadRequest, "bad body: " + err.Error()
		}
	}
	str := func(k string) string { s, _ := in[k].(string); return s }
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/functions":
		return http.StatusOK, []any{}
	case r.Method == http.MethodPost && r.URL.Path == "/functions":
		name := str("func_name")
		if name == "" {
			return http.StatusBadRequest, "func_name is required"
		}
		f.functions[name] = true
		return http.StatusOK, nil
	case r.Method == http.MethodPut && len(parts) == 2 && parts[0] == "net-ifaces":
		if str("unique_addr") == "" || str("host_dev_name") == "" {
			return http.StatusBadRequest, "interface needs host_dev_name and unique_addr"
		}
		f.netns[parts[1]] = true
		return http.StatusOK, nil
	case r.Method == http.MethodPost && r.URL.Path == "/vms":
		fn, ns := str("func_name"), str("namespace")
		if !f.functions[fn] {
			return http.StatusBadRequest, "function " + fn + " not found"
		}
		if !f.netns[ns] {
			return http.StatusBadRequest, "network namespace " + ns + " has no interface"
		}
		id := newID("vm_")
		f.vms[id] = fn
		return http.StatusOK, map[string]any{"vmId": id, "state": "running", "ip": "172.16.0.2"}
	case r.Method == http.MethodDelete && len(parts) == 2 && parts[0] == "vms":
		if _, ok := f.vms[parts[1]]; !ok {
			return http.StatusBadRequest, "vm " + parts[1] + " not found"
		}
		delete(f.vms, parts[1])
		return http.StatusOK, nil
	case r.Method == http.MethodPost && r.URL.Path == "/snapshots":
		fn, ok := f.vms[str("vmId")]
		if !ok {
			return http.StatusBadRequest, "vm " + str("vmId") + " not found"
		}
		if f.FailSnapshots > 0 {
			f.FailSnapshots--
			return http.StatusBadRequest, "create snapshot: firecracker: connection reset by peer"
		}
		for _, p := range []string{str("snapshot_path"), str("mem_file_path")} {
			if p == "" {
				return http.StatusBadRequest, "snapshot_path and mem_file_path are required"
			}
			if err := os.WriteFile(p, []byte(fn+"\n"), 0o644); err != nil {
				return http.StatusBadRequest, err.Error()
			}
		}
		id := newID("ss_")
		f.snapshots[id] = fn
		return http.StatusOK, map[string]any{"vmId": str("vmId"), "ssId": id}
	case len(parts) >= 2 && parts[0] == "snapshots":
		if _, ok := f.snapshots[parts[1]]; !ok {
			return http.StatusBadRequest, "snapshot " + parts[1] + " not found"
		}
		if len(parts) == 3 && parts[2] == "mincore" && r.Method == http.MethodPut {
			if _, ok := f.snapshots[r.URL.Query().Get("source")]; !ok {
				return http.StatusBadRequest, "source snapshot not found"
			}
		}
		if len(parts) == 3 && parts[2] == "mincore" && r.Method == http.MethodPatch && str("to_ws_file") != "" {
			if err := os.WriteFile(str("to_ws_file"), []byte("ws\n"), 0o644); err != nil {
				return http.StatusBadRequest, err.Error()
			}
		}
		return http.StatusOK, nil
	case r.Method == http.MethodPost && r.URL.Path == "/invocations":
		if vm := str("vmId"); vm != "" {
			if _, ok := f.vms[vm]; !ok {
				return http.StatusBadRequest, "vm " + vm + " not found"
			}
			return http.StatusOK, map[string]any{"vmId": vm, "traceId": newID("")}
		}
		fn, ok := f.snapshots[str("ssId")]
		if !ok {
			return http.StatusBadRequest, "snapshot " + str("ssId") + " not found"
		}
		if !f.netns[str("namespace")] {
			return http.StatusBadRequest, "network namespace " + str("namespace") + " has no interface"
		}
		id := newID("vm_")
		f.vms[id] = fn
		return http.StatusOK, map[string]any{"vmId": id, "traceId": newID("")}
	}
	return http.StatusNotFound, r.Method + " " + r.URL.Path + ": no such route"
}
