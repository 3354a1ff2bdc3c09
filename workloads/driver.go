package workloads

import "time"

// The upstream driver's client policy (faasd-testdriver test_driver.py and
// config.yml; spec/upstream-tooling.md §3.3–3.6): one place for the
// replayer and the simulator's model of the client.
const (
	// DriverAttemptTimeout bounds one attempt (config.yml timeout: 60).
	DriverAttemptTimeout = 60 * time.Second
	// DriverMaxRetries is how many times a failed attempt is retried
	// (max_retry: 3): at most 4 attempts.
	DriverMaxRetries = 3
	// DriverBackoffBase is the wait before retry k: DriverBackoffBase × 2^k,
	// i.e. 0.5, 1 and 2 s.
	DriverBackoffBase = 500 * time.Millisecond
	// DriverPhaseDeadlineFactor × a phase's length, truncated to whole
	// seconds, is when the driver stops waiting for the phase's requests
	// (gevent.joinall(timeout=int(len × 1.2))).
	DriverPhaseDeadlineFactor = 1.2
)
