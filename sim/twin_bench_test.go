package sim

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkTwinInvoke measures the twin's own cost per invocation: a twin
// on a loopback listener with next to no modelled delay, hammered by
// parallel clients over keep-alive connections. It reports invocations per
// second.
//
// The speed is 1e4: the longest invocation here (≈ 340 ms of model time)
// sleeps 34 µs. A far larger speed does not work: the twin's own
// scheduling delays count as model time too, and at 1e5 on a busy 2-core
// machine a goroutine that waits 0.55 ms for the CPU has waited faasd's
// 55 s ServerDeadline, so invocations fail with 500 (at 1e9 the deadline
// is 55 ns). At 1e4 the deadline is 5.5 ms of wall time.
func BenchmarkTwinInvoke(b *testing.B) {
	// TrEnv with its default seeds: the first invocations switch, the rest
	// reuse — the steady state of a warm benchmark.
	_, srv := twNew(b, DefaultConfig(MethodTrEnv), 100, "dynamic-html", "dynamic-html_1", "dynamic-html_2", "h-hello-world")
	fns := []string{"dynamic-html", "dynamic-html_1", "dynamic-html_2", "h-hello-world"}
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.SetParallelism(16) // 16 × GOMAXPROCS clients, as a burst would have
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			resp, err := client.Post(srv.URL+"/invoke/"+fns[i%len(fns)], "application/json", strings.NewReader(`{"n":1}`))
			if err != nil {
				b.Error(err)
				return
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Errorf("status %d %q, %v", resp.StatusCode, body, err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inv/s")
}
