// Command replaybench measures the replayer (package replay) against a
// no-delay HTTP server on loopback, and vegeta's attacker at the same rates
// against the same server, and prints a side-by-side table.
//
//	go run ./cmd/replaybench [-rate 5000,20000] [-duration 10s | -n N] [-runs 3] [-server proc|inproc|URL]
//
// Each trial (one tool at one rate) runs in a child process of its own (this
// binary re-executed with -child), so peak RSS (VmHWM) and GC state are the
// trial's alone. The server (server.go: a minimal keep-alive HTTP/1.1
// responder answering {"latency":0.0} at once) runs by default in one more
// child process, started once (-server proc); -server inproc starts it
// inside each trial's process instead (client and server then share a
// heap, a garbage collector and GOMAXPROCS); a URL uses a server already
// running (it must answer POST /invoke/<fn> with {"latency": …} and
// GET/DELETE /system/metrics).
//
// The replayer replays a test phase of one function (pyaes, with its JSON
// payload) and `rate` requests in each second, each at t + U[0,1) as
// workloads.NewSchedule places them (uniformly random within the second,
// not evenly spaced), through replay.Run with a default replay.Gateway;
// lateness is sent_s − scheduled_s of its records. vegeta (lib v12) attacks
// the same URL with the same body with ConstantPacer{Freq: rate, Per: 1s}
// (evenly spaced) and its default workers; its lateness is each hit's
// Timestamp − (attack start + (Seq+1)/rate), the time ConstantPacer meant
// it for, the attack start being read just before Attack is called.
// Achieved rate is requests sent ÷ (last send − first send). Each figure is
// the median over -runs trials (each column's median on its own).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"trenv-bench/replay"
	"trenv-bench/results"
	"trenv-bench/workloads"
)

// benchFunction is the function every request invokes (a JSON payload, as
// most benchmark functions have).
const benchFunction = "pyaes"

// Tool names.
const (
	toolReplay = "replay"
	toolVegeta = "vegeta"
)

type options struct {
	rates    []int
	duration time.Duration
	n        int
	runs     int
	server   string
	tools    []string

	// child mode
	child      string
	serve      string
	url        string
	rate       int
	cpuprofile string
	progress   bool
	timeline   string
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "replaybench:", err)
		os.Exit(2)
	}
	switch {
	case o.serve != "":
		err = serveMain(o.serve)
	case o.child != "":
		err = childMain(o)
	default:
		err = parentMain(o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "replaybench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("replaybench", flag.ContinueOnError)
	rates := fs.String("rate", "5000,20000", "comma-separated request rates to measure, requests/s")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "length of each trial (whole seconds)")
	fs.IntVar(&o.n, "n", 0, "requests per trial; if > 0, sets the length to ceil(n / rate) s")
	fs.IntVar(&o.runs, "runs", 3, "trials per tool and rate; the table shows medians")
	fs.StringVar(&o.server, "server", "proc", "proc (a separate server process), inproc (in each trial's process) or a base URL")
	tools := fs.String("tools", "replay,vegeta", "tools to measure: replay, vegeta")
	fs.StringVar(&o.child, "child", "", "internal: run one trial of this tool and print JSON")
	fs.StringVar(&o.serve, "serve", "", "internal: serve the no-delay server on this address")
	fs.StringVar(&o.url, "url", "", "internal: the server's URL (child mode); empty = in-process")
	fs.IntVar(&o.rate, "child-rate", 0, "internal: the rate of a child trial")
	fs.StringVar(&o.timeline, "timeline", "", "child mode (replay): write each request's scheduled_s,sent_s,done_s to this CSV file")
	fs.BoolVar(&o.progress, "progress", false, "child mode: print the replayer's progress to stderr")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "child mode: write a CPU profile of the trial to this file")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	for _, s := range strings.Split(*rates, ",") {
		r, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || r <= 0 {
			return o, fmt.Errorf("-rate %q: expected positive integers separated by commas", *rates)
		}
		o.rates = append(o.rates, r)
	}
	for _, s := range strings.Split(*tools, ",") {
		s = strings.TrimSpace(s)
		if s != toolReplay && s != toolVegeta {
			return o, fmt.Errorf("-tools %q: expected replay and/or vegeta", *tools)
		}
		o.tools = append(o.tools, s)
	}
	if o.duration < time.Second && o.n <= 0 {
		return o, fmt.Errorf("-duration %v: expected at least 1s", o.duration)
	}
	if o.runs < 1 {
		return o, fmt.Errorf("-runs %d: expected at least 1", o.runs)
	}
	return o, nil
}

// seconds is a trial's length at rate, in whole seconds, and its number of
// requests.
func (o options) seconds(rate int) (secs, n int) {
	if o.n > 0 {
		return (o.n + rate - 1) / rate, o.n
	}
	secs = int(o.duration / time.Second)
	return secs, secs * rate
}

// trial is what a child prints: one tool at one rate.
type trial struct {
	Tool         string  `json:"tool"`
	Rate         int     `json:"rate"`
	Requests     int     `json:"requests"`
	Sent         int     `json:"sent"`
	OK           int     `json:"ok"`
	AchievedRate float64 `json:"achieved_rate"`
	LateP50Us    float64 `json:"late_p50_us"`
	LateP99Us    float64 `json:"late_p99_us"`
	LateMaxUs    float64 `json:"late_max_us"`
	PeakInFlight int     `json:"peak_in_flight"`
	PeakRSSKB    int64   `json:"peak_rss_kb"`
	WallS        float64 `json:"wall_s"`
}

// ---- parent ----

func parentMain(o options) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	url, mode := o.server, o.server
	switch o.server {
	case "inproc":
		url = ""
	case "proc":
		srv, u, err := startServer(self)
		if err != nil {
			return err
		}
		defer stopServer(srv)
		url = u
	default:
		if !strings.HasPrefix(o.server, "http://") {
			return fmt.Errorf("-server %q: expected proc, inproc or an http:// URL", o.server)
		}
		mode = "external " + o.server
	}
	fmt.Printf("replaybench: %s/%s, %d CPUs, %s; server: %s; %d run(s) per cell, medians shown\n",
		runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version(), mode, o.runs)

	all := map[string]map[int][]trial{}
	for _, rate := range o.rates {
		secs, n := o.seconds(rate)
		for run := 0; run < o.runs; run++ {
			for _, tool := range o.tools {
				fmt.Fprintf(os.Stderr, "  %s at %d req/s, %d requests (%d s), run %d/%d…\n", tool, rate, n, secs, run+1, o.runs)
				t, err := runChild(self, o, tool, rate, url, secs)
				if err != nil {
					return fmt.Errorf("%s at %d req/s: %w", tool, rate, err)
				}
				if all[tool] == nil {
					all[tool] = map[int][]trial{}
				}
				all[tool][rate] = append(all[tool][rate], t)
			}
		}
	}
	printTable(os.Stdout, o, all)
	return nil
}

// startServer starts the no-delay server in a child process and returns it
// and its URL.
func startServer(self string) (*exec.Cmd, string, error) {
	cmd := exec.Command(self, "-serve", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe() // the server exits when this closes
	if err != nil {
		return nil, "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	_ = stdin
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		stopServer(cmd)
		return nil, "", fmt.Errorf("server process: %w", err)
	}
	return cmd, strings.TrimSpace(strings.TrimPrefix(line, "LISTEN ")), nil
}

// stopServer stops the server process it started, by its PID.
func stopServer(cmd *exec.Cmd) {
	if cmd.Process != nil {
		cmd.Process.Kill()
		cmd.Wait()
	}
}

func runChild(self string, o options, tool string, rate int, url string, secs int) (trial, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs)*3*time.Second+2*time.Minute)
	defer cancel()
	args := []string{"-child", tool, "-child-rate", strconv.Itoa(rate), "-url", url,
		"-duration", o.duration.String(), "-n", strconv.Itoa(o.n)}
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return trial{}, err
	}
	var t trial
	if err := json.Unmarshal(out, &t); err != nil {
		return trial{}, fmt.Errorf("child output %q: %w", out, err)
	}
	return t, nil
}

func median(ts []trial, f func(trial) float64) float64 {
	xs := make([]float64, len(ts))
	for i, t := range ts {
		xs[i] = f(t)
	}
	slices.Sort(xs)
	if len(xs)%2 == 1 {
		return xs[len(xs)/2]
	}
	return (xs[len(xs)/2-1] + xs[len(xs)/2]) / 2
}

func printTable(w io.Writer, o options, all map[string]map[int][]trial) {
	type col struct {
		name string
		f    func(trial) float64
		fmt  string
	}
	cols := []col{
		{"sent", func(t trial) float64 { return float64(t.Sent) }, "%.0f"},
		{"achieved req/s", func(t trial) float64 { return t.AchievedRate }, "%.0f"},
		{"ok", func(t trial) float64 { return float64(t.OK) }, "%.0f"},
		{"late p50 ms", func(t trial) float64 { return t.LateP50Us / 1000 }, "%.3f"},
		{"late p99 ms", func(t trial) float64 { return t.LateP99Us / 1000 }, "%.3f"},
		{"late max ms", func(t trial) float64 { return t.LateMaxUs / 1000 }, "%.3f"},
		{"peak RSS MB", func(t trial) float64 { return float64(t.PeakRSSKB) / 1024 }, "%.1f"},
		{"peak in flight", func(t trial) float64 { return float64(t.PeakInFlight) }, "%.0f"},
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "rate req/s\ttool\trequests\t")
	for _, c := range cols {
		fmt.Fprint(tw, c.name, "\t")
	}
	fmt.Fprintln(tw)
	for _, rate := range o.rates {
		_, n := o.seconds(rate)
		med := map[string][]float64{}
		for _, tool := range o.tools {
			ts := all[tool][rate]
			fmt.Fprintf(tw, "%d\t%s\t%d\t", rate, tool, n)
			for _, c := range cols {
				m := median(ts, c.f)
				med[tool] = append(med[tool], m)
				if tool == toolVegeta && c.name == "peak in flight" {
					fmt.Fprint(tw, "n/a\t") // vegeta does not say
					continue
				}
				fmt.Fprintf(tw, c.fmt+"\t", m)
			}
			fmt.Fprintln(tw)
		}
		if len(o.tools) == 2 {
			fmt.Fprintf(tw, "%d\treplay/vegeta\t\t", rate)
			for i := range cols {
				r, v := med[toolReplay][i], med[toolVegeta][i]
				if v == 0 {
					fmt.Fprint(tw, "–\t")
				} else {
					fmt.Fprintf(tw, "%.2f×\t", r/v)
				}
			}
			fmt.Fprintln(tw)
		}
	}
	tw.Flush()
}

// ---- child: one trial ----

func childMain(o options) error {
	url := o.url
	if url == "" { // in-process server
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		go serve(ln)
		defer ln.Close()
		url = "http://" + ln.Addr().String()
	}
	secs, n := o.seconds(o.rate)
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var t trial
	var err error
	switch o.child {
	case toolReplay:
		t, err = trialReplay(url, o.rate, secs, n, o.progress, o.timeline)
	case toolVegeta:
		t, err = trialVegeta(url, o.rate, n)
	default:
		err = fmt.Errorf("-child %q: unknown tool", o.child)
	}
	if err != nil {
		return err
	}
	t.Tool, t.Rate, t.Requests = o.child, o.rate, n
	t.PeakRSSKB = peakRSSKB()
	return json.NewEncoder(os.Stdout).Encode(t)
}

// latencies is a histogram of lateness in microseconds: exact below 1 s,
// the rest kept as they are.
type latencies struct {
	counts [1_000_000]uint32
	over   []int64
	n      int
	max    int64
}

func (h *latencies) add(us int64) {
	if us < 0 {
		us = 0 // sent before its time by less than the clock's resolution
	}
	h.n++
	h.max = max(h.max, us)
	if us < int64(len(h.counts)) {
		h.counts[us]++
	} else {
		h.over = append(h.over, us)
	}
}

func (h *latencies) quantile(q float64) float64 {
	if h.n == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(q * float64(h.n)))
	rank = max(rank, 1)
	seen := 0
	for us, c := range h.counts {
		seen += int(c)
		if seen >= rank {
			return float64(us)
		}
	}
	slices.Sort(h.over)
	return float64(h.over[rank-seen-1])
}

// sendSpan tracks the first and last send times.
type sendSpan struct {
	first, last float64 // seconds
	n           int
}

func (s *sendSpan) add(t float64) {
	if s.n == 0 || t < s.first {
		s.first = t
	}
	if s.n == 0 || t > s.last {
		s.last = t
	}
	s.n++
}

func (s *sendSpan) rate() float64 {
	if s.n < 2 || s.last <= s.first {
		return math.NaN()
	}
	return float64(s.n) / (s.last - s.first)
}

func trialReplay(url string, rate, secs, n int, progress bool, timeline string) (trial, error) {
	var tl *bufio.Writer
	if timeline != "" {
		f, err := os.Create(timeline)
		if err != nil {
			return trial{}, err
		}
		defer f.Close()
		tl = bufio.NewWriter(f)
		defer tl.Flush()
	}
	counts := make([]int, secs)
	for i := range counts {
		counts[i] = min(rate, n-i*rate)
	}
	w := workloads.Workload{Test: workloads.Phase{{Function: benchFunction, Counts: counts}}}
	h := new(latencies)
	var span sendSpan
	ok := 0
	cfg := replay.Config{
		Target:     &replay.Gateway{URL: url},
		JitterSeed: 1,
		Recorder: requestRecorder{f: func(r *results.Request) error {
			if !math.IsNaN(r.SentS) {
				h.add(int64(math.Round((r.SentS - r.ScheduledS) * 1e6)))
				span.add(r.SentS)
			}
			if r.Status == results.StatusOK {
				ok++
			}
			if tl != nil {
				fmt.Fprintf(tl, "%.6f,%.6f,%.6f\n", r.ScheduledS, r.SentS, r.DoneS)
			}
			return nil
		}},
	}
	if progress {
		cfg.Progress = func(p replay.Progress) {
			fmt.Fprintf(os.Stderr, "%6.2fs sent %d completed %d failed %d in flight %d\n",
				p.ElapsedS, p.Sent, p.Completed, p.Failed, p.InFlight)
		}
	}
	start := time.Now()
	sum, err := replay.Run(context.Background(), cfg, w)
	if err != nil {
		return trial{}, err
	}
	return trial{Sent: sum.Test.Sent, OK: ok, AchievedRate: span.rate(),
		LateP50Us: h.quantile(0.5), LateP99Us: h.quantile(0.99), LateMaxUs: float64(h.max),
		PeakInFlight: sum.Test.PeakInFlight, WallS: time.Since(start).Seconds()}, nil
}

func trialVegeta(url string, rate, n int) (trial, error) {
	fn, _ := workloads.DefaultCatalog().Lookup(benchFunction)
	tgt := vegeta.Target{Method: http.MethodPost, URL: url + "/invoke/" + benchFunction,
		Body: []byte(fn.Payload), Header: http.Header{"Content-Type": {"application/json"}}}
	atk := vegeta.NewAttacker(vegeta.Timeout(replay.AttemptTimeout), vegeta.KeepAlive(true),
		vegeta.Connections(replay.MaxIdleConnsPerHost))
	interval := time.Second / time.Duration(rate)
	du := time.Duration(n)*interval + interval/2 // hit n-1 is due at n × interval
	h := new(latencies)
	var span sendSpan
	var ok, sent int
	began := time.Now()
	for res := range atk.Attack(vegeta.NewStaticTargeter(tgt), vegeta.ConstantPacer{Freq: rate, Per: time.Second}, du, "bench") {
		ideal := began.Add(time.Duration(res.Seq+1) * interval)
		h.add(res.Timestamp.Sub(ideal).Microseconds())
		span.add(res.Timestamp.Sub(began).Seconds())
		sent++
		if res.Code == http.StatusOK && res.Error == "" {
			ok++
		}
	}
	return trial{Sent: sent, OK: ok, AchievedRate: span.rate(),
		LateP50Us: h.quantile(0.5), LateP99Us: h.quantile(0.99), LateMaxUs: float64(h.max),
		WallS: time.Since(began).Seconds()}, nil
}

// peakRSSKB reads the process's peak resident set (VmHWM), in kB.
func peakRSSKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			v, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return v
		}
	}
	return 0
}

// serveMain serves the no-delay server on addr, prints "LISTEN <url>", and
// exits when its standard input closes (its parent ended).
func serveMain(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	fmt.Printf("LISTEN http://%s\n", ln.Addr())
	go func() {
		io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	if err := serve(ln); !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// requestRecorder is a Recorder that hands each request record to a
// function and discards the rest.
type requestRecorder struct {
	results.Discard
	f func(*results.Request) error
}

func (r requestRecorder) Request(x *results.Request) error { return r.f(x) }
