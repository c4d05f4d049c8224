package edge

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/httpcache"
	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/meter"
	"github.com/sailcdn/sailcdn/internal/meter/metertest"
	"github.com/sailcdn/sailcdn/internal/store"
)

var ctx = context.Background()

// harness is an edge on an httptest server over a real SQLite store in t.TempDir(), with real
// origins on httptest servers. Distributions are written to the store directly.
type harness struct {
	t          testing.TB
	db         *store.DB
	dbPath     string
	edge       *Edge
	meter      *meter.Meter
	cacheClock *clock.Offset // the cache's clock: wall time that tests can move forward
	srv        *httptest.Server
	tap        *metertest.TapListener // counts every byte on the edge's sockets, below the meter
	client     *http.Client
}

type harnessOption func(*Config)

func newHarness(t testing.TB, opts ...harnessOption) *harness {
	t.Helper()
	dbPath := filepath.Join(t.TempDir(), "sailcdn.db")
	db, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m, err := NewMeter(db, clock.Wall{}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	cacheClock := clock.NewOffset(nil)
	cfg := Config{
		Store:  db,
		Cache:  httpcache.New(httpcache.Config{Now: cacheClock.Now, MaxBufferedBody: 1 << 20}),
		Meter:  m,
		Logger: log,
	}
	for _, o := range opts {
		o(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, dbPath: dbPath, edge: e, meter: cfg.Meter, cacheClock: cacheClock}
	// The server the edge ships (NewServer): its timeouts and the meter's hooks.
	h.srv = httptest.NewUnstartedServer(e.Handler())
	h.srv.Config = e.NewServer()
	h.tap = &metertest.TapListener{Listener: h.srv.Listener}
	h.srv.Listener = e.Listener(h.tap, h.srv.Config)
	h.srv.Start()
	t.Cleanup(h.srv.Close)
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	h.client = &http.Client{Transport: tr, Timeout: 20 * time.Second}
	return h
}

// testWriter sends log output to t.Log, so that it shows only for failing tests.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// origin is a real origin server that counts its hits and the bytes its socket receives, and keeps
// the last request it received.
type origin struct {
	*httptest.Server
	tap  *metertest.TapListener // every byte the origin's sockets read and wrote
	hits atomic.Int64
	mu   sync.Mutex
	last *http.Request
	body []byte // body of the last request
}

func (o *origin) lastRequest() (*http.Request, []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last, o.body
}

// origin starts an origin and registers it as us-east-1/name.
func (h *harness) origin(name string, handler http.HandlerFunc) *origin {
	h.t.Helper()
	o := &origin{}
	o.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		o.mu.Lock()
		o.last, o.body = r.Clone(context.Background()), body
		o.mu.Unlock()
		handler(w, r)
	}))
	o.tap = &metertest.TapListener{Listener: o.Listener}
	o.Listener = o.tap
	o.Start()
	h.t.Cleanup(o.Close)
	h.registerOrigin(name, o.URL)
	return o
}

func (h *harness) registerOrigin(name, url string) {
	h.t.Helper()
	if err := h.db.PutOrigin(ctx, store.Origin{Name: name, RegionName: "us-east-1", ResourceType: "Instance", URL: url}); err != nil {
		h.t.Fatal(err)
	}
}

// defaultConfig is a distribution's stored config as CreateDistribution writes it with defaults.
func defaultConfig(originName string) *lightsail.LightsailDistribution {
	p := func(s string) *string { return &s }
	n := func(v int64) *int64 { return &v }
	f := false
	return &lightsail.LightsailDistribution{
		Origin: &lightsail.Origin{
			Name: p(originName), RegionName: p("us-east-1"), ResourceType: p("Instance"),
			ProtocolPolicy: p("http-only"), ResponseTimeout: n(30),
		},
		DefaultCacheBehavior: &lightsail.CacheBehavior{Behavior: p("cache")},
		CacheBehaviorSettings: &lightsail.CacheSettings{
			DefaultTTL: n(86400), MinimumTTL: n(0), MaximumTTL: n(31536000),
			AllowedHTTPMethods:    p("GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE"),
			CachedHTTPMethods:     p("GET,HEAD"),
			ForwardedCookies:      &lightsail.CookieObject{Option: p("none")},
			ForwardedHeaders:      &lightsail.HeaderObject{Option: p("default")},
			ForwardedQueryStrings: &lightsail.QueryStringObject{Option: &f},
		},
	}
}

func ptr[T any](v T) *T { return &v }

// distribution writes a live distribution named name (host name.cdn.test) whose origin is
// originName, with mod applied to the default config, and makes the edge load it.
func (h *harness) distribution(name, originName string, mod func(*lightsail.LightsailDistribution)) *store.Distribution {
	h.t.Helper()
	cfg := defaultConfig(originName)
	if mod != nil {
		mod(cfg)
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	now := time.Now()
	d := &store.Distribution{
		AccountID: "111111111111", Name: name, DomainName: name + ".cdn.test", BundleID: "small_1_0",
		IsEnabled: true, CreatedAt: now, UpdatedAt: now, DeployedAt: now, Config: raw,
	}
	if err := h.db.Tx(ctx, func(tx *store.Tx) error { return tx.InsertDistribution(ctx, d) }); err != nil {
		h.t.Fatal(err)
	}
	h.reload()
	return d
}

// update changes a distribution's row and config in the store (on db, which may be another
// handle on the same database) and returns the updated row. The edge is not told.
func updateDistribution(t testing.TB, db *store.DB, id string, mod func(*store.Distribution, *lightsail.LightsailDistribution)) {
	t.Helper()
	err := db.Tx(ctx, func(tx *store.Tx) error {
		d, err := tx.GetDistributionByIDForUpdate(ctx, id)
		if err != nil {
			return err
		}
		var cfg lightsail.LightsailDistribution
		if err := json.Unmarshal(d.Config, &cfg); err != nil {
			return err
		}
		mod(d, &cfg)
		if d.Config, err = json.Marshal(&cfg); err != nil {
			return err
		}
		return tx.UpdateDistribution(ctx, d)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (h *harness) update(d *store.Distribution, mod func(*store.Distribution, *lightsail.LightsailDistribution)) {
	h.t.Helper()
	updateDistribution(h.t, h.db, d.ID, mod)
	h.reload()
}

func (h *harness) reload() {
	h.t.Helper()
	if err := h.edge.Reload(ctx); err != nil {
		h.t.Fatal(err)
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request to the edge for host.
func (h *harness) do(method, host, target string, header http.Header, body string) response {
	h.t.Helper()
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.srv.URL+target, rb)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Host = host
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := h.client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (h *harness) get(host, target string) response {
	h.t.Helper()
	return h.do(http.MethodGet, host, target, nil, "")
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// xcache is the response's X-Cache word: "Hit", "Miss", "RefreshHit" or "Error".
func (r response) xcache() string {
	v, _, _ := strings.Cut(r.header.Get("X-Cache"), " ")
	return v
}

func contextWithCancel() (context.Context, context.CancelFunc) { return context.WithCancel(ctx) }

// h2cClient speaks HTTP/2 with prior knowledge over cleartext TCP.
func h2cClient() *http.Client {
	return &http.Client{Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
}
