package edge

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/meter"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// child is an edge on the parent harness's store whose parent is parentURL.
type child struct {
	edge  *Edge
	meter *meter.Meter
	url   string
}

func newChild(t *testing.T, h *harness, parentURL string) *child {
	t.Helper()
	parent, err := ParseParent(parentURL)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	m, err := NewMeter(h.db, clock.Wall{}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Config{Store: h.db, Meter: m, Logger: log, Parent: parent, Name: "child"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(e.Handler())
	e.Instrument(srv.Config)
	srv.Listener = e.Listener(srv.Listener, srv.Config)
	srv.Start()
	t.Cleanup(srv.Close)
	return &child{edge: e, meter: m, url: srv.URL}
}

func (c *child) get(t *testing.T, host, target string, header http.Header) response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url+target, nil)
	req.Host = host
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// A child fetches its misses through the parent: one origin fetch for any number of children, the
// parent's cache keyed as for a viewer, the origin's path prefix and the forwarding rules applied
// once, and the parent's exchanges with children not metered for the distribution.
func TestChildFetchesThroughItsParent(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "object "+r.URL.Path+" "+r.URL.RawQuery)
	})
	// An origin URL with a path prefix, and a query string the distribution does not forward.
	h.registerOrigin("web", o.URL+"/base/")
	d := h.distribution("site", "web", nil)
	a, b := newChild(t, h, h.srv.URL), newChild(t, h, h.srv.URL)

	for i, c := range []*child{a, b, a} {
		r := c.get(t, "site.cdn.test", "/img/x.png?v=1", nil)
		if r.status != http.StatusOK || r.body != "object /base/img/x.png " {
			t.Fatalf("request %d through a child: %d %q", i, r.status, r.body)
		}
	}
	if n := o.hits.Load(); n != 1 {
		t.Fatalf("origin fetched %d times for three requests through two children, want 1", n)
	}
	if r := h.get("site.cdn.test", "/img/x.png"); r.xcache() != "Hit" {
		t.Fatalf("the parent's cache does not hold the object under the viewer's key: X-Cache %q", r.header.Get("X-Cache"))
	}
	req, _ := o.lastRequest()
	if req.Header.Get(tierHeader) != "" {
		t.Errorf("the tier field reached the origin: %q", req.Header.Get(tierHeader))
	}
	if via := req.Header.Get("Via"); strings.Count(via, "(sailcdn)") != 2 {
		t.Errorf("origin saw Via %q, want both tiers", via)
	}

	// Metering: each child counted its viewer's requests; the parent only the one viewer request
	// sent to it directly, not the children's two fetches.
	for _, m := range []struct {
		name     string
		meter    *meter.Meter
		requests int64
	}{{"child a", a.meter, 2}, {"child b", b.meter, 1}, {"parent", h.meter, 1}} {
		requestsMetered(t, m.name, m.meter, d.ID, m.requests)
	}
}

// requestsMetered waits until m has counted want requests of the distribution (the meter books a
// request when its handler returns, a moment after the viewer has the response), and fails if it
// counts more.
func requestsMetered(t *testing.T, what string, m *meter.Meter, dist string, want int64) {
	t.Helper()
	wait.For(t, 3*time.Second, what+" to meter its requests", func() error {
		if got := meter.Sum(m.Pending(), dist).Requests; got != want {
			return fmt.Errorf("metered %d requests, want %d", got, want)
		}
		return nil
	})
}

// A viewer who sends the tier field without a valid signature is a viewer: metered, and the field is
// not passed on.
func TestForgedTierFieldIsAViewer(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "x") })
	d := h.distribution("site", "web", func(c *lightsail.LightsailDistribution) {
		c.CacheBehaviorSettings.ForwardedHeaders = &lightsail.HeaderObject{Option: ptr("all")}
	})
	// Signed with another key, with a stale timestamp, malformed.
	other := tier{key: []byte("not the store's key"), self: "viewer", now: time.Now, parent: &url.URL{Scheme: "http", Host: "x"}}
	signed := other.toParent(ctx, httptest.NewRequest(http.MethodGet, "http://site.cdn.test/", nil), &distribution{domainName: "site.cdn.test"})
	for _, v := range []string{signed.Header.Get(tierHeader), "v1;1;x;AAAA", "garbage"} {
		r := h.do(http.MethodGet, "site.cdn.test", "/", hdr(tierHeader, v), "")
		if r.status != http.StatusOK {
			t.Fatalf("forged field %q: %d", v, r.status)
		}
		req, _ := o.lastRequest()
		if req.Header.Get(tierHeader) != "" {
			t.Fatalf("a forged field reached the origin (headers forwarded: all)")
		}
	}
	requestsMetered(t, "the parent", h.meter, d.ID, 3)
}

// An edge that is its own parent answers 508 at once instead of waiting on its own fill.
func TestParentLoopIsDetected(t *testing.T) {
	h := newHarness(t)
	h.origin("web", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "x") })
	h.distribution("site", "web", nil)
	// A child whose parent is itself: reserve an address, then serve the child on it.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	parent, _ := ParseParent("http://" + ln.Addr().String())
	e, err := New(Config{Store: h.db, Parent: parent, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: e.Handler()}}
	srv.Start()
	defer srv.Close()
	c := &child{edge: e, url: srv.URL}
	start := time.Now()
	r := c.get(t, "site.cdn.test", "/", nil)
	if r.status != http.StatusLoopDetected {
		t.Fatalf("self-parent: %d %q, want 508", r.status, r.body)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the loop took %s to detect", took)
	}
}

// A parent that cannot be reached is skipped: the child fetches from the origin.
func TestUnreachableParentFallsBackToTheOrigin(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "from the origin") })
	h.distribution("site", "web", nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + ln.Addr().String()
	ln.Close()
	c := newChild(t, h, gone)
	if r := c.get(t, "site.cdn.test", "/", nil); r.status != http.StatusOK || r.body != "from the origin" {
		t.Fatalf("parent down: %d %q", r.status, r.body)
	}
	if n := o.hits.Load(); n != 1 {
		t.Fatalf("origin hits %d", n)
	}
}

func TestParseParent(t *testing.T) {
	for raw, ok := range map[string]bool{
		"http://10.0.0.9:8080":   true,
		"https://shield.example": false, // an edge's HTTPS port has no certificate for its address
		"http://host:80/":        true,
		"ftp://host":             false,
		"http://host/path":       false,
		"host:8080":              false,
		"http://user@host":       false,
		"http://host?x=1":        false,
	} {
		if _, err := ParseParent(raw); (err == nil) != ok {
			t.Errorf("ParseParent(%q) error = %v, want ok=%v", raw, err, ok)
		}
	}
}

// A parent that redirects plain HTTP to HTTPS (a certificate attached, or --http-redirect always) still
// answers its children on plain HTTP: the child redirects its own viewers.
func TestParentDoesNotRedirectChildren(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.HTTPRedirect, c.HTTPSPort = RedirectAlways, 8443 })
	h.origin("web", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "object") })
	h.distribution("site", "web", nil)
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/", nil)
	req.Host = "site.cdn.test"
	resp, err := http.DefaultTransport.RoundTrip(req) // not following the redirect
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently && resp.StatusCode != http.StatusPermanentRedirect {
		t.Fatalf("a viewer's plain request to the parent: %d, want a redirect", resp.StatusCode)
	}
	c := newChild(t, h, h.srv.URL)
	if r := c.get(t, "site.cdn.test", "/", nil); r.status != http.StatusOK || r.body != "object" {
		t.Fatalf("through the child: %d %q, want the object", r.status, r.body)
	}
}
