package httpcache

import (
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// versioned is an origin whose representation has an ETag and Last-Modified, answers its own
// validators with 304, and counts the 304s. Each response carries X-Version (incremented per
// origin request) so tests see which response a header came from.
type versioned struct {
	cc         string
	notMod     atomic.Int64
	version    atomic.Int64
	etag       string
	lastMod    string
	statusNext atomic.Int64 // if non-zero, the next response uses this status
}

func (v *versioned) handler(clk *testClock) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		n := v.version.Add(1)
		w.Header().Set("Date", clk.httpDate(0))
		w.Header().Set("Cache-Control", v.cc)
		w.Header().Set("X-Version", strconv.FormatInt(n, 10))
		if s := v.statusNext.Swap(0); s != 0 {
			w.WriteHeader(int(s))
			return
		}
		if r.Header.Get("If-None-Match") == v.etag || r.Header.Get("If-Modified-Since") == v.lastMod {
			v.notMod.Add(1)
			w.Header().Set("Etag", v.etag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Etag", v.etag)
		w.Header().Set("Last-Modified", v.lastMod)
		_, _ = io.WriteString(w, "the body")
	}
}

func newVersioned(t *testing.T, cc string) (*env, *versioned) {
	v := &versioned{cc: cc, etag: `"v1"`, lastMod: "Sun, 01 Mar 2026 10:00:00 GMT"}
	return newEnv(t, Config{}, v.handler), v
}

func TestRevalidationWith304(t *testing.T) {
	e, v := newVersioned(t, "max-age=10")
	rec, _ := e.get("/doc")
	wantXCache(t, rec, "Miss")
	e.clk.Advance(20 * time.Second)

	rec, res := e.get("/doc")
	wantXCache(t, rec, "RefreshHit")
	if res.Status != RefreshHit || !res.Stored {
		t.Fatalf("result = %+v, want a stored RefreshHit", res)
	}
	sent := e.o.lastHeader()
	if sent.Get("If-None-Match") != `"v1"` || sent.Get("If-Modified-Since") != v.lastMod {
		t.Fatalf("conditional request sent If-None-Match=%q If-Modified-Since=%q", sent.Get("If-None-Match"), sent.Get("If-Modified-Since"))
	}
	if rec.Code != 200 || rec.Body.String() != "the body" {
		t.Fatalf("response = %d %q", rec.Code, rec.Body.String())
	}
	// RFC 9111 §3.2: fields in the 304 replace the stored ones; Content-Length stays the body's.
	if got := rec.Header().Get("X-Version"); got != "2" {
		t.Fatalf("X-Version = %q, want 2 (from the 304)", got)
	}
	if got := rec.Header().Get("Content-Length"); got != "8" {
		t.Fatalf("Content-Length = %q, want 8", got)
	}
	if got := rec.Header().Get("Date"); got != e.clk.httpDate(0) {
		t.Fatalf("Date = %q, want the 304's %q", got, e.clk.httpDate(0))
	}

	// The freshened response is fresh again: served without contacting the origin.
	e.clk.Advance(5 * time.Second)
	rec, _ = e.get("/doc")
	wantXCache(t, rec, "Hit")
	if e.o.hits.Load() != 2 || v.notMod.Load() != 1 {
		t.Fatalf("origin hits %d, 304s %d; want 2 and 1", e.o.hits.Load(), v.notMod.Load())
	}
	if got := rec.Header().Get("Age"); got != "5" {
		t.Fatalf("Age after freshening = %q, want 5", got)
	}
}

func TestNoCacheStoresButAlwaysRevalidates(t *testing.T) {
	e, v := newVersioned(t, "no-cache")
	e.get("/doc")
	for range 3 {
		rec, _ := e.get("/doc")
		wantXCache(t, rec, "RefreshHit")
	}
	if v.notMod.Load() != 3 {
		t.Fatalf("304s = %d, want 3", v.notMod.Load())
	}
}

func TestAgeAndPreservedHeaders(t *testing.T) {
	e := newEnv(t, Config{}, respond(200, "x", "Cache-Control: max-age=100", "Age: 10",
		"Etag: \"e1\"", "Last-Modified: Sun, 01 Mar 2026 10:00:00 GMT"))
	first, _ := e.get("/a")
	if got := first.Header().Get("Age"); got != "10" {
		t.Fatalf("miss Age = %q, want the origin's 10", got)
	}
	for _, step := range []struct {
		advance time.Duration
		age     string
	}{{5 * time.Second, "15"}, {20 * time.Second, "35"}, {64 * time.Second, "99"}} {
		e.clk.Advance(step.advance)
		rec, _ := e.get("/a")
		wantXCache(t, rec, "Hit")
		if got := rec.Header().Get("Age"); got != step.age {
			t.Fatalf("Age = %q, want %q", got, step.age)
		}
		for _, f := range []string{"Date", "Etag", "Last-Modified"} {
			if rec.Header().Get(f) != first.Header().Get(f) {
				t.Fatalf("%s changed: %q -> %q", f, first.Header().Get(f), rec.Header().Get(f))
			}
		}
	}
	e.clk.Advance(2 * time.Second) // age 101 > 100: stale
	rec, _ := e.get("/a")
	wantXCache(t, rec, "Miss")
}

func TestViewerConditionals(t *testing.T) {
	cases := []struct {
		name     string
		etag     string
		lastMod  string
		req      []string
		wantCode int
	}{
		{name: "strong match", etag: `"abc"`, req: []string{`If-None-Match: "abc"`}, wantCode: 304},
		{name: "weak match", etag: `W/"abc"`, req: []string{`If-None-Match: W/"abc"`}, wantCode: 304},
		{name: "weak comparison of strong and weak", etag: `"abc"`, req: []string{`If-None-Match: W/"abc"`}, wantCode: 304},
		{name: "one of a list", etag: `"abc"`, req: []string{`If-None-Match: "x", "abc", "y"`}, wantCode: 304},
		{name: "star", etag: `"abc"`, req: []string{`If-None-Match: *`}, wantCode: 304},
		{name: "no match", etag: `"abc"`, req: []string{`If-None-Match: "def"`}, wantCode: 200},
		{name: "If-None-Match wins over If-Modified-Since", etag: `"abc"`, lastMod: "Sun, 01 Mar 2026 10:00:00 GMT",
			req: []string{`If-None-Match: "abc"`, "If-Modified-Since: Sun, 01 Mar 2026 09:00:00 GMT"}, wantCode: 304},
		{name: "If-Modified-Since equal", lastMod: "Sun, 01 Mar 2026 10:00:00 GMT", req: []string{"If-Modified-Since: Sun, 01 Mar 2026 10:00:00 GMT"}, wantCode: 304},
		{name: "If-Modified-Since later", lastMod: "Sun, 01 Mar 2026 10:00:00 GMT", req: []string{"If-Modified-Since: Sun, 01 Mar 2026 11:00:00 GMT"}, wantCode: 304},
		{name: "If-Modified-Since earlier", lastMod: "Sun, 01 Mar 2026 10:00:00 GMT", req: []string{"If-Modified-Since: Sun, 01 Mar 2026 09:00:00 GMT"}, wantCode: 200},
		{name: "invalid If-Modified-Since ignored", lastMod: "Sun, 01 Mar 2026 10:00:00 GMT", req: []string{"If-Modified-Since: yesterday"}, wantCode: 200},
		{name: "If-Modified-Since against Date without Last-Modified", req: []string{"If-Modified-Since: Sun, 01 Mar 2026 12:00:00 GMT"}, wantCode: 304},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{"Cache-Control: max-age=600"}
			if tc.etag != "" {
				hdr = append(hdr, "Etag: "+tc.etag)
			}
			if tc.lastMod != "" {
				hdr = append(hdr, "Last-Modified: "+tc.lastMod)
			}
			e := newEnv(t, Config{}, respond(200, "body", hdr...))
			// The first viewer request already carries the condition: answered after the fill.
			rec, _ := e.get("/c", tc.req...)
			if rec.Code != tc.wantCode {
				t.Fatalf("on fill: code %d, want %d", rec.Code, tc.wantCode)
			}
			if sent := e.o.lastHeader(); sent.Get("If-None-Match") != "" || sent.Get("If-Modified-Since") != "" {
				t.Fatalf("viewer validators were forwarded on a fill: %v", sent)
			}
			rec, res := e.get("/c", tc.req...)
			if rec.Code != tc.wantCode || res.Status != Hit {
				t.Fatalf("from cache: code %d status %v, want %d Hit", rec.Code, res.Status, tc.wantCode)
			}
			if tc.wantCode == 304 {
				if rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "" {
					t.Fatalf("304 carried content: %q, Content-Length %q", rec.Body.String(), rec.Header().Get("Content-Length"))
				}
				if tc.etag != "" && rec.Header().Get("Etag") != tc.etag {
					t.Fatalf("304 ETag = %q, want %q", rec.Header().Get("Etag"), tc.etag)
				}
				if rec.Header().Get("Cache-Control") == "" || rec.Header().Get("Date") == "" {
					t.Fatalf("304 lacks Cache-Control or Date: %v", rec.Header())
				}
			}
			if e.o.hits.Load() != 1 {
				t.Fatalf("origin hits = %d, want 1", e.o.hits.Load())
			}
		})
	}
}

func TestRequestDirectives(t *testing.T) {
	cases := []struct {
		name      string
		advance   time.Duration
		req       []string
		wantCode  int
		wantState CacheStatus
		wantHits  int64
	}{
		{name: "max-age=0 validates", advance: time.Second, req: []string{"Cache-Control: max-age=0"}, wantCode: 200, wantState: RefreshHit, wantHits: 2},
		{name: "max-age larger than age", advance: 5 * time.Second, req: []string{"Cache-Control: max-age=30"}, wantCode: 200, wantState: Hit, wantHits: 1},
		{name: "max-age smaller than age", advance: 50 * time.Second, req: []string{"Cache-Control: max-age=30"}, wantCode: 200, wantState: RefreshHit, wantHits: 2},
		{name: "no-cache validates", req: []string{"Cache-Control: no-cache"}, wantCode: 200, wantState: RefreshHit, wantHits: 2},
		{name: "min-fresh not met", advance: 50 * time.Second, req: []string{"Cache-Control: min-fresh=20"}, wantCode: 200, wantState: RefreshHit, wantHits: 2},
		{name: "min-fresh met", advance: 10 * time.Second, req: []string{"Cache-Control: min-fresh=20"}, wantCode: 200, wantState: Hit, wantHits: 1},
		{name: "max-stale allows stale", advance: 90 * time.Second, req: []string{"Cache-Control: max-stale=60"}, wantCode: 200, wantState: Hit, wantHits: 1},
		{name: "max-stale too small", advance: 200 * time.Second, req: []string{"Cache-Control: max-stale=60"}, wantCode: 200, wantState: RefreshHit, wantHits: 2},
		{name: "max-stale without value", advance: time.Hour, req: []string{"Cache-Control: max-stale"}, wantCode: 200, wantState: Hit, wantHits: 1},
		{name: "only-if-cached, stored", req: []string{"Cache-Control: only-if-cached"}, wantCode: 200, wantState: Hit, wantHits: 1},
		{name: "only-if-cached, stale", advance: time.Hour, req: []string{"Cache-Control: only-if-cached"}, wantCode: 504, wantState: Error, wantHits: 1},
		{name: "Pragma is ignored", req: []string{"Pragma: no-cache"}, wantCode: 200, wantState: Hit, wantHits: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newVersioned(t, "max-age=60")
			e.get("/r")
			e.clk.Advance(tc.advance)
			rec, res := e.get("/r", tc.req...)
			if rec.Code != tc.wantCode || res.Status != tc.wantState || e.o.hits.Load() != tc.wantHits {
				t.Fatalf("got %d %v with %d origin hits, want %d %v with %d", rec.Code, res.Status, e.o.hits.Load(), tc.wantCode, tc.wantState, tc.wantHits)
			}
		})
	}
	t.Run("only-if-cached, nothing stored", func(t *testing.T) {
		e, _ := newVersioned(t, "max-age=60")
		rec, res := e.get("/nothing", "Cache-Control: only-if-cached")
		if rec.Code != 504 || res.Status != Error || e.o.hits.Load() != 0 {
			t.Fatalf("got %d %v, %d origin hits; want 504 Error, 0", rec.Code, res.Status, e.o.hits.Load())
		}
	})
}

func TestStaleWhileRevalidate(t *testing.T) {
	e, v := newVersioned(t, "max-age=10, stale-while-revalidate=60")
	e.get("/s")
	e.clk.Advance(30 * time.Second) // stale by 20s, inside the window
	for range 5 {
		rec, res := e.get("/s")
		if res.Status != Hit || rec.Body.String() != "the body" {
			t.Fatalf("stale serve: %v %q", res.Status, rec.Body.String())
		}
	}
	e.c.background.Wait()
	if got := e.o.hits.Load(); got != 2 {
		t.Fatalf("origin hits = %d, want 2 (one fill, one background revalidation)", got)
	}
	if v.notMod.Load() != 1 {
		t.Fatalf("background revalidation was not conditional")
	}
	// The revalidation freshened the entry.
	rec, _ := e.get("/s")
	if got := rec.Header().Get("Age"); got != "0" {
		t.Fatalf("Age after background refresh = %q, want 0", got)
	}
	e.clk.Advance(10*time.Second + 61*time.Second) // beyond max-age + window
	_, res := e.get("/s")
	if res.Status != RefreshHit {
		t.Fatalf("beyond the window: %v, want a synchronous RefreshHit", res.Status)
	}
}

func TestStaleIfError(t *testing.T) {
	cases := []struct {
		name     string
		cc       string
		advance  time.Duration
		fail     string // "503" or "down"
		wantCode int
		wantHit  bool
	}{
		{name: "503 within stale-if-error", cc: "max-age=10, stale-if-error=60", advance: 30 * time.Second, fail: "503", wantCode: 200, wantHit: true},
		{name: "503 beyond stale-if-error", cc: "max-age=10, stale-if-error=60", advance: 100 * time.Second, fail: "503", wantCode: 503},
		{name: "503 without stale-if-error", cc: "max-age=10", advance: 30 * time.Second, fail: "503", wantCode: 503},
		{name: "unreachable within stale-if-error", cc: "max-age=10, stale-if-error=60", advance: 30 * time.Second, fail: "down", wantCode: 200, wantHit: true},
		{name: "unreachable: disconnected cache serves stale", cc: "max-age=10", advance: time.Hour, fail: "down", wantCode: 200, wantHit: true},
		{name: "unreachable with must-revalidate", cc: "max-age=10, must-revalidate", advance: 30 * time.Second, fail: "down", wantCode: 502},
		{name: "unreachable with proxy-revalidate", cc: "max-age=10, proxy-revalidate", advance: 30 * time.Second, fail: "down", wantCode: 502},
		{name: "unreachable with s-maxage", cc: "s-maxage=10", advance: 30 * time.Second, fail: "down", wantCode: 502},
		{name: "unreachable with no-cache", cc: "no-cache", advance: 30 * time.Second, fail: "down", wantCode: 502},
		{name: "must-revalidate beats stale-if-error", cc: "max-age=10, must-revalidate, stale-if-error=60", advance: 30 * time.Second, fail: "503", wantCode: 503},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, v := newVersioned(t, tc.cc)
			e.get("/e")
			e.clk.Advance(tc.advance)
			if tc.fail == "503" {
				v.statusNext.Store(503)
			} else {
				e.o.srv.Close()
			}
			rec, res := e.get("/e")
			if rec.Code != tc.wantCode || (res.Status == Hit) != tc.wantHit {
				t.Fatalf("got %d %v, want %d hit=%v", rec.Code, res.Status, tc.wantCode, tc.wantHit)
			}
			if !tc.wantHit {
				wantXCache(t, rec, "Error")
			}
		})
	}
}
