package replay

import "syscall"

// raiseOpenFiles raises the soft limit on open files to the hard limit, so
// a burst can open a connection per request in flight, and returns the soft
// limit it ends with (0 if unknown). Errors are ignored: the run goes on
// with the limit it has.
func raiseOpenFiles() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < lim.Max {
		want := lim
		want.Cur = want.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err == nil {
			lim = want
		}
	}
	return lim.Cur
}
