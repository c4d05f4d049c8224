package control_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/sailtest"
)

// benchmarkSigned serves one signed request (signed once, replayed: the server verifies every copy in
// full) through the assembled API handler, without the network: what sailcdn itself spends per
// request. bench/api-vs-nethttp.sh measures the same requests over sockets, side by side with a bare
// net/http server.
func benchmarkSigned(b *testing.B, op string, body string) {
	e := sailtest.New(b)
	e.AddOrigin("web-1", "http://127.0.0.1:9", "Instance", "us-east-1")
	c := e.Client(sailtest.Dev, "us-east-1")
	mustCreate(b, c, "bench")
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4580/", nil)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Lightsail_20161128."+op)
	sailtest.Sign(b, req, []byte(body), sailtest.Dev, "us-east-1", time.Now())
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		r := req.Clone(req.Context())
		r.Body = nopCloser{bytes.NewReader([]byte(body))}
		clear(w.h)
		w.status = 0
		e.App.API.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
	// CPU time per request, which other load on the machine does not inflate as it does ns/op.
	b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
}

// processCPU is the CPU time (user + system) the process has used, in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func BenchmarkSignedGetDistributions(b *testing.B) {
	benchmarkSigned(b, "GetDistributions", `{"distributionName": "bench"}`)
}

func BenchmarkSignedUpdateDistribution(b *testing.B) {
	benchmarkSigned(b, "UpdateDistribution", `{"distributionName": "bench", "isEnabled": true}`)
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// discardWriter is the cheapest ResponseWriter: the benchmark measures the handler, not a recorder.
type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return len(p), nil
}
