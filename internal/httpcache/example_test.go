package httpcache_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/sailcdn/sailcdn/internal/httpcache"
)

// The edge builds the origin request and the key, and hands both to the cache with the
// distribution's policy; the cache answers from storage when it can.
func Example() {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "hello")
	}))
	defer origin.Close()

	cache := httpcache.New(httpcache.Config{MaxBytes: 64 << 20})
	transport := &http.Transport{DisableCompression: true, ResponseHeaderTimeout: 30 * time.Second}
	fetch := func(ctx context.Context, req *http.Request) (*http.Response, error) {
		return transport.RoundTrip(req.WithContext(ctx))
	}
	policy := httpcache.Policy{DefaultTTL: 24 * time.Hour, MaxTTL: 365 * 24 * time.Hour, CachedMethods: []string{"GET", "HEAD"}}

	for range 2 {
		out, _ := http.NewRequest(http.MethodGet, origin.URL+"/index.html", nil)
		rec := httptest.NewRecorder()
		res, err := cache.Serve(rec, &httpcache.Request{Out: out, Namespace: "dist-1", Key: "example.com/index.html", Policy: policy}, fetch)
		fmt.Println(res.Status, rec.Header().Get("X-Cache"), rec.Body.String(), err)
	}
	cache.Purge("dist-1")
	fmt.Println(cache.Stats().Entries)
	// Output:
	// Miss Miss from sailcdn hello <nil>
	// Hit Hit from sailcdn hello <nil>
	// 0
}
