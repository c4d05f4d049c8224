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
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/edge"
	"github.com/sailcdn/sailcdn/internal/httpcache"
	"github.com/sailcdn/sailcdn/internal/meter"
	"github.com/sailcdn/sailcdn/internal/store"
)

// edgeFlags are the serve flags of the data plane.
type edgeFlags struct {
	cacheSize  byteSize
	noMetering bool
	noFastPath bool
	accessLog  string
}

func (f *edgeFlags) register(fs *flag.FlagSet) {
	f.cacheSize = httpcache.DefaultMaxBytes
	fs.Var(&f.cacheSize, "cache-size", "byte budget of the edge cache, e.g. 256MiB, 2GiB or a number of bytes")
	fs.BoolVar(&f.noMetering, "no-metering", false, "serve without metering: no usage rows, no per-distribution traffic metrics (for benchmarks)")
	fs.BoolVar(&f.noFastPath, "no-fast-path", false, "serve every edge request through net/http, without the HTTP/1.1 fast path for cache hits (for comparisons; responses are the same)")
	fs.StringVar(&f.accessLog, "access-log", "", "append one line per edge request to FILE (combined log format plus host, distribution, cache result, request id, seconds)")
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

// edgeServer is the running data plane: the edge's HTTP server, its loader and meter flusher.
type edgeServer struct {
	edge    *edge.Edge
	srv     *http.Server
	metrics *prometheus.Registry
	stopRun context.CancelFunc
	runDone chan struct{}
	logFile io.Closer
}

// startEdge listens on addr and serves the edge; a serving error is sent to errc. The meter's
// minutes follow clk, the server clock; the cache's freshness follows the wall clock, which the
// origins' Date fields are written in.
// tuneGC sizes the garbage collector for a cache server. The process has a known memory budget (the
// cache plus a margin), so a soft memory limit lets the collector run rarely while there is room and
// hard when there is not; the default GOGC=100 made collection ~15 % of CPU on 1 KiB hits
// (docs/benchmarks.md). GOGC and GOMEMLIMIT in the environment still win.
func tuneGC(cacheSize int64) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); !ok {
		debug.SetMemoryLimit(cacheSize + 48<<20)
	}
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(400)
	}
}

func startEdge(addr string, f *edgeFlags, db *store.DB, clk clock.Clock, logger *slog.Logger, errc chan<- error) (*edgeServer, error) {
	tuneGC(int64(f.cacheSize))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	var m *meter.Meter
	if !f.noMetering {
		var err error
		if m, err = edge.NewMeter(db, clk, reg, logger); err != nil {
			return nil, err
		}
	}
	s := &edgeServer{metrics: reg, runDone: make(chan struct{})}
	var access io.Writer
	if f.accessLog != "" {
		file, err := os.OpenFile(f.accessLog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o640)
		if err != nil {
			return nil, fmt.Errorf("--access-log: %w", err)
		}
		access, s.logFile = file, file
	}
	e, err := edge.New(edge.Config{
		Store:      db,
		Clock:      clk,
		Cache:      httpcache.New(httpcache.Config{MaxBytes: int64(f.cacheSize), Logger: logger}),
		Meter:      m,
		Registry:   reg,
		AccessLog:  access,
		Logger:     logger,
		NoFastPath: f.noFastPath,
	})
	if err != nil {
		s.closeLog()
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		s.closeLog()
		return nil, err
	}
	s.edge, s.srv = e, e.NewServer()
	ctx, cancel := context.WithCancel(context.Background())
	s.stopRun = cancel
	go func() {
		defer close(s.runDone)
		_ = e.Run(ctx)
	}()
	go func() { errc <- s.srv.Serve(e.Listener(ln, s.srv)) }()
	logger.Info("edge serving", "addr", ln.Addr().String(), "cache_bytes", int64(f.cacheSize), "metering", m != nil, "fast_path", !f.noFastPath)
	return s, nil
}

// shutdown stops accepting viewers, waits for requests in flight (until ctx ends), stops the
// loader and flushes the meter a last time.
func (s *edgeServer) shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = errors.Join(err, s.srv.Close())
	}
	s.stopRun()
	<-s.runDone
	err = errors.Join(err, s.edge.Close())
	s.closeLog()
	return err
}

func (s *edgeServer) closeLog() {
	if s.logFile != nil {
		s.logFile.Close()
	}
}
