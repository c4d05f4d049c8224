// Command nethttp-json is the reference point of bench/api-vs-nethttp.sh: the fastest a Go net/http
// server answers the benchmark's requests on this machine. Every request gets the bytes of -body (the
// document sailcdn answers the benchmark's signed GetDistributions with) under the header fields
// sailcdn's API sends (Content-Type, Content-Length and a request id of the same length), and nothing
// else happens: no routing, no authentication, no store, no encoding. sailcdn's API runs on the same
// net/http server, so the gap between the two is sailcdn's own work per request.
package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18596", "listen address (loopback only)")
	bodyFile := flag.String("body", "", "file whose bytes every response carries")
	flag.Parse()
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		log.Fatalf("nethttp-json: %s: loopback addresses only", *addr)
	}
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		log.Fatalf("nethttp-json: %v", err)
	}
	length := strconv.Itoa(len(body))
	handler := func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["Content-Type"] = []string{"application/x-amz-json-1.1"}
		h["Content-Length"] = []string{length}
		// A uuid-shaped request id, as sailcdn's X-Amzn-RequestId, so both answers are the same size.
		h["X-Amzn-Requestid"] = []string{"00000000-0000-4000-8000-000000000000"}
		_, _ = w.Write(body)
	}
	log.Fatal((&http.Server{Addr: *addr, Handler: http.HandlerFunc(handler)}).ListenAndServe())
}
