// Package sailtest is sailcdn's test harness: the real assembly — a node started by internal/app, as
// `sailcdn serve` starts one, on loopback ports chosen by the system — over a temporary real store,
// plus clients that talk to it as users do: the real aws-sdk-go-v2 Lightsail client, signed by the real
// SigV4 signer, and plain HTTP viewers for the edge.
package sailtest

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"

	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/ca"
	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/control"
	"github.com/sailcdn/sailcdn/internal/edge"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Test accounts. Dev is --dev's built-in key; Alice and Bob are two more accounts, for isolation tests.
var (
	Dev   = auth.DevKey
	Alice = auth.Key{Profile: "alice", AccessKeyID: "AKIAALICE0000000001", Secret: "alice-secret/Key+1", AccountID: "111111111111"}
	Bob   = auth.Key{Profile: "bob", AccessKeyID: "AKIABOB00000000000002", Secret: "bob-secret/Key+2", AccountID: "222222222222"}
)

// Start is the server clock's reading when an Env starts, so that tests do not depend on the day
// they run.
var Start = time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)

// Env is one running sailcdn node (role all, unless an Option says otherwise).
type Env struct {
	T testing.TB
	// Config is what the node was started with (StartNode starts others like it).
	Config app.Config
	Node   *app.Node
	Store  *store.DB
	Clock  *clock.Offset
	// API is the API port (nil for an edge node).
	API *Server
	// Edge is the edge port (nil for an API node); EdgeService is the edge behind it (its meter,
	// Reload, Generation).
	Edge        *Server
	EdgeService *edge.Edge
	// Admin is an edge node's admin port (nil otherwise).
	Admin *Server
	// EdgeTLSAddr is the edge's HTTPS port (host:port; "" for an API node). CA is the node's
	// certificate authority: its root is what test viewers trust.
	EdgeTLSAddr string
	CA          *ca.Authority
}

// Server is where one of the node's ports listens.
type Server struct {
	URL  string // "http://" + Addr
	Addr string // host:port
}

func newServer(addr string) *Server {
	if addr == "" {
		return nil
	}
	return &Server{URL: "http://" + addr, Addr: addr}
}

// Config is what Options adjust: the node's configuration and the store backend.
type Config struct {
	app.Config
	backend *Backend
}

// Option adjusts the configuration before the node starts.
type Option func(*Config)

// New starts a node on loopback ports over a fresh store (SQLite in t.TempDir() unless WithBackend
// says otherwise), in developer mode with the keys Dev, Alice and Bob, a 200 ms deploy delay, a 64 MiB
// edge cache and the server clock at Start. The node shuts down (in the shipped order: edge, meter's
// final flush, API, store) when the test ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	clk := clock.NewOffset(nil)
	clk.Set(Start)
	cfg := Config{Config: app.Config{
		Role:    app.RoleAll,
		Dev:     true,
		Keys:    []auth.Key{Alice, Bob},
		Clock:   clk,
		Control: app.ControlConfig{DeployDelay: 200 * time.Millisecond},
		API:     app.APIConfig{Addr: "127.0.0.1:0"},
		Edge:    app.EdgeConfig{Addr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0", CacheSize: 64 << 20},
		Admin:   app.AdminConfig{Addr: "127.0.0.1:0"},
		// Certificates validate 300 ms after they are requested and are issued by the node's CA; the
		// key-encryption key is the fleet's (StartNode's nodes share it).
		Certificates: app.CertificatesConfig{KEK: randomKEK(), Validation: control.ValidationDev,
			ValidationDelay: 300 * time.Millisecond, Poll: 100 * time.Millisecond},
		// Errors only: an internal error's cause shows in a failing test's output, the edge's
		// warnings while a test takes the database away do not.
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	}}
	for _, o := range opts {
		o(&cfg)
	}
	backend := Backends()[0]
	if cfg.backend != nil {
		backend = *cfg.backend
	}
	cfg.Store = backend.Config(t)
	return Launch(t, cfg.Config)
}

// Launch starts a node with cfg as it is (other roles, a second node on the same store) and shuts it
// down when the test ends.
func Launch(t testing.TB, cfg app.Config) *Env {
	t.Helper()
	n, err := app.Start(context.Background(), cfg)
	if err != nil {
		t.Fatalf("start sailcdn (%s): %v", cfg.Role, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := n.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	a := n.Addrs()
	return &Env{T: t, Config: cfg, Node: n, Store: n.Store, Clock: n.Clock, API: newServer(a.API), Edge: newServer(a.Edge),
		EdgeService: n.Edge, Admin: newServer(a.Admin), EdgeTLSAddr: a.EdgeTLS, CA: n.Certificates.Authority}
}

func randomKEK() []byte {
	kek := make([]byte, ca.KeySize)
	_, _ = rand.Read(kek)
	return kek
}

// WithCertificates adjusts the certificate configuration (validation mode, resolver, ACME zone). By
// default certificates validate in dev mode 300 ms after they are requested and are issued by the
// node's CA.
func WithCertificates(fn func(*app.CertificatesConfig)) Option {
	return func(c *Config) { fn(&c.Certificates) }
}

// WithIssuer replaces the node's CA as the issuer of Lightsail certificates (ACME tests): make gets
// the node's store and sealer.
func WithIssuer(make func(*store.DB, *ca.Sealer) (ca.Issuer, error)) Option {
	return func(c *Config) { c.Certificates.NewIssuer = make }
}

// StartNode starts another node of e's fleet with the given role: the same store, keys, clock and
// settings, on ports of its own. A fleet's API and edge nodes are tested this way.
func (e *Env) StartNode(role app.Role) *Env {
	e.T.Helper()
	cfg := e.Config
	cfg.Role = role
	cfg.API.Addr, cfg.Edge.Addr, cfg.Edge.TLSAddr, cfg.Admin.Addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg.Origins = nil
	return Launch(e.T, cfg)
}

// Client is the real aws-sdk-go-v2 Lightsail client for key in region, pointed at this server. Retries
// are off so tests see every error exactly as the service sent it.
func (e *Env) Client(key auth.Key, region string) *lightsail.Client {
	cfg := aws.Config{
		Region:      region,
		Credentials: credentials.NewStaticCredentialsProvider(key.AccessKeyID, key.Secret, ""),
		HTTPClient:  &http.Client{Timeout: 30 * time.Second},
		Retryer:     func() aws.Retryer { return aws.NopRetryer{} },
	}
	return lightsail.NewFromConfig(cfg, func(o *lightsail.Options) {
		o.BaseEndpoint = aws.String(e.API.URL)
	})
}

// AddOrigin registers an origin as --origin or the admin endpoint would.
func (e *Env) AddOrigin(name, url, resourceType, region string) {
	e.T.Helper()
	err := e.Store.PutOrigin(context.Background(), store.Origin{Name: name, URL: url, ResourceType: resourceType, RegionName: region, CreatedAt: e.Clock.Now()})
	if err != nil {
		e.T.Fatalf("add origin: %v", err)
	}
}
