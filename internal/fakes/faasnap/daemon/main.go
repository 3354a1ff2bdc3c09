// Command daemon serves the fake FaaSnap daemon (package faasnap) as a
// process, with the real server's --host and --port flags: tests install
// it where the real daemon's binary would be. It checks that the config
// file the real daemon reads at start ($FAKE_FAASNAP_CONFIG, default
// /etc/faasnap.json) exists, records its arguments and every call as JSON
// lines in $FAKE_FAASNAP_RECORD (when set), fails the first
// $FAKE_FAASNAP_FAIL_SNAPSHOTS snapshot takes, and stops on SIGTERM or
// SIGINT.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"trenv-bench/internal/fakes/faasnap"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "faasnap:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("faasnap", flag.ContinueOnError)
	host := fs.String("host", "localhost", "address to listen on")
	port := fs.Int("port", 8080, "port to listen on")
	if err := fs.Parse(args); err != nil {
		return err
	}
	config := os.Getenv("FAKE_FAASNAP_CONFIG")
	if config == "" {
		config = "/etc/faasnap.json"
	}
	if _, err := os.Stat(config); err != nil {
		return fmt.Errorf("reading config: %w", err)
	}
	f := faasnap.New()
	if n, err := strconv.Atoi(os.Getenv("FAKE_FAASNAP_FAIL_SNAPSHOTS")); err == nil {
		f.FailSnapshots = n
	}
	if path := os.Getenv("FAKE_FAASNAP_RECORD"); path != "" {
		rec, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer rec.Close()
		var mu sync.Mutex
		enc := json.NewEncoder(rec)
		enc.Encode(map[string]any{"args": args})
		f.Record = func(c faasnap.Call) {
			mu.Lock()
			defer mu.Unlock()
			enc.Encode(c)
		}
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "Serving faasnap at http://%s\n", ln.Addr())
	srv := &http.Server{Handler: f}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() { <-ctx.Done(); srv.Shutdown(context.Background()) }()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
