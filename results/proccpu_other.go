//go:build !unix

package results

import "time"

// ProcessCPU returns the CPU time this process has used so far; here it
// cannot be read, so it returns false.
func ProcessCPU() (time.Duration, bool) { return 0, false }
