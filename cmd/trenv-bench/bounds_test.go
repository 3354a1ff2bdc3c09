package main

import (
	"context"
	"errors"
	"fmt"
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
