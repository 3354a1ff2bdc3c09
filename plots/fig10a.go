package plots

const needsFig10a = `runs of workload "1" (W1), e.g. trenv-bench run -w 1 --method trenv --mem 64 (baselines: --mem 64 --gc 2)`

// Fig10a is the paper's Figure 10(a): W1 (workload "1"), bursts that recur
// more slowly than the baselines' keep-alive. Top left: P50 end-to-end
// latency per function, one bar per system (y: ms, log scale); bottom
// left: P99, same axes; right: the CDF of all functions' latencies pooled,
// one line per system (x: ms, log scale; y: fraction of requests).
func Fig10a(runs []*Run) (*Figure, error) {
	return latencyFigure("fig10a", "Figure 10(a): W1, end-to-end latency per function", "1", needsFig10a, runs)
}
