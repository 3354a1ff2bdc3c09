package replay

import (
	"syscall"
	"time"
)

// fineSleepOK reports whether fineSleep is precise: on Linux nanosleep
// wakes within the thread's timer slack (50 µs by default) of its time,
// where a Go timer may wake a millisecond late.
const fineSleepOK = true

// fineSleep blocks the calling thread for d with nanosleep. The runtime
// sees a system call: its processor may be handed to other goroutines
// meanwhile.
func fineSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	_ = syscall.Nanosleep(&ts, nil) // EINTR: the caller checks the clock again
}
