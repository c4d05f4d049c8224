package edge

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/lightsail"
)

var noModTime time.Time

func TestOriginFailures(t *testing.T) {
	h := newHarness(t)
	// A port nobody listens on: connection refused.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + ln.Addr().String()
	ln.Close()
	h.registerOrigin("refused", closedURL)
	h.origin("slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	oneSecond := func(c *lightsail.LightsailDistribution) { c.Origin.ResponseTimeout = ptr[int64](1) }
	h.distribution("refused", "refused", nil)
	h.distribution("slow", "slow", oneSecond)
	h.distribution("unregistered", "nobody", nil)

	cases := []struct {
		host   string
		status int
		max    time.Duration
		says   string // the body says which failure it was
	}{
		{"refused.cdn.test", http.StatusBadGateway, 2 * time.Second, "could not be reached"},
		{"unregistered.cdn.test", http.StatusBadGateway, time.Second, "could not be reached"},
		{"slow.cdn.test", http.StatusGatewayTimeout, 3 * time.Second, "did not answer within its response timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			start := time.Now()
			r := h.get(tc.host, "/x")
			took := time.Since(start)
			if r.status != tc.status || r.xcache() != "Error" || took > tc.max {
				t.Fatalf("got %d (X-Cache %q) after %s, want %d within %s", r.status, r.xcache(), took, tc.status, tc.max)
			}
			if !strings.Contains(r.body, tc.says) {
				t.Errorf("body %q does not say %q", r.body, tc.says)
			}
			if tc.status == http.StatusGatewayTimeout && took < 900*time.Millisecond {
				t.Fatalf("504 after %s, before the 1 s responseTimeout", took)
			}
		})
	}
}

// responseTimeout also bounds the silence between two reads of the body.
func TestOriginStallingMidBodyIsCutOff(t *testing.T) {
	h := newHarness(t)
	h.origin("stall", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write([]byte(strings.Repeat("a", 100)))
		w.(http.Flusher).Flush()
		select {
		case <-time.After(30 * time.Second):
		case <-r.Context().Done():
		}
	})
	h.distribution("stall", "stall", func(c *lightsail.LightsailDistribution) { c.Origin.ResponseTimeout = ptr[int64](1) })
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/big", nil)
	req.Host = "stall.cdn.test"
	start := time.Now()
	resp, err := h.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || len(b) >= 1000 || time.Since(start) > 15*time.Second {
		// The origin stalls for 30 s: being cut off well before that is the 1 s responseTimeout at
		// work (the margin is for a loaded CI machine).
		t.Fatalf("read %d bytes, err %v, after %s: want a truncated body within ~1 s", len(b), err, time.Since(start))
	}
}

func TestProtocolPolicyPicksTheScheme(t *testing.T) {
	h := newHarness(t)
	tls := httptestTLSOrigin(t)
	// Registered as http:// but the distribution says https-only: the edge speaks TLS to the same
	// host and port.
	h.registerOrigin("tls", strings.Replace(tls.URL, "https://", "http://", 1)+"/prefix/")
	h.edge.transport = tls.Client().Transport
	h.distribution("secure", "tls", func(c *lightsail.LightsailDistribution) { c.Origin.ProtocolPolicy = ptr("https-only") })
	r := h.get("secure.cdn.test", "/a%20b/c")
	if r.status != 200 || r.body != "TLS /prefix/a%20b/c" {
		t.Fatalf("https-only: %d %q", r.status, r.body)
	}
}

func httptestTLSOrigin(t *testing.T) *httptest.Server {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.Error(w, "plain", 400)
			return
		}
		io.WriteString(w, "TLS "+r.URL.EscapedPath())
	}))
	t.Cleanup(srv.Close)
	return srv
}

// resettingOrigin answers with header fields hdr and the first half of a 2000-byte body, then
// resets its connection.
func resettingOrigin(hdr ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(hdr); i += 2 {
			w.Header().Set(hdr[i], hdr[i+1])
		}
		w.WriteHeader(200)
		w.Write([]byte(strings.Repeat("a", 1000)))
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		reset(conn)
	}
}

// reset closes c with a TCP reset (no FIN): c is the socket itself or wraps it (the harness's
// origins count their bytes through metertest's tap), reached through Unwrap.
func reset(c net.Conn) {
	for {
		u, ok := c.(interface{ Unwrap() net.Conn })
		if !ok {
			break
		}
		c = u.Unwrap()
	}
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
}

// An origin that resets mid-body: the viewer's connection is aborted, as httputil.ReverseProxy
// aborts it, so the viewer can tell the body is incomplete, and nothing is stored (issue 9,
// defect 6). Before, a chunked response ended with a clean "0\r\n\r\n", which looks complete.
func TestOriginResetMidBodyAbortsTheViewer(t *testing.T) {
	cases := []struct {
		name string
		hdr  []string
	}{
		{"chunked, cacheable", []string{"Cache-Control", "max-age=600"}},
		{"chunked, not cacheable", []string{"Cache-Control", "no-store"}},
		{"Content-Length, cacheable", []string{"Cache-Control", "max-age=600", "Content-Length", "2000"}},
		{"Content-Length, not cacheable", []string{"Cache-Control", "private", "Content-Length", "2000"}},
		{"Content-Length, larger than the cache buffers", []string{"Cache-Control", "max-age=600", "Content-Length", "5000000"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			o := h.origin("web", resettingOrigin(tc.hdr...))
			h.distribution("site", "web", nil)
			for i := range 2 {
				c := h.rawDial()
				c.send("GET /reset HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
				resp, err := http.ReadResponse(c.br, &http.Request{Method: http.MethodGet})
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				body, err := io.ReadAll(resp.Body)
				if err == nil {
					t.Fatalf("request %d: read a complete %d-byte body (%s framing); the viewer cannot tell it was cut",
						i, len(body), strings.Join(resp.TransferEncoding, ","))
				}
				if len(body) > 1000 {
					t.Fatalf("request %d: %d body bytes from an origin that sent 1000", i, len(body))
				}
			}
			if got := o.hits.Load(); got != 2 {
				t.Fatalf("origin hits %d, want 2: a truncated body must never be stored", got)
			}
		})
	}
}

// Over HTTP/2 the same abort resets the viewer's stream.
func TestOriginResetMidBodyResetsTheH2Stream(t *testing.T) {
	h := newHarness(t)
	h.origin("web", resettingOrigin("Cache-Control", "max-age=600"))
	h.distribution("site", "web", nil)
	req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/reset", nil)
	req.Host = "site.cdn.test"
	resp, err := h2cClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if body, err := io.ReadAll(resp.Body); err == nil || resp.ProtoMajor != 2 {
		t.Fatalf("%s: read a complete %d-byte body", resp.Proto, len(body))
	}
}

// Origin down: a stored response stands in where its directives allow it (stale-if-error, or
// simply stale: an unreachable origin counts as disconnected, RFC 9111 §4.2.4), else the viewer
// gets 502 with a body that says why.
func TestOriginDownServesStaleWhereAllowed(t *testing.T) {
	cases := []struct {
		cc        string
		wantStale bool
	}{
		{"max-age=1, stale-if-error=600", true},
		{"max-age=1", true},
		{"max-age=1, must-revalidate", false},
		{"max-age=1, no-cache", false},
		{"s-maxage=1", false}, // s-maxage forbids stale use in a shared cache (RFC 9111 §5.2.2.10)
	}
	for _, tc := range cases {
		t.Run(tc.cc, func(t *testing.T) {
			h := newHarness(t)
			o := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", tc.cc)
				w.Header().Set("Etag", `"v1"`)
				io.WriteString(w, "the stored copy")
			})
			h.distribution("site", "web", nil)
			if r := h.get("site.cdn.test", "/doc"); r.status != 200 {
				t.Fatalf("fill: %d", r.status)
			}
			o.Close() // the origin goes down
			h.cacheClock.Advance(60 * time.Second)
			r := h.get("site.cdn.test", "/doc")
			switch {
			case tc.wantStale && (r.status != 200 || r.body != "the stored copy"):
				t.Fatalf("origin down: %d %q, want the stale copy", r.status, r.body)
			case !tc.wantStale && (r.status != http.StatusBadGateway || !strings.Contains(r.body, "could not be reached")):
				t.Fatalf("origin down: %d %q, want 502 saying the origin could not be reached", r.status, r.body)
			}
		})
	}
}
