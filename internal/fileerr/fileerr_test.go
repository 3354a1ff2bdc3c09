package fileerr

import (
	"errors"
	"io"
	"testing"
)

func TestError(t *testing.T) {
	for _, tc := range []struct {
		err  Error
		want string
	}{
		{Error{Path: "a.csv", Line: 3, Column: "e2e_ms", Err: io.ErrUnexpectedEOF}, `a.csv:3: column "e2e_ms": unexpected EOF`},
		{Error{Path: "a.csv", Err: io.ErrUnexpectedEOF}, `a.csv: unexpected EOF`},
		{Error{Line: 2, Err: io.ErrUnexpectedEOF}, `:2: unexpected EOF`},
		{Error{Column: "x", Err: io.ErrUnexpectedEOF}, `column "x": unexpected EOF`},
		{Error{Err: io.ErrUnexpectedEOF}, `unexpected EOF`},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.err, got, tc.want)
		}
		if !errors.Is(&tc.err, io.ErrUnexpectedEOF) {
			t.Errorf("%+v does not unwrap to its cause", tc.err)
		}
	}
}
