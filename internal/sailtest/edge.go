package sailtest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sailcdn/sailcdn/internal/edge"
)

// StartEdge makes the env's edge serve the store's current configuration at once and returns it. The
// edge runs from New on, as in `sailcdn serve` (metering on the env's server clock, flushed every
// 2 s; a 64 MiB cache on the wall clock); its loader picks up changes by itself — at once for
// commits of this node's store handle and, on PostgreSQL, of any node; within 250 ms otherwise — and
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

// TLSConfig is what a viewer of the test edge's HTTPS port uses: the node's CA as the only root and
// the server name to ask for (SNI). Certificates are written in wall-clock time, which the default
// verification uses.
func (e *Env) TLSConfig(serverName string) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(e.CA.Root())
	return &tls.Config{RootCAs: pool, ServerName: serverName}
}

// TLSClient is an HTTP client that reaches the test edge's HTTPS port whatever the URL's host, with
// cfg (TLSConfig for the usual case), over HTTP/1.1 unless h2 is true. It does not follow redirects.
func (e *Env) TLSClient(cfg *tls.Config, h2 bool) *http.Client {
	addr := e.EdgeTLSAddr
	tr := &http.Transport{
		TLSClientConfig:    cfg,
		DisableCompression: true,
		ForceAttemptHTTP2:  h2,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{}
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// EdgeClient is an HTTP client for the test edge (no transparent compression, so what the edge
// sends is what the test reads).
func EdgeClient() *http.Client {
	return &http.Client{Transport: &http.Transport{DisableCompression: true}, Timeout: 30 * time.Second}
}
