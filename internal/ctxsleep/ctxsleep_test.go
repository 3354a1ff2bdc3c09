package ctxsleep

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSleep(t *testing.T) {
	ctx := context.Background()
	if err := Sleep(ctx, time.Millisecond); err != nil {
		t.Errorf("Sleep 1 ms: %v", err)
	}
	if err := Sleep(ctx, 0); err != nil {
		t.Errorf("Sleep 0: %v", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := Sleep(cancelled, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep on a cancelled context: %v, want context.Canceled", err)
	}
	if err := Sleep(cancelled, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep 0 on a cancelled context: %v, want context.Canceled", err)
	}
}
