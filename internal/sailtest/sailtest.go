// Package sailtest is sailcdn's test harness: the real assembly (internal/app) on httptest servers over a
// temporary real store, plus clients that talk to it as users do — the real aws-sdk-go-v2 Lightsail
// client, signed by the real SigV4 signer.
package sailtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"

	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/edge"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Test accounts. Dev is --dev's built-in key; Alice and Bob are two more accounts, for isolation tests.
var (
	Dev   = auth.DevKey
	Alice = auth.Key{Profile: "alice", AccessKeyID: "AKIAALICE0000000001", Secret: "alice-secret/Key+1", AccountID: "111111111111"}
	Bob   = auth.Key{Profile: "bob", AccessKeyID: "AKIABOB00000000000002", Secret: "bob-secret/Key+2", AccountID: "222222222222"}
)

// Env is one running sailcdn.
type Env struct {
	T     testing.TB
	Store *store.DB
	Clock *clock.Offset
	App   *app.App
	API   *httptest.Server
	// Edge serves viewers once StartEdge has been called (nil before); EdgeService is the edge
	// behind it (its meter, Reload, MetricsHandler).
	Edge        *httptest.Server
	EdgeService *edge.Edge
}

// Config is what Options adjust: the app configuration and the store backend.
type Config struct {
	app.Config
	backend *Backend
}

// Option adjusts the configuration before the app is built.
type Option func(*Config)

// New starts sailcdn on an httptest server over a fresh store (SQLite in t.TempDir() unless WithBackend
// says otherwise). The server clock
// starts at 2026-04-10T12:00:00Z so tests do not depend on the day they run.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	keys, err := auth.NewKeyring(Dev, Alice, Bob)
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewOffset(nil)
	clk.Set(time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC))
	cfg := Config{Config: app.Config{
		Clock:       clk,
		Keyring:     keys,
		Dev:         true,
		DeployDelay: 200 * time.Millisecond,
	}}
	for _, o := range opts {
		o(&cfg)
	}
	backend := Backends()[0]
	if cfg.backend != nil {
		backend = *cfg.backend
	}
	db, err := store.Open(context.Background(), backend.Config(t))
	if err != nil {
		t.Fatalf("open %s store: %v", backend.Name, err)
	}
	t.Cleanup(func() { db.Close() })
	cfg.Store = db
	a, err := app.New(cfg.Config)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.API)
	t.Cleanup(srv.Close)
	return &Env{T: t, Store: db, Clock: clk, App: a, API: srv}
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
