// Package app assembles a sailcdn node from its parts and runs it: the store, the server clock, the
// Lightsail API (awsjson over sigv4 over control), the console, the operator endpoints (admin), the
// data plane (edge, with its cache and meter), the quota watcher, health and metrics — as its Role
// asks. cmd/sailcdn maps flags into a Config and calls Run; the test harness (internal/sailtest) calls
// Start with a Config of its own, so tests exercise exactly the wiring that ships.
//
// The surfaces by role:
//
//	role  API port (--api-addr)                          edge port (--edge-addr)  admin port (--admin-addr)
//	all   API, console, /_sailcdn/, /metrics, health     viewers                  —
//	api   API, console, /_sailcdn/, /metrics, health     —                        —
//	edge  —                                              viewers                  /metrics, health
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/console"
	"github.com/sailcdn/sailcdn/internal/control"
	"github.com/sailcdn/sailcdn/internal/edge"
	"github.com/sailcdn/sailcdn/internal/loopback"
	"github.com/sailcdn/sailcdn/internal/spool"
	"github.com/sailcdn/sailcdn/internal/store"
	"github.com/sailcdn/sailcdn/internal/usage"
)

// Node is one running sailcdn node: what its Role serves, over one store.
type Node struct {
	Role  Role
	Store *store.DB
	// Clock is the server clock: billing cycles, operations, metering minutes.
	Clock *clock.Offset
	// Control is the Lightsail control plane; nil on edge nodes.
	Control *control.Service
	// Edge is the data plane; nil on API nodes.
	Edge *edge.Edge
	// Metrics is the registry /metrics serves: the Go runtime and process, the edge and its meter,
	// the quota watcher.
	Metrics *prometheus.Registry
	// Certificates is the certificate machinery: the CA (its root is public), the issuer, the edge's
	// certificate source.
	Certificates *Certificates

	cfg   Config
	log   *slog.Logger
	ready *readiness

	api, edge, admin *httpServer // nil for what the role does not serve
	edgeTLS          *httpServer // the edge's HTTPS port; nil without one

	accessLog io.Closer    // the edge's access log file, if any
	spool     *spool.Spool // delivers the meter's usage to the store; nil without metering
	stopEdge  func()       // stops the edge's loader, registration, meter flusher and spool (set by runEdge)
	stopLoops context.CancelFunc
	loops     sync.WaitGroup // the clock follower and the quota watcher

	// failed receives the error of a server that stopped serving on its own; Run shuts down then.
	failed       chan error
	shuttingDown atomic.Bool
	shutdownOnce sync.Once
	shutdownErr  error
}

// Start builds a node as cfg says, listens on its ports and serves until Shutdown. ctx bounds the
// start only (opening the store, migrating, loading the edge's configuration); the node then runs on
// its own until Shutdown. On error nothing is left open.
func Start(ctx context.Context, cfg Config) (_ *Node, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	keys := cfg.Keys
	if cfg.Dev {
		keys = append([]auth.Key{auth.DevKey}, keys...)
	}
	keyring, err := auth.NewKeyring(keys...)
	if err != nil {
		return nil, err
	}
	n := &Node{Role: cfg.Role, cfg: cfg, log: cfg.Logger, failed: make(chan error, 4), stopLoops: func() {}}
	defer func() {
		if err != nil {
			n.abort()
		}
	}()
	if n.Store, err = store.Open(ctx, cfg.Store); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	savedOffset, err := n.Store.ClockOffset(ctx)
	if err != nil {
		return nil, err
	}
	if n.Clock = cfg.Clock; n.Clock == nil {
		// The server clock resumes where the admin endpoint last put it.
		n.Clock = clock.NewOffset(nil)
		n.Clock.SetOffset(savedOffset)
	}
	if err := n.registerOrigins(ctx); err != nil {
		return nil, err
	}
	// API nodes open the CA (creating it at the first start of a store) and issue with it; edge
	// nodes open only the keys of the certificates they serve, never the CA's.
	if n.Certificates, err = openCertificates(ctx, n.Store, n.Clock, cfg.Certificates, cfg.Control.EdgeDomain, cfg.Role.ServesAPI(), n.log); err != nil {
		return nil, fmt.Errorf("certificates: %w", err)
	}
	n.Metrics = prometheus.NewRegistry()
	n.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := promhttp.HandlerFor(n.Metrics, promhttp.HandlerOpts{})
	verifier := newVerifier(keyring)
	access := &admin.Access{Dev: cfg.Dev, Verifier: verifier, Keyring: keyring}
	n.ready = newReadiness(n)

	var watcher *usage.Watcher
	if cfg.Role.ServesAPI() {
		c := cfg.Control
		n.Control = control.New(control.Config{
			Store: n.Store, Clock: n.Clock, Catalog: c.Catalog, EdgeDomain: c.EdgeDomain,
			MaxDistributions: c.MaxDistributions, DeployDelay: c.DeployDelay, EdgeTimeout: c.EdgeTimeout, PageSize: c.PageSize,
			Certificates: n.Certificates.Control, Logger: n.log,
		})
		watcher = &usage.Watcher{DB: n.Store, Catalog: c.Catalog, Clock: n.Clock, Logger: n.log}
		if err := watcher.Register(n.Metrics); err != nil {
			return nil, err
		}
		ops, err := admin.New(admin.Config{
			Store: n.Store, Clock: n.Clock, Catalog: c.Catalog, EdgeTimeout: c.EdgeTimeout, Access: access, Metrics: metrics,
			Ready: n.ready.checks, Role: string(cfg.Role), Logger: n.log, CARoot: n.Certificates.Authority.RootPEM(),
		})
		if err != nil {
			return nil, err
		}
		mux := http.NewServeMux()
		mux.Handle("/", newLightsailAPI(n.Control, verifier, n))
		mux.Handle(console.Prefix, console.Handler()) // static files; its data comes from signed API calls
		mux.HandleFunc("GET "+console.Prefix+"settings.json", n.consoleSettings)
		ops.Mount(mux)
		n.api = &httpServer{name: "api", srv: cfg.API.Limits.newServer(mux, n.log)}
	}
	if cfg.Role.ServesEdge() {
		if err := n.newEdge(); err != nil {
			return nil, err
		}
		n.edge = &httpServer{name: "edge", srv: n.Edge.NewServer()}
		if !cfg.Edge.NoTLS {
			n.edgeTLS = &httpServer{name: "edge-tls", srv: n.Edge.NewTLSServer()}
		}
		if !cfg.Role.ServesAPI() {
			ops, err := admin.New(admin.Config{Access: access, Metrics: metrics, Ready: n.ready.checks, Role: string(cfg.Role), Logger: n.log})
			if err != nil {
				return nil, err
			}
			n.admin = &httpServer{name: "admin", srv: adminLimits.newServer(ops, n.log)}
		}
	}

	// Every port is opened before any is served: a port that cannot be opened fails the start with
	// nothing half-running.
	if n.api != nil {
		if err := n.api.listen(cfg.API.Addr, "--api-addr", cfg.Dev, cfg.API.Limits.listener); err != nil {
			return nil, err
		}
	}
	if n.admin != nil {
		if err := n.admin.listen(cfg.Admin.Addr, "--admin-addr", cfg.Dev, adminLimits.listener); err != nil {
			return nil, err
		}
	}
	if n.edge != nil {
		// The edge bounds its own connections (internal/edge); its listener meters every byte and
		// runs the fast path.
		if err := n.edge.listen(cfg.Edge.Addr, "--edge-addr", false, func(ln net.Listener) net.Listener { return n.Edge.Listener(ln, n.edge.srv) }); err != nil {
			return nil, err
		}
	}
	if n.edgeTLS != nil {
		var tlsErr error
		wrap := func(ln net.Listener) net.Listener {
			tl, err := n.Edge.TLSListener(ln, n.edgeTLS.srv)
			if err != nil {
				tlsErr = err
				return ln
			}
			return tl
		}
		if err := n.edgeTLS.listen(cfg.Edge.TLSAddr, "--edge-tls-addr", false, wrap); err != nil {
			return nil, err
		}
		if tlsErr != nil {
			return nil, fmt.Errorf("--edge-tls-addr: %w", tlsErr)
		}
		// Plain-HTTP redirects point at the port actually bound (":0" in tests).
		n.Edge.SetHTTPSPort(n.edgeTLS.listeners[0].addr.(*net.TCPAddr).Port)
	}

	loops, stop := context.WithCancel(context.Background())
	n.stopLoops = stop
	n.loops.Go(func() { followClock(loops, n.Store, n.Clock, savedOffset, n.log) })
	if watcher != nil {
		n.loops.Go(func() { watcher.Run(loops) })
	}
	if n.Control != nil {
		// The certificate lifecycle (validation, issuance, renewal) runs where the control plane does.
		n.loops.Go(func() { n.Control.RunCertificates(loops) })
	}
	n.loops.Go(func() { n.Certificates.Run(loops) }) // the default certificate's renewal
	if n.Edge != nil {
		n.runEdge()
	}
	for _, s := range n.servers() {
		s.serve(n.failed)
	}
	a := n.Addrs()
	n.log.Info("sailcdn serving", "role", string(cfg.Role), "api", a.API, "edge", a.Edge, "edge_tls", a.EdgeTLS, "admin", a.Admin,
		"store", n.Store.Driver(), "dev", cfg.Dev, "keys", keyring.Len(),
		"cache_bytes", cfg.Edge.CacheSize, "metering", !cfg.Edge.NoMetering, "fast_path", !cfg.Edge.NoFastPath)
	return n, nil
}

// Run starts a node as cfg says, serves until ctx ends or a server fails, then shuts down gracefully
// within cfg.ShutdownTimeout. It is the whole life of `sailcdn serve`.
func Run(ctx context.Context, cfg Config) error {
	n, err := Start(ctx, cfg)
	if err != nil {
		return err
	}
	if n.Edge != nil {
		tuneGC(n.cfg.Edge.CacheSize)
	}
	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-n.failed:
		// A server failed: still shut the others down and flush the meter before the store closes.
	}
	n.log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), n.cfg.ShutdownTimeout)
	defer cancel()
	return errors.Join(serveErr, n.Shutdown(shutdownCtx))
}

// Addrs are where a node listens, as host:port; empty for what its role does not serve.
type Addrs struct {
	API, Edge, EdgeTLS, Admin string
}

// Addrs reports where n listens (with the ports the system chose for ":0").
func (n *Node) Addrs() Addrs {
	var a Addrs
	for _, s := range []struct {
		srv *httpServer
		to  *string
	}{{n.api, &a.API}, {n.edge, &a.Edge}, {n.edgeTLS, &a.EdgeTLS}, {n.admin, &a.Admin}} {
		if s.srv != nil && len(s.srv.listeners) > 0 {
			*s.to = s.srv.listeners[0].addr.String()
		}
	}
	return a
}

// Shutdown stops n gracefully, in the order that loses nothing: the edge stops accepting viewers and
// finishes the requests in flight (net/http's and the fast path's), its loader stops, the meter
// flushes a last time; then the API and admin ports finish theirs (their /readyz says "shutting down"
// meanwhile, so load balancers drain the node); then the background loops stop and the store closes.
// Past ctx's deadline remaining connections are closed. Later calls return the first call's result.
func (n *Node) Shutdown(ctx context.Context) error {
	n.shutdownOnce.Do(func() { n.shutdownErr = n.shutdown(ctx) })
	return n.shutdownErr
}

func (n *Node) shutdown(ctx context.Context) error {
	n.shuttingDown.Store(true)
	var errs []error
	if n.edge != nil {
		errs = append(errs, n.edge.shutdown(ctx))
		if n.edgeTLS != nil {
			errs = append(errs, n.edgeTLS.shutdown(ctx))
		}
		n.stopEdge()
		errs = append(errs, n.Edge.Close()) // the fast path's responses finish, then the meter's final flush
		if n.spool != nil {
			errs = append(errs, n.spool.Close(ctx)) // delivered, or kept in --spill-dir for the next start
		}
	}
	if n.accessLog != nil {
		errs = append(errs, n.accessLog.Close())
	}
	for _, s := range []*httpServer{n.api, n.admin} {
		if s != nil {
			errs = append(errs, s.shutdown(ctx))
		}
	}
	n.stopLoops()
	n.loops.Wait()
	errs = append(errs, n.Certificates.Close())
	errs = append(errs, n.Store.Close())
	return errors.Join(errs...)
}

// abort undoes a Start that failed part-way: nothing is serving yet.
func (n *Node) abort() {
	for _, s := range n.servers() {
		for _, l := range s.listeners {
			l.ln.Close()
		}
	}
	if n.Edge != nil {
		_ = n.Edge.Close()
	}
	if n.spool != nil {
		_ = n.spool.Close(context.Background()) // nothing counted yet; releases --spill-dir
	}
	if n.accessLog != nil {
		n.accessLog.Close()
	}
	if n.Certificates != nil {
		_ = n.Certificates.Close()
	}
	if n.Store != nil {
		n.Store.Close()
	}
}

func (n *Node) servers() []*httpServer {
	return slices.DeleteFunc([]*httpServer{n.api, n.admin, n.edge, n.edgeTLS}, func(s *httpServer) bool { return s == nil })
}

// registerOrigins registers cfg.Origins, as POST /_sailcdn/origins would.
func (n *Node) registerOrigins(ctx context.Context) error {
	for _, o := range n.cfg.Origins {
		if err := admin.ValidateOrigin(&o); err != nil {
			return fmt.Errorf("--origin %s=%s: %w", o.Name, o.URL, err)
		}
		err := n.Store.PutOrigin(ctx, store.Origin{Name: o.Name, URL: o.URL, ResourceType: o.ResourceType, RegionName: o.RegionName, CreatedAt: n.Clock.Now()})
		if err != nil {
			return err
		}
	}
	return nil
}

// httpServer is one of the node's HTTP servers and the listeners it serves (the edge will have more
// than one once it serves HTTPS).
type httpServer struct {
	name      string // "api", "edge" or "admin": logs and readiness
	srv       *http.Server
	listeners []*servedListener // appended before serving starts, then fixed
}

// servedListener is one listener of an httpServer and whether it still serves.
type servedListener struct {
	ln   net.Listener // as served (wrapped)
	addr net.Addr     // as bound
	mu   sync.Mutex   // guards stopped
	// stopped is why Serve returned (http.ErrServerClosed after Shutdown); nil while it serves.
	stopped error
}

func (l *servedListener) stoppedErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stopped
}

// listen opens addr (flag names it in errors) and wraps the listener with wrap. With dev, the address
// actually bound must be loopback: a host name is checked by its spelling before listening, but
// resolves to whatever DNS says.
func (s *httpServer) listen(addr, flag string, dev bool, wrap func(net.Listener) net.Listener) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	if dev && !loopback.Is(ln.Addr().String()) {
		ln.Close()
		return devNotLoopback(flag, addr+" ("+ln.Addr().String()+")")
	}
	s.listeners = append(s.listeners, &servedListener{ln: wrap(ln), addr: ln.Addr()})
	return nil
}

// serve serves every listener; a listener that stops serving other than by Shutdown is reported on failed.
func (s *httpServer) serve(failed chan<- error) {
	for _, l := range s.listeners {
		go func() {
			err := s.srv.Serve(l.ln)
			l.mu.Lock()
			l.stopped = err
			l.mu.Unlock()
			if !errors.Is(err, http.ErrServerClosed) {
				select {
				case failed <- fmt.Errorf("%s server on %s: %w", s.name, l.addr, err):
				default: // one failure is enough to stop the node
				}
			}
		}()
	}
}

// shutdown stops accepting, waits for the requests in flight until ctx ends, then closes what is left.
func (s *httpServer) shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = errors.Join(err, s.srv.Close())
	}
	if err != nil {
		return fmt.Errorf("%s server: %w", s.name, err)
	}
	return nil
}

// consoleSettings tells the console what it cannot learn from the API: the edge's HTTPS port, for the
// distributions' HTTPS links (absent on a node without one). Public, like the console's files.
func (n *Node) consoleSettings(w http.ResponseWriter, _ *http.Request) {
	var settings struct {
		HTTPSPort int `json:"httpsPort,omitempty"`
	}
	if a := n.Addrs(); a.EdgeTLS != "" {
		if _, port, err := net.SplitHostPort(a.EdgeTLS); err == nil {
			settings.HTTPSPort, _ = strconv.Atoi(port)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(settings)
}
