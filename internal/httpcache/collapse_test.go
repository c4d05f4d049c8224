package httpcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// gatedOrigin answers only after release is closed, so tests can pile up concurrent requests.
func gatedOrigin(release <-chan struct{}, cc string) func(*testClock) http.HandlerFunc {
	return func(clk *testClock) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			<-release
			w.Header().Set("Date", clk.httpDate(0))
			if cc != "" {
				w.Header().Set("Cache-Control", cc)
			}
			_, _ = io.WriteString(w, "shared body")
		}
	}
}

func TestCollapsing(t *testing.T) {
	const n = 50
	cases := []struct {
		name      string
		cc        string
		wantHits  int64
		wantState CacheStatus // of the waiters
	}{
		{name: "cacheable: one origin fetch", cc: "max-age=600", wantHits: 1, wantState: Hit},
		{name: "uncacheable: waiters fetch for themselves", cc: "no-store", wantHits: n, wantState: Miss},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			e := newEnv(t, Config{}, gatedOrigin(release, tc.cc))
			var wg sync.WaitGroup
			results := make([]Result, n)
			bodies := make([]string, n)
			for i := range n {
				wg.Go(func() {
					rec := httptest.NewRecorder()
					res, err := e.c.Serve(rec, e.request("GET", "/collapse"), e.o.fetch())
					if err != nil {
						t.Error(err)
					}
					results[i], bodies[i] = res, rec.Body.String()
				})
			}
			wait.Until(t, 2*time.Second, "all requests to join", func() bool { return e.c.Stats().Collapsed == n-1 })
			wait.Until(t, 2*time.Second, "the leader to reach the origin", func() bool { return e.o.hits.Load() >= 1 })
			hitsWhileCollapsed := e.o.hits.Load()
			close(release)
			wg.Wait()
			if hitsWhileCollapsed != 1 {
				t.Fatalf("origin hits while collapsed = %d, want 1", hitsWhileCollapsed)
			}
			if got := e.o.hits.Load(); got != tc.wantHits {
				t.Fatalf("origin hits = %d, want %d", got, tc.wantHits)
			}
			misses := 0
			for i, res := range results {
				if bodies[i] != "shared body" {
					t.Fatalf("request %d got %q", i, bodies[i])
				}
				if res.Status == Miss {
					misses++
				} else if res.Status != tc.wantState {
					t.Fatalf("request %d: %v", i, res.Status)
				}
			}
			if tc.wantState == Hit && misses != 1 {
				t.Fatalf("%d misses, want exactly the leader's", misses)
			}
		})
	}
}

// hangingWriter is a viewer that hangs up: after the first Write every Write fails.
type hangingWriter struct {
	h      http.Header
	writes int
	cancel context.CancelFunc
}

func (w *hangingWriter) Header() http.Header { return w.h }
func (w *hangingWriter) WriteHeader(int)     {}
func (w *hangingWriter) Write(p []byte) (int, error) {
	w.writes++
	if w.writes > 1 {
		w.cancel()
		return 0, errors.New("connection reset by viewer")
	}
	return len(p), nil
}

func TestViewerHangingUpDoesNotBreakTheFill(t *testing.T) {
	half := make(chan struct{})
	rest := make(chan struct{})
	e := newEnv(t, Config{}, func(clk *testClock) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", clk.httpDate(0))
			w.Header().Set("Cache-Control", "max-age=600")
			w.Header().Set("Content-Length", "200000")
			_, _ = w.Write(bytes.Repeat([]byte("a"), 100000))
			w.(http.Flusher).Flush()
			close(half)
			<-rest
			_, _ = w.Write(bytes.Repeat([]byte("b"), 100000))
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	leader := e.request("GET", "/big")
	leader.Out = leader.Out.WithContext(ctx)
	lw := &hangingWriter{h: http.Header{}, cancel: cancel}
	done := make(chan Result)
	go func() {
		res, _ := e.c.Serve(lw, leader, e.o.fetch())
		done <- res
	}()
	<-half
	var wg sync.WaitGroup
	bodies := make([]string, 5)
	for i := range bodies {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			_, _ = e.c.Serve(rec, e.request("GET", "/big"), e.o.fetch())
			bodies[i] = rec.Body.String()
		})
	}
	wait.Until(t, 2*time.Second, "waiters to join", func() bool { return e.c.Stats().Collapsed == 5 })
	wait.Until(t, 2*time.Second, "the leader's viewer to hang up", func() bool { return ctx.Err() != nil })
	close(rest)
	wg.Wait()
	<-done
	e.c.background.Wait()
	if _, res := e.get("/big"); res.Status != Hit {
		t.Fatalf("after the fill: %v, want a hit: the fill was abandoned with its viewer", res.Status)
	}
	want := string(bytes.Repeat([]byte("a"), 100000)) + string(bytes.Repeat([]byte("b"), 100000))
	for i, b := range bodies {
		if b != want {
			t.Fatalf("waiter %d got %d bytes", i, len(b))
		}
	}
	if e.o.hits.Load() != 1 {
		t.Fatalf("origin hits = %d, want 1", e.o.hits.Load())
	}
}

func TestEvictionKeepsTheBudget(t *testing.T) {
	const budget = 64 << 10
	body := bytes.Repeat([]byte("x"), 4<<10)
	e := newEnv(t, Config{MaxBytes: budget}, func(clk *testClock) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", clk.httpDate(0))
			w.Header().Set("Cache-Control", "max-age=600")
			_, _ = w.Write(body)
		}
	})
	const objects = 64
	for i := range objects {
		e.get("/obj/" + strconv.Itoa(i))
	}
	e.c.store.CleanUp()
	st := e.c.Stats()
	if st.Bytes > budget || st.Bytes < budget/2 {
		t.Fatalf("stored %d bytes, want within (%d, %d]", st.Bytes, budget/2, budget)
	}
	if st.Entries >= objects || st.Entries == 0 {
		t.Fatalf("%d of %d objects stored: eviction did not happen or kept nothing", st.Entries, objects)
	}
	// Every object still stored is served from storage; the others go to the origin.
	var kept []string
	for k := range e.c.store.Keys() {
		kept = append(kept, k.path)
	}
	before := e.o.hits.Load()
	for _, p := range kept {
		if _, res := e.get(p); res.Status != Hit {
			t.Fatalf("%s is stored but was not a hit", p)
		}
	}
	if e.o.hits.Load() != before {
		t.Fatalf("hits reached the origin")
	}
}

func TestPurge(t *testing.T) {
	e := newEnv(t, Config{}, respond(200, "x", "Cache-Control: max-age=600"))
	get := func(ns, path string) Result {
		r := e.request("GET", path)
		r.Namespace = ns
		res, err := e.c.Serve(httptest.NewRecorder(), r, e.o.fetch())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for _, ns := range []string{"dist-a", "dist-b"} {
		for _, p := range []string{"/1", "/2"} {
			get(ns, p)
		}
	}
	before := e.c.Stats()
	e.c.Purge("dist-a")
	e.c.store.CleanUp()
	after := e.c.Stats()
	if after.Bytes >= before.Bytes || after.Entries != 2 {
		t.Fatalf("purge kept storage: before %+v after %+v", before, after)
	}
	for _, p := range []string{"/1", "/2"} {
		if res := get("dist-a", p); res.Status != Miss {
			t.Fatalf("dist-a %s after purge: %v", p, res.Status)
		}
		if res := get("dist-b", p); res.Status != Hit {
			t.Fatalf("dist-b %s after purging dist-a: %v", p, res.Status)
		}
	}
	if res := get("dist-a", "/1"); res.Status != Hit {
		t.Fatalf("dist-a is cached again after the purge: %v", res.Status)
	}
}

// countingWriter discards the body, counting it, and flushes.
type countingWriter struct {
	h       http.Header
	code    int
	n       int64
	flushes int
}

func (w *countingWriter) Header() http.Header { return w.h }
func (w *countingWriter) WriteHeader(c int)   { w.code = c }
func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}
func (w *countingWriter) Flush() { w.flushes++ }

func TestLargeBodiesStreamAndAreNotStored(t *testing.T) {
	const size = 32 << 20
	chunk := bytes.Repeat([]byte("z"), 64<<10)
	for _, withLength := range []bool{true, false} {
		t.Run(fmt.Sprintf("Content-Length known=%v", withLength), func(t *testing.T) {
			e := newEnv(t, Config{MaxBufferedBody: 1 << 20}, func(clk *testClock) http.HandlerFunc {
				return func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Date", clk.httpDate(0))
					w.Header().Set("Cache-Control", "max-age=600")
					if withLength {
						w.Header().Set("Content-Length", strconv.Itoa(size))
					}
					for sent := 0; sent < size; sent += len(chunk) {
						_, _ = w.Write(chunk)
					}
				}
			})
			runtime.GC()
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			w := &countingWriter{h: http.Header{}}
			res, err := e.c.Serve(w, e.request("GET", "/huge"), e.o.fetch())
			runtime.ReadMemStats(&m1)
			if err != nil || w.n != size || w.code != 200 {
				t.Fatalf("streamed %d bytes, code %d, err %v", w.n, w.code, err)
			}
			if res.Stored || e.c.Stats().Bytes != 0 {
				t.Fatalf("a body above MaxBufferedBody was stored: %+v, %d bytes", res, e.c.Stats().Bytes)
			}
			if w.flushes < 10 {
				t.Fatalf("only %d flushes: the body was not streamed", w.flushes)
			}
			// Allocation during the whole exchange (origin side included) stays far below the
			// body size: it was never held in memory.
			if grew := m1.TotalAlloc - m0.TotalAlloc; grew > 8<<20 {
				t.Fatalf("allocated %d MiB while streaming a 32 MiB body", grew>>20)
			}
			if _, res := e.get("/huge"); res.Status == Hit {
				t.Fatalf("second request was a hit")
			}
		})
	}
}
