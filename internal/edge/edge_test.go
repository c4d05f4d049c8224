package edge

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
	"github.com/sailcdn/sailcdn/internal/store"
)

func cacheable(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "max-age=300")
	fmt.Fprintf(w, "path=%s query=%s", r.URL.Path, r.URL.RawQuery)
}

func TestRoutingByHost(t *testing.T) {
	h := newHarness(t)
	h.origin("web", cacheable)
	site := h.distribution("site", "web", func(c *lightsail.LightsailDistribution) {
		c.AlternativeDomainNames = []string{"www.Example.test"}
	})
	off := h.distribution("off", "web", nil)
	gone := h.distribution("gone", "web", nil)
	h.update(off, func(d *store.Distribution, _ *lightsail.LightsailDistribution) { d.IsEnabled = false })
	if err := h.db.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteDistribution(ctx, gone.ID, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	h.reload()

	cases := []struct {
		name, host string
		status     int
		body       string
	}{
		{"domain name", "site.cdn.test", 200, "path=/a query="},
		{"upper case and port", "SITE.CDN.TEST:8080", 200, "path=/a query="},
		{"trailing dot", "site.cdn.test.", 200, "path=/a query="},
		{"alternative domain name", "www.example.test", 200, "path=/a query="},
		{"unknown host", "nobody.cdn.test", 404, msgUnknownHost + "\n"},
		{"disabled", "off.cdn.test", 403, msgDisabled + "\n"},
		{"deleted", "gone.cdn.test", 404, msgDeleted + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.get(tc.host, "/a")
			if r.status != tc.status || r.body != tc.body {
				t.Fatalf("got %d %q, want %d %q", r.status, r.body, tc.status, tc.body)
			}
			if r.header.Get(RequestIDHeader) == "" || !strings.HasSuffix(r.header.Get("Via"), "(sailcdn)") {
				t.Errorf("missing Via/request id: %v", r.header)
			}
		})
	}
	// A restarted edge still knows the deleted host from the store.
	e2, err := New(Config{Store: h.db})
	if err != nil {
		t.Fatal(err)
	}
	if d, deleted := e2.snap.Load().lookup("gone.cdn.test"); d != nil || !deleted {
		t.Errorf("fresh edge: gone.cdn.test → %v deleted=%v", d, deleted)
	}
	_ = site
}

func TestHitAndMiss(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", cacheable)
	h.distribution("site", "web", nil)

	first := h.get("site.cdn.test", "/img.png")
	second := h.get("site.cdn.test", "/img.png")
	if first.xcache() != "Miss" || second.xcache() != "Hit" {
		t.Fatalf("X-Cache %q then %q, want Miss then Hit", first.header.Get("X-Cache"), second.header.Get("X-Cache"))
	}
	if o.hits.Load() != 1 || second.body != first.body {
		t.Fatalf("origin hits %d; bodies %q / %q", o.hits.Load(), first.body, second.body)
	}
	if second.header.Get("Age") == "" {
		t.Error("a hit carries no Age")
	}
	if first.header.Get(RequestIDHeader) == second.header.Get(RequestIDHeader) {
		t.Error("two requests share a request id")
	}
	if via := second.header.Get("Via"); via != "1.1 sailcdn (sailcdn)" {
		t.Errorf("Via %q", via)
	}
	// HEAD is answered from the stored GET response.
	head := h.do(http.MethodHead, "site.cdn.test", "/img.png", nil, "")
	if head.xcache() != "Hit" || o.hits.Load() != 1 {
		t.Errorf("HEAD: X-Cache %q, origin hits %d", head.xcache(), o.hits.Load())
	}
}

func TestTTLsClampTheOriginsFreshness(t *testing.T) {
	cases := []struct {
		name          string
		cacheControl  string
		min, def, max int64
		advance       time.Duration
		wantSecond    string // X-Cache of the second request after advance
	}{
		{"origin max-age honoured", "max-age=100", 0, 86400, 31536000, 90 * time.Second, "Hit"},
		{"origin max-age expires", "max-age=100", 0, 86400, 31536000, 110 * time.Second, "Miss"},
		{"maximumTTL caps max-age", "max-age=1000", 0, 30, 60, 61 * time.Second, "Miss"},
		{"maximumTTL leaves shorter max-age", "max-age=1000", 0, 30, 2000, 500 * time.Second, "Hit"},
		{"minimumTTL raises max-age", "max-age=5", 120, 120, 3600, 100 * time.Second, "Hit"},
		{"minimumTTL overrides no-store", "no-store", 120, 120, 3600, 100 * time.Second, "Hit"},
		{"no-store without minimumTTL", "no-store", 0, 86400, 31536000, 0, "Miss"},
		{"defaultTTL when origin is silent", "", 0, 50, 3600, 40 * time.Second, "Hit"},
		{"defaultTTL expires", "", 0, 50, 3600, 60 * time.Second, "Miss"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			o := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
				if tc.cacheControl != "" {
					w.Header().Set("Cache-Control", tc.cacheControl)
				}
				w.Write([]byte("x"))
			})
			h.distribution("site", "web", func(c *lightsail.LightsailDistribution) {
				s := c.CacheBehaviorSettings
				s.MinimumTTL, s.DefaultTTL, s.MaximumTTL = &tc.min, &tc.def, &tc.max
			})
			if r := h.get("site.cdn.test", "/f"); r.xcache() != "Miss" {
				t.Fatalf("first request X-Cache %q", r.xcache())
			}
			h.cacheClock.Advance(tc.advance)
			if r := h.get("site.cdn.test", "/f"); r.xcache() != tc.wantSecond {
				t.Fatalf("after %s: X-Cache %q, want %q (origin hits %d)", tc.advance, r.xcache(), tc.wantSecond, o.hits.Load())
			}
		})
	}
}

func TestPathBehaviours(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", cacheable)
	h.distribution("site", "web", func(c *lightsail.LightsailDistribution) {
		c.DefaultCacheBehavior.Behavior = ptr("dont-cache")
		c.CacheBehaviors = []lightsail.CacheBehaviorPerPath{
			{Path: ptr("/static/private/*"), Behavior: ptr("dont-cache")},
			{Path: ptr("static/*"), Behavior: ptr("cache")}, // no leading '/': same as "/static/*"
			{Path: ptr("*.css"), Behavior: ptr("cache")},
			{Path: ptr("/img?.png"), Behavior: ptr("cache")},
		}
	})
	cases := []struct {
		path   string
		cached bool
	}{
		{"/static/app.js", true},
		{"/static/deep/er/app.js", true},
		{"/static/private/key", false}, // the first matching pattern wins
		{"/theme/site.css", true},
		{"/img1.png", true},
		{"/img10.png", false},
		{"/index.html", false},
		{"/STATIC/app.js", false}, // patterns are case-sensitive
	}
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			before := o.hits.Load()
			h.get("site.cdn.test", tc.path)
			second := h.get("site.cdn.test", tc.path)
			hits := o.hits.Load() - before
			if tc.cached && (hits != 1 || second.xcache() != "Hit") || !tc.cached && (hits != 2 || second.xcache() != "Miss") {
				t.Fatalf("cached=%v: origin hits %d, second X-Cache %q", tc.cached, hits, second.xcache())
			}
		})
	}
}

func TestAllowedMethods(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "%s ok", r.Method) })
	h.distribution("ro", "web", func(c *lightsail.LightsailDistribution) {
		c.CacheBehaviorSettings.AllowedHTTPMethods = ptr("GET,HEAD")
	})
	h.distribution("rw", "web", nil)
	if r := h.do(http.MethodPost, "ro.cdn.test", "/form", nil, "a=1"); r.status != 403 || !strings.Contains(r.body, "POST") {
		t.Fatalf("POST to a GET,HEAD distribution: %d %q", r.status, r.body)
	}
	if r := h.do(http.MethodOptions, "ro.cdn.test", "/", nil, ""); r.status != 403 {
		t.Fatalf("OPTIONS to a GET,HEAD distribution: %d", r.status)
	}
	if o.hits.Load() != 0 {
		t.Fatalf("refused requests reached the origin")
	}
	r := h.do(http.MethodPost, "rw.cdn.test", "/form", hdr("Content-Type", "application/x-www-form-urlencoded"), "a=1")
	last, body := o.lastRequest()
	if r.status != 200 || r.body != "POST ok" || string(body) != "a=1" || last.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		t.Fatalf("POST to a full-method distribution: %d %q; origin got body %q type %q", r.status, r.body, body, last.Header.Get("Content-Type"))
	}
}

func TestConcurrentMissesCollapseIntoOneOriginFetch(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(300 * time.Millisecond)
		cacheable(w, r)
	})
	h.distribution("site", "web", nil)
	const n = 20
	var wg sync.WaitGroup
	bodies := make([]string, n)
	for i := range n {
		wg.Go(func() { bodies[i] = h.get("site.cdn.test", "/hot").body })
	}
	wg.Wait()
	if o.hits.Load() != 1 {
		t.Fatalf("%d concurrent misses made %d origin fetches, want 1", n, o.hits.Load())
	}
	for _, b := range bodies {
		if b != "path=/hot query=" {
			t.Fatalf("a collapsed request got %q", b)
		}
	}
}

func TestCacheResetPurges(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", cacheable)
	d := h.distribution("site", "web", nil)
	other := h.distribution("other", "web", nil)
	h.get("site.cdn.test", "/a")
	h.get("other.cdn.test", "/a")
	if r := h.get("site.cdn.test", "/a"); r.xcache() != "Hit" {
		t.Fatalf("before reset: %q", r.xcache())
	}
	h.update(d, func(d *store.Distribution, _ *lightsail.LightsailDistribution) { d.CacheResetAt = time.Now() })
	if r := h.get("site.cdn.test", "/a"); r.xcache() != "Miss" {
		t.Fatalf("after reset: %q", r.xcache())
	}
	if r := h.get("other.cdn.test", "/a"); r.xcache() != "Hit" {
		t.Fatalf("another distribution's cache was purged: %q", r.xcache())
	}
	if o.hits.Load() != 3 {
		t.Fatalf("origin hits %d, want 3", o.hits.Load())
	}
	_ = other
}

// Changes written by another process sharing the database reach a running edge within a second.
func TestConfigChangesFromAnotherProcessApplyWithinOneSecond(t *testing.T) {
	h := newHarness(t)
	h.origin("web", cacheable)
	d := h.distribution("site", "web", nil)
	other, err := store.Open(ctx, store.Config{Driver: store.DriverSQLite, DSN: h.dbPath})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	runCtx, stop := contextWithCancel()
	done := make(chan error, 1)
	go func() { done <- h.edge.Run(runCtx) }()
	defer func() { stop(); <-done }()

	steps := []struct {
		name   string
		change func()
		status int
	}{
		{"disable", func() {
			updateDistribution(t, other, d.ID, func(d *store.Distribution, _ *lightsail.LightsailDistribution) { d.IsEnabled = false })
		}, 403},
		{"enable", func() {
			updateDistribution(t, other, d.ID, func(d *store.Distribution, _ *lightsail.LightsailDistribution) { d.IsEnabled = true })
		}, 200},
		{"delete", func() {
			if err := other.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteDistribution(ctx, d.ID, time.Now()) }); err != nil {
				t.Fatal(err)
			}
		}, 404},
	}
	for _, s := range steps {
		s.change()
		took := wait.Until(t, time.Second, s.name, func() bool { return h.get("site.cdn.test", "/x").status == s.status })
		t.Logf("%s took effect after %s", s.name, took)
	}
}

func TestDefaultRootObject(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", cacheable)
	h.distribution("site", "web", func(c *lightsail.LightsailDistribution) { c.DefaultRootObject = ptr("index.html") })
	h.distribution("plain", "web", nil)
	cases := []struct{ host, target, want string }{
		{"site.cdn.test", "/", "path=/index.html query="},
		{"site.cdn.test", "/dir/", "path=/dir/ query="},
		{"site.cdn.test", "/other", "path=/other query="},
		{"plain.cdn.test", "/", "path=/ query="},
	}
	for _, tc := range cases {
		if r := h.get(tc.host, tc.target); r.body != tc.want {
			t.Errorf("%s%s: %q, want %q", tc.host, tc.target, r.body, tc.want)
		}
	}
	_ = o
}

func TestCustomErrorResponses(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/errors/404.html":
			w.Header().Set("Cache-Control", "max-age=300")
			w.Write([]byte("friendly not found"))
		case "/errors/5xx.html":
			w.Header().Set("Cache-Control", "max-age=300")
			w.Write([]byte("friendly server error"))
		case "/broken":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/forbidden":
			http.Error(w, "no", http.StatusForbidden)
		default:
			http.Error(w, "raw not found", http.StatusNotFound)
		}
	})
	h.distribution("site", "web", func(c *lightsail.LightsailDistribution) {
		c.CustomErrorResponses = []lightsail.DistributionCustomErrorResponse{
			{ErrorCode: ptr[int64](404), ResponsePagePath: ptr("/errors/404.html"), ResponseCode: ptr("200"), ErrorCachingMinTTL: ptr[int64](60)},
			{ErrorCode: ptr[int64](500), ResponsePagePath: ptr("/errors/5xx.html"), ErrorCachingMinTTL: ptr[int64](5)},
		}
	})
	r := h.get("site.cdn.test", "/missing")
	if r.status != 200 || r.body != "friendly not found" {
		t.Fatalf("404 with a page and responseCode 200: %d %q", r.status, r.body)
	}
	before := o.hits.Load()
	r = h.get("site.cdn.test", "/missing")
	if r.status != 200 || r.body != "friendly not found" || o.hits.Load() != before {
		t.Fatalf("repeat: %d %q, origin hits %d → %d (the 404 and its page should both be cached)", r.status, r.body, before, o.hits.Load())
	}
	h.cacheClock.Advance(61 * time.Second)
	h.get("site.cdn.test", "/missing")
	if o.hits.Load() != before+1 {
		t.Fatalf("after errorCachingMinTTL the 404 should be fetched again (and the page still be cached): hits %d → %d", before, o.hits.Load())
	}

	r = h.get("site.cdn.test", "/broken")
	if r.status != 500 || r.body != "friendly server error" {
		t.Fatalf("500 with a page and no responseCode: %d %q", r.status, r.body)
	}
	r = h.get("site.cdn.test", "/forbidden")
	if r.status != 403 || r.body != "no\n" {
		t.Fatalf("403 without a page passes through: %d %q", r.status, r.body)
	}
	// An error page request keeps the method HEAD and sends no body.
	r = h.do(http.MethodHead, "site.cdn.test", "/missing", nil, "")
	if r.status != 200 || r.body != "" {
		t.Fatalf("HEAD: %d %q", r.status, r.body)
	}
}

// Errors without a custom page and without explicit freshness are cached for 10 s, not for the
// distribution's default TTL.
func TestErrorsAreCachedTenSecondsByDefault(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusNotFound) })
	h.distribution("site", "web", nil)
	h.get("site.cdn.test", "/x")
	if r := h.get("site.cdn.test", "/x"); r.status != 404 || o.hits.Load() != 1 {
		t.Fatalf("second 404: status %d, origin hits %d", r.status, o.hits.Load())
	}
	h.cacheClock.Advance(11 * time.Second)
	h.get("site.cdn.test", "/x")
	if o.hits.Load() != 2 {
		t.Fatalf("after 11 s the 404 was still served from cache (origin hits %d)", o.hits.Load())
	}
}

func TestH2C(t *testing.T) {
	h := newHarness(t)
	h.origin("web", cacheable)
	h.distribution("site", "web", nil)
	c := h2cClient()
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/h2", nil)
	req.Host = "site.cdn.test"
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 || resp.StatusCode != 200 || resp.Header.Get("X-Cache") == "" {
		t.Fatalf("h2c: %s %d %v", resp.Proto, resp.StatusCode, resp.Header)
	}
}

func TestNoMetering(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Meter = nil })
	h.origin("web", cacheable)
	d := h.distribution("site", "web", nil)
	if r := h.get("site.cdn.test", "/a"); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	if err := h.edge.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := h.db.QueryUsage(ctx, d.ID, 0, 1<<62)
	if err != nil || len(rows) != 0 {
		t.Fatalf("usage with metering off: %v %v", rows, err)
	}
}

func TestAccessLog(t *testing.T) {
	var buf syncBuffer
	h := newHarness(t, func(c *Config) { c.AccessLog = &buf })
	h.origin("web", cacheable)
	h.distribution("site", "web", nil)
	h.do(http.MethodGet, "site.cdn.test", "/a?b=1", hdr("User-Agent", "tester/1", "Referer", "http://ref.test/"), "")
	// The miss's line is written once its handler returns, which can be after the viewer has the
	// whole body: wait for it, or the next request's line may come first.
	wait.Until(t, 5*time.Second, "the miss's log line", func() bool { return strings.Count(buf.String(), "\n") >= 1 })
	settle(t, h.srv.Listener.Addr().String(), "GET /a HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n") // logged as an HTTP/1.0 hit
	h.get("nobody.test", "/z")
	// A hit on a fresh connection is served by the fast path, and logged the same way.
	before := h.edge.FastPathStats().Served
	c := h.rawDial()
	c.send("GET /a?b=2 HTTP/1.1\r\nHost: site.cdn.test\r\nUser-Agent: fast/1\r\n\r\n")
	resp, _ := c.readResponse(http.MethodGet)
	if h.edge.FastPathStats().Served != before+1 {
		t.Fatal("the hit was not served by the fast path")
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("log lines %q", lines)
	}
	fast := `"GET /a?b=2 HTTP/1.1" 200 14 "-" "fast/1" site.cdn.test site Hit ` + resp.Header.Get(RequestIDHeader) + " "
	if !strings.HasPrefix(lines[3], "127.0.0.1 - - [") || !strings.Contains(lines[3], fast) {
		t.Errorf("fast-path line %q lacks %q", lines[3], fast)
	}
	want := `"GET /a?b=1 HTTP/1.1" 200 14 "http://ref.test/" "tester/1" site.cdn.test site Miss `
	if !strings.HasPrefix(lines[0], "127.0.0.1 - - [") || !strings.Contains(lines[0], want) {
		t.Errorf("line %q lacks %q", lines[0], want)
	}
	if !strings.Contains(lines[1], `"GET /a HTTP/1.0" 200 14 `) || !strings.Contains(lines[1], " site Hit ") {
		t.Errorf("HTTP/1.0 hit line %q", lines[1])
	}
	if !strings.Contains(lines[2], `" 404 `) || !strings.Contains(lines[2], " nobody.test - - ") {
		t.Errorf("unknown host line %q", lines[2])
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestConnectionListedFieldsAreNotForwarded(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", cacheable)
	h.distribution("site", "web", func(c *lightsail.LightsailDistribution) {
		c.CacheBehaviorSettings.ForwardedHeaders = &lightsail.HeaderObject{Option: ptr("all")}
	})
	h.do(http.MethodGet, "site.cdn.test", "/", hdr("Connection", "X-Secret", "X-Secret", "s", "X-Public", "p"), "")
	last, _ := o.lastRequest()
	if last.Header.Get("X-Secret") != "" || last.Header.Get("X-Public") != "p" {
		t.Fatalf("origin got X-Secret %q X-Public %q", last.Header.Get("X-Secret"), last.Header.Get("X-Public"))
	}
}

func TestAsteriskTargetIsRefused(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", cacheable)
	h.distribution("site", "web", nil)
	c := h.rawDial()
	c.send("GET * HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
	resp, _ := c.readResponse(http.MethodGet)
	if resp.StatusCode != http.StatusBadRequest || o.hits.Load() != 0 {
		t.Fatalf("GET *: %d, origin hits %d", resp.StatusCode, o.hits.Load())
	}
}

// newMeteredHarness is a harness whose meter and edge register their series in one registry, for
// the /metrics tests.
func newMeteredHarness(t *testing.T) *harness {
	reg := prometheus.NewRegistry()
	return newHarness(t, func(c *Config) {
		m, err := NewMeter(c.Store, clock.Wall{}, reg, c.Logger)
		if err != nil {
			t.Fatal(err)
		}
		c.Meter, c.Registry = m, reg
	})
}

// scrapeMetrics returns what /metrics answers now.
func scrapeMetrics(h *harness) string {
	rec := httptest.NewRecorder()
	h.edge.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

func TestPrometheusMetrics(t *testing.T) {
	h := newMeteredHarness(t)
	h.origin("web", cacheable)
	d := h.distribution("site", "web", nil)
	h.get("site.cdn.test", "/a")
	h.get("site.cdn.test", "/a")
	h.get("site.cdn.test", "/a")
	h.get("site.cdn.test", "/missing-host-check")
	wants := []string{
		fmt.Sprintf(`sailcdn_edge_requests_total{distribution_id=%q} 4`, d.ID),
		fmt.Sprintf(`sailcdn_edge_cache_results_total{distribution_id=%q,result="Hit"} 2`, d.ID),
		fmt.Sprintf(`sailcdn_edge_cache_results_total{distribution_id=%q,result="Miss"} 2`, d.ID),
		"sailcdn_cache_hit_ratio 0.5",
		"sailcdn_edge_bytes_downloaded_total",
	}
	// A request is booked when its handler returns, which can be just after the client has read the
	// whole response; give the last one a moment.
	var text string
	wait.For(t, 2*time.Second, "/metrics to show every request", func() error {
		text = scrapeMetrics(h)
		for _, want := range wants {
			if !strings.Contains(text, want) {
				return fmt.Errorf("/metrics lacks %q", want)
			}
		}
		return nil
	})
	if t.Failed() {
		t.Log(text)
	}
}

// An h2c upgrade request with a body is served as HTTP/1.1 (its body streamed to the origin), never
// read whole into memory first by the upgrade path.
func TestH2CUpgradeWithBodyIsServedAsHTTP1(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h.distribution("site", "web", nil)
	body := strings.Repeat("b", 1<<20)
	c := h.rawDial()
	c.send("POST /upload HTTP/1.1\r\nHost: site.cdn.test\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n" +
		"HTTP2-Settings: AAMAAABkAAQAAP__\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
	resp, _ := c.readResponse(http.MethodPost)
	_, got := o.lastRequest()
	if resp.StatusCode != http.StatusNoContent || resp.ProtoMajor != 1 || len(got) != len(body) {
		t.Fatalf("got %s %d, origin read %d bytes", resp.Proto, resp.StatusCode, len(got))
	}
}

// A deleted distribution's series leave /metrics: the registry does not grow with every distribution
// ever served.
func TestDeletedDistributionLeavesMetrics(t *testing.T) {
	h := newMeteredHarness(t)
	h.origin("web", cacheable)
	d := h.distribution("site", "web", nil)
	h.get("site.cdn.test", "/a")
	scrape := func() string { return scrapeMetrics(h) }
	wait.Until(t, 2*time.Second, "series of the live distribution", func() bool {
		return strings.Contains(scrape(), `sailcdn_edge_requests_total{distribution_id="`+d.ID+`"} 1`)
	})
	if err := h.db.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteDistribution(ctx, d.ID, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	h.reload()
	if text := scrape(); strings.Contains(text, d.ID) {
		t.Fatalf("/metrics still names the deleted distribution:\n%s", text)
	}
}
