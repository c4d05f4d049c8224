// Command apiprof runs sailcdn's Lightsail API exactly as `sailcdn serve --dev` wires it (internal/app
// over a real store: SQLite in a temp dir, or PostgreSQL with -database-url) with one registered
// origin, plus net/http/pprof on a separate address, so that the API can be profiled under the same
// wrk load as bench/api-vs-nethttp.sh:
//
//	go run ./bench/apiprof -addr 127.0.0.1:18590 -pprof 127.0.0.1:18591 &
//	go tool pprof -seconds 10 http://127.0.0.1:18591/debug/pprof/profile &  # while wrk runs
//
// Key test/test (account 000000000000); distributions are created through the API by the caller.
// It is a benchmark tool, not part of sailcdn: loopback addresses only.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // the profiling endpoints are the point of this program
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "apiprof:", err)
		os.Exit(1)
	}
}

func run() error {
	addr := flag.String("addr", "127.0.0.1:18590", "API listen address")
	pprofAddr := flag.String("pprof", "127.0.0.1:18591", "net/http/pprof listen address")
	databaseURL := flag.String("database-url", "", "PostgreSQL URL; default: SQLite in a temp dir")
	flag.Parse()
	for _, a := range []string{*addr, *pprofAddr} {
		host, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("%s: loopback addresses only", a)
		}
	}
	// The garbage collector's setting of `sailcdn serve` (cmd/sailcdn/edge.go), so the profile
	// shows what a real server spends.
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(400)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg := store.Config{Driver: store.DriverPostgres, DSN: *databaseURL}
	if *databaseURL == "" {
		dir, err := os.MkdirTemp("", "apiprof-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg = store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(dir, "sailcdn.db")}
	}
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	clk := clock.NewOffset(nil)
	if err := db.PutOrigin(ctx, store.Origin{Name: "bench", URL: "http://127.0.0.1:9", ResourceType: "Instance", RegionName: "us-east-1", CreatedAt: clk.Now()}); err != nil {
		return err
	}
	keys, err := auth.NewKeyring(auth.DevKey)
	if err != nil {
		return err
	}
	// The configuration of `sailcdn serve --dev` with its default flags.
	a, err := app.New(app.Config{Store: db, Clock: clk, Keyring: keys, Dev: true, EdgeDomain: "cdn.localhost",
		MaxDistributions: 20, PageSize: 25, DeployDelay: 2 * time.Second, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: a.API, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	pln, err := net.Listen("tcp", *pprofAddr)
	if err != nil {
		return err
	}
	psrv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = psrv.Serve(pln) }()

	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = psrv.Shutdown(sctx)
	return srv.Shutdown(sctx)
}
