//go:build !linux

package h1

import (
	"io"
	"net"
)

// newIO returns the reader and writer of nc: nc itself here (raw system
// calls are used on Linux only).
func newIO(nc net.Conn) (io.Reader, io.Writer) { return nc, nc }

// peerQuiet cannot peek here: a connection is taken as quiet, and a request
// sent on one the server closed fails as it would with net/http.
func peerQuiet(net.Conn) bool { return true }
