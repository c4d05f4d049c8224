// Command edgeprof runs sailcdn's edge exactly as `sailcdn serve` wires it (cache, meter,
// Prometheus registry, edge.NewServer on the metering listener) with one distribution in front of
// -origin, plus net/http/pprof on a separate address, so that the edge can be profiled under the
// same wrk load as bench/edge-vs-nginx.sh:
//
//	go run ./bench/edgeprof -origin http://127.0.0.1:18480 -addr 127.0.0.1:18490 &
//	go tool pprof -seconds 10 http://127.0.0.1:18491/debug/pprof/profile &  # while wrk runs
//	wrk -t2 -c64 -d10s -H "Host: $(cat domain)" http://127.0.0.1:18490/1k.bin
//
// It prints the distribution's domain name on stdout once the edge serves it. It is a benchmark
// tool, not part of sailcdn: loopback addresses only.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	_ "net/http/pprof" // the profiling endpoints are the point of this program
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"
	lstypes "github.com/aws/aws-sdk-go-v2/service/lightsail/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/edge"
	"github.com/sailcdn/sailcdn/internal/httpcache"
	"github.com/sailcdn/sailcdn/internal/meter"
	"github.com/sailcdn/sailcdn/internal/store"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "edgeprof:", err)
		os.Exit(1)
	}
}

func run() error {
	origin := flag.String("origin", "", "origin URL (required), e.g. http://127.0.0.1:18480")
	addr := flag.String("addr", "127.0.0.1:18490", "edge listen address")
	pprofAddr := flag.String("pprof", "127.0.0.1:18491", "net/http/pprof listen address")
	cacheMiB := flag.Int64("cache-mib", 64, "cache byte budget in MiB")
	noMetering := flag.Bool("no-metering", false, "serve without the meter, as sailcdn serve --no-metering")
	noFastPath := flag.Bool("no-fast-path", false, "serve every request through net/http, as sailcdn serve --no-fast-path")
	domainFile := flag.String("domain-file", "", "also write the distribution's domain name to this file")
	flag.Parse()
	if *origin == "" {
		return fmt.Errorf("-origin is required")
	}
	for _, a := range []string{*addr, *pprofAddr} {
		host, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
			return fmt.Errorf("%s: loopback addresses only", a)
		}
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := os.MkdirTemp("", "edgeprof-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, store.Config{Driver: "sqlite", DSN: filepath.Join(dir, "sailcdn.db")})
	if err != nil {
		return err
	}
	defer db.Close()
	clk := clock.NewOffset(nil)
	if err := db.PutOrigin(ctx, store.Origin{Name: "bench", URL: *origin, ResourceType: "Instance", RegionName: "us-east-1", CreatedAt: clk.Now()}); err != nil {
		return err
	}
	keys, err := auth.NewKeyring(auth.DevKey)
	if err != nil {
		return err
	}
	a, err := app.New(app.Config{Store: db, Clock: clk, Keyring: keys, Dev: true, EdgeDomain: "cdn.localhost",
		MaxDistributions: 20, PageSize: 25, DeployDelay: time.Second, Logger: logger})
	if err != nil {
		return err
	}
	api := httptest.NewServer(a.API)
	defer api.Close()
	domain, err := createDistribution(ctx, api.URL)
	if err != nil {
		return err
	}

	// The same wiring as cmd/sailcdn startEdge.
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var m *meter.Meter
	if !*noMetering {
		if m, err = edge.NewMeter(db, clk, reg, logger); err != nil {
			return err
		}
	}
	e, err := edge.New(edge.Config{
		Store:      db,
		Clock:      clk,
		Cache:      httpcache.New(httpcache.Config{MaxBytes: *cacheMiB << 20, Logger: logger}),
		Meter:      m,
		Registry:   reg,
		Logger:     logger,
		NoFastPath: *noFastPath,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := e.NewServer()
	runCtx, cancelRun := context.WithCancel(context.Background())
	defer cancelRun()
	runDone := make(chan struct{})
	go func() { defer close(runDone); _ = e.Run(runCtx) }()
	go func() { _ = srv.Serve(e.Listener(ln, srv)) }()

	pln, err := net.Listen("tcp", *pprofAddr)
	if err != nil {
		return err
	}
	psrv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = psrv.Serve(pln) }()

	fmt.Println(domain)
	if *domainFile != "" {
		if err := os.WriteFile(*domainFile, []byte(domain+"\n"), 0o644); err != nil {
			return err
		}
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = psrv.Shutdown(sctx)
	_ = srv.Shutdown(sctx)
	cancelRun()
	<-runDone
	return e.Close()
}

// createDistribution creates distribution "bench" with the defaults through the Lightsail API, as a
// user would, and returns its domain name.
func createDistribution(ctx context.Context, endpoint string) (string, error) {
	c := lightsail.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(auth.DevKey.AccessKeyID, auth.DevKey.Secret, ""),
	}, func(o *lightsail.Options) { o.BaseEndpoint = aws.String(endpoint) })
	out, err := c.CreateDistribution(ctx, &lightsail.CreateDistributionInput{
		DistributionName:     aws.String("bench"),
		Origin:               &lstypes.InputOrigin{Name: aws.String("bench"), RegionName: lstypes.RegionNameUsEast1},
		DefaultCacheBehavior: &lstypes.CacheBehavior{Behavior: lstypes.BehaviorEnumCacheSetting},
		BundleId:             aws.String("small_1_0"),
	})
	if err != nil {
		return "", fmt.Errorf("CreateDistribution: %w", err)
	}
	return aws.ToString(out.Distribution.DomainName), nil
}
