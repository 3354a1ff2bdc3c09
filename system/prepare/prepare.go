// Package prepare readies a TrEnv host for runs after each boot, as the
// artifact's machine-prepare.sh does, without its prompts: kernel modules,
// swap off, the memory pool (a device-DAX in devdax mode, or Soft-RoCE with
// the RDMA server), the far-memory tmpfs mounts, faasd's state directory,
// the function images in containerd's openfaas-fn namespace, and the
// mm-templates (`faasd checkpoint`), ending with a marker that records the
// pool and the boot they were made for.
//
// A preparation is a list of Steps. Each says what it does and which
// commands it runs (argument lists, never a shell), and first checks
// whether its work is already done, so Prepare is idempotent and resumes
// where an earlier attempt stopped; with DryRun it only prints the plan.
package prepare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Step is one step of a preparation.
type Step struct {
	// Name is a short id ("modules", "dax", …).
	Name string
	// Doc says what the step does and why, in one line.
	Doc string
	// Commands are the programs the step runs, in order, each an
	// argument list (program first). Steps whose work is done in Go (a
	// chown, an HTTP call, a file) list none and say so in Doc.
	Commands [][]string
	// Done reports whether the step's work is already done (and what
	// shows it); nil means never.
	Done func(ctx context.Context) (bool, string, error)
	// Do does the work; nil means run Commands one after another.
	Do func(ctx context.Context) error
}

// Printer receives what Prepare does, one line at a time.
type Printer interface {
	Printf(format string, args ...any)
}

type writerPrinter struct{ w io.Writer }

func (p writerPrinter) Printf(format string, args ...any) { fmt.Fprintf(p.w, format+"\n", args...) }

// ToWriter prints to w.
func ToWriter(w io.Writer) Printer { return writerPrinter{w} }

// Prepare runs the steps in order: each that is not done yet is run, and
// the first failure stops the preparation with an error naming the step
// (the steps before it stay done; run it again to resume). With dryRun
// nothing runs: it prints each step, whether it is done (or why that
// cannot be told), and its commands.
func Prepare(ctx context.Context, steps []Step, r Runner, out Printer, dryRun bool) error {
	for i, s := range steps {
		n := fmt.Sprintf("[%d/%d] %s", i+1, len(steps), s.Name)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("prepare: %s: %w", s.Name, err)
		}
		var unknown error
		if s.Done != nil {
			done, why, err := s.Done(ctx)
			switch {
			case err != nil && !dryRun:
				return fmt.Errorf("prepare: %s: checking whether it is done: %w", s.Name, err)
			case err != nil:
				unknown = err
			case done:
				out.Printf("%s: done already (%s)", n, why)
				continue
			}
		}
		out.Printf("%s: %s", n, s.Doc)
		if unknown != nil {
			out.Printf("    (cannot tell whether it is done: %v)", unknown)
		}
		for _, c := range s.Commands {
			out.Printf("    %s", quoteArgs(c))
		}
		if dryRun {
			continue
		}
		var err error
		if s.Do != nil {
			err = s.Do(ctx)
		} else {
			err = runAll(ctx, r, s.Commands)
		}
		if err != nil {
			return fmt.Errorf("prepare: %s: %w", s.Name, err)
		}
	}
	if dryRun {
		out.Printf("dry run: nothing was changed")
	}
	return nil
}

// Runner runs a program (system.Runner's method).
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

func runAll(ctx context.Context, r Runner, cmds [][]string) error {
	for _, c := range cmds {
		if len(c) == 0 {
			return errors.New("an empty command")
		}
		if _, err := r.Run(ctx, c[0], c[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// quoteArgs renders an argument list for reading (arguments with spaces or
// quotes are quoted); it is never run by a shell.
func quoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$`") {
			a = fmt.Sprintf("%q", a)
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
