package main

import (
	"trenv-bench/replay"
	"trenv-bench/workloads"
)

// checkSpeed checks a --speed flag (run, reproduce, sim serve): more than
// 0 and at most replay.MaxSpeed, so NaN and +Inf are refused.
func checkSpeed(speed float64) error {
	if !(speed > 0) || speed > replay.MaxSpeed {
		return flagErrorf("--speed %v: expected a number more than 0 and at most %v", speed, replay.MaxSpeed)
	}
	return nil
}

// checkIter checks an --iter flag (gen, run): 1 to workloads.MaxIter.
func checkIter(iter int) error {
	if iter < 1 || iter > workloads.MaxIter {
		return flagErrorf("--iter %d: expected 1 to %d", iter, workloads.MaxIter)
	}
	return nil
}
