package system

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"strings"
	"time"
)

// Runner runs an external program: name (a path, or a command looked up on
// PATH) with its arguments, no shell. It returns what the program wrote to
// stdout; a program that could not start or exited non-zero gives a
// *CmdError (with stdout so far).
//
// Host checks and procedures take a Runner, so tests can answer for the
// programs a host would have.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) ([]byte, error)
}

// ExecRunner runs programs with os/exec. The zero value is ready.
type ExecRunner struct {
	// Dir is the working directory; "" = the current one.
	Dir string
}

var _ Runner = ExecRunner{}

// Limits of what Run keeps of a program's output.
const (
	// MaxStdout bounds the stdout Run returns; the rest is dropped and
	// counted in a CmdError.
	MaxStdout = 16 << 20
	// StderrHead and StderrTail bound the stderr a CmdError keeps: its
	// first and last bytes, with the count of those left out between.
	StderrHead = 1 << 10
	StderrTail = 3 << 10
)

// waitDelay is how long Run waits for a killed program's output to close.
const waitDelay = 2 * time.Second

// Run runs name with args (see Runner). When ctx ends the program is
// killed and Run returns an error wrapping ctx's.
func (r ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = r.Dir
	cmd.WaitDelay = waitDelay
	stdout := &capWriter{max: MaxStdout}
	stderr := &prefixSuffix{head: StderrHead, tail: StderrTail}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err := cmd.Run()
	if err == nil && stdout.dropped == 0 {
		return stdout.buf.Bytes(), nil
	}
	ce := &CmdError{Name: name, Args: args, ExitCode: -1, Stderr: stderr.String(), Err: err}
	var exitErr *exec.ExitError
	switch {
	case ctx.Err() != nil:
		ce.Err = fmt.Errorf("%w (%w)", ctx.Err(), err)
	case errors.As(err, &exitErr):
		ce.ExitCode = exitErr.ExitCode()
	case err == nil:
		ce.Err = fmt.Errorf("stdout longer than %d bytes (%d more dropped)", MaxStdout, stdout.dropped)
	}
	return stdout.buf.Bytes(), ce
}

// CmdError is a program that failed: it could not start (Err says why,
// ExitCode is -1) or exited non-zero.
type CmdError struct {
	Name string
	Args []string
	// ExitCode is the exit status; -1 if the program did not exit normally.
	ExitCode int
	// Stderr is the program's stderr: all of it, or its first StderrHead
	// and last StderrTail bytes with "… omitting N bytes …" between.
	Stderr string
	// Err is the cause: *exec.ExitError, exec.ErrNotFound, a path error,
	// or the context's error.
	Err error
}

// Error names the command, how it ended and the last line of its stderr.
func (e *CmdError) Error() string {
	var b strings.Builder
	b.WriteString(e.CommandLine())
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	if last := lastLine(e.Stderr); last != "" {
		b.WriteString(": ")
		b.WriteString(last)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *CmdError) Unwrap() error { return e.Err }

// CommandLine is the command as one line, arguments with spaces quoted.
func (e *CmdError) CommandLine() string { return CommandLine(e.Name, e.Args...) }

// CommandLine writes a command as one line for messages, quoting
// arguments that hold spaces or quotes. It is never run by a shell.
func CommandLine(name string, args ...string) string {
	parts := make([]string, 0, 1+len(args))
	for _, a := range append([]string{name}, args...) {
		if a == "" || strings.ContainsAny(a, " \t\n\"'") {
			a = fmt.Sprintf("%q", a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// NotInstalled reports whether err says the program does not exist (not on
// PATH, or no file at its path).
func NotInstalled(err error) bool {
	return errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist)
}

func lastLine(s string) string {
	s = strings.TrimRight(s, "\n ")
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}

// capWriter keeps the first max bytes and counts the rest.
type capWriter struct {
	buf     bytes.Buffer
	max     int
	dropped int
}

func (w *capWriter) Write(p []byte) (int, error) {
	n := len(p)
	if room := max(w.max-w.buf.Len(), 0); room < n {
		w.dropped += n - room
		p = p[:room]
	}
	w.buf.Write(p)
	return n, nil
}

// prefixSuffix keeps the first head and the last tail bytes written, as
// os/exec does for (*Cmd).Output's error.
type prefixSuffix struct {
	head, tail int
	prefix     []byte
	suffix     []byte // ring: the last tail bytes, rotated at offset
	offset     int
	skipped    int64
}

func (w *prefixSuffix) Write(p []byte) (int, error) {
	n := len(p)
	if room := w.head - len(w.prefix); room > 0 {
		take := min(room, len(p))
		w.prefix = append(w.prefix, p[:take]...)
		p = p[take:]
	}
	for len(p) > 0 {
		if len(w.suffix) < w.tail {
			take := min(w.tail-len(w.suffix), len(p))
			w.suffix = append(w.suffix, p[:take]...)
			p = p[take:]
			continue
		}
		// Overwrite the oldest byte of the full ring.
		take := min(len(p), w.tail-w.offset)
		w.skipped += int64(take)
		copy(w.suffix[w.offset:], p[:take])
		p = p[take:]
		w.offset = (w.offset + take) % w.tail
	}
	return n, nil
}

func (w *prefixSuffix) String() string {
	if w.skipped == 0 {
		return string(w.prefix) + string(w.suffix)
	}
	var b strings.Builder
	b.Write(w.prefix)
	fmt.Fprintf(&b, "\n… omitting %d bytes …\n", w.skipped)
	b.Write(w.suffix[w.offset:])
	b.Write(w.suffix[:w.offset])
	return b.String()
}
