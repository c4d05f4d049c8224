package control_test

import (
	"bytes"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/sailtest"
)

// benchmarkSigned sends one signed request (signed once, replayed: the server verifies every copy in
// full) to a node over loopback, one at a time on one keep-alive connection. cpu-ns/op is the CPU of
// the whole process — the client's side of the request too — per request, which other load on the
// machine inflates less than ns/op. bench/api-vs-nethttp.sh measures the server alone under wrk.
func benchmarkSigned(b *testing.B, op string, body string) {
	e := sailtest.New(b)
	e.AddOrigin("web-1", "http://127.0.0.1:9", "Instance", "us-east-1")
	c := e.Client(sailtest.Dev, "us-east-1")
	mustCreate(b, c, "bench")
	signed, err := http.NewRequest(http.MethodPost, e.API.URL+"/", nil)
	if err != nil {
		b.Fatal(err)
	}
	signed.Header.Set("Content-Type", "application/x-amz-json-1.1")
	signed.Header.Set("X-Amz-Target", "Lightsail_20161128."+op)
	sailtest.Sign(b, signed, []byte(body), sailtest.Dev, "us-east-1", time.Now())
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, signed.URL.String(), bytes.NewReader([]byte(body)))
		req.Header = signed.Header
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

func BenchmarkSignedGetDistributions(b *testing.B) {
	benchmarkSigned(b, "GetDistributions", `{"distributionName": "bench"}`)
}

func BenchmarkSignedUpdateDistribution(b *testing.B) {
	benchmarkSigned(b, "UpdateDistribution", `{"distributionName": "bench", "isEnabled": true}`)
}

// processCPU is the CPU time (user + system) the process has used, in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
