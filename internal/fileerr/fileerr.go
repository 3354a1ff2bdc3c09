// Package fileerr holds the error type that names the place of bad input
// in a file, shared by the dataset readers (traces/) and the run-directory
// readers (results/).
package fileerr

import (
	"fmt"
	"strings"
)

// Error reports bad input at a place in a file.
//
// Path is the name the caller gave the input ("" when none). Line is 1-based
// (a header is line 1); 0 means the whole file. Column names the field (a
// CSV header name, a metric label); "" when the error concerns no single
// one. Err is the cause: a sentinel of the reading package, or the error of
// the underlying reader.
type Error struct {
	Path   string
	Line   int
	Column string
	Err    error
}

// Error formats the error as `path:line: column "name": cause`, leaving out
// the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Column != "" {
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		fmt.Fprintf(&b, "column %q", e.Column)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
