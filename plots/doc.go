// Package plots draws the TrEnv paper's evaluation figures from run
// directories, on gonum/plot: one file per figure, shared styling in
// style.go.
//
// A figure is built from runs (LoadRuns reads their manifests; records are
// read when a figure first needs them) and returned as a *Figure: one or
// more *plot.Plot panels laid out on one page, a shared legend of systems,
// a "SIMULATED (platform model)" mark when any run came from the simulator
// or the twin, a "SYNTHETIC SAMPLE (invented content)" mark when any run
// replayed invented trace data, and a footer that says where the data came
// from (per workload: the dataset's files and digests, the synthetic
// sample, or the generator's seed; then the runs' target, calibration
// digest and tool). Building never writes anything; Render writes a figure
// as PNG, SVG or PDF to any io.Writer.
//
//	runs, _ := plots.LoadRuns(dirs)
//	fig, _ := plots.Build("fig10a", runs) // or plots.Fig10a(runs)
//	for _, s := range fig.Missing { log.Printf("no run for %s", s) }
//	plots.Render(w, fig, "png", 0, 0) // the figure's own size
//
// The figures (Figures lists them, in this order):
//
//	fig10a  W1 (workload "1"): P50/P99 end-to-end latency per function, latency CDF
//	fig10b  W2 (workload "2"): the same
//	fig11a  peak memory of each system under W1, W2, Azure and Huawei
//	fig11b  peak memory of 50 instances of image-recognition / image-flip-rotate
//	fig12   startup vs execution latency per function (workload "func")
//	fig13   Huawei and Azure traces: P50 and P99 per function
//	fig14   start-path optimisation steps of image-recognition and json-serde
//	        (workloads "steps-…"; the platform model only: it restates the calibration)
//	fig15   memory over time on the Azure trace
//
// A system (T-CXL, T-RDMA, faasd, CRIU, Lazy, FaaSnap+, REAP+, and Figure
// 14's model variants Reconfig and Cgroup) is told by a run's manifest:
// method, pool and model variant. When several runs fit one system and
// figure, the latest complete one is drawn and Figure.Notes says so; a
// system without a run is left out and listed in Figure.Missing.
//
// Latencies are the client's e2e_ms of the test phase's ok requests
// (requests.csv); percentiles are nearest-rank (results.Percentile).
// Memory is reported in GiB (2^30 bytes).
//
// It imports results (and gonum/plot); nothing else of trenv-bench.
package plots
