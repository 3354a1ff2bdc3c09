// Command faasd is a stand-in for TrEnv's modified faasd, which cannot run
// without the TrEnv kernel: tests put it on PATH as "faasd" where the host
// target starts the real one.
//
// `faasd provider [flags]` takes the real provider's flags and checks them
// as it does (a start method other than cold needs --baseline; --mem below
// 256), records its invocation — arguments, environment, working
// directory, open-files limit — as JSON in the file $FAKE_FAASD_RECORD
// (when set), reads the basic-auth secrets from $secret_mount_path as the
// real one must, and serves the platform model's twin on $port (default
// 8081) at $FAKE_FAASD_SPEED (default 1) for the method its flags select
// ($FAKE_FAASD_POOL names TrEnv's pool, which the real faasd learns from
// its checkpoints). On stderr it logs, as zerolog JSON lines, the messages
// of faasd's background tasks that a harness waits for: one "cold start
// succeed" per seeded sandbox (--idle-num, default 70) in TrEnv mode, and
// the network namespace pre-fill for faasnap and reap. In those two modes
// registration reads the daemon's snapshot ids from
// $FAKE_FAASD_SNAPSHOT_DIR/snapshots_<mode>.json (default
// /mnt/cxl-tmp/faasnap/snapshot, as the real one) and refuses a function
// without one, as the real one does. SIGTERM or SIGINT shuts it down.
//
// With $FAKE_FAASD_CGROUP_DIR set, it writes the model's resident memory
// into memory.current there every 50 ms, as the kernel keeps a function
// cgroup's (the directory is made if missing). With $FAKE_FAASD_CTR set
// instead, its function containers are real: one per registered function,
// run through a real containerd, each holding memory in the real function
// cgroup (containers.go).
//
// `faasd checkpoint ...` and `faasd install` record their invocation and
// exit 0. $FAKE_FAASD_EXIT_AFTER (a Go duration) makes the provider exit 1
// that long after it starts serving, as a crash would.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"trenv-bench/results"
	"trenv-bench/sim"
	"trenv-bench/sim/calibration"
)

// Record is what the fake writes to $FAKE_FAASD_RECORD.
type Record struct {
	Args      []string `json:"args"`
	Env       []string `json:"env"`
	Dir       string   `json:"dir"`
	OpenFiles uint64   `json:"open_files"`
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, `{"level":"fatal","message":%q}`+"\n", err.Error())
		os.Exit(1)
	}
}

func run(args []string) error {
	if err := record(args); err != nil {
		return err
	}
	if len(args) == 0 {
		return errors.New("usage: faasd provider|checkpoint|install")
	}
	switch args[0] {
	case "provider":
		return provider(args[1:])
	case "checkpoint", "install":
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}

func record(args []string) error {
	path := os.Getenv("FAKE_FAASD_RECORD")
	if path == "" {
		return nil
	}
	dir, _ := os.Getwd()
	var lim syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	b, err := json.Marshal(Record{Args: append([]string{"faasd"}, args...), Env: os.Environ(), Dir: dir, OpenFiles: lim.Cur})
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.Write(append(b, '\n'))
	return err
}

func provider(args []string) error {
	fs := flag.NewFlagSet("provider", flag.ContinueOnError)
	fs.String("pull-policy", "Always", "")
	baseline := fs.Bool("baseline", false, "")
	start := fs.String("start-method", "cold", "")
	mem := fs.Int("mem", 32, "")
	gc := fs.Int("gc", 10, "")
	noReuse := fs.Bool("no-reuse", false, "")
	idle := fs.Int("idle-num", 70, "")
	noBg := fs.Bool("no-bgtask", false, "")
	fs.Int("faasnap-init-netns-num", 80, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	method := strings.ToLower(*start)
	switch {
	case !*baseline && method != "cold":
		return fmt.Errorf("start method %s needs --baseline", method)
	case *mem >= 256:
		return fmt.Errorf("--mem %d: too large", *mem)
	case !*baseline:
		method = sim.MethodTrEnv
	}
	secrets := os.Getenv("secret_mount_path")
	if secrets == "" {
		secrets = "/run/secrets/"
	}
	pw, err := os.ReadFile(filepath.Join(secrets, "basic-auth-password"))
	if err != nil {
		return fmt.Errorf("reading basic auth: %w", err)
	}
	speed := 1.0
	if s := os.Getenv("FAKE_FAASD_SPEED"); s != "" {
		if speed, err = strconv.ParseFloat(s, 64); err != nil {
			return fmt.Errorf("FAKE_FAASD_SPEED: %w", err)
		}
	}
	model, err := calibration.Default()
	if err != nil {
		return err
	}
	flags := results.PlatformFlags{MemGB: float64(*mem), GCMin: float64(*gc), IdleNum: *idle, NoReuse: *noReuse, NoBgTask: *noBg}
	pool := os.Getenv("FAKE_FAASD_POOL")
	if method != sim.MethodTrEnv {
		pool = ""
	}
	twin, err := sim.NewTwin(sim.TwinConfig{Platform: sim.ConfigFor(method, pool, flags, 1), Model: model,
		Password: strings.TrimSpace(string(pw)), Speed: speed})
	if err != nil {
		return err
	}
	port := os.Getenv("port")
	if port == "" {
		port = "8081"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if s := os.Getenv("FAKE_FAASD_EXIT_AFTER"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("FAKE_FAASD_EXIT_AFTER: %w", err)
		}
		go func() {
			time.Sleep(d)
			fmt.Fprintln(os.Stderr, `{"level":"panic","message":"fake crash"}`)
			os.Exit(1)
		}()
	}
	go backgroundLog(method, *idle, *noBg)
	ctrs, err := containersFromEnv()
	if err != nil {
		return err
	}
	if dir := os.Getenv("FAKE_FAASD_CGROUP_DIR"); dir != "" && ctrs == nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		go func() {
			for ctx.Err() == nil {
				resident, _ := twin.Memory()
				os.WriteFile(filepath.Join(dir, "memory.current"), []byte(strconv.FormatInt(resident, 10)+"\n"), 0o644)
				time.Sleep(50 * time.Millisecond)
			}
		}()
	}
	handler := twin.Handler()
	if method == sim.MethodFaaSnap || method == sim.MethodREAP {
		dir := os.Getenv("FAKE_FAASD_SNAPSHOT_DIR")
		if dir == "" {
			dir = "/mnt/cxl-tmp/faasnap/snapshot"
		}
		handler = snapshotCheck(handler, filepath.Join(dir, "snapshots_"+method+".json"))
	}
	if ctrs != nil {
		// Removed when the provider returns, once the server has shut
		// down, as faasd kills its instances on SIGTERM.
		defer ctrs.stopAll()
		handler = ctrs.wrap(handler)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	go twin.RunBackground(ctx)
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// snapshotCheck makes registration in FaaSnap/REAP mode read the snapshot
// ids' file on every call and refuse a function without one, with the real
// faasd's messages (spec trenv-stack §2.6 step 2).
func snapshotCheck(next http.Handler, file string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/system/register" || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var d struct {
			Service string `json:"service"`
		}
		if err := json.Unmarshal(body, &d); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		b, err := os.ReadFile(file)
		if err != nil {
			http.Error(w, "failed to open snapshot file: "+err.Error(), http.StatusBadRequest)
			return
		}
		var ids map[string]string
		if err := json.Unmarshal(b, &ids); err != nil {
			http.Error(w, "failed to unmarshal snapshot file: "+err.Error(), http.StatusBadRequest)
			return
		}
		lambda, _, _ := strings.Cut(d.Service, "_")
		if ids[lambda] == "" {
			http.Error(w, fmt.Sprintf("snapshot not found for service %s (%s)", d.Service, lambda), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// backgroundLog prints the background tasks' messages a harness waits for.
func backgroundLog(method string, idle int, noBg bool) {
	if noBg {
		return
	}
	switch method {
	case sim.MethodTrEnv:
		for i := 1; i <= idle; i++ {
			time.Sleep(2 * time.Millisecond)
			fmt.Fprintf(os.Stderr, `{"level":"debug","component":"[BackgroundTask]","instance id":"h-hello-world-%d","message":"PopulateCtrBackgroundTask cold start succeed"}`+"\n", i)
		}
	case sim.MethodFaaSnap, sim.MethodREAP:
		fmt.Fprintln(os.Stderr, `{"level":"debug","component":"[BackgroundTask]","num":80,"message":"FillFaasnapNetworkBackgroundTask precreate network ns"}`)
	}
}
