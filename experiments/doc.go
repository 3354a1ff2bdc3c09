// Package experiments runs experiments: Execute runs one run (a workload
// on one target with one platform configuration) into its run directory,
// for `trenv-bench run`; each paper figure's experiment matrix and the
// runner behind `trenv-bench reproduce` build on it.
//
// It may import workloads, replay, sim, baselines, results and plots.
package experiments
