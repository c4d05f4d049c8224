package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCacheHit measures a cache hit through the whole edge over loopback HTTP/1.1 keep-alive,
// with and without metering (the metering on/off comparison).
func BenchmarkCacheHit(b *testing.B) {
	for _, bc := range []struct {
		name  string
		meter bool
	}{{"metering", true}, {"no-metering", false}} {
		b.Run(bc.name, func(b *testing.B) {
			var opts []harnessOption
			if !bc.meter {
				opts = append(opts, func(c *Config) { c.Meter = nil })
			}
			h := newHarness(b, opts...)
			h.origin("web", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=3600")
				w.Write(make([]byte, 4096))
			})
			h.distribution("site", "web", nil)
			h.get("site.cdn.test", "/obj")
			req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/obj", nil)
			req.Host = "site.cdn.test"
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := h.client.Do(req)
					if err != nil {
						b.Fatal(err)
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Fatalf("status %d", resp.StatusCode)
					}
				}
			})
		})
	}
}

// BenchmarkCacheHitCPU measures the process CPU time (user + system, client included) per 1 KiB
// hit over raw keep-alive connections (the fast path). CPU time rather than wall time: on a
// machine shared with other work, it moves far less than throughput does, so two builds can be
// compared run against run (docs/benchmarks.md, issue 9).
func BenchmarkCacheHitCPU(b *testing.B) {
	for _, size := range []int{1 << 10, 1 << 20} {
		for _, metered := range []bool{true, false} {
			b.Run(fmt.Sprintf("%dKiB/metering=%v", size>>10, metered), func(b *testing.B) { benchmarkHitCPU(b, size, metered) })
		}
	}
}

func benchmarkHitCPU(b *testing.B, size int, metered bool) {
	var opts []harnessOption
	if !metered {
		opts = append(opts, func(c *Config) { c.Meter = nil })
	}
	h := newHarness(b, opts...)
	h.origin("web", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Write(make([]byte, size))
	})
	h.distribution("site", "web", nil)
	h.get("site.cdn.test", "/obj")
	h.get("site.cdn.test", "/obj")
	req := []byte("GET /obj HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
	cpu := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		c, err := net.Dial("tcp", h.srv.Listener.Addr().String())
		if err != nil {
			b.Error(err)
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for pb.Next() {
			if _, err := c.Write(req); err != nil {
				b.Error(err)
				return
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64((cpu()-start).Nanoseconds())/float64(b.N)/1000, "cpu-µs/op")
}
