//go:build !linux

package replay

// raiseOpenFiles does nothing outside Linux (Go raises the soft limit at
// start-up on most Unix systems anyway); 0 means the limit is unknown.
func raiseOpenFiles() uint64 { return 0 }
