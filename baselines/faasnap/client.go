// Package faasnap drives the FaaSnap/REAP daemon that the VM baselines
// need (spec trenv-stack §6): a client for the part of its REST API
// (api/swagger.yaml in the faasd fork) that preparing snapshots uses, and
// Prepare, which boots each function's VM, takes its snapshots and writes
// the snapshots_<mode>.json that faasd loads.
package faasnap

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to a FaaSnap daemon at URL ("http://127.0.0.1:8080").
type Client struct {
	URL string
	// HTTP is the client to use; nil means one with CallTimeout.
	HTTP *http.Client
}

// CallTimeout bounds one API call: taking a snapshot of a VM with a few
// GiB of memory, or its first invocation after a load, takes seconds, not
// minutes.
const CallTimeout = 3 * time.Minute

// maxAnswer bounds the body of an answer read into memory.
const maxAnswer = 1 << 20

// APIError is a non-200 answer; Message is the daemon's own ("message" of
// its error body) or the body as sent.
type APIError struct {
	Method, Path string
	Code         int
	Message      string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("faasnap: %s %s: %d %s", e.Method, e.Path, e.Code, e.Message)
}

// Function is a function the daemon can boot VMs of.
type Function struct {
	Name   string `json:"func_name"`
	Image  string `json:"image,omitempty"`
	Kernel string `json:"kernel,omitempty"`
	VCPU   int    `json:"vcpu,omitempty"`
}

// VM is a running microVM.
type VM struct {
	ID    string `json:"vmId"`
	State string `json:"state,omitempty"`
	IP    string `json:"ip,omitempty"`
	PID   int    `json:"pid,omitempty"`
}

// Snapshot is a snapshot of a VM's state and memory.
type Snapshot struct {
	VMID              string `json:"vmId"`
	ID                string `json:"ssId,omitempty"`
	Type              string `json:"snapshot_type,omitempty"`
	Path              string `json:"snapshot_path,omitempty"`
	MemFilePath       string `json:"mem_file_path,omitempty"`
	Version           string `json:"version,omitempty"`
	RecordRegions     bool   `json:"record_regions,omitempty"`
	SizeThreshold     int    `json:"size_threshold,omitempty"`
	IntervalThreshold int    `json:"interval_threshold,omitempty"`
}

// Invocation invokes a function in a VM (VMID) or in a VM loaded from a
// snapshot (SnapshotID).
type Invocation struct {
	Function    string `json:"func_name"`
	VMID        string `json:"vmId,omitempty"`
	SnapshotID  string `json:"ssId,omitempty"`
	Params      string `json:"params,omitempty"`
	Mincore     int    `json:"mincore"`
	MincoreSize int    `json:"mincore_size,omitempty"`
	UseMemFile  bool   `json:"use_mem_file,omitempty"`
	EnableReap  bool   `json:"enableReap,omitempty"`
	WSDirectIO  bool   `json:"wsFileDirectIo,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
}

// NetIface is a VM network in a network namespace.
type NetIface struct {
	HostDev    string `json:"host_dev_name"`
	IfaceID    string `json:"iface_id"`
	GuestMAC   string `json:"guest_mac"`
	GuestAddr  string `json:"guest_addr"`
	UniqueAddr string `json:"unique_addr"`
}

// SnapshotState changes a snapshot's page cache (PATCH /snapshots/{ssId}).
type SnapshotState struct {
	DigHole   bool `json:"dig_hole"`
	LoadCache bool `json:"load_cache"`
	DropCache bool `json:"drop_cache"`
}

// MincoreState post-processes a snapshot's recorded working set (PATCH
// /snapshots/{ssId}/mincore).
type MincoreState struct {
	TrimRegions       bool   `json:"trim_regions"`
	ToWSFile          string `json:"to_ws_file,omitempty"`
	InactiveWS        bool   `json:"inactive_ws"`
	ZeroWS            bool   `json:"zero_ws"`
	SizeThreshold     int    `json:"size_threshold"`
	IntervalThreshold int    `json:"interval_threshold"`
	DropWSCache       bool   `json:"drop_ws_cache"`
}

// Ping checks that the daemon answers (GET /functions).
func (c *Client) Ping(ctx context.Context) error {
	return c.call(ctx, http.MethodGet, "/functions", nil, nil)
}

// PutNetIface sets up the VM network of namespace.
func (c *Client) PutNetIface(ctx context.Context, namespace string, n NetIface) error {
	return c.call(ctx, http.MethodPut, "/net-ifaces/"+url.PathEscape(namespace), n, nil)
}

// AddFunction registers a function.
func (c *Client) AddFunction(ctx context.Context, f Function) error {
	return c.call(ctx, http.MethodPost, "/functions", f, nil)
}

// StartVM boots a VM of function in namespace.
func (c *Client) StartVM(ctx context.Context, function, namespace string) (VM, error) {
	var vm VM
	err := c.call(ctx, http.MethodPost, "/vms", map[string]string{"func_name": function, "namespace": namespace}, &vm)
	if err == nil && vm.ID == "" {
		err = fmt.Errorf("faasnap: POST /vms: the answer names no vmId")
	}
	return vm, err
}

// StopVM stops a VM.
func (c *Client) StopVM(ctx context.Context, id string) error {
	return c.call(ctx, http.MethodDelete, "/vms/"+url.PathEscape(id), nil, nil)
}

// TakeSnapshot snapshots a VM.
func (c *Client) TakeSnapshot(ctx context.Context, s Snapshot) (Snapshot, error) {
	var out Snapshot
	err := c.call(ctx, http.MethodPost, "/snapshots", s, &out)
	if err == nil && out.ID == "" {
		err = fmt.Errorf("faasnap: POST /snapshots: the answer names no ssId")
	}
	return out, err
}

// PatchSnapshot changes a snapshot's cache state.
func (c *Client) PatchSnapshot(ctx context.Context, id string, s SnapshotState) error {
	return c.call(ctx, http.MethodPatch, "/snapshots/"+url.PathEscape(id), s, nil)
}

// CopyMincore carries the working set recorded for snapshot source over
// to snapshot id.
func (c *Client) CopyMincore(ctx context.Context, id, source string) error {
	return c.call(ctx, http.MethodPut, "/snapshots/"+url.PathEscape(id)+"/mincore?source="+url.QueryEscape(source), nil, nil)
}

// PatchMincore post-processes a snapshot's working set.
func (c *Client) PatchMincore(ctx context.Context, id string, m any) error {
	return c.call(ctx, http.MethodPatch, "/snapshots/"+url.PathEscape(id)+"/mincore", m, nil)
}

// PatchReap changes a snapshot's REAP state (false drops its cache).
func (c *Client) PatchReap(ctx context.Context, id string, cache bool) error {
	return c.call(ctx, http.MethodPatch, "/snapshots/"+url.PathEscape(id)+"/reap", cache, nil)
}

// Invoke runs an invocation and returns the VM it ran in.
func (c *Client) Invoke(ctx context.Context, inv Invocation) (VM, error) {
	var vm VM
	err := c.call(ctx, http.MethodPost, "/invocations", inv, &vm)
	if err == nil && vm.ID == "" {
		err = fmt.Errorf("faasnap: POST /invocations: the answer names no vmId")
	}
	return vm, err
}

// call sends one request with body encoded as JSON (nil: none) and decodes
// a 200's body into out (nil: ignored).
func (c *Client) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("faasnap: %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.URL, "/")+path, rd)
	if err != nil {
		return fmt.Errorf("faasnap: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: CallTimeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("faasnap: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	ans, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("faasnap: %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(ans))
		var e struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(ans, &e) == nil && e.Message != "" {
			msg = e.Message
		}
		return &APIError{Method: method, Path: path, Code: resp.StatusCode, Message: msg}
	}
	if out != nil {
		if err := json.Unmarshal(ans, out); err != nil {
			return fmt.Errorf("faasnap: %s %s: the answer is not the JSON expected: %w", method, path, err)
		}
	}
	return nil
}

// IsAPIError reports whether err is an answer of the daemon (rather than
// no answer at all).
func IsAPIError(err error) bool {
	var e *APIError
	return errors.As(err, &e)
}
