// Package replay is the open-loop replayer: it sends a workload's requests
// to faasd (or the twin) at their scheduled times, as upstream's
// faasd-testdriver does, and records each one.
//
//   - Gateway is the client of faasd provider's HTTP API: /healthz,
//     /system/register, /system/metrics (GET, DELETE), /invoke/<function>.
//   - Run replays a workload: warmup phase, metrics snapshot and reset, test
//     phase, metrics snapshot. It separates when from how, as vegeta's
//     Pacer and Attacker do: every send time comes from
//     workloads.NewSchedule (so the simulator and the replayer share
//     schedules for a seed), computed a second at a time just ahead of the
//     dispatcher; one scheduler goroutine waits for each and
//     starts the request in its own goroutine with no concurrency cap, and
//     the Target (a Gateway) does the HTTP.
//   - Every request yields one results.Request record through
//     Config.OnRecord, with its scheduled, sent and done times, so dispatch
//     lateness and retries are never hidden (total_ms is measured from the
//     intended send time); upstream's test.log lines come as LogEvent values
//     through Config.OnEvent.
//
// A record of a request that needed two attempts, then of one unanswered at
// the phase deadline (times in seconds since the phase started):
//
//	{Phase: "test", Function: "pyaes", ScheduledS: 0.417, SentS: 0.4172, DoneS: 1.0089,
//	 E2EMs: 91.2, TotalMs: 591.9, FuncMs: 41.2, Attempts: 2, Status: "ok", StartKind: "reuse"}
//	{Phase: "test", Function: "pyaes", ScheduledS: 9.8, SentS: 9.8003, DoneS: NaN, …,
//	 Attempts: 1, Status: "abandoned", Error: "phase deadline passed"}
//
// Cancellation is a parameter: Run's context. Time can be compressed
// (Config.Speed) against a target that is compressed as well (the twin).
//
// It may import workloads and results.
package replay
