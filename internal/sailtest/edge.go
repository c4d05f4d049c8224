package sailtest

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sailcdn/sailcdn/internal/edge"
	"github.com/sailcdn/sailcdn/internal/httpcache"
)

// EdgeOption adjusts the edge configuration before StartEdge builds it.
type EdgeOption func(*edge.Config)

// StartEdge starts the edge on an httptest server over the env's store, with metering (minutes
// follow the env's server clock, flushed every 2 s), a 64 MiB cache on the wall clock and a
// Prometheus registry, and runs its loader until the test ends. It sets e.Edge and e.EdgeService.
// Send viewer requests to e.Edge.URL with the distribution's domain name as Host (EdgeRequest).
func (e *Env) StartEdge(opts ...EdgeOption) *edge.Edge {
	e.T.Helper()
	log := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	m, err := edge.NewMeter(e.Store, e.Clock, reg, log)
	if err != nil {
		e.T.Fatal(err)
	}
	cfg := edge.Config{
		Store:    e.Store,
		Clock:    e.Clock,
		Cache:    httpcache.New(httpcache.Config{MaxBytes: 64 << 20}),
		Meter:    m,
		Registry: reg,
		Logger:   log,
	}
	for _, o := range opts {
		o(&cfg)
	}
	ed, err := edge.New(cfg)
	if err != nil {
		e.T.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(ed.Handler())
	ed.Instrument(srv.Config)
	srv.Listener = ed.Listener(srv.Listener, srv.Config)
	srv.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = ed.Run(ctx)
	}()
	// Cleanups run last-in first-out: the server stops, then the loader, then the final flush,
	// all before the store (registered by New) closes.
	e.T.Cleanup(func() {
		_ = ed.Close()
	})
	e.T.Cleanup(func() {
		cancel()
		<-done
	})
	e.T.Cleanup(srv.Close)
	e.Edge, e.EdgeService = srv, ed
	return ed
}

// EdgeRequest builds a viewer request for the distribution domain host, sent to the test edge.
func (e *Env) EdgeRequest(method, host, target string, body string) *http.Request {
	e.T.Helper()
	if e.Edge == nil {
		e.T.Fatal("EdgeRequest before StartEdge")
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
