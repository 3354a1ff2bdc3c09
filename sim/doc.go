// Package sim is the platform model of TrEnv's faasd fork: its policies
// (baseline and TrEnv), a cost model (sim/calibration), a discrete-event
// engine that runs a workload in virtual time, and the twin, an HTTP server
// that serves the same model behind faasd's provider API in real time.
//
// The policies are the fork's (shared/spec/trenv-stack.md §2.7,
// shared/spec/paper.md §1.7), not inventions: Platform implements them on
// abstract time, and Engine and Twin only drive it — as etcd's raft keeps
// its RawNode free of clocks and goroutines.
//
// It may import workloads, results and sim/calibration.
package sim
