// Package ctxsleep waits for a duration or until a context ends.
package ctxsleep

import (
	"context"
	"time"
)

// Sleep waits for d, or until ctx ends: it returns nil when d passed and
// ctx's error when ctx ended first (at once when ctx has already ended or
// d ≤ 0 with ctx ended; d ≤ 0 with ctx live returns nil at once).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
