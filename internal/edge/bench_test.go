package edge

import (
	"io"
	"net/http"
	"testing"
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
