package h1

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawIO reads and writes a socket with raw system calls
// (syscall.RawSyscall through its syscall.RawConn, which waits in the
// network poller while the socket is not ready and keeps its deadlines). A
// read or write of a non-blocking socket returns at once, so it need not
// tell the runtime it enters a system call; the runtime's entersyscall
// would also wake its sysmon thread from its sleep, which then polls every
// 20 µs until the process is idle again: at a few hundred requests a
// second that polling is a tenth of a load generator's CPU.
type rawIO struct {
	rc syscall.RawConn
	nc net.Conn
}

// newIO returns the reader and writer of nc: rawIO for a socket, else nc.
func newIO(nc net.Conn) (io.Reader, io.Writer) {
	if sc, ok := nc.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			r := &rawIO{rc: rc, nc: nc}
			return r, r
		}
	}
	return nc, nc
}

func (r *rawIO) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := r.rc.Read(func(fd uintptr) bool {
		for {
			m, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait in the poller
			}
			n, errno = int(m), e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, r.opError("read", err)
	case errno != 0:
		return 0, r.opError("read", os.NewSyscallError("read", errno))
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (r *rawIO) Write(p []byte) (int, error) {
	n := 0
	var errno syscall.Errno
	err := r.rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			// sendto with MSG_NOSIGNAL: a peer that closed gives EPIPE,
			// not SIGPIPE.
			m, _, e := syscall.RawSyscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&p[n])), uintptr(len(p)-n),
				syscall.MSG_NOSIGNAL, 0, 0)
			switch e {
			case 0:
				n += int(m)
			case syscall.EINTR:
			case syscall.EAGAIN:
				return false // the send buffer is full: wait in the poller
			default:
				errno = e
				return true
			}
		}
		return true
	})
	switch {
	case err != nil:
		return n, r.opError("write", err)
	case errno != 0:
		return n, r.opError("write", os.NewSyscallError("write", errno))
	}
	return n, nil
}

// opError is err as the net package reports a failed read or write:
// "read tcp 127.0.0.1:41234->127.0.0.1:8081: read: connection reset by
// peer", "… i/o timeout".
func (r *rawIO) opError(op string, err error) error {
	if oe, ok := err.(*net.OpError); ok { // RawConn's own, op "raw-read"
		err = oe.Err
	}
	return &net.OpError{Op: op, Net: r.nc.LocalAddr().Network(), Source: r.nc.LocalAddr(), Addr: r.nc.RemoteAddr(), Err: err}
}

// peerQuiet reports whether the peer has neither closed nc nor sent a byte:
// a non-blocking MSG_PEEK of one byte finds nothing to read (EAGAIN). A
// connection without a file descriptor is taken as quiet.
func peerQuiet(nc net.Conn) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return true
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	quiet := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		_, _, e := syscall.RawSyscall6(syscall.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&b[0])), 1,
			syscall.MSG_PEEK|syscall.MSG_DONTWAIT, 0, 0)
		quiet = e == syscall.EAGAIN
		return true // never wait
	})
	return err == nil && quiet
}
