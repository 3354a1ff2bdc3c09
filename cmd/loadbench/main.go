// Command loadbench measures what the load generator itself costs on the
// machine it shares with the system under test: `trenv-bench run --gateway`
// replaying a steady workload — every W1 function at -rate requests a
// second for -seconds — against `trenv-bench sim serve` (the twin, in
// real time) in another process.
//
//	go run ./cmd/loadbench [-rate 20] [-seconds 30] [-runs 3] [-bin trenv-bench]
//	    [-variant NAME=BIN[,ENV=VALUE...]]... [-cpuprofile DIR] [-keep DIR]
//
// Per run it reports, for the `run` process alone (its rusage as a child):
// CPU seconds (user + system) per 1,000 requests, the share of it in the
// kernel, context switches (voluntary + involuntary) per request, and from
// its requests.csv the test phase's dispatch lateness (sent_s −
// scheduled_s), p50 and p99; and for the machine, the share of its CPU
// time the hypervisor stole during the run (/proc/stat), which delays the
// replayer however little it does. The process's whole life counts:
// start-up, registration, warmup, test, and writing its run directory. Each
// column's median over the runs is printed last.
//
// Builds are compared within one invocation, since the machine's neighbours
// move every figure from one hour to the next: each -variant (a binary,
// with environment variables for its `run` process, e.g.
// "gogc400=/tmp/tb,GOGC=400") is run once per round, in turn (ABAB…), and
// gets its own medians and its CPU ratio to the first variant. Without
// -variant the one variant is -bin. The twin is served by the first
// variant's binary throughout. -cpuprofile DIR passes run's hidden
// --cpuprofile, writing DIR/<variant>-<round>.pprof (a binary that predates
// the flag refuses it). -keep DIR keeps the run directories there
// (DIR/<variant>-<round>) instead of removing them.
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
	"strings"
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
	var vs variants
	flag.Var(&vs, "variant", "NAME=BIN[,ENV=VALUE...]: a build to compare, run in turn with the others (repeat the flag)")
	profDir := flag.String("cpuprofile", "", "directory for a CPU profile of each run (run's hidden --cpuprofile)")
	keep := flag.String("keep", "", "directory to keep the run directories in (default: removed)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *rate, *seconds, *runs, *bin, vs, *profDir, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "loadbench:", err)
		os.Exit(1)
	}
}

// variant is a build to measure: a binary and the environment of its run
// process.
type variant struct {
	name, bin string
	env       []string
}

// variants is the -variant flag.
type variants []variant

func (vs *variants) String() string { return fmt.Sprint(len(*vs)) }

func (vs *variants) Set(s string) error {
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" || rest == "" {
		return fmt.Errorf("-variant %q: expected NAME=BIN[,ENV=VALUE...]", s)
	}
	parts := strings.Split(rest, ",")
	v := variant{name: name, bin: parts[0]}
	for _, e := range parts[1:] {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return fmt.Errorf("-variant %q: %q is not ENV=VALUE", s, e)
		}
		v.env = append(v.env, e)
	}
	for _, o := range *vs {
		if o.name == name {
			return fmt.Errorf("-variant %q: the name %s is given twice", s, name)
		}
	}
	*vs = append(*vs, v)
	return nil
}

type measurement struct {
	requests                    int
	cpuPer1000, kernel, ctxPerR float64
	p50, p99, wall              float64
	steal                       float64 // of the machine's CPU time during the run, from /proc/stat
}

// cpuTimes reads the machine's total and stolen CPU time (clock ticks) from
// /proc/stat's first line; steal is the time the hypervisor ran something
// else on the virtual CPUs, which delays the replayer's threads however
// little CPU it needs. Zero where the file is not there.
func cpuTimes() (total, steal uint64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	for i, s := range f[1:] {
		v, _ := strconv.ParseUint(s, 10, 64)
		if i < 8 { // user nice system idle iowait irq softirq steal; guest time is in user
			total += v
		}
		if i == 7 {
			steal = v
		}
	}
	return total, steal
}

func run(ctx context.Context, rate, seconds, runs int, bin string, vs variants, profDir, keep string) error {
	if rate < 1 || seconds < 1 || runs < 1 {
		return errors.New("-rate, -seconds and -runs must be positive")
	}
	if len(vs) > 0 && bin != "" {
		return errors.New("-bin and -variant exclude each other: give the binary in each -variant")
	}
	if profDir != "" {
		if err := os.MkdirAll(profDir, 0o755); err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "loadbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "runs")
	if keep != "" {
		out = keep
	}
	if len(vs) == 0 && bin == "" {
		bin = filepath.Join(dir, "trenv-bench")
		b := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/trenv-bench")
		b.Stdout, b.Stderr = os.Stderr, os.Stderr
		if err := b.Run(); err != nil {
			return fmt.Errorf("building trenv-bench: %w", err)
		}
	}
	if len(vs) == 0 {
		vs = variants{{name: "this", bin: bin}}
	}
	bin = vs[0].bin
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
	fmt.Fprintln(tw, "variant\trun\trequests\tCPU-s / 1000 req\tkernel share\tctx switches / req\tlateness p50 ms\tlateness p99 ms\twall s\tsteal %\t")
	ms := make([][]measurement, len(vs))
	for i := 0; i < runs; i++ {
		for j, v := range vs {
			prof := ""
			if profDir != "" {
				prof = filepath.Join(profDir, v.name+"-"+strconv.Itoa(i+1)+".pprof")
			}
			m, err := once(ctx, v, out, wdir, "http://"+addr, pw, i+1, prof)
			if err != nil {
				return err
			}
			ms[j] = append(ms[j], m)
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.3f\t%.2f\t%.1f\t%.3f\t%.3f\t%.1f\t%.1f\t\n", v.name, i+1, m.requests, m.cpuPer1000, m.kernel, m.ctxPerR, m.p50, m.p99, m.wall, 100*m.steal)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Println()
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "median of %d\trequests\tCPU-s / 1000 req\tCPU ÷ %s\tkernel share\tctx switches / req\tlateness p50 ms\tlateness p99 ms\twall s\tsteal %%\t\n", runs, vs[0].name)
	var base float64
	for j, v := range vs {
		med := func(f func(measurement) float64) float64 {
			x := make([]float64, len(ms[j]))
			for i, m := range ms[j] {
				x[i] = f(m)
			}
			slices.Sort(x)
			return x[len(x)/2]
		}
		cpu := med(func(m measurement) float64 { return m.cpuPer1000 })
		if j == 0 {
			base = cpu
		}
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.2f\t%.2f\t%.1f\t%.3f\t%.3f\t%.1f\t%.1f\t\n", v.name, ms[j][0].requests, cpu, cpu/base,
			med(func(m measurement) float64 { return m.kernel }), med(func(m measurement) float64 { return m.ctxPerR }),
			med(func(m measurement) float64 { return m.p50 }), med(func(m measurement) float64 { return m.p99 }),
			med(func(m measurement) float64 { return m.wall }), 100*med(func(m measurement) float64 { return m.steal }))
	}
	return tw.Flush()
}

func once(ctx context.Context, v variant, out, wdir, url, pw string, i int, prof string) (measurement, error) {
	name := v.name + "-" + strconv.Itoa(i)
	args := []string{"run", "--method", "trenv", "--workload-dir", wdir, "--gateway", url,
		"--password-file", pw, "--out", out, "--name", name, "--force"}
	if prof != "" {
		args = append(args, "--cpuprofile", prof)
	}
	cmd := exec.CommandContext(ctx, v.bin, args...)
	cmd.Env = append(os.Environ(), v.env...)
	start := time.Now()
	total0, steal0 := cpuTimes()
	if b, err := cmd.CombinedOutput(); err != nil {
		return measurement{}, fmt.Errorf("%v: %w\n%s", cmd.Args, err, b)
	}
	wall := time.Since(start).Seconds()
	total1, steal1 := cpuTimes()
	steal := 0.0
	if total1 > total0 {
		steal = float64(steal1-steal0) / float64(total1-total0)
	}
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
		p50:     results.Percentile(late, 50), p99: results.Percentile(late, 99), wall: wall, steal: steal}, nil
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
