package app

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"runtime/debug"
	"sync"

	"github.com/sailcdn/sailcdn/internal/edge"
	"github.com/sailcdn/sailcdn/internal/httpcache"
	"github.com/sailcdn/sailcdn/internal/meter"
	"github.com/sailcdn/sailcdn/internal/spool"
)

// newEdge builds the data plane over the node's store: the cache (on the wall clock, which the
// origins' Date fields are written in), the meter (whose minutes follow the server clock, so usage
// lands in the billing cycle the control plane sees) with the spool that delivers its usage to the
// store through outages, and the edge, which loads the configuration once before it returns.
func (n *Node) newEdge() error {
	cfg := n.cfg.Edge
	var m *meter.Meter
	if !cfg.NoMetering {
		sp, err := spool.New(spool.Config{
			Deliver: edge.StoreFlusher(n.Store, n.log), Dir: cfg.SpillDir, MaxDiskBytes: cfg.SpillMaxBytes,
			Registerer: n.Metrics, Logger: n.log,
		})
		if err != nil {
			return fmt.Errorf("--spill-dir: %w", err)
		}
		n.spool = sp
		m, err = meter.New(meter.Config{Flush: sp.Flush, Now: n.Clock.Now, Registerer: n.Metrics, Logger: n.log})
		if err != nil {
			return err
		}
	}
	var access io.Writer
	if cfg.AccessLog != "" {
		f, err := os.OpenFile(cfg.AccessLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
		if err != nil {
			return fmt.Errorf("--access-log: %w", err)
		}
		access, n.accessLog = f, f
	}
	var parent *url.URL
	if cfg.Parent != "" {
		var err error
		if parent, err = edge.ParseParent(cfg.Parent); err != nil {
			return err
		}
	}
	e, err := edge.New(edge.Config{
		Store:      n.Store,
		Clock:      n.Clock,
		Cache:      httpcache.New(httpcache.Config{MaxBytes: cfg.CacheSize, MaxInFlight: cfg.CacheInFlight, Logger: n.log}),
		Meter:      m,
		Registry:   n.Metrics,
		AccessLog:  access,
		Logger:     n.log,
		NoFastPath: cfg.NoFastPath,
		// HTTPS: the node's certificates; redirects point at the TLS port once it is bound.
		Certificates: n.Certificates.Edge,
		HTTPRedirect: cfg.HTTPRedirect,
		Parent:       parent,
		Node:         n.edgeNodeName(),
		Viewers:      cfg.Viewers,
	})
	if err != nil {
		return fmt.Errorf("edge: %w", err)
	}
	n.Edge = e
	return nil
}

// edgeNodeName is how the edge is listed in the store's edge registry: the host name and the edge
// address as configured.
func (n *Node) edgeNodeName() string {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown host"
	}
	return host + " " + n.cfg.Edge.Addr
}

// runEdge runs the edge's configuration loader, registration and meter flusher, and the spool's
// deliveries, until stopEdge.
func (n *Node) runEdge() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = n.Edge.Run(ctx) })
	if n.spool != nil {
		wg.Go(func() { n.spool.Run(ctx) })
	}
	n.stopEdge = func() {
		cancel()
		wg.Wait()
	}
}

// tuneGC sizes the garbage collector for a cache server. The process has a known memory budget (the
// cache plus a margin), so a soft memory limit lets the collector run rarely while there is room and
// hard when there is not; the default GOGC=100 made collection ~15 % of CPU on 1 KiB hits
// (docs/benchmarks.md). GOGC and GOMEMLIMIT in the environment still win. It is the process's
// setting, so Run applies it, not Start (a test process runs many nodes).
func tuneGC(cacheSize int64) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(cacheSize + 48<<20)
	}
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(400)
	}
}
