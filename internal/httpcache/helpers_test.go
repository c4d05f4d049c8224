package httpcache

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testClock is a manual clock shared by the cache and the test origins, so that Date headers
// and ages agree and tests move time instead of sleeping.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock {
	return &testClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *testClock) httpDate(offset time.Duration) string {
	return c.Now().Add(offset).Format(http.TimeFormat)
}

// origin is a real HTTP origin (httptest.Server) that counts the requests it receives and keeps
// the headers of the last one, so tests assert on what actually crossed the wire.
type origin struct {
	srv     *httptest.Server
	hits    atomic.Int64
	mu      sync.Mutex // guards last, methods
	last    http.Header
	methods []string
}

func newOrigin(t *testing.T, h http.HandlerFunc) *origin {
	t.Helper()
	o := &origin{}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		o.mu.Lock()
		o.last = r.Header.Clone()
		o.methods = append(o.methods, r.Method)
		o.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *origin) lastHeader() http.Header {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}

func (o *origin) lastMethod() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.methods) == 0 {
		return ""
	}
	return o.methods[len(o.methods)-1]
}

func (o *origin) fetch() Fetcher {
	tr := o.srv.Client().Transport
	return func(ctx context.Context, req *http.Request) (*http.Response, error) {
		return tr.RoundTrip(req.WithContext(ctx))
	}
}

// env bundles a cache, its clock and one origin.
type env struct {
	t      *testing.T
	c      *Cache
	clk    *testClock
	o      *origin
	policy Policy
}

func newEnv(t *testing.T, cfg Config, h func(clk *testClock) http.HandlerFunc) *env {
	t.Helper()
	clk := newTestClock()
	cfg.Now = clk.Now
	e := &env{t: t, c: New(cfg), clk: clk}
	e.o = newOrigin(t, h(clk))
	return e
}

// request builds the Request the edge would hand over; hdr is "Name: value" lines.
func (e *env) request(method, path string, hdr ...string) *Request {
	out := httptest.NewRequest(method, e.o.srv.URL+path, nil)
	out.RequestURI = ""
	for _, line := range hdr {
		k, v, _ := strings.Cut(line, ":")
		out.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return &Request{Out: out, Namespace: "dist-1", Key: out.URL.Host + out.URL.RequestURI(), Policy: e.policy}
}

func (e *env) do(method, path string, hdr ...string) (*httptest.ResponseRecorder, Result) {
	e.t.Helper()
	rec := httptest.NewRecorder()
	res, err := e.c.Serve(rec, e.request(method, path, hdr...), e.o.fetch())
	if err != nil && !strings.Contains(err.Error(), "origin") {
		e.t.Fatalf("Serve(%s %s): %v", method, path, err)
	}
	return rec, res
}

func (e *env) get(path string, hdr ...string) (*httptest.ResponseRecorder, Result) {
	e.t.Helper()
	return e.do(http.MethodGet, path, hdr...)
}

// respond returns a handler that writes status, the "Name: value" header lines and body, with
// Date from the clock unless a Date line is given.
func respond(status int, body string, hdr ...string) func(*testClock) http.HandlerFunc {
	return func(clk *testClock) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			writeLines(w, clk, hdr)
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
		}
	}
}

func writeLines(w http.ResponseWriter, clk *testClock, hdr []string) {
	for _, line := range hdr {
		k, v, _ := strings.Cut(line, ":")
		w.Header().Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if w.Header().Get("Date") == "" {
		w.Header().Set("Date", clk.httpDate(0))
	}
}

func wantXCache(t *testing.T, rec *httptest.ResponseRecorder, want string) {
	t.Helper()
	if got := rec.Header().Get("X-Cache"); got != want+" from sailcdn" {
		t.Fatalf("X-Cache = %q, want %q", got, want+" from sailcdn")
	}
}
