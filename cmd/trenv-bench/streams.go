package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"golang.org/x/term"
)

// Streams are a command's standard streams and what is known about them.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// ProgressOK enables progress bars: stderr is a terminal. They are
	// drawn on ErrOut.
	ProgressOK bool
	// Columns is the width of the terminal behind ErrOut, read when the
	// streams were made; 0 means unknown (bars then assume DefaultColumns).
	Columns int
}

// DefaultColumns is the terminal width progress bars assume when it is unknown.
const DefaultColumns = 80

// SystemStreams returns the process's streams.
func SystemStreams() *Streams {
	s := &Streams{
		In:         os.Stdin,
		Out:        os.Stdout,
		ErrOut:     os.Stderr,
		ProgressOK: isatty.IsTerminal(os.Stderr.Fd()) && os.Getenv("CI") == "",
	}
	if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil {
		s.Columns = w
	}
	return s
}
