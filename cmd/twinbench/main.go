// Command twinbench measures how closely the twin (the platform model served
// over HTTP in compressed real time) agrees with the engine (the same model
// in virtual time) at several speeds, and prints a table per method.
//
//	go run ./cmd/twinbench [-speeds 10,20,50,100,200,500] [-methods trenv,reap] [-w 1] [-bin trenv-bench] [-keep DIR]
//
// It runs `trenv-bench run` (built from this module unless -bin names a
// binary) once with --target sim and once with --target twin --speed S per
// speed, one process at a time, on the same workload, seeds and flags, and
// compares per-function P50 and P99 of the test phase's e2e_ms (the
// requests that succeeded) with the engine's. Each twin row also shows what
// the run measured of its own clock (manifest.json "clock"): the median
// dispatch lateness and overhead outside the model, wall time, and the model
// shift, their sum × speed. The figures go into the README ("The twin's
// clock"), and experiments.TwinShiftLimit is read off them.
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"trenv-bench/results"
)

func main() {
	speeds := flag.String("speeds", "10,20,50,100,200,500", "twin speeds, comma-separated")
	methods := flag.String("methods", "trenv", "start methods, comma-separated")
	workload := flag.String("w", "1", "workload kind (as run -w)")
	bin := flag.String("bin", "", "trenv-bench binary (default: build ./cmd/trenv-bench)")
	keep := flag.String("keep", "", "keep the run directories in DIR (default: a temporary directory, removed)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *speeds, *methods, *workload, *bin, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "twinbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, speedList, methodList, workload, bin, keep string) error {
	var speeds []float64
	for _, f := range strings.Split(speedList, ",") {
		s, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || !(s >= 1) || math.IsInf(s, 0) {
			return fmt.Errorf("-speeds: %q is not a speed (a number ≥ 1)", f)
		}
		speeds = append(speeds, s)
	}
	dir := keep
	if dir == "" {
		d, err := os.MkdirTemp("", "twinbench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if bin == "" {
		bin = filepath.Join(dir, "trenv-bench")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/trenv-bench")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building trenv-bench: %w", err)
		}
	}
	fmt.Printf("twinbench: W%s, test phase, e2e_ms of the requests served; twin/engine ratios per function (%s)\n",
		workload, time.Now().Format(time.DateOnly))
	for _, method := range strings.Split(methodList, ",") {
		method = strings.TrimSpace(method)
		engine, err := runOnce(ctx, bin, dir, method, workload, "sim", 0)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "\n%s\tspeed\twall s\tlateness p50 ms\toverhead p50 ms\tshift ms\tworst P50 ratio\tworst P99 ratio\tmedian |ln P99 ratio|\tworst function\t\n", method)
		for _, s := range speeds {
			start := time.Now()
			twin, err := runOnce(ctx, bin, dir, method, workload, "twin", s)
			if err != nil {
				return err
			}
			c := compare(engine, twin)
			clock := twin.m.Clock
			if clock == nil || clock.ModelShiftMs == nil || clock.OverheadP50Ms == nil {
				return fmt.Errorf("%s: the manifest has no clock measurement", twin.dir)
			}
			fmt.Fprintf(tw, "\t%g\t%.0f\t%.3f\t%.3f\t%.1f\t%.3f\t%.3f\t%.3f\t%s\t\n", s, time.Since(start).Seconds(),
				clock.LatenessP50Ms, *clock.OverheadP50Ms, *clock.ModelShiftMs, c.worstP50, c.worstP99, c.medianLnP99, c.worstFn)
		}
		tw.Flush()
		fmt.Println("\nper function, engine P50/P99 ms:")
		for _, row := range engine.rows {
			fmt.Printf("  %-20s %9.2f %9.2f\n", row.Function, row.P50Ms, row.P99Ms)
		}
	}
	return nil
}

// result is one run's test-phase summary per function.
type result struct {
	dir  string
	m    results.Manifest
	rows []results.SummaryRow
}

// runOnce runs trenv-bench run for method on workload at target (speed for
// the twin) into a directory of dir, and reads its summary.
func runOnce(ctx context.Context, bin, dir, method, workload, target string, speed float64) (result, error) {
	name := fmt.Sprintf("%s-%s", method, target)
	args := []string{"run", "--method", method, "-w", workload, "--target", target, "--out", dir, "--force"}
	if target == "twin" {
		name += "-" + strconv.FormatFloat(speed, 'g', -1, 64)
		args = append(args, "--speed", strconv.FormatFloat(speed, 'g', -1, 64))
	}
	args = append(args, "--name", name)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = nil // progress bars and notes; the manifest says how it went
	if out, err := cmd.CombinedOutput(); err != nil {
		return result{}, fmt.Errorf("%s %s: %w\n%s", bin, strings.Join(args, " "), err, out)
	}
	run, err := results.LoadRun(filepath.Join(dir, name))
	if err != nil {
		return result{}, err
	}
	req, err := run.Requests()
	if err != nil {
		return result{}, err
	}
	if run.Manifest.Status != results.RunComplete {
		return result{}, fmt.Errorf("%s: run %s", run.Dir, run.Manifest.Status)
	}
	return result{dir: run.Dir, m: *run.Manifest, rows: req.Test}, nil
}

// comparison is how far a twin run's latencies are from the engine's.
type comparison struct {
	// worstP50, worstP99 are the twin/engine ratios farthest from 1.
	worstP50, worstP99 float64
	// medianLnP99 is the median over functions of |ln(twin P99 / engine
	// P99)|.
	medianLnP99 float64
	worstFn     string
}

func compare(engine, twin result) comparison {
	c := comparison{worstP50: 1, worstP99: 1}
	byFn := map[string]results.SummaryRow{}
	for _, r := range twin.rows {
		byFn[r.Function] = r
	}
	var lns []float64
	worst := 0.0
	for _, e := range engine.rows {
		t, ok := byFn[e.Function]
		if !ok {
			continue
		}
		p50, p99 := t.P50Ms/e.P50Ms, t.P99Ms/e.P99Ms
		if math.Abs(math.Log(p50)) > math.Abs(math.Log(c.worstP50)) {
			c.worstP50 = p50
		}
		if math.Abs(math.Log(p99)) > math.Abs(math.Log(c.worstP99)) {
			c.worstP99 = p99
		}
		lns = append(lns, math.Abs(math.Log(p99)))
		if w := max(math.Abs(math.Log(p50)), math.Abs(math.Log(p99))); w > worst {
			worst, c.worstFn = w, e.Function
		}
	}
	slices.Sort(lns)
	if n := len(lns); n > 0 {
		c.medianLnP99 = lns[n/2]
	}
	return c
}
