package sailtest

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/sailcdn/sailcdn/internal/edge"
)

// StartEdge makes the env's edge serve the store's current configuration at once and returns it. The
// edge runs from New on, as in `sailcdn serve` (metering on the env's server clock, flushed every
// 2 s; a 64 MiB cache on the wall clock); its loader picks up changes within 250 ms by itself, and
// StartEdge skips that wait for what was written before the call. Send viewer requests to
// e.Edge.URL with the distribution's domain name as Host (EdgeRequest).
func (e *Env) StartEdge() *edge.Edge {
	e.T.Helper()
	if e.EdgeService == nil {
		e.T.Fatal("StartEdge: this node serves no viewers")
	}
	if err := e.EdgeService.Reload(context.Background()); err != nil {
		e.T.Fatal(err)
	}
	return e.EdgeService
}

// EdgeRequest builds a viewer request for the distribution domain host, sent to the test edge.
func (e *Env) EdgeRequest(method, host, target string, body string) *http.Request {
	e.T.Helper()
	if e.Edge == nil {
		e.T.Fatal("EdgeRequest: this node serves no viewers")
	}
	var req *http.Request
	var err error
	if body == "" {
		req, err = http.NewRequest(method, e.Edge.URL+target, nil)
	} else {
		req, err = http.NewRequest(method, e.Edge.URL+target, strings.NewReader(body))
	}
	if err != nil {
		e.T.Fatal(err)
	}
	req.Host = host
	return req
}

// EdgeClient is an HTTP client for the test edge (no transparent compression, so what the edge
// sends is what the test reads).
func EdgeClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}
}
