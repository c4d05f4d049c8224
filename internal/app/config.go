package app

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/control"
	"github.com/sailcdn/sailcdn/internal/edge"
	"github.com/sailcdn/sailcdn/internal/httpcache"
	"github.com/sailcdn/sailcdn/internal/loopback"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Config is one sailcdn node. cmd/sailcdn maps its flags into it (each field names its flag); zero
// values take the documented defaults, which are the flags' defaults.
type Config struct {
	// Role decides what the node serves. Default RoleAll (--role).
	Role Role
	// Store is the database: an SQLite file (--data DIR: DIR/sailcdn.db) or PostgreSQL
	// (--database-url). Required. The node opens it, applies pending migrations, and closes it last
	// on shutdown.
	Store store.Config
	// Dev is developer mode (--dev): the well-known key auth.DevKey (test/test) is added and the
	// admin-only endpoints are open to requests addressed to loopback, so the ports that serve them
	// (the API port; an edge node's admin port) must be loopback addresses.
	Dev bool
	// Keys are the access keys besides Dev's (--credentials FILE). Every request is authenticated, so
	// a node without Dev needs at least one.
	Keys []auth.Key
	// Clock is the server clock. nil: a new clock placed where POST /_sailcdn/clock last put it (the
	// offset saved in the store). A given clock is used as it is (tests start theirs at a fixed
	// date, and several nodes of one test share one). Either way it then follows moves saved by any
	// node sharing the store, within a second.
	Clock *clock.Offset
	// Origins are registered at start (or updated, by name and region) as POST /_sailcdn/origins
	// would (--origin NAME=URL).
	Origins []admin.OriginJSON
	// Logger receives the node's logs. Default slog.Default().
	Logger *slog.Logger
	// ShutdownTimeout bounds Run's graceful shutdown after its context ends. Default 10s.
	ShutdownTimeout time.Duration

	Control ControlConfig
	API     APIConfig
	Edge    EdgeConfig
	Admin   AdminConfig
	// Certificates is how certificates are validated, issued and protected at rest.
	Certificates CertificatesConfig
}

// ControlConfig are the Lightsail service's rules, applied by nodes that serve the API.
type ControlConfig struct {
	// Catalog is the bundle catalog (--bundles FILE). Default billing.DefaultCatalog().
	Catalog billing.Catalog
	// EdgeDomain is the suffix of distributions' domain names (--edge-domain). Default "cdn.localhost".
	EdgeDomain string
	// MaxDistributions per account (--max-distributions). Default 20, Lightsail's quota.
	MaxDistributions int
	// PageSize of GetDistributions (--page-size). Default 25.
	PageSize int
	// DeployDelay is the least time a change reports InProgress before Deployed, and a cache reset
	// InProgress before Completed (--deploy-delay). Default 2s. Beyond it they wait for every live
	// edge to serve them.
	DeployDelay time.Duration
	// EdgeTimeout is how long an edge may stay silent in the store's edge registry and still count as
	// live, that is, be waited for before a change reports Deployed (--edge-timeout). Default
	// DefaultEdgeTimeout (10s); at least MinEdgeTimeout.
	EdgeTimeout time.Duration
}

// APIConfig is the API port of nodes with RoleAll or RoleAPI: the Lightsail API at POST /, the
// console, the admin endpoints, /metrics, /healthz and /readyz.
type APIConfig struct {
	// Addr is the listen address (--api-addr). Default DefaultAPIAddr.
	Addr string
	// Limits bound the port's connections (--api-*-timeout, --api-max-conns). Zero fields take
	// DefaultAPILimits' values.
	Limits ServerLimits
}

// EdgeConfig is the data plane of nodes with RoleAll or RoleEdge.
type EdgeConfig struct {
	// Addr is the viewers' listen address (--edge-addr). Default DefaultEdgeAddr.
	Addr string
	// CacheSize is the cache's byte budget (--cache-size). Default httpcache.DefaultMaxBytes. Run
	// also sizes the garbage collector from it (tuneGC).
	CacheSize int64
	// NoMetering serves without metering: no usage rows, no per-distribution traffic metrics
	// (--no-metering; for benchmarks).
	NoMetering bool
	// NoFastPath serves every request through net/http (--no-fast-path; for comparisons, the
	// responses are the same).
	NoFastPath bool
	// AccessLog is a file the edge appends one line per request to (--access-log). Empty: none.
	AccessLog string
	// TLSAddr is the viewers' HTTPS listen address (--edge-tls-addr). Default DefaultEdgeTLSAddr.
	TLSAddr string
	// NoTLS opens no HTTPS port (--edge-tls-addr "").
	NoTLS bool
	// HTTPRedirect says which plain-HTTP requests are redirected to HTTPS (--http-redirect):
	// edge.RedirectCertificate (default), edge.RedirectAlways or edge.RedirectNever.
	HTTPRedirect string
	// SpillDir is where usage waiting for an unreachable store is written once more than
	// spool.DefaultMaxMemoryRows rows wait in memory, and found again at the next start
	// (--spill-dir). Empty: memory only. One node per directory.
	SpillDir string
	// SpillMaxBytes bounds SpillDir (--spill-max). Default spool.DefaultMaxDiskBytes (1 GiB).
	SpillMaxBytes int64
	// Parent is the base URL of another sailcdn edge of the same store that this edge fetches its
	// cache misses from instead of the origins, its plain-HTTP port http://host:port (--parent; tiered caching,
	// internal/edge/tier.go). Empty: the origins.
	Parent string
	// Viewers bound what one viewer can hold: timeouts and connections (--viewer-*-timeout,
	// --viewer-max-conns, --viewer-max-conns-per-client). Zero fields take
	// edge.DefaultViewerLimits' values; negative ones turn the bound off.
	Viewers edge.ViewerLimits
	// CacheInFlight bounds the bytes all origin fills in progress hold (--cache-in-flight).
	// Default httpcache.DefaultMaxInFlight.
	CacheInFlight int64
}

// AdminConfig is the admin port of edge nodes: /healthz, /readyz and /metrics. Nodes that serve the
// API answer those on the API port and open no admin port.
type AdminConfig struct {
	// Addr is the listen address (--admin-addr). Default DefaultAdminAddr: loopback, so that metrics
	// and health are not published by accident; give a private address for a load balancer's checks.
	Addr string
}

// Default listen addresses.
const (
	DefaultAPIAddr  = "127.0.0.1:4580"
	DefaultEdgeAddr = "127.0.0.1:8080"
	// DefaultEdgeTLSAddr is the edge's HTTPS port: 8443 beside 8080, as 443 beside 80.
	DefaultEdgeTLSAddr = "127.0.0.1:8443"
	DefaultAdminAddr   = "127.0.0.1:4590"
)

// defaultShutdownTimeout bounds a graceful shutdown: long enough for the responses in flight and the
// meter's final flush, short enough for a supervisor's stop timeout (systemd's default is 90 s).
const defaultShutdownTimeout = 10 * time.Second

// withDefaults returns c with every zero field that has a default filled in.
func (c Config) withDefaults() Config {
	if c.Role == "" {
		c.Role = RoleAll
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.ShutdownTimeout <= 0 {
		c.ShutdownTimeout = defaultShutdownTimeout
	}
	if c.Control.EdgeDomain == "" {
		c.Control.EdgeDomain = "cdn.localhost"
	}
	if len(c.Control.Catalog.Bundles) == 0 {
		c.Control.Catalog = billing.DefaultCatalog()
	}
	if c.Control.EdgeTimeout == 0 {
		c.Control.EdgeTimeout = DefaultEdgeTimeout
	}
	if c.API.Addr == "" {
		c.API.Addr = DefaultAPIAddr
	}
	c.API.Limits = c.API.Limits.withDefaults(DefaultAPILimits)
	if c.Edge.Addr == "" {
		c.Edge.Addr = DefaultEdgeAddr
	}
	if c.Edge.TLSAddr == "" {
		c.Edge.TLSAddr = DefaultEdgeTLSAddr
	}
	if c.Edge.CacheSize == 0 {
		c.Edge.CacheSize = httpcache.DefaultMaxBytes
	}
	if c.Admin.Addr == "" {
		c.Admin.Addr = DefaultAdminAddr
	}
	return c
}

// errNoCredentials refuses to start a node nobody could call.
var errNoCredentials = errors.New("no credentials: every request must be authenticated, so start with --dev (developer key test/test on loopback) or --credentials FILE")

// validate refuses configurations that could not work or would be unsafe; c has its defaults.
func (c *Config) validate() error {
	if _, err := ParseRole(string(c.Role)); err != nil {
		return err
	}
	if !c.Dev && len(c.Keys) == 0 {
		return errNoCredentials
	}
	if c.Dev {
		for _, p := range c.devPorts() {
			if !loopback.Is(p.addr) {
				return devNotLoopback(p.flag, p.addr)
			}
		}
	}
	if err := c.API.Limits.validate("--api"); err != nil {
		return err
	}
	if c.Edge.CacheSize < 0 {
		return fmt.Errorf("--cache-size %d: must be positive", c.Edge.CacheSize)
	}
	if c.Edge.Parent != "" {
		p, err := edge.ParseParent(c.Edge.Parent)
		if err != nil {
			return err
		}
		if c.Role.ServesEdge() && p.Host == c.Edge.Addr {
			return fmt.Errorf("--parent %s is this edge's own address: a parent must be another edge", c.Edge.Parent)
		}
	}
	if t := c.Control.EdgeTimeout; t < MinEdgeTimeout {
		return fmt.Errorf("--edge-timeout %s: must be at least %s (edges report every %s, and one late heartbeat must not make an edge look dead)",
			t, MinEdgeTimeout, edge.HeartbeatInterval)
	}
	if c.Edge.CacheInFlight < 0 {
		return fmt.Errorf("--cache-in-flight %d: must be positive", c.Edge.CacheInFlight)
	}
	return nil
}

// Edge timeouts: how long an edge may stay silent and still count as live.
const (
	DefaultEdgeTimeout = control.DefaultEdgeTimeout
	// MinEdgeTimeout is the shortest --edge-timeout: three heartbeats.
	MinEdgeTimeout = 3 * edge.HeartbeatInterval
)

// port names a listen address by its flag, for error messages.
type port struct{ flag, addr string }

// devPorts are the ports that serve the admin-only endpoints, open in --dev: they must be loopback.
func (c *Config) devPorts() []port {
	var ports []port
	if c.Role.ServesAPI() {
		ports = append(ports, port{"--api-addr", c.API.Addr})
	} else {
		ports = append(ports, port{"--admin-addr", c.Admin.Addr})
	}
	return ports
}

func devNotLoopback(flag, addr string) error {
	return fmt.Errorf("--dev opens the admin endpoints and uses the well-known key test/test, so it only listens on loopback; %s %s is not a loopback address", flag, addr)
}
