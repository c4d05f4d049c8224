// Package edge is sailcdn's data plane: it routes each viewer request by Host to a distribution,
// picks the cache behaviour for its path, applies the distribution's forwarding rules to build the
// origin request and the cache key, and serves it through the shared RFC 9111 cache
// (internal/httpcache) from the distribution's origin, metering every byte (internal/meter).
//
// Configuration comes from the store (loader.go): the loader is woken by the store's change feed
// (in process, and through PostgreSQL LISTEN/NOTIFY across processes) and polls the configuration
// generation as a fallback; when it moved, it loads what edges serve in one snapshot, compiles an
// immutable snapshot and swaps it in atomically, so a change written by any process sharing the
// database reaches the edge within a second. A distribution whose CacheResetAt moved has its cache
// purged. The edge reports the generation it serves to the store's edge registry (registry.go), which
// is how the API knows that a change is deployed.
package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/fastpath"
	"github.com/sailcdn/sailcdn/internal/httpcache"
	"github.com/sailcdn/sailcdn/internal/meter"
	"github.com/sailcdn/sailcdn/internal/store"
)

// DefaultPollInterval is how often the loader checks the store for configuration changes when no
// notifications arrive (see loader.go).
const DefaultPollInterval = 250 * time.Millisecond

// Config configures an Edge. Zero values take the documented defaults.
type Config struct {
	// Store holds the distributions and origins; required.
	Store *store.DB
	// Clock stamps access-log lines. Default: the wall clock. (Usage minutes follow the meter's
	// clock, see NewMeter; cache freshness follows the cache's, which should be the wall clock
	// because it is compared with the origins' Date fields.)
	Clock clock.Clock
	// Cache is the shared cache. Default: httpcache.New with its defaults (256 MiB, wall clock).
	Cache *httpcache.Cache
	// Meter counts traffic per distribution. nil turns metering off: no listener wrapping, no
	// per-request accounting, no usage rows.
	Meter *meter.Meter
	// Registry receives the edge's Prometheus collectors (cache results, hit ratio, config
	// reloads) and is what MetricsHandler serves. nil: no edge metrics.
	Registry *prometheus.Registry
	// Transport reaches the origins. Default: NewTransport(). With a Meter, a copy of an
	// *http.Transport is used whose dialer is wrapped (Meter.Origin) so that the bytes sent to
	// origins are metered; it must speak HTTP/1.1 to origins (one exchange at a time per
	// connection), as it does with a custom dialer unless ForceAttemptHTTP2 is set. Another
	// RoundTripper is used as it is and its bytes are not counted.
	Transport http.RoundTripper
	// AccessLog, when set, receives one line per request in the combined log format plus
	// sailcdn fields (see accessLog).
	AccessLog io.Writer
	// Name identifies this edge in Via fields ("1.1 <Name> (sailcdn)"). Default "sailcdn".
	Name string
	// Node names this edge in the store's edge registry, for operators. Default: the host name and
	// the process id.
	Node string
	// PollInterval between configuration checks while no notifications arrive. Default
	// DefaultPollInterval.
	PollInterval time.Duration
	// NoFastPath serves every request through net/http, without the HTTP/1.1 fast path for
	// cache hits (see Listener). For comparisons; the responses are the same either way.
	NoFastPath bool
	// Certificates gives the TLS port its certificates (internal/ca.Certificates). nil: every
	// handshake fails with unrecognized_name.
	Certificates CertificateSource
	// HTTPRedirect decides which plain-HTTP requests are redirected to HTTPS (RedirectCertificate by
	// default, see redirect.go); HTTPSPort is the TLS port redirects point to (0: no redirects; see
	// also SetHTTPSPort).
	HTTPRedirect string
	HTTPSPort    int
	// Parent is another sailcdn edge of the same store that this edge fetches its misses from
	// instead of the origins (tier.go; see ParseParent). nil: the origins.
	Parent *url.URL
	// Viewers bounds what a viewer can hold: timeouts and connections. Zero fields take
	// DefaultViewerLimits' values.
	Viewers ViewerLimits
	Logger  *slog.Logger
}

// Edge serves viewers. Create it with New, serve Handler (through Listener and Instrument, or
// NewServer, so that metering sees the connections), run Run, and Close it after the HTTP server
// has shut down.
type Edge struct {
	db        *store.DB
	clock     clock.Clock
	cache     *httpcache.Cache
	meter     *meter.Meter
	registry  *prometheus.Registry
	metrics   *edgeMetrics
	transport http.RoundTripper
	access    *accessLog
	log       *slog.Logger
	via       string
	poll      time.Duration
	handler   http.Handler
	noFast    bool

	certs     CertificateSource
	tlsBase   *tls.Config
	tlsHosts  atomic.Pointer[tlsHosts]
	tlsStats  *tlsMetrics
	redirect  string
	httpsPort atomic.Int32 // the TLS port redirects point to; 0: none

	viewers ViewerLimits // with defaults applied; 0 is none
	slots   *connSlots   // the viewer connection bounds of every port

	fastMu sync.Mutex           // guards fast
	fast   []*fastpath.Listener // every fast-path listener made by Listener

	snap atomic.Pointer[snapshot]
	ids  requestIDs

	reloadMu sync.Mutex // serialises reloads (Run's loop and explicit Reload calls)

	id, node string                            // the edge's registry id (drawn in New) and name
	report   chan struct{}                     // asks the registration loop to report now
	watch    atomic.Pointer[store.ChangeWatch] // the loader's, while Run runs

	tier       tier        // the parent, and the key that authenticates child requests
	parentDown atomic.Bool // the last exchange with the parent could not connect (logged once)
}

// New builds an Edge and loads the configuration once, so that it routes correctly from its first
// request.
func New(cfg Config) (*Edge, error) {
	if cfg.Store == nil {
		return nil, errors.New("edge: Config.Store is required")
	}
	e := &Edge{
		db: cfg.Store, clock: cfg.Clock, cache: cfg.Cache, meter: cfg.Meter, registry: cfg.Registry,
		transport: cfg.Transport, log: cfg.Logger, poll: cfg.PollInterval, noFast: cfg.NoFastPath,
		certs: cfg.Certificates, redirect: cfg.HTTPRedirect,
		id: uuid.NewString(), node: cfg.Node, report: make(chan struct{}, 1),
	}
	if e.node == "" {
		host, _ := os.Hostname()
		e.node = fmt.Sprintf("%s pid %d", host, os.Getpid())
	}
	e.httpsPort.Store(int32(cfg.HTTPSPort))
	if err := checkRedirect(e.redirect); err != nil {
		return nil, err
	}
	e.tlsBase = &tls.Config{GetConfigForClient: e.configForClient, NextProtos: []string{"h2", "http/1.1"}}
	if e.clock == nil {
		e.clock = clock.Wall{}
	}
	if e.cache == nil {
		e.cache = httpcache.New(httpcache.Config{})
	}
	if e.transport == nil {
		e.transport = NewTransport()
	}
	if t, ok := e.transport.(*http.Transport); ok && e.meter != nil {
		t = t.Clone()
		dial := t.DialContext
		if dial == nil {
			dial = (&net.Dialer{}).DialContext
		}
		t.DialContext = e.meter.Origin(dial)
		e.transport = t
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.poll <= 0 {
		e.poll = DefaultPollInterval
	}
	e.viewers = cfg.Viewers.withDefaults()
	e.slots = newConnSlots(e.viewers.MaxConns, e.viewers.MaxConnsPerClient)
	name := cfg.Name
	if name == "" {
		name = "sailcdn"
	}
	e.via = "1.1 " + name + " (sailcdn)"
	if cfg.AccessLog != nil {
		e.access = &accessLog{w: cfg.AccessLog}
	}
	if cfg.Registry != nil {
		m, err := newEdgeMetrics(cfg.Registry, e.cache, e.FastPathStats, e.ConnectionStats)
		if err != nil {
			return nil, err
		}
		e.metrics = m
		if e.tlsStats, err = newTLSMetrics(cfg.Registry); err != nil {
			return nil, err
		}
	}
	e.ids = newRequestIDs()
	e.handler = noUpgradeWithBody(h2c.NewHandler(http.HandlerFunc(e.serveHTTP), &http2.Server{}))

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	key, err := e.db.Secret(ctx, "tier")
	if err != nil {
		return nil, fmt.Errorf("edge: the store's tier key: %w", err)
	}
	e.tier = tier{parent: cfg.Parent, key: []byte(key), self: e.id, now: time.Now}
	if _, err := e.reload(ctx, true); err != nil {
		return nil, fmt.Errorf("edge: initial configuration load: %w", err)
	}
	return e, nil
}

// noUpgradeWithBody serves a request that asks to upgrade to h2c while carrying a body as plain
// HTTP/1.1: x/net's h2c handler reads such a body whole into memory before anything else runs, so any
// viewer could make the edge buffer gigabytes. Bodiless upgrades (curl --http2) still upgrade.
func noUpgradeWithBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength != 0 && r.Header.Get("Upgrade") != "" {
			r.Header.Del("Upgrade")
			r.Header.Del("Http2-Settings")
		}
		h.ServeHTTP(w, r)
	})
}

// Handler serves viewers over HTTP/1.1 and cleartext HTTP/2 (h2c, both prior knowledge and
// Upgrade for requests without a body).
func (e *Edge) Handler() http.Handler { return e.handler }

// Listener wraps ln for srv, which must then Serve the result (call Instrument(srv) first). It
// bounds the viewer connections (ViewerLimits.MaxConns and MaxConnsPerClient), the meter counts
// every byte at the socket (unless metering is off), and, unless Config.NoFastPath, the HTTP/1.1
// fast path (internal/fastpath) answers plain cache hits itself and hands each connection to srv
// at its first request that is anything else.
func (e *Edge) Listener(ln net.Listener, srv *http.Server) net.Listener {
	return e.listener(e.limit(ln), srv, false)
}

// limit bounds the viewer connections of ln (ViewerLimits.MaxConns and MaxConnsPerClient, shared
// by every port), when there is a bound.
func (e *Edge) limit(ln net.Listener) net.Listener {
	if e.viewers.MaxConns <= 0 && e.viewers.MaxConnsPerClient <= 0 {
		return ln
	}
	return &connLimiter{Listener: ln, slots: e.slots}
}

// listener is Listener without the bounds; tls says whether ln's connections are TLS
// (TLSListener's, whose raw listener is bounded before the handshakes).
func (e *Edge) listener(ln net.Listener, srv *http.Server, tls bool) net.Listener {
	ln = e.meter.Listener(ln)
	if e.noFast {
		return ln
	}
	fl := fastpath.NewListener(ln, fastpath.Config{Server: srv, Handler: fastHits{e: e, tls: tls}, ConnState: e.meter.ConnState})
	e.fastMu.Lock()
	e.fast = append(e.fast, fl)
	e.fastMu.Unlock()
	return fl
}

// ConnectionStats returns the viewer connection counters of every listener made by Listener and
// TLSListener.
func (e *Edge) ConnectionStats() ConnectionStats { return e.slots.stats() }

// FastPathStats sums the fast-path counters of every listener made by Listener.
func (e *Edge) FastPathStats() fastpath.Stats {
	e.fastMu.Lock()
	defer e.fastMu.Unlock()
	var s fastpath.Stats
	for _, fl := range e.fast {
		st := fl.Stats()
		s.Served += st.Served
		s.HandedOff += st.HandedOff
	}
	return s
}

// Instrument installs the meter's connection hooks on srv, keeping hooks already there. Call it
// before srv starts (for an httptest.Server: on its Config, before Start).
func (e *Edge) Instrument(srv *http.Server) { e.meter.Instrument(srv) }

// NewServer returns an http.Server for the edge: Handler, the meter's hooks and timeouts fit for
// viewers on the Internet. Serve it on Listener(ln, srv).
//
// Its ReadHeaderTimeout and IdleTimeout are the viewer header and idle timeouts (the fast path
// applies them as net/http does); request bodies get the viewer read timeout per read (see
// serveHTTP). Its WriteTimeout is the viewer write timeout: net/http (and the fast path) set it as each
// request begins, which bounds the writes net/http makes itself (a 400, "100 Continue"), and the
// edge moves it forward before each write of a response (viewerWriter), so that it bounds every
// write, not the response as a whole.
func (e *Edge) NewServer() *http.Server {
	srv := &http.Server{
		Handler:           e.handler,
		ReadHeaderTimeout: e.viewers.HeaderTimeout,
		IdleTimeout:       e.viewers.IdleTimeout,
		WriteTimeout:      e.viewers.WriteTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
	}
	e.Instrument(srv)
	return srv
}

// MetricsHandler serves the Prometheus registry given in Config.Registry (404 without one).
func (e *Edge) MetricsHandler() http.Handler {
	if e.registry == nil {
		return http.NotFoundHandler()
	}
	return promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{})
}

// Run keeps the configuration current, reports the edge to the store's registry and runs the meter's
// flusher until ctx ends; it then leaves the registry and returns nil.
func (e *Edge) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { e.meter.Run(ctx) })
	wg.Go(func() { e.register(ctx) })
	e.follow(ctx)
	wg.Wait()
	return nil
}

// Close waits (up to 10 s) for the fast path's connections to finish their responses, then
// flushes the meter a last time. Call it after the edge's HTTP server has shut down (which closes
// the listeners).
func (e *Edge) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.fastMu.Lock()
	fast := slices.Clone(e.fast)
	e.fastMu.Unlock()
	var err error
	for _, fl := range fast {
		if ferr := fl.Shutdown(ctx); ferr != nil {
			err = errors.Join(err, fmt.Errorf("edge: fast-path connections: %w", ferr))
		}
	}
	if merr := e.meter.Close(ctx); merr != nil {
		err = errors.Join(err, fmt.Errorf("edge: final usage flush: %w", merr))
	}
	return err
}

// Reload checks the store and, if the configuration changed, swaps in a new snapshot. Run's loader
// calls it when the store signals a change and at every poll; tests may call it to skip the wait.
func (e *Edge) Reload(ctx context.Context) error {
	_, err := e.reload(ctx, false)
	return err
}

// Generation is the store's configuration generation the edge currently serves.
func (e *Edge) Generation() int64 { return e.snap.Load().generation }

// ID is the edge's id in the store's edge registry, drawn when it was created.
func (e *Edge) ID() string { return e.id }
