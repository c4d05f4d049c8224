package httpcache

import (
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// A viewer's request directives decide what that viewer accepts; they never remove or replace what
// the others get (issue 9, defect 3). Before, "no-cache, no-store" on a request revalidated the
// stored response and then removed it, even when the origin answered 304.
func TestViewerDirectivesNeverRemoveTheSharedCopy(t *testing.T) {
	cases := []struct {
		name string
		req  string
		next func(v *versioned) // what the origin does when the hostile request reaches it
	}{
		{"no-cache, no-store answered 304", "Cache-Control: no-cache, no-store", func(*versioned) {}},
		{"max-age=0, no-store answered 304", "Cache-Control: max-age=0, no-store", func(*versioned) {}},
		{"no-cache, no-store answered 200", "Cache-Control: no-cache, no-store", func(v *versioned) { v.etag = `"v2"` }},
		{"no-store on a stale response", "Cache-Control: no-store", func(*versioned) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, v := newVersioned(t, "max-age=60")
			e.get("/shared")
			e.clk.Advance(time.Second)
			if tc.name == "no-store on a stale response" {
				e.clk.Advance(2 * time.Minute)
			}
			tc.next(v)
			rec, _ := e.get("/shared", tc.req)
			if rec.Code != 200 || rec.Body.String() != "the body" {
				t.Fatalf("hostile viewer: %d %q", rec.Code, rec.Body.String())
			}
			hits := e.o.hits.Load()
			if hits != 2 {
				t.Fatalf("origin hits %d, want 2: the hostile viewer may ask the origin for itself", hits)
			}
			if tc.name == "no-store on a stale response" {
				return // the stale copy stays stale; nothing more to see
			}
			rec, res := e.get("/shared")
			if res.Status != Hit || rec.Header().Get("X-Version") != "1" || e.o.hits.Load() != hits {
				t.Fatalf("next viewer: %v, version %q, origin hits %d; want a hit on the stored first version",
					res.Status, rec.Header().Get("X-Version"), e.o.hits.Load())
			}
		})
	}
}

// A viewer whose directives forbid storing does not lead the shared fill: the viewers that arrive
// meanwhile still share one origin fetch instead of each fetching for itself.
func TestNoStoreViewerDoesNotBreakCollapsing(t *testing.T) {
	const n = 10
	release := make(chan struct{})
	e := newEnv(t, Config{}, gatedOrigin(release, "max-age=600"))
	var wg sync.WaitGroup
	wg.Go(func() {
		rec := httptest.NewRecorder()
		_, _ = e.c.Serve(rec, e.request("GET", "/hot", "Cache-Control: no-store"), e.o.fetch())
	})
	wait.Until(t, 2*time.Second, "the no-store request to reach the origin", func() bool { return e.o.hits.Load() == 1 })
	for range n {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			if _, err := e.c.Serve(rec, e.request("GET", "/hot"), e.o.fetch()); err != nil || rec.Body.String() != "shared body" {
				t.Errorf("viewer: %v %q", err, rec.Body.String())
			}
		})
	}
	wait.Until(t, 2*time.Second, "the viewers to collapse", func() bool { return e.c.Stats().Collapsed >= n-1 })
	close(release)
	wg.Wait()
	if got := e.o.hits.Load(); got != 2 {
		t.Fatalf("origin hits %d, want 2: the no-store viewer's own and one shared fill", got)
	}
}
