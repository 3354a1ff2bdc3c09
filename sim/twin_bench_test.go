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
// "No modelled delay" comes from short functions rather than a huge speed:
// the twin's own delays count as model time too (since the request
// arrived), so at speed S a goroutine that waits 55 s / S for a CPU or the
// platform's lock has hit faasd's 55 s ServerDeadline and fails with 500.
// At 1e9 that is 55 ns; on this 2-core machine, shared with other
// processes, even 1e3 (55 ms) failed now and then. At speed 100 the
// deadline is 0.55 s of wall time, and the four functions here — the
// 1 ms dynamic-html family and hello-world, ≈ 2 ms on T-CXL — sleep
// ≈ 20 µs each, about what the HTTP round trip costs.
func BenchmarkTwinInvoke(b *testing.B) {
	// TrEnv with its default seeds: the first invocations switch, the rest
	// reuse — the steady state of a warm platform.
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
