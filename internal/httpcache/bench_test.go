package httpcache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// benchWriter is a ResponseWriter that keeps nothing, as a server's writer would after the bytes
// left; its header map is reused between iterations so only the cache's own cost is measured.
type benchWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *benchWriter) Header() http.Header { return w.h }
func (w *benchWriter) WriteHeader(c int)   { w.code = c }
func (w *benchWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}

func benchmarkHit(b *testing.B, size int) {
	body := bytes.Repeat([]byte("a"), size)
	fill := func(ctx context.Context, req *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h := rec.Header()
		h.Set("Cache-Control", "public, max-age=86400")
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Etag", `"0123456789abcdef"`)
		h.Set("Last-Modified", "Sun, 01 Mar 2026 10:00:00 GMT")
		h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		h.Set("Content-Length", strconv.Itoa(size))
		_, _ = rec.Write(body)
		return rec.Result(), nil
	}
	c := New(Config{MaxBufferedBody: 4 << 20})
	out := httptest.NewRequest(http.MethodGet, "http://origin.example/static/app.js?v=3", nil)
	out.RequestURI = ""
	out.Header.Set("Accept", "*/*")
	out.Header.Set("User-Agent", "bench")
	r := &Request{Out: out, Namespace: "d-bench", Key: "cdn.example/static/app.js?v=3", Policy: Policy{DefaultTTL: time.Hour}}
	if res, err := c.Serve(&benchWriter{h: http.Header{}}, r, fill); err != nil || !res.Stored {
		b.Fatalf("fill: %+v %v", res, err)
	}
	noOrigin := func(context.Context, *http.Request) (*http.Response, error) {
		return nil, errors.New("a hit must not reach the origin")
	}
	w := &benchWriter{h: make(http.Header, 16)}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		clear(w.h)
		w.n = 0
		res, _ := c.Serve(w, r, noOrigin)
		if res.Status != Hit || w.n != size {
			b.Fatalf("not a hit: %+v, %d bytes", res, w.n)
		}
	}
}

func BenchmarkHit1KiB(b *testing.B) { benchmarkHit(b, 1<<10) }
func BenchmarkHit1MiB(b *testing.B) { benchmarkHit(b, 1<<20) }

// BenchmarkHit1KiBParallel measures the hit path under contention (both cores).
func BenchmarkHit1KiBParallel(b *testing.B) {
	const size = 1 << 10
	c := New(Config{})
	fill := func(ctx context.Context, req *http.Request) (*http.Response, error) {
		return &http.Response{
			StatusCode: 200, ContentLength: size, Body: io.NopCloser(bytes.NewReader(make([]byte, size))),
			Header: http.Header{"Cache-Control": {"max-age=86400"}, "Content-Length": {strconv.Itoa(size)}},
		}, nil
	}
	out := httptest.NewRequest(http.MethodGet, "http://origin.example/p", nil)
	out.RequestURI = ""
	r := &Request{Out: out, Namespace: "d", Key: "k"}
	if _, err := c.Serve(&benchWriter{h: http.Header{}}, r, fill); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		w := &benchWriter{h: make(http.Header, 16)}
		for pb.Next() {
			clear(w.h)
			if res, _ := c.Serve(w, r, fill); res.Status != Hit {
				b.Errorf("not a hit: %v", res.Status)
				return
			}
		}
	})
}
