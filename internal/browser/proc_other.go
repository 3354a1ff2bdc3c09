//go:build !unix

package browser

import "os/exec"

// ownGroup does nothing here: cancelling kills the browser process only.
func ownGroup(*exec.Cmd) {}
