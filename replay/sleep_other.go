//go:build !linux

package replay

import "time"

// fineSleepOK is false where no precise sleep is known: the dispatcher then
// spins instead.
const fineSleepOK = false

func fineSleep(d time.Duration) { time.Sleep(d) }
