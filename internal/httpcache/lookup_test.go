package httpcache

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"
)

// TestLookupAgreesWithServe: for each situation, Lookup finds a response exactly when Serve
// would answer from storage without the origin, and ServeStored then writes what Serve writes.
// Lookup itself changes nothing: no counters move and the origin is never contacted by it.
func TestLookupAgreesWithServe(t *testing.T) {
	tests := []struct {
		name    string
		origin  []string      // origin response fields
		policy  Policy        // the behaviour's policy
		advance time.Duration // clock moved between the fill and the lookup
		method  string
		hdr     []string // the lookup's request fields
		want    bool
	}{
		{name: "fresh", origin: []string{"Cache-Control: max-age=60"}, want: true},
		{name: "fresh HEAD", origin: []string{"Cache-Control: max-age=60"}, method: http.MethodHead, want: true},
		{name: "fresh, conditional: 304 from storage", origin: []string{"Cache-Control: max-age=60", `ETag: "v1"`}, hdr: []string{`If-None-Match: "v1"`}, want: true},
		{name: "fresh, range", origin: []string{"Cache-Control: max-age=60"}, hdr: []string{"Range: bytes=0-1"}, want: true},
		{name: "stale", origin: []string{"Cache-Control: max-age=60"}, advance: 2 * time.Minute, want: false},
		{name: "stale, request allows it", origin: []string{"Cache-Control: max-age=60"}, advance: 2 * time.Minute, hdr: []string{"Cache-Control: max-stale=3600"}, want: true},
		{name: "stale-while-revalidate window", origin: []string{"Cache-Control: max-age=60, stale-while-revalidate=600"}, advance: 2 * time.Minute, want: false},
		{name: "request no-cache", origin: []string{"Cache-Control: max-age=60"}, hdr: []string{"Cache-Control: no-cache"}, want: false},
		{name: "response no-cache", origin: []string{"Cache-Control: no-cache", `ETag: "v1"`}, want: false},
		{name: "precondition for the origin", origin: []string{"Cache-Control: max-age=60"}, hdr: []string{`If-Match: "v1"`}, want: false},
		{name: "unsafe method", origin: []string{"Cache-Control: max-age=60"}, method: http.MethodPost, want: false},
		{name: "bypass", origin: []string{"Cache-Control: max-age=60"}, policy: Policy{Bypass: true}, want: false},
		{name: "not stored", origin: []string{"Cache-Control: no-store"}, want: false},
		{name: "other variant", origin: []string{"Cache-Control: max-age=60", "Vary: Accept-Language"}, hdr: []string{"Accept-Language: fr"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, Config{}, respond(http.StatusOK, "0123456789", tt.origin...))
			e.policy = tt.policy
			e.get("/o") // fill
			e.clk.Advance(tt.advance)
			method := tt.method
			if method == "" {
				method = http.MethodGet
			}
			// Bytes and Entries are left out: otter settles its weights asynchronously.
			counters := func() Stats { s := e.c.Stats(); s.Bytes, s.Entries = 0, 0; return s }
			hitsBefore, statsBefore := e.o.hits.Load(), counters()
			req := e.request(method, "/o", tt.hdr...)
			s, ok := e.c.Lookup(req)
			if ok != tt.want {
				t.Fatalf("Lookup ok = %v, want %v", ok, tt.want)
			}
			if e.o.hits.Load() != hitsBefore || counters() != statsBefore {
				t.Fatalf("Lookup changed something: origin hits %d→%d, stats %+v→%+v", hitsBefore, e.o.hits.Load(), statsBefore, e.c.Stats())
			}
			rec, res := e.do(method, "/o", tt.hdr...)
			if !ok {
				return
			}
			if res.Status != Hit || e.o.hits.Load() != hitsBefore {
				t.Fatalf("Serve answered %v with %d origin requests, but Lookup found a stored response", res.Status, e.o.hits.Load()-hitsBefore)
			}
			fast := httptest.NewRecorder()
			fres := e.c.ServeStored(fast, req, s)
			if fres != res || fast.Code != rec.Code || !reflect.DeepEqual(fast.Header(), rec.Header()) || fast.Body.String() != rec.Body.String() {
				t.Fatalf("ServeStored wrote %d %v %q (%+v), Serve %d %v %q (%+v)",
					fast.Code, fast.Header(), fast.Body, fres, rec.Code, rec.Header(), rec.Body, res)
			}
			if got := e.c.Stats().Hits; got != statsBefore.Hits+2 {
				t.Fatalf("hits counted %d, want %d", got, statsBefore.Hits+2)
			}
		})
	}
}
