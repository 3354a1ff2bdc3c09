// Command trenv-bench is the benchmark harness and workload generator for
// TrEnv (SOSP '24): it generates upstream-identical workloads, and (in later
// versions) replays them, models the platform and draws the paper's figures.
//
// This package only wires: flags, streams, progress bars and exit codes.
package main

import (
	"os"
)

func main() {
	os.Exit(int(Main(os.Args[1:], SystemStreams())))
}
