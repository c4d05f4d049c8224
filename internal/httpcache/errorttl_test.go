package httpcache

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// Error lifetimes are policy, not header rewriting: the viewer sees the origin's Cache-Control as
// the origin sent it, while the cache keeps the error for ErrorTTL (errors without freshness of
// their own) or the status's ErrorTTLs entry (whatever the origin said).
func TestErrorLifetimesArePolicy(t *testing.T) {
	cases := []struct {
		name      string
		status    int
		cc        string
		policy    Policy
		at        time.Duration // when the second request comes
		wantCache string        // X-Cache of the second response
	}{
		{"bare 404 kept for ErrorTTL", 404, "", Policy{DefaultTTL: 24 * time.Hour, ErrorTTL: 10 * time.Second}, 9 * time.Second, "Hit"},
		{"bare 404 gone after ErrorTTL, not the default TTL", 404, "", Policy{DefaultTTL: 24 * time.Hour, ErrorTTL: 10 * time.Second}, 11 * time.Second, "Error"},
		{"503 kept for ErrorTTL", 503, "", Policy{ErrorTTL: 10 * time.Second}, 5 * time.Second, "Hit"},
		{"403 without freshness not stored (CloudFront caches it only with max-age)", 403, "", Policy{ErrorTTL: 10 * time.Second}, time.Second, "Error"},
		{"403 with max-age stored", 403, "max-age=60", Policy{ErrorTTL: 10 * time.Second}, 30 * time.Second, "Hit"},
		{"599 without freshness not stored", 599, "", Policy{ErrorTTL: 10 * time.Second}, time.Second, "Error"},
		{"599 marked public kept for ErrorTTL", 599, "public", Policy{ErrorTTL: 10 * time.Second, DefaultTTL: time.Hour}, 9 * time.Second, "Hit"},
		{"410 kept for ErrorTTL", 410, "", Policy{ErrorTTL: 10 * time.Second}, 9 * time.Second, "Hit"},
		{"origin's own max-age wins over ErrorTTL", 404, "max-age=60", Policy{ErrorTTL: 10 * time.Second}, 30 * time.Second, "Hit"},
		{"no-store respected without a forced TTL", 404, "no-store", Policy{ErrorTTL: 10 * time.Second}, time.Second, "Error"},
		{"forced TTL overrides no-store", 404, "no-store", Policy{ErrorTTLs: map[int]time.Duration{404: time.Minute}}, 50 * time.Second, "Hit"},
		{"forced TTL overrides a longer max-age", 500, "max-age=3600", Policy{ErrorTTLs: map[int]time.Duration{500: 5 * time.Second}}, 6 * time.Second, "Error"},
		{"MaxTTL still clamps a forced TTL", 404, "", Policy{MaxTTL: 2 * time.Second, ErrorTTLs: map[int]time.Duration{404: time.Minute}}, 3 * time.Second, "Error"},
		// Issue 9, defect 2: errors that blame the request are never shared, whatever the origin
		// or the operator said, and MinTTL never stretches an error.
		{"400 never stored, even with freshness and a forced TTL", 400, "max-age=600", Policy{ErrorTTL: 10 * time.Second, ErrorTTLs: map[int]time.Duration{400: time.Minute}}, time.Second, "Error"},
		{"413 never stored", 413, "", Policy{ErrorTTL: 10 * time.Second}, time.Second, "Error"},
		{"414 never stored", 414, "public, max-age=600", Policy{ErrorTTL: 10 * time.Second}, time.Second, "Error"},
		{"431 never stored", 431, "", Policy{ErrorTTL: 10 * time.Second, MinTTL: time.Hour}, time.Second, "Error"},
		{"429 never stored", 429, "max-age=60", Policy{ErrorTTL: 10 * time.Second}, time.Second, "Error"},
		{"MinTTL does not stretch an error's own max-age", 404, "max-age=5", Policy{MinTTL: time.Minute, ErrorTTL: 10 * time.Second}, 6 * time.Second, "Error"},
		{"an error's own max-age is kept to the second", 404, "max-age=5", Policy{MinTTL: time.Minute, ErrorTTL: 10 * time.Second}, 4 * time.Second, "Hit"},
		{"MinTTL does not stretch ErrorTTL", 503, "", Policy{MinTTL: time.Minute, ErrorTTL: 10 * time.Second}, 11 * time.Second, "Error"},
		{"MinTTL does not override an error's no-store", 503, "no-store", Policy{MinTTL: time.Minute, ErrorTTL: 10 * time.Second}, time.Second, "Error"},
		{"MinTTL does not override an error's private", 404, "private", Policy{MinTTL: time.Minute, ErrorTTL: 10 * time.Second}, time.Second, "Error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
			origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Date", now.Format(http.TimeFormat))
				if tc.cc != "" {
					w.Header().Set("Cache-Control", tc.cc)
				}
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte("error page"))
			}))
			defer origin.Close()
			c := New(Config{Now: func() time.Time { return now }})
			fetch := func(ctx context.Context, req *http.Request) (*http.Response, error) {
				return http.DefaultTransport.RoundTrip(req)
			}
			serve := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodGet, origin.URL+"/e", nil)
				req.RequestURI = ""
				rec := httptest.NewRecorder()
				if _, err := c.Serve(rec, &Request{Out: req, Namespace: "d", Key: "e", Policy: tc.policy}, fetch); err != nil {
					t.Fatal(err)
				}
				return rec
			}
			first := serve()
			if got := first.Header().Get("Cache-Control"); got != tc.cc {
				t.Fatalf("viewer saw Cache-Control %q, the origin sent %q", got, tc.cc)
			}
			now = now.Add(tc.at)
			second := serve()
			if got := second.Header().Get("X-Cache"); got != tc.wantCache+" from sailcdn" {
				t.Fatalf("second response: X-Cache %q, want %s", got, tc.wantCache)
			}
		})
	}
}
