package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// Streams are a command's standard streams and what is known about them.
type Streams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// ProgressOK enables progress bars: stderr is a terminal. They are
	// drawn on ErrOut.
	ProgressOK bool
}

// SystemStreams returns the process's streams.
func SystemStreams() *Streams {
	return &Streams{
		In:         os.Stdin,
		Out:        os.Stdout,
		ErrOut:     os.Stderr,
		ProgressOK: isatty.IsTerminal(os.Stderr.Fd()) && os.Getenv("CI") == "",
	}
}
