package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/edge"
	"github.com/sailcdn/sailcdn/internal/httpcache"
	"github.com/sailcdn/sailcdn/internal/spool"
	"github.com/sailcdn/sailcdn/internal/store"
)

// serveFlags are the flags of `sailcdn serve` that do not map one to one onto app.Config: they name
// files or directories, or need parsing.
type serveFlags struct {
	role          string
	dataDir       string
	databaseURL   string
	credentials   string
	bundles       string
	origins       originFlags
	cacheSize     byteSize
	spillMax      byteSize
	logLevel      string
	certs         certFlags
	cacheInFlight byteSize
}

// parseServe maps the command line (and SAILCDN_* variables) onto a Config; files named by flags are
// read later, by load.
func parseServe(args []string) (*app.Config, *serveFlags, error) {
	c := &app.Config{}
	f := &serveFlags{cacheSize: httpcache.DefaultMaxBytes, spillMax: spool.DefaultMaxDiskBytes, cacheInFlight: httpcache.DefaultMaxInFlight}
	lim := app.DefaultAPILimits
	vl := edge.DefaultViewerLimits
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&f.role, "role", string(app.RoleAll), "what this node serves: all (API and viewers), api (no viewers) or edge (viewers; health and metrics on --admin-addr)")
	fs.StringVar(&c.API.Addr, "api-addr", app.DefaultAPIAddr, "listen address of the Lightsail API (roles all, api)")
	fs.StringVar(&c.Edge.Addr, "edge-addr", app.DefaultEdgeAddr, "listen address of the edge (roles all, edge)")
	fs.StringVar(&c.Admin.Addr, "admin-addr", app.DefaultAdminAddr, "listen address of /healthz, /readyz and /metrics on edge nodes (role edge)")
	fs.StringVar(&f.dataDir, "data", "./sailcdn-data", "directory of the embedded SQLite database")
	fs.StringVar(&f.databaseURL, "database-url", "", "PostgreSQL URL (postgres://...); overrides --data")
	fs.BoolVar(&c.Dev, "dev", false, "developer mode: built-in key test/test (account 000000000000), open admin endpoints; loopback only")
	fs.StringVar(&f.credentials, "credentials", "", "AWS shared-credentials file; each profile needs aws_access_key_id, aws_secret_access_key, aws_account_id")
	fs.Var(&f.origins, "origin", "register an origin NAME=URL (type Instance, region us-east-1); repeatable")
	fs.StringVar(&f.bundles, "bundles", "", "JSON file replacing the bundle catalog")
	fs.StringVar(&c.Control.EdgeDomain, "edge-domain", "cdn.localhost", "suffix of distributions' domain names")
	fs.IntVar(&c.Control.MaxDistributions, "max-distributions", 20, "distributions per account (Lightsail's quota is 20)")
	fs.IntVar(&c.Control.PageSize, "page-size", 25, "GetDistributions page size")
	fs.DurationVar(&c.Control.DeployDelay, "deploy-delay", 2*time.Second, "least time a change reports InProgress before Deployed (it also waits for every live edge)")
	fs.DurationVar(&c.Control.EdgeTimeout, "edge-timeout", app.DefaultEdgeTimeout, "how long an edge may stay silent and still count as live, i.e. be waited for before a change is Deployed")
	fs.DurationVar(&c.API.Limits.ReadHeaderTimeout, "api-read-header-timeout", lim.ReadHeaderTimeout, "time an API client may take to send a request's header")
	fs.DurationVar(&c.API.Limits.ReadTimeout, "api-read-timeout", lim.ReadTimeout, "time an API client may take to send a whole request, body included")
	fs.DurationVar(&c.API.Limits.WriteTimeout, "api-write-timeout", lim.WriteTimeout, "time an API request may take from the end of its header to the end of its response")
	fs.DurationVar(&c.API.Limits.IdleTimeout, "api-idle-timeout", lim.IdleTimeout, "time an idle keep-alive API connection stays open")
	fs.IntVar(&c.API.Limits.MaxConns, "api-max-conns", lim.MaxConns, "API connections open at once; beyond, a connection is answered 503 and closed")
	fs.Var(&f.cacheSize, "cache-size", "byte budget of the edge cache, e.g. 256MiB, 2GiB or a number of bytes")
	fs.BoolVar(&c.Edge.NoMetering, "no-metering", false, "serve without metering: no usage rows, no per-distribution traffic metrics (for benchmarks)")
	fs.BoolVar(&c.Edge.NoFastPath, "no-fast-path", false, "serve every edge request through net/http, without the HTTP/1.1 fast path for cache hits (for comparisons; responses are the same)")
	fs.StringVar(&c.Edge.AccessLog, "access-log", "", "append one line per edge request to FILE (combined log format plus host, distribution, cache result, request id, seconds)")
	fs.StringVar(&c.Edge.SpillDir, "spill-dir", "", "directory for usage waiting while the database is unreachable, beyond what memory holds; delivered at the next start if the node stops first (one node per directory; default: memory only)")
	fs.Var(&f.spillMax, "spill-max", "bound of --spill-dir, e.g. 1GiB")
	fs.StringVar(&c.Edge.Parent, "parent", "", "fetch cache misses from this other sailcdn edge of the same database (http://host:port) instead of the origins: tiered caching")
	fs.Var(&f.cacheInFlight, "cache-in-flight", "bytes all origin fills in progress may hold together, e.g. 64MiB; beyond, a fill stops storing its body")
	fs.DurationVar(&c.Edge.Viewers.HeaderTimeout, "viewer-header-timeout", vl.HeaderTimeout, "time a viewer may take to send a request's line and header section (negative: no limit)")
	fs.DurationVar(&c.Edge.Viewers.ReadTimeout, "viewer-read-timeout", vl.ReadTimeout, "time each read of a request body may wait for the viewer; then 408 and the connection closes (negative: no limit)")
	fs.DurationVar(&c.Edge.Viewers.WriteTimeout, "viewer-write-timeout", vl.WriteTimeout, "time each write to a viewer (at most 256 KiB) may wait; a viewer that stops reading is cut off (negative: no limit)")
	fs.DurationVar(&c.Edge.Viewers.IdleTimeout, "viewer-idle-timeout", vl.IdleTimeout, "time an idle keep-alive viewer connection stays open (negative: no limit)")
	fs.IntVar(&c.Edge.Viewers.MaxConns, "viewer-max-conns", 0, fmt.Sprintf("viewer connections open at once; beyond, a connection is closed at once (0: %d, or 3/4 of the descriptor limit if lower; negative: no limit)", vl.MaxConns))
	fs.IntVar(&c.Edge.Viewers.MaxConnsPerClient, "viewer-max-conns-per-client", vl.MaxConnsPerClient, "viewer connections open at once from one client address (negative: no limit)")
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	f.certs.register(fs, c)
	// Environment first, so that flags given on the command line win.
	var envErr error
	fs.VisitAll(func(fl *flag.Flag) {
		name := "SAILCDN_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && envErr == nil {
			if err := fs.Set(fl.Name, v); err != nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return nil, nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		return nil, nil, err
	}
	if fs.NArg() > 0 {
		return nil, nil, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	role, err := app.ParseRole(f.role)
	if err != nil {
		return nil, nil, err
	}
	c.Role = role
	c.Edge.CacheSize = int64(f.cacheSize)
	c.Edge.SpillMaxBytes = int64(f.spillMax)
	c.Edge.CacheInFlight = int64(f.cacheInFlight)
	c.Store = store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(f.dataDir, "sailcdn.db")}
	if f.databaseURL != "" {
		c.Store = store.Config{Driver: store.DriverPostgres, DSN: f.databaseURL}
	}
	for _, spec := range f.origins {
		name, url, ok := strings.Cut(spec, "=")
		if !ok {
			return nil, nil, fmt.Errorf("--origin %q: want NAME=URL", spec)
		}
		c.Origins = append(c.Origins, admin.OriginJSON{Name: name, URL: url})
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, nil, fmt.Errorf("--log-level: %w", err)
	}
	c.Logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	return c, f, nil
}

// load reads the files the flags name into c: the credentials, the bundle catalog, and the SQLite
// directory, created if missing.
func (f *serveFlags) load(c *app.Config) error {
	if f.credentials != "" {
		file, err := os.Open(f.credentials)
		if err != nil {
			return err
		}
		defer file.Close()
		keys, err := auth.ParseCredentials(file)
		if err != nil {
			return fmt.Errorf("--credentials %s: %w", f.credentials, err)
		}
		c.Keys = keys
	}
	if f.bundles != "" {
		file, err := os.Open(f.bundles)
		if err != nil {
			return err
		}
		defer file.Close()
		if c.Control.Catalog, err = billing.ParseCatalog(file); err != nil {
			return fmt.Errorf("--bundles %s: %w", f.bundles, err)
		}
	}
	if c.Store.Driver == store.DriverSQLite {
		if err := os.MkdirAll(f.dataDir, 0o700); err != nil {
			return err
		}
	}
	return f.certs.apply(c, f.dataDir)
}

func serve(args []string) error {
	c, f, err := parseServe(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	slog.SetDefault(c.Logger)
	if err := f.load(c); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return app.Run(ctx, *c)
}

// originFlags collects repeated --origin NAME=URL.
type originFlags []string

func (o *originFlags) String() string { return strings.Join(*o, ",") }
func (o *originFlags) Set(v string) error {
	*o = append(*o, v)
	return nil
}

// byteSize is a flag value in bytes with an optional binary suffix (KiB, MiB, GiB, TiB).
type byteSize int64

func (b *byteSize) String() string { return strconv.FormatInt(int64(*b), 10) }

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		mult   int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	num, mult := strings.TrimSpace(s), int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return fmt.Errorf("%q is not a positive size (a number of bytes, or with KiB, MiB, GiB, TiB)", s)
	}
	*b = byteSize(n * mult)
	return nil
}
