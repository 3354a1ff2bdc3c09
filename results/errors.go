package results

import (
	"errors"
	"fmt"
	"trenv-bench/internal/fileerr"
)

// Sentinel errors, wrapped by *ParseError (readers) or returned wrapped by the
// writers; test for them with errors.Is.
var (
	// ErrHeader means the first line is not the expected header: the CSV
	// header of Columns or MemoryColumns, or "Metrics:".
	ErrHeader = errors.New("results: unexpected header")
	// ErrFieldCount means a CSV row has more or fewer fields than its
	// header; a file cut short by a crash ends with such a row.
	ErrFieldCount = errors.New("results: wrong number of fields")
	// ErrSyntax means input that is not valid CSV or JSON.
	ErrSyntax = errors.New("results: syntax error")
	// ErrMissing means a value that is required is absent (an empty cell).
	ErrMissing = errors.New("results: missing value")
	// ErrBadValue means a value is not valid for its column or metric: not
	// a finite number, a negative count, an unknown status, a name holding a
	// line break, data of the wrong shape.
	ErrBadValue = errors.New("results: bad value")
	// ErrUnknownMetric means a faasd metric label that faasd does not
	// register, or a label used with the wrong kind of metric.
	ErrUnknownMetric = errors.New("results: unknown metric")
	// ErrDuplicateMetric means a faasd metric that appears twice.
	ErrDuplicateMetric = errors.New("results: metric appears twice")
	// ErrMissingMetric means a faasd metrics dump that lacks one of its 18
	// objects (the 17 registered metrics and peak-mem).
	ErrMissingMetric = errors.New("results: metric missing")
)

// ParseError reports bad input at a place in a file. Column is the CSV
// column name (a member of Columns or MemoryColumns) or, in a metrics file,
// the metric label. Err wraps one of the Err* sentinels, or is the error of
// the underlying io.Reader.
type ParseError = fileerr.Error

// maxQuoted bounds how much of a bad cell an error message repeats, in bytes.
const maxQuoted = 64

// quoteCell quotes s for an error message, shortened to maxQuoted bytes.
func quoteCell(s string) string {
	if len(s) > maxQuoted {
		return fmt.Sprintf("%q…", s[:maxQuoted])
	}
	return fmt.Sprintf("%q", s)
}
