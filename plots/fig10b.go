package plots

const needsFig10b = `runs of workload "2" (W2), e.g. trenv-bench run -w 2 --method trenv --mem 32 (baselines: --mem 32 --gc 3)`

// Fig10b is the paper's Figure 10(b): W2 (workload "2"), bursts within the
// keep-alive under a tight memory bound. Panels and axes as Fig10a: P50 and
// P99 end-to-end latency per function (y: ms, log scale) and the pooled
// latency CDF (x: ms, log scale).
func Fig10b(runs []*Run) (*Figure, error) {
	return latencyFigure("fig10b", "Figure 10(b): W2, end-to-end latency per function", "2", needsFig10b, runs)
}
