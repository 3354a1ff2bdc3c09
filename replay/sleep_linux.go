package replay

import (
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// alarm wakes the dispatcher at a send time: a timerfd (CLOCK_MONOTONIC, the
// clock of time.Since) read through the runtime's network poller. While it
// waits the dispatcher holds no processor and no thread sleeps on its
// behalf, so an idle replayer is idle (no nanosleep or spin keeping a
// processor busy, which also keeps the runtime's sysmon thread polling every
// 20 µs), and the kernel's high-resolution timer wakes it within
// microseconds of its time, where a Go timer waits in the poller's whole
// milliseconds.
//
// Its system calls are raw (syscall.RawSyscall, timerfd_settime and read of
// a non-blocking fd return at once): the runtime's entersyscall would wake
// its sysmon thread, which then polls every 20 µs until the process is idle
// again.
type alarm struct {
	f      *os.File
	rc     syscall.RawConn
	fd     int
	origin int64 // CLOCK_MONOTONIC ns at the phase's start
}

// newAlarm returns an alarm whose times are durations since start, or nil
// if the kernel gives no timerfd (the dispatcher then uses Go timers).
func newAlarm(start time.Time) *alarm {
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return nil
	}
	var now unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &now); err != nil {
		unix.Close(fd)
		return nil
	}
	f := os.NewFile(uintptr(fd), "timerfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil
	}
	return &alarm{f: f, rc: rc, fd: fd, origin: now.Nano() - int64(time.Since(start))}
}

// wait blocks until due (since the start) or until ring; it returns at once
// if stopping is set. The caller checks the clock again: wait may return
// early.
func (a *alarm) wait(due time.Duration, stopping *atomic.Bool) {
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(a.origin + int64(due))}
	if a.settime(unix.TFD_TIMER_ABSTIME, &spec) != 0 {
		time.Sleep(time.Millisecond) // cannot happen with a valid fd; do not spin
		return
	}
	// ring stores stopping before it fires the timer: either it fired
	// after the Settime above, and Read returns at once, or stopping is
	// seen here.
	if stopping.Load() {
		return
	}
	var b [8]byte // the expiration count
	a.rc.Read(func(fd uintptr) bool {
		_, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&b[0])), 8)
		return e != syscall.EAGAIN // else wait in the poller; on any other error the caller looks again
	})
}

// settime is timerfd_settime(2) as a raw system call.
func (a *alarm) settime(flags int, spec *unix.ItimerSpec) syscall.Errno {
	_, _, e := syscall.RawSyscall6(unix.SYS_TIMERFD_SETTIME, uintptr(a.fd), uintptr(flags),
		uintptr(unsafe.Pointer(spec)), 0, 0, 0)
	return e
}

// ring wakes a wait now (from any goroutine); the caller has set stopping.
func (a *alarm) ring() {
	spec := unix.ItimerSpec{Value: unix.Timespec{Nsec: 1}} // relative: 1 ns from now
	a.settime(0, &spec)
}

// close releases the timerfd; no wait may be running.
func (a *alarm) close() { a.f.Close() }
