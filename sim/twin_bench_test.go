package sim

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkTwinInvoke measures the twin's own cost per invocation: a twin
// on a loopback listener with no modelled delay (at speed 1e9 a second of
// model time is a nanosecond of wall time), hammered by parallel clients
// over keep-alive connections. It reports invocations per second.
func BenchmarkTwinInvoke(b *testing.B) {
	// TrEnv with its default seeds: the first invocations switch, the rest
	// reuse — the steady state of a warm benchmark.
	_, srv := twNew(b, DefaultConfig(MethodTrEnv), 1e6, "pyaes", "json-serde", "dynamic-html", "crypto")
	fns := []string{"pyaes", "json-serde", "dynamic-html", "crypto"}
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
			if resp.StatusCode != 200 { b.Log(string(body)) }
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Errorf("status %d, %v", resp.StatusCode, err); b.Log(resp.Header)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "inv/s")
}
