package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"trenv-bench/replay"
	"trenv-bench/sim"
	"trenv-bench/workloads"
)

// TestFlagBounds checks each bounded flag of every command that has it: a
// value outside its range (NaN, infinities, just past the bound, 2^31 − 1)
// is a *FlagError naming the flag and the value, found before the command
// runs; the bound itself is accepted.
func TestFlagBounds(t *testing.T) {
	// Commands by name, each with the arguments it needs besides the
	// flag under test; the bool reports whether it ran.
	type command struct {
		args string
		make func(s *Streams, ran *bool) *cobra.Command
	}
	commands := map[string]command{
		"run": {"--method trenv -w func", func(s *Streams, ran *bool) *cobra.Command {
			return newCmdRun(s, func(context.Context, *runOptions) error { *ran = true; return nil })
		}},
		"run --target twin": {"--method trenv -w func --target twin", func(s *Streams, ran *bool) *cobra.Command {
			return newCmdRun(s, func(context.Context, *runOptions) error { *ran = true; return nil })
		}},
		"sim serve": {"--method trenv", func(s *Streams, ran *bool) *cobra.Command {
			return newCmdSimServe(s, func(context.Context, *simServeOptions, sim.TwinConfig) error { *ran = true; return nil })
		}},
		"reproduce": {"fig12 --target twin", func(s *Streams, ran *bool) *cobra.Command {
			return newCmdReproduce(s, nil, func(context.Context, *reproduceOptions) error { *ran = true; return nil })
		}},
		"gen": {"-w func", func(s *Streams, ran *bool) *cobra.Command {
			return newCmdGen(s, func(context.Context, *genOptions) error { *ran = true; return nil })
		}},
	}
	for _, tc := range []struct {
		flag     string
		bad      []string
		ok       string // the bound, accepted
		commands []string
	}{
		{"--speed", []string{"Inf", "+Inf", "-Inf", "NaN", "0", "-1", fmt.Sprint(replay.MaxSpeed + 1)}, fmt.Sprint(replay.MaxSpeed),
			[]string{"run --target twin", "sim serve", "reproduce"}},
		{"--gc", []string{"NaN", "Inf", "-1", fmt.Sprint(sim.MaxGC.Minutes() + 1), "1e30"}, fmt.Sprint(sim.MaxGC.Minutes()),
			[]string{"run", "sim serve"}},
		{"--mem", []string{"NaN", "Inf", "0", "-1", "256"}, "255.9", []string{"run", "sim serve"}},
		{"--idle-num", []string{"-1", fmt.Sprint(sim.MaxIdleNum + 1), "2147483647"}, fmt.Sprint(sim.MaxIdleNum),
			[]string{"run", "sim serve"}},
		{"--iter", []string{"0", "-1", fmt.Sprint(workloads.MaxIter + 1), "2147483647"}, fmt.Sprint(workloads.MaxIter),
			[]string{"run", "gen"}},
	} {
		for _, name := range tc.commands {
			c := commands[name]
			for _, v := range tc.bad {
				t.Run(name+" "+tc.flag+" "+v, func(t *testing.T) {
					s, _, _ := testStreams()
					ran := false
					err := execLine(c.make(s, &ran), c.args+" "+tc.flag+" "+v)
					var fe *FlagError
					if !errors.As(err, &fe) {
						t.Fatalf("got %v, want a *FlagError", err)
					}
					// The value as parsed: "Inf" reads +Inf, "1e30" 1e+30.
					shown := v
					if _, err := strconv.Atoi(v); err != nil {
						f, _ := strconv.ParseFloat(v, 64)
						shown = fmt.Sprint(f)
					}
					if want := tc.flag + " " + shown; !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not name %q", err, want)
					}
					if ran {
						t.Error("ran despite the error")
					}
				})
			}
			t.Run(name+" "+tc.flag+" "+tc.ok, func(t *testing.T) {
				s, _, _ := testStreams()
				ran := false
				if err := execLine(c.make(s, &ran), c.args+" "+tc.flag+" "+tc.ok); err != nil || !ran {
					t.Fatalf("at the bound: err %v, ran %v", err, ran)
				}
			})
		}
	}
}

// TestInputBoundsStopRun: a workload file with a cell over the limit, or a
// calibration with a median over its bound, stops run before it creates the
// run directory, with an error naming the file, the line and the value.
func TestInputBoundsStopRun(t *testing.T) {
	dir := t.TempDir()
	wl := filepath.Join(dir, "wl")
	w := workloads.Workload{Test: workloads.Phase{{Function: "pyaes", Counts: []int{1, math.MaxInt32}}}}
	if err := workloads.WriteDir(wl, w, false); err != nil {
		t.Fatal(err)
	}
	test := filepath.Join(wl, workloads.TestFile)
	data, err := os.ReadFile(test)
	if err != nil {
		t.Fatal(err)
	}
	cellLine := 1 + strings.Count(string(data[:strings.Index(string(data), fmt.Sprint(math.MaxInt32))]), "\n")

	def, err := os.ReadFile("../../sim/calibration/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// pyaes's cold start-up, made 1e17 ms.
	lines := strings.Split(string(def), "\n")
	median := regexp.MustCompile(`median_ms: [0-9.]+`)
	calLine := 0
	for i, in := 0, false; i < len(lines) && calLine == 0; i++ {
		switch {
		case lines[i] == "  pyaes:":
			in = true
		case in && strings.HasPrefix(lines[i], "      cold: {median_ms: "):
			lines[i] = median.ReplaceAllString(lines[i], "median_ms: 1e17")
			calLine = i + 1
		}
	}
	if calLine == 0 {
		t.Fatal("no pyaes cold start-up in default.yaml")
	}
	cal := filepath.Join(dir, "cal.yaml")
	if err := os.WriteFile(cal, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}

	good := writeWorkload(t, 2)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"cell", []string{"--workload-dir", wl}, []string{fmt.Sprintf("%s:%d:", test, cellLine), fmt.Sprint(math.MaxInt32), fmt.Sprint(workloads.MaxCount)}},
		{"calibration", []string{"--workload-dir", good, "--calibration", cal},
			[]string{fmt.Sprintf("%s:%d:", cal, calLine), "functions.pyaes.startup.cold.median_ms", "1e+17"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _, errOut := testStreams()
			out := filepath.Join(dir, "runs-"+tc.name)
			code := Main(append([]string{"run", "--method", "cold", "--target", "sim", "--out", out}, tc.args...), s)
			if code != ExitError {
				t.Fatalf("exit %d, %q", code, errOut)
			}
			for _, want := range tc.want {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr %q does not say %q", errOut, want)
				}
			}
			if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: %v, want no run directory", out, err)
			}
		})
	}
}
