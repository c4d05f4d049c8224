// Command apiprof runs sailcdn's Lightsail API exactly as `sailcdn serve --dev --role api` starts it
// (app.Start over a real store: SQLite in a temp dir, or PostgreSQL with -database-url) with one
// registered origin, plus net/http/pprof on a separate address, so that the API can be profiled under the same
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
	"errors"
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

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/loopback"
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
		if !loopback.Is(a) {
			return fmt.Errorf("%s: loopback addresses only", a)
		}
	}
	// The garbage collector's percentage app.Run sets for `sailcdn serve` (tuneGC; app.Start leaves
	// it to the process), so the profile shows what a real server spends.
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
	// The API node `sailcdn serve --dev --role api` starts, through the same constructor, with one
	// origin registered for the caller's distributions.
	n, err := app.Start(ctx, app.Config{
		Role:    app.RoleAPI,
		Store:   cfg,
		Dev:     true,
		Origins: []admin.OriginJSON{{Name: "bench", URL: "http://127.0.0.1:9"}},
		API:     app.APIConfig{Addr: *addr},
		Logger:  logger,
	})
	if err != nil {
		return err
	}
	pln, err := net.Listen("tcp", *pprofAddr)
	if err != nil {
		return errors.Join(err, n.Shutdown(context.Background()))
	}
	psrv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = psrv.Serve(pln) }()

	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(psrv.Shutdown(sctx), n.Shutdown(sctx))
}
