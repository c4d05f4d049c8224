// Command tlsload is the HTTPS benchmark's viewer: a closed-loop HTTP/1.1-over-TLS load generator that
// sets the TLS server name (SNI) and Host itself while connecting to any address — which wrk cannot
// (it sends the URL's host as SNI, and the distributions' *.cdn.localhost names do not resolve through
// glibc), so it is used for both contenders alike. It also exports the default certificate from a
// sailcdn data directory for nginx to serve the same certificate and key.
//
//	tlsload load  -addr 127.0.0.1:8443 -sni dX.cdn.localhost -path /1k.bin -c 64 -d 10s -mode keepalive|newconn|resume
//	tlsload idle  -addr 127.0.0.1:8443 -sni dX.cdn.localhost -n 10000 -hold 30s   (prints "ready" when all are open)
//	tlsload export-cert -data DIR -domain cdn.localhost -out DIR   (cert.pem, key.pem)
//
// Modes: keepalive — each of -c connections sends requests back to back on one TLS connection;
// newconn — every request on a new connection with a full handshake (Connection: close); resume —
// the same, resuming the TLS session of the previous connection (a session cache per worker). The
// certificate is verified once before the run (against -ca when given); during the run the client
// skips verification so that the server's cost, not the client's, dominates.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sailcdn/sailcdn/internal/ca"
	"github.com/sailcdn/sailcdn/internal/store"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tlsload load|idle|export-cert [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "load":
		err = load(os.Args[2:])
	case "idle":
		err = idle(os.Args[2:])
	case "export-cert":
		err = exportCert(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlsload:", err)
		os.Exit(1)
	}
}

type target struct {
	addr, sni, path, caFile, curves string
}

func (t *target) flags(fs *flag.FlagSet) {
	fs.StringVar(&t.addr, "addr", "127.0.0.1:8443", "address to connect to")
	fs.StringVar(&t.sni, "sni", "", "TLS server name and Host")
	fs.StringVar(&t.path, "path", "/1k.bin", "request path")
	fs.StringVar(&t.caFile, "ca", "", "PEM root to verify the certificate against once before the run")
	fs.StringVar(&t.curves, "curves", "default", "key exchange groups the client offers: default (Go's: X25519MLKEM768, X25519, …) or x25519")
}

// clientConfig is the run's client configuration: no verification (done once by verify), the
// chosen key exchange groups.
func (t *target) clientConfig() *tls.Config {
	cfg := &tls.Config{ServerName: t.sni, InsecureSkipVerify: true}
	if t.curves == "x25519" {
		// Classical X25519 only: what a server without ML-KEM (nginx 1.22 on OpenSSL 3.0) negotiates
		// anyway, so both contenders do the same key exchange.
		cfg.CurvePreferences = []tls.CurveID{tls.X25519}
	}
	return cfg
}

// verify makes one verified handshake and request, so a run never measures the wrong certificate.
func (t *target) verify() error {
	cfg := &tls.Config{ServerName: t.sni}
	if t.caFile != "" {
		b, err := os.ReadFile(t.caFile)
		if err != nil {
			return err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(b) {
			return errors.New("no certificate in -ca")
		}
	} else {
		cfg.InsecureSkipVerify = true
	}
	c, err := tls.Dial("tcp", t.addr, cfg)
	if err != nil {
		return fmt.Errorf("verified handshake: %w", err)
	}
	defer c.Close()
	st, err := roundTrip(c, bufio.NewReader(c), t, true)
	if err != nil {
		return err
	}
	if st != 200 {
		return fmt.Errorf("status %d", st)
	}
	return nil
}

func (t *target) request(closeConn bool) []byte {
	conn := ""
	if closeConn {
		conn = "Connection: close\r\n"
	}
	return []byte("GET " + t.path + " HTTP/1.1\r\nHost: " + t.sni + "\r\nUser-Agent: tlsload\r\n" + conn + "\r\n")
}

func roundTrip(c net.Conn, br *bufio.Reader, t *target, closeConn bool) (int, error) {
	if _, err := c.Write(t.request(closeConn)); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	var t target
	t.flags(fs)
	conns := fs.Int("c", 64, "concurrent connections (keepalive) or workers (newconn, resume)")
	dur := fs.Duration("d", 10*time.Second, "duration")
	mode := fs.String("mode", "keepalive", "keepalive, newconn or resume")
	_ = fs.Parse(args)
	if err := t.verify(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *dur)
	defer cancel()
	var (
		done, errs atomic.Int64
		resumed    atomic.Int64
		latMu      sync.Mutex
		lats       []time.Duration
	)
	fast := t.clientConfig()
	start := time.Now()
	var wg sync.WaitGroup
	for range *conns {
		wg.Go(func() {
			var local []time.Duration
			defer func() {
				latMu.Lock()
				lats = append(lats, local...)
				latMu.Unlock()
			}()
			cfg := fast
			if *mode == "resume" {
				cfg = fast.Clone()
				cfg.ClientSessionCache = tls.NewLRUClientSessionCache(1)
			}
			var c *tls.Conn
			var br *bufio.Reader
			for ctx.Err() == nil {
				t0 := time.Now()
				if c == nil {
					raw, err := net.DialTimeout("tcp", t.addr, 5*time.Second)
					if err != nil {
						errs.Add(1)
						continue
					}
					c = tls.Client(raw, cfg)
					br = bufio.NewReader(c)
				}
				st, err := roundTrip(c, br, &t, *mode != "keepalive")
				if err != nil || st != 200 {
					errs.Add(1)
					c.Close()
					c = nil
					continue
				}
				if *mode != "keepalive" {
					if c.ConnectionState().DidResume {
						resumed.Add(1)
					}
					c.Close()
					c = nil
				}
				done.Add(1)
				if len(local) < 100000 {
					local = append(local, time.Since(t0))
				}
			}
			if c != nil {
				c.Close()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	sort.Slice(lats, func(i, j int) bool { return lats[i] < lats[j] })
	pct := func(p float64) time.Duration {
		if len(lats) == 0 {
			return 0
		}
		return lats[int(p*float64(len(lats)-1))]
	}
	var kex tls.CurveID
	if c, err := tls.Dial("tcp", t.addr, fast); err == nil {
		kex = c.ConnectionState().CurveID
		c.Close()
	}
	fmt.Printf("kex=%s mode=%s requests=%d errors=%d resumed=%d seconds=%.2f rps=%.0f p50=%s p99=%s\n",
		kex, *mode, done.Load(), errs.Load(), resumed.Load(), elapsed.Seconds(), float64(done.Load())/elapsed.Seconds(),
		pct(0.5).Round(time.Microsecond), pct(0.99).Round(time.Microsecond))
	return nil
}

// idle opens n TLS connections, each after one request (so the server holds an established, idle
// HTTP/1.1 connection), prints "ready", and holds them until -hold passes or stdin closes.
func idle(args []string) error {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	var t target
	t.flags(fs)
	n := fs.Int("n", 10000, "connections")
	hold := fs.Duration("hold", time.Minute, "how long to hold them")
	par := fs.Int("p", 32, "connections opened in parallel")
	_ = fs.Parse(args)
	if err := t.verify(); err != nil {
		return err
	}
	cfg := t.clientConfig()
	conns := make([]net.Conn, *n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range *par {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= *n {
					return
				}
				c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", t.addr, cfg)
				if err == nil {
					var st int
					st, err = roundTrip(c, bufio.NewReader(c), &t, false)
					if err == nil && st != 200 {
						err = fmt.Errorf("status %d", st)
					}
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
				conns[i] = c
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	fmt.Println("ready", *n)
	gone := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(gone) }()
	select {
	case <-time.After(*hold):
	case <-gone:
	}
	for _, c := range conns {
		c.Close()
	}
	return nil
}

// exportCert writes the default certificate of a sailcdn data directory (chain and the opened key) for
// nginx, so both contenders serve the very same ECDSA P-256 certificate. A benchmark tool: the key
// leaves the store only here, on the operator's own machine.
func exportCert(args []string) error {
	fs := flag.NewFlagSet("export-cert", flag.ExitOnError)
	data := fs.String("data", "", "sailcdn data directory (sailcdn.db, key-encryption.key)")
	domain := fs.String("domain", "cdn.localhost", "edge domain")
	out := fs.String("out", ".", "output directory")
	_ = fs.Parse(args)
	ctx := context.Background()
	kek, err := ca.LoadOrCreateKEK(filepath.Join(*data, "key-encryption.key"))
	if err != nil {
		return err
	}
	sealer, err := ca.NewSealer(kek)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(*data, "sailcdn.db")})
	if err != nil {
		return err
	}
	defer db.Close()
	cert, err := ca.NewCertificates(db, sealer, *domain).Default(ctx)
	if err != nil {
		return err
	}
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	key, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "cert.pem"), chain, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(*out, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
}
