// Package sim is the platform model of TrEnv's faasd fork: its policies
// (baseline and TrEnv), a cost model (sim/calibration), a discrete-event
// engine that runs a workload in virtual time, and the twin, an HTTP server
// that serves the same model behind faasd's provider API in real time.
//
// The policies are the fork's (switch-container/faasd: reuse, global-LRU
// eviction, repurposing; see sim/README.md), not inventions: Platform implements them on
// abstract time, and Engine and Twin only drive it — as etcd's raft keeps
// its RawNode free of clocks and goroutines.
//
// It may import workloads, results and sim/calibration.
package sim
