// Command nethttp-ceiling is the reference point of bench/edge-vs-nginx.sh: the fastest a Go
// net/http server can answer the benchmark's requests on this machine. It serves the files of -dir
// from memory with the same header fields sailcdn sends on a cache hit (the origin's fields plus
// Age, X-Cache, Via and a request id), and does nothing else: no routing, no cache lookup, no
// metering. sailcdn's edge runs on the same net/http server, so the gap between this program and
// nginx is net/http's, and the gap between sailcdn and this program is sailcdn's own.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18496", "listen address (loopback only)")
	dir := flag.String("dir", "", "directory whose regular files are served at /<name>")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		log.Fatalf("nethttp-ceiling: %s: loopback addresses only", *addr)
	}
	files := map[string][]byte{}
	entries, err := os.ReadDir(*dir)
	if err != nil {
		log.Fatalf("nethttp-ceiling: %v", err)
	}
	for _, e := range entries {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(*dir, e.Name()))
			if err != nil {
				log.Fatalf("nethttp-ceiling: %v", err)
			}
			files["/"+e.Name()] = b
		}
	}
	lastModified := time.Now().UTC().Format(http.TimeFormat)
	var seq atomic.Uint64
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		// The field set of a sailcdn hit on the benchmark's nginx origin.
		h := w.Header()
		h["Server"] = []string{"nginx/1.22.1"}
		h["Content-Type"] = []string{"application/octet-stream"}
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
		h["Last-Modified"] = []string{lastModified}
		h["Etag"] = []string{`"6b07988c-400"`}
		h["Cache-Control"] = []string{"max-age=3600"}
		h["Accept-Ranges"] = []string{"bytes"}
		h["Age"] = []string{"1"}
		h["X-Cache"] = []string{"Hit from sailcdn"}
		h["Via"] = []string{"1.1 sailcdn (sailcdn)"}
		h["X-Sailcdn-Request-Id"] = []string{fmt.Sprintf("%016x-%016x", uint64(0xce11), seq.Add(1))}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body)
	}
	srv := &http.Server{Addr: *addr, Handler: http.HandlerFunc(handler), ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
