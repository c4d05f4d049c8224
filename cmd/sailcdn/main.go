// Command sailcdn is a self-hosted, wire-compatible Amazon Lightsail CDN: the Lightsail distribution API
// and a caching edge in one binary.
//
//	sailcdn serve --dev                 # API on 127.0.0.1:4580, edge on 127.0.0.1:8080, SQLite in ./sailcdn-data
//	sailcdn serve --credentials FILE    # production: keys from an AWS shared-credentials file
//
// Every flag can also be given as an environment variable SAILCDN_<FLAG> (upper case, '-' as '_').
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/store"
	"github.com/sailcdn/sailcdn/internal/usage"
)

func main() {
	if len(os.Args) < 2 {
		printHelp(os.Stderr)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "usage":
		err = usageCmd(os.Args[2:], os.Stdout)
	case "help", "-h", "--help":
		printHelp(os.Stdout)
		return
	default:
		fmt.Fprintf(os.Stderr, "sailcdn: unknown command %q\n", os.Args[1])
		printHelp(os.Stderr)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sailcdn:", err)
		os.Exit(1)
	}
}

func printHelp(w io.Writer) {
	fmt.Fprint(w, `usage: sailcdn <command> [flags]

commands:
  serve    run the Lightsail API and the edge (sailcdn serve -h for flags)
  usage    print each distribution's billing cycle: transfer used against quota, overage, cost so far
`)
}

// originFlags collects repeated --origin NAME=URL.
type originFlags []string

func (o *originFlags) String() string { return strings.Join(*o, ",") }
func (o *originFlags) Set(v string) error {
	*o = append(*o, v)
	return nil
}

type serveConfig struct {
	apiAddr, edgeAddr, dataDir, databaseURL string
	dev                                     bool
	credentials, bundles, edgeDomain        string
	origins                                 originFlags
	maxDistributions, pageSize              int
	deployDelay                             time.Duration
	logLevel                                string
	edge                                    edgeFlags
}

func parseServe(args []string) (*serveConfig, error) {
	c := &serveConfig{}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.apiAddr, "api-addr", "127.0.0.1:4580", "listen address of the Lightsail API")
	fs.StringVar(&c.edgeAddr, "edge-addr", "127.0.0.1:8080", "listen address of the edge")
	fs.StringVar(&c.dataDir, "data", "./sailcdn-data", "directory of the embedded SQLite database")
	fs.StringVar(&c.databaseURL, "database-url", "", "PostgreSQL URL (postgres://...); overrides --data")
	fs.BoolVar(&c.dev, "dev", false, "developer mode: built-in key test/test (account 000000000000), open admin endpoints; loopback only")
	fs.StringVar(&c.credentials, "credentials", "", "AWS shared-credentials file; each profile needs aws_access_key_id, aws_secret_access_key, aws_account_id")
	fs.Var(&c.origins, "origin", "register an origin NAME=URL (type Instance, region us-east-1); repeatable")
	fs.StringVar(&c.bundles, "bundles", "", "JSON file replacing the bundle catalog")
	fs.StringVar(&c.edgeDomain, "edge-domain", "cdn.localhost", "suffix of distributions' domain names")
	fs.IntVar(&c.maxDistributions, "max-distributions", 20, "distributions per account (Lightsail's quota is 20)")
	fs.IntVar(&c.pageSize, "page-size", 25, "GetDistributions page size")
	fs.DurationVar(&c.deployDelay, "deploy-delay", 2*time.Second, "how long a change reports InProgress before Deployed")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	c.edge.register(fs)
	// Environment first, so that flags given on the command line win.
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "SAILCDN_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && envErr == nil {
			if err := fs.Set(f.Name, v); err != nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	return c, nil
}

func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func keyring(c *serveConfig) (*auth.Keyring, error) {
	var keys []auth.Key
	if c.dev {
		if !isLoopback(c.apiAddr) {
			return nil, fmt.Errorf("--dev opens the admin endpoints and uses the well-known key test/test, so it only listens on loopback; --api-addr %s is not a loopback address", c.apiAddr)
		}
		keys = append(keys, auth.DevKey)
	}
	if c.credentials != "" {
		f, err := os.Open(c.credentials)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		parsed, err := auth.ParseCredentials(f)
		if err != nil {
			return nil, fmt.Errorf("--credentials %s: %w", c.credentials, err)
		}
		keys = append(keys, parsed...)
	}
	if len(keys) == 0 {
		return nil, errors.New("no credentials: every request must be authenticated, so start with --dev (developer key test/test on loopback) or --credentials FILE")
	}
	return auth.NewKeyring(keys...)
}

func serve(args []string) error {
	c, err := parseServe(args)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	slog.SetDefault(logger)

	keys, err := keyring(c)
	if err != nil {
		return err
	}
	catalog := billing.DefaultCatalog()
	if c.bundles != "" {
		f, err := os.Open(c.bundles)
		if err != nil {
			return err
		}
		catalog, err = billing.ParseCatalog(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("--bundles %s: %w", c.bundles, err)
		}
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	storeCfg := store.Config{Driver: "sqlite", DSN: filepath.Join(c.dataDir, "sailcdn.db")}
	if c.databaseURL != "" {
		storeCfg = store.Config{Driver: "postgres", DSN: c.databaseURL}
	} else if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return err
	}
	db, err := store.Open(ctx, storeCfg)
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer db.Close()

	// The server clock resumes where the admin endpoint last put it, and follows moves made by other
	// processes sharing the database.
	clk := clock.NewOffset(nil)
	offset, err := db.ClockOffset(ctx)
	if err != nil {
		return err
	}
	clk.SetOffset(offset)
	go followClock(ctx, db, clk, logger)
	for _, spec := range c.origins {
		name, url, ok := strings.Cut(spec, "=")
		o := admin.OriginJSON{Name: name, URL: url}
		if !ok {
			return fmt.Errorf("--origin %q: want NAME=URL", spec)
		}
		if err := admin.ValidateOrigin(&o); err != nil {
			return fmt.Errorf("--origin %q: %w", spec, err)
		}
		if err := db.PutOrigin(ctx, store.Origin{Name: o.Name, URL: o.URL, ResourceType: o.ResourceType, RegionName: o.RegionName, CreatedAt: clk.Now()}); err != nil {
			return err
		}
	}

	a, err := app.New(app.Config{
		Store:            db,
		Clock:            clk,
		Keyring:          keys,
		Dev:              c.dev,
		Catalog:          catalog,
		EdgeDomain:       c.edgeDomain,
		MaxDistributions: c.maxDistributions,
		PageSize:         c.pageSize,
		DeployDelay:      c.deployDelay,
		Logger:           logger,
	})
	if err != nil {
		return err
	}
	apiLn, err := net.Listen("tcp", c.apiAddr)
	if err != nil {
		return err
	}
	apiSrv := &http.Server{Handler: a.API, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 2)
	es, err := startEdge(c.edgeAddr, &c.edge, db, clk, logger, errc)
	if err != nil {
		apiLn.Close()
		return fmt.Errorf("edge: %w", err)
	}
	a.Handle("/metrics", a.RequireAdmin(es.edge.MetricsHandler()))
	watcher := &usage.Watcher{DB: db, Catalog: catalog, Clock: clk, Logger: logger}
	if err := watcher.Register(es.metrics); err != nil {
		return err
	}
	go watcher.Run(ctx)
	go func() { errc <- apiSrv.Serve(apiLn) }()
	logger.Info("sailcdn serving", "api", apiLn.Addr().String(), "store", storeCfg.Driver, "dev", c.dev, "keys", keys.Len())

	var serveErr error
	select {
	case <-ctx.Done():
	case err := <-errc:
		if !errors.Is(err, http.ErrServerClosed) {
			// A server failed: still shut the other down and flush the meter before the store closes.
			serveErr = err
		}
	}
	logger.Info("shutting down")
	stop()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The edge first: its last requests end and the meter's final flush runs while the store is open.
	return errors.Join(serveErr, es.shutdown(shutdownCtx), apiSrv.Shutdown(shutdownCtx))
}

// followClock applies clock moves saved by other processes (POST /_sailcdn/clock on any of them) within
// a second.
func followClock(ctx context.Context, db *store.DB, clk *clock.Offset, logger *slog.Logger) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		offset, err := db.ClockOffset(ctx)
		if err != nil {
			if ctx.Err() == nil {
				logger.Warn("read clock offset", "err", err)
			}
			continue
		}
		if offset != clk.Offset() {
			clk.SetOffset(offset)
		}
	}
}
