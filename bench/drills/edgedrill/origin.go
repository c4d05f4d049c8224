package main

import (
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/sailcdn/sailcdn/internal/meter/metertest"
)

// block is the pattern generated bodies repeat: 32 KiB of bytes that are not all alike.
var block = func() []byte {
	b := make([]byte, 32<<10)
	seed := sha256.Sum256([]byte("sailcdn drill"))
	for i := range b {
		b[i] = seed[i%len(seed)] ^ byte(i/len(seed))
	}
	return b
}()

// generated writes n bytes of the pattern.
func generated(w io.Writer, n int64) error {
	for n > 0 {
		k := min(n, int64(len(block)))
		if _, err := w.Write(block[:k]); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// origin is the drills' origin server. Every response carries X-Origin-Sent, so a viewer can tell
// the origin's own errors from the edge's.
//
//	/obj/N/...   N bytes, cacheable for an hour (hits after the first request; misses on new paths)
//	/stream/N    N bytes, Content-Length, cacheable — larger than the edge stores when N > 8 MiB
//	/fail/...    503 from the origin, not cacheable
//	/up/...      a POST or PUT: the body is read and its length answered, not cacheable
//	/slow/N      N bytes, not cacheable (for stalled readers that must each hold an origin stream)
//	anything else: "ok", cacheable for a minute
type origin struct {
	read, written atomic.Int64 // bytes on the origin's sockets
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Origin-Sent", "1")
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	size := func() int64 {
		if len(parts) < 2 {
			return 0
		}
		n, _ := strconv.ParseInt(parts[1], 10, 64)
		return n
	}
	switch parts[0] {
	case "obj", "stream":
		n := size()
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		_ = generated(w, n)
	case "slow":
		n := size()
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		_ = generated(w, n)
	case "fail":
		w.Header().Set("Cache-Control", "no-store")
		http.Error(w, "the origin fails this one on purpose", http.StatusServiceUnavailable)
	case "up":
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprintf(w, "%d bytes", n)
	default:
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "ok")
	}
}

// countingListener counts the bytes its accepted connections read and write (an origin's socket).
type countingListener struct {
	net.Listener
	read, written *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return metertest.Counting(c, l.read, l.written), nil
}

// startOrigin serves o on a loopback port and returns its URL and a stop function.
func startOrigin(o *origin) (string, func()) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: o}
	go func() { _ = srv.Serve(countingListener{Listener: ln, read: &o.read, written: &o.written}) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }
}
