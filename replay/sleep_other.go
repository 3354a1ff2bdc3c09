//go:build !linux

package replay

import (
	"sync/atomic"
	"time"
)

// alarm is a precise wake-up where the kernel gives one (sleep_linux.go);
// here there is none and the dispatcher uses Go timers.
type alarm struct{}

func newAlarm(time.Time) *alarm                 { return nil }
func (*alarm) wait(time.Duration, *atomic.Bool) {}
func (*alarm) ring()                            {}
func (*alarm) close()                           {}
