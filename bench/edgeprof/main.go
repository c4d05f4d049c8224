// Command edgeprof runs sailcdn exactly as `sailcdn serve --dev` wires it (app.Start: cache, meter,
// Prometheus registry, the edge's server on the metering listener) with one distribution in front of
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
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"
	lstypes "github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/loopback"
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
	tlsAddr := flag.String("tls-addr", "", "also serve HTTPS here, as sailcdn serve --edge-tls-addr (the default certificate of a fresh CA)")
	flag.Parse()
	if *origin == "" {
		return fmt.Errorf("-origin is required")
	}
	for _, a := range []string{*addr, *pprofAddr, *tlsAddr} {
		if a != "" && !loopback.Is(a) {
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
	// The node `sailcdn serve --dev` starts, through the same constructor.
	n, err := app.Start(ctx, app.Config{
		Store:   store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(dir, "sailcdn.db")},
		Dev:     true,
		Origins: []admin.OriginJSON{{Name: "bench", URL: *origin}},
		Control: app.ControlConfig{DeployDelay: time.Second},
		API:     app.APIConfig{Addr: "127.0.0.1:0"},
		Edge: app.EdgeConfig{Addr: *addr, CacheSize: *cacheMiB << 20, NoMetering: *noMetering, NoFastPath: *noFastPath,
			TLSAddr: *tlsAddr, NoTLS: *tlsAddr == ""},
		Logger: logger,
	})
	if err != nil {
		return err
	}
	err = profile(ctx, n, *pprofAddr, *domainFile)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(err, n.Shutdown(sctx))
}

// profile creates the distribution, serves net/http/pprof on pprofAddr and waits for ctx to end.
func profile(ctx context.Context, n *app.Node, pprofAddr, domainFile string) error {
	domain, err := createDistribution(ctx, "http://"+n.Addrs().API)
	if err != nil {
		return err
	}
	if err := n.Edge.Reload(ctx); err != nil {
		return err
	}
	pln, err := net.Listen("tcp", pprofAddr)
	if err != nil {
		return err
	}
	psrv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = psrv.Serve(pln) }()
	fmt.Println(domain)
	if domainFile != "" {
		if err := os.WriteFile(domainFile, []byte(domain+"\n"), 0o644); err != nil {
			return errors.Join(err, psrv.Close())
		}
	}
	<-ctx.Done()
	return psrv.Close()
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
