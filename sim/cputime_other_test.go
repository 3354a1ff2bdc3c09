//go:build !unix

package sim

import "time"

// processCPU is unknown here.
func processCPU() (time.Duration, bool) { return 0, false }
