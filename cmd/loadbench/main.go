// Command loadbench measures what the load generator itself costs on the
// machine it shares with the system under test: `trenv-bench run --gateway`
// replaying a steady workload — every W1 function at -rate requests a
// second for -seconds — against `trenv-bench sim serve` (the twin, in
// real time) in another process.
//
//	go run ./cmd/loadbench [-rate 20] [-seconds 30] [-runs 3] [-bin trenv-bench]
//
// Per run it reports, for the `run` process alone (its rusage as a child):
// CPU seconds (user + system) per 1,000 requests, the share of it in the
// kernel, context switches (voluntary + involuntary) per request, and from
// its requests.csv the test phase's dispatch lateness (sent_s −
// scheduled_s), p50 and p99. The process's whole life counts: start-up,
// registration, warmup, test, and writing its run directory. Each column's
// median over the runs is printed last.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"trenv-bench/results"
	"trenv-bench/workloads"
)

// w1Functions are the functions of the paper's W1.
func w1Functions() []string {
	return []string{"chameleon", "crypto", "dynamic-html", "image-flip-rotate", "image-processing", "image-recognition",
		"js-json-serde", "json-serde", "pagerank", "pyaes", "video-processing"}
}

func main() {
	rate := flag.Int("rate", 20, "requests per second to each function")
	seconds := flag.Int("seconds", 30, "length of the test phase, seconds")
	runs := flag.Int("runs", 3, "runs (medians are printed)")
	bin := flag.String("bin", "", "trenv-bench binary (default: build ./cmd/trenv-bench)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *rate, *seconds, *runs, *bin); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

type measurement struct {
	requests                    int
	cpuPer1000, kernel, ctxPerR float64
	p50, p99, wall              float64
}

func run(ctx context.Context, rate, seconds, runs int, bin string) error {
	if rate < 1 || seconds < 1 || runs < 1 {
		return errors.New("-rate, -seconds and -runs must be positive")
	}
	dir, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		bin = filepath.Join(dir, "trenv-bench")
		b := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/trenv-bench")
		b.Stdout, b.Stderr = os.Stderr, os.Stderr
		if err := b.Run(); err != nil {
			return fmt.Errorf("building trenv-bench: %w", err)
		}
	}
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("loadbench\n"), 0o600); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.CommandContext(ctx, bin, "sim", "serve", "--method", "trenv", "--addr", addr, "--password-file", pw)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	if err := waitHealthy(ctx, "http://"+addr+"/healthz"); err != nil {
		return err
	}

	var w workloads.Workload
	for _, fn := range w1Functions() {
		counts := make([]int, seconds)
		for i := range counts {
			counts[i] = rate
		}
		w.Test = append(w.Test, workloads.Series{Function: fn, Counts: counts})
		w.Warmup = append(w.Warmup, workloads.Series{Function: fn, Counts: []int{1}})
	}
	wdir := filepath.Join(dir, "workload")
	if err := workloads.WriteDir(wdir, w, true); err != nil {
		return err
	}
	fmt.Printf("loadbench: trenv-bench run --gateway against sim serve (trenv, real time) in another process; %d functions × %d req/s × %d s (%d requests in the test phase), %s\n",
		len(w1Functions()), rate, seconds, w.Test.Requests(), time.Now().Format(time.DateOnly))
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\trequests\tCPU-s / 1000 req\tkernel share\tctx switches / req\tlateness p50 ms\tlateness p99 ms\twall s\t")
	var ms []measurement
	for i := 0; i < runs; i++ {
		m, err := once(ctx, bin, dir, wdir, "http://"+addr, pw, i)
		if err != nil {
			return err
		}
		ms = append(ms, m)
		fmt.Fprintf(tw, "%d\t%d\t%.3f\t%.2f\t%.1f\t%.3f\t%.3f\t%.1f\t\n", i+1, m.requests, m.cpuPer1000, m.kernel, m.ctxPerR, m.p50, m.p99, m.wall)
	}
	med := func(f func(measurement) float64) float64 {
		v := make([]float64, len(ms))
		for i, m := range ms {
			v[i] = f(m)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	fmt.Fprintf(tw, "median\t%d\t%.3f\t%.2f\t%.1f\t%.3f\t%.3f\t%.1f\t\n", ms[0].requests,
		med(func(m measurement) float64 { return m.cpuPer1000 }), med(func(m measurement) float64 { return m.kernel }),
		med(func(m measurement) float64 { return m.ctxPerR }), med(func(m measurement) float64 { return m.p50 }),
		med(func(m measurement) float64 { return m.p99 }), med(func(m measurement) float64 { return m.wall }))
	return tw.Flush()
}

func once(ctx context.Context, bin, dir, wdir, url, pw string, i int) (measurement, error) {
	out := filepath.Join(dir, "runs")
	name := "load-" + strconv.Itoa(i)
	cmd := exec.CommandContext(ctx, bin, "run", "--method", "trenv", "--workload-dir", wdir, "--gateway", url,
		"--password-file", pw, "--out", out, "--name", name, "--force")
	start := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		return measurement{}, fmt.Errorf("%v: %w\n%s", cmd.Args, err, b)
	}
	wall := time.Since(start).Seconds()
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	user := time.Duration(ru.Utime.Nano()).Seconds()
	sys := time.Duration(ru.Stime.Nano()).Seconds()
	f, err := os.Open(filepath.Join(out, name, results.RequestsFile))
	if err != nil {
		return measurement{}, err
	}
	defer f.Close()
	rr := results.NewRequestReader(bufio.NewReader(f), f.Name())
	var late []float64
	n := 0
	for rr.Next() {
		q := rr.Request()
		n++
		if q.Phase == results.PhaseTest && !math.IsNaN(q.SentS) {
			late = append(late, (q.SentS-q.ScheduledS)*1000)
		}
	}
	if err := rr.Err(); err != nil {
		return measurement{}, err
	}
	slices.Sort(late)
	return measurement{requests: n, cpuPer1000: (user + sys) / float64(n) * 1000, kernel: sys / (user + sys),
		ctxPerR: float64(ru.Nvcsw+ru.Nivcsw) / float64(n),
		p50:     results.Percentile(late, 50), p99: results.Percentile(late, 99), wall: wall}, nil
}

func waitHealthy(ctx context.Context, url string) error {
	for i := 0; i < 100; i++ {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("sim serve does not answer at %s", url)
}
