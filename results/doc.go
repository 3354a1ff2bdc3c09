// Package results holds the records of a run directory and their streaming
// writers and readers:
//
//   - requests.csv: one row per request (Request, RequestWriter,
//     RequestReader), columns in the order of Columns;
//   - metrics.output and warmup_metrics.output: faasd's /system/metrics text,
//     byte for byte as faasd serves it (Metrics, ParseMetrics,
//     Metrics.WriteTo), and metrics.json, its parsed form (Metrics.WriteJSON,
//     ParseMetricsJSON);
//   - memory.csv: 1 Hz resident-memory samples (MemoryWriter, MemoryReader);
//   - test.log: the upstream driver's log lines (TestLogWriter, PyFloatRepr);
//   - summary.csv: per phase × function counts and e2e percentiles
//     (Summarize, Summarizer, WriteSummary, ReadSummary; nearest-rank
//     percentiles, see Percentile);
//   - manifest.json: what the run was and how it ended (Manifest,
//     ReadManifest, HostFacts, IsComplete).
//
// RunDir ties them together: CreateRunDir starts a run directory,
// WriteMetrics stores faasd's metrics, Finish writes summary.csv and the
// final manifest.
//
// A requests.csv looks like this (times in seconds since the phase started,
// latencies in milliseconds, an empty cell where a value does not apply):
//
//	phase,function,scheduled_s,sent_s,done_s,e2e_ms,total_ms,func_ms,attempts,status,start_kind,error
//	test,pyaes,0.000000,0.000412,0.053443,53.031,53.443,41.200,1,ok,switch,
//	test,pyaes,0.500000,0.500380,,,,,3,abandoned,,
//
// The package knows nothing of who produced the records: a real host, the
// twin or the simulator write the same files through the same writers.
// Writers validate what they write, so everything they write reads back;
// readers check every cell and report bad input as a *ParseError naming the
// file, line and column, wrapping one of the Err* sentinels (or the
// underlying reader's I/O error).
//
// It may import workloads; it imports only the standard library and
// internal/atomicfile (every whole file is written atomically) for now.
// Summaries use encoding/csv and sorting rather than gota data frames, which
// the module proxy this project reaches does not serve.
package results
