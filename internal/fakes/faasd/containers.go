package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// functionNamespace is containerd's namespace of faasd's containers.
const functionNamespace = "openfaas-fn"

// containers makes the fake's function containers real: with
// $FAKE_FAASD_CTR (ctr's path) set, the provider imports the OCI archive
// $FAKE_FAASD_IMAGE (image $FAKE_FAASD_IMAGE_REF) into containerd's
// openfaas-fn at $sock (faasd's own variable; default
// /run/containerd/containerd.sock), as a prepared host has its images
// there (unpacked with overlayfs, or native where overlayfs cannot load),
// and starts one container <service>-1 per registered function, as
// faasd's deploy does: a process that holds $FAKE_FAASD_CTR_MIB MiB
// (default 16) in the container's cgroup, $FAKE_FAASD_CGROUP_PARENT/<id>
// (default: containerd's, /openfaas-fn/<id>). On shutdown it kills and
// deletes them, as faasd kills its instances on SIGTERM.
type containers struct {
	ctr, sock, ref, snapshotter, parent string
	mib                                 int

	mu      sync.Mutex
	ids     []string
	stopped bool // after stopAll, a late registration starts none
}

// containersFromEnv returns nil when $FAKE_FAASD_CTR is unset.
func containersFromEnv() (*containers, error) {
	ctr := os.Getenv("FAKE_FAASD_CTR")
	if ctr == "" {
		return nil, nil
	}
	c := &containers{ctr: ctr, sock: os.Getenv("sock"), ref: os.Getenv("FAKE_FAASD_IMAGE_REF"),
		parent: os.Getenv("FAKE_FAASD_CGROUP_PARENT"), mib: 16}
	if c.sock == "" {
		c.sock = "/run/containerd/containerd.sock"
	}
	if s := os.Getenv("FAKE_FAASD_CTR_MIB"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("FAKE_FAASD_CTR_MIB=%q: want a positive count of MiB", s)
		}
		c.mib = n
	}
	image := os.Getenv("FAKE_FAASD_IMAGE")
	if image == "" || c.ref == "" {
		return nil, fmt.Errorf("FAKE_FAASD_CTR is set: FAKE_FAASD_IMAGE and FAKE_FAASD_IMAGE_REF must name the image archive and its ref")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// overlayfs, as faasd's switching needs, where containerd could load
	// it on its root's file system; else native.
	plugins, err := c.run(ctx, "plugins", "ls")
	if err != nil {
		return nil, err
	}
	c.snapshotter = "native"
	if regexp.MustCompile(`(?m)^io\.containerd\.snapshotter\.v1\s+overlayfs\s.*\sok\s*$`).Match(plugins) {
		c.snapshotter = "overlayfs"
	}
	if _, err := c.run(ctx, "images", "import", "--snapshotter", c.snapshotter, image); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *containers) run(ctx context.Context, args ...string) ([]byte, error) {
	argv := append([]string{"-a", c.sock, "-n", functionNamespace}, args...)
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.ctr, argv...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("ctr %s: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// start starts service's container; a second registration of the same
// service starts none.
func (c *containers) start(ctx context.Context, service string) error {
	id := service + "-1"
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return fmt.Errorf("faasd is shutting down")
	}
	for _, have := range c.ids {
		if have == id {
			return nil
		}
	}
	args := []string{"run", "-d", "--null-io", "--snapshotter", c.snapshotter}
	if c.parent != "" {
		args = append(args, "--cgroup", strings.TrimRight(c.parent, "/")+"/"+id)
	}
	// dd fills one buffer from /dev/zero, touching every page, then
	// blocks writing it into a FIFO only it holds open: one process that
	// keeps the memory until it is killed.
	hold := fmt.Sprintf("mkfifo /tmp/hold && exec 3<>/tmp/hold && exec dd if=/dev/zero bs=%dM count=1 of=/tmp/hold", c.mib)
	args = append(args, c.ref, id, "sh", "-c", hold)
	if _, err := c.run(ctx, args...); err != nil {
		return err
	}
	c.ids = append(c.ids, id)
	fmt.Fprintf(os.Stderr, `{"level":"info","component":"[CtrRuntime]","instance":%q,"message":"fake: container started in containerd"}`+"\n", id)
	return nil
}

// stopAll kills and deletes the containers it started.
func (c *containers) stopAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range c.ids {
		c.run(ctx, "tasks", "kill", "-s", "SIGKILL", id)
		if _, err := c.run(ctx, "tasks", "delete", "-f", id); err != nil {
			fmt.Fprintf(os.Stderr, `{"level":"error","instance":%q,"message":%q}`+"\n", id, err.Error())
		}
		if _, err := c.run(ctx, "containers", "delete", id); err != nil {
			fmt.Fprintf(os.Stderr, `{"level":"error","instance":%q,"message":%q}`+"\n", id, err.Error())
		}
	}
	c.ids, c.stopped = nil, true
}

// wrap starts a function's container once the twin has accepted its
// registration; a container that does not start fails the registration
// with ctr's message, as faasd's deploy would.
func (c *containers) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/system/register" {
			h.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var fd struct {
			Service string `json:"service"`
		}
		json.Unmarshal(body, &fd)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusOK {
			if err := c.start(r.Context(), fd.Service); err != nil {
				http.Error(w, "deploy "+fd.Service+": "+err.Error(), http.StatusInternalServerError)
				return
			}
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}
