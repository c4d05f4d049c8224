package edge

import (
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/sailcdn/sailcdn/internal/lightsail"
)

// The cache-poisoned denial of service of issue 9, defect 2: a field that is not in the key made
// the origin answer "400 header too large", and the edge cached that 400 for every viewer. Now
// X-Forwarded-For and Via are rebuilt with a bounded length, and a 400 is never cached anyway.
func TestOversizedForwardingFieldsCannotPoisonTheCache(t *testing.T) {
	h := newHarness(t)
	const originLimit = 4096
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header.Get("X-Forwarded-For")) > originLimit || len(r.Header.Get("Via")) > originLimit {
			http.Error(w, "header too large", http.StatusBadRequest)
			return
		}
		w.Header().Set("Cache-Control", "max-age=600")
		w.Write([]byte("the real page"))
	})
	h.distribution("site", "web", func(c *lightsail.LightsailDistribution) {
		// minimumTTL used to stretch the cached 400 further.
		c.CacheBehaviorSettings.MinimumTTL = ptr[int64](3600)
	})
	huge := strings.Repeat("10.0.0.1, ", 2000)
	hostile := h.do(http.MethodGet, "site.cdn.test", "/page", hdr("X-Forwarded-For", huge, "Via", strings.Repeat("1.1 hop, ", 2000)), "")
	if hostile.status != 200 {
		t.Errorf("hostile viewer: %d %q, want the page (the fields are rebuilt short)", hostile.status, hostile.body)
	}
	last, _ := o.lastRequest()
	if xff := last.Header.Get("X-Forwarded-For"); len(xff) > 512 || !strings.HasSuffix(xff, "127.0.0.1") {
		t.Errorf("origin got X-Forwarded-For of %d bytes ending %q; want at most 512, ending with the viewer's address", len(xff), xff[max(0, len(xff)-20):])
	}
	if via := last.Header.Get("Via"); len(via) > 1280 || !strings.HasSuffix(via, "1.1 sailcdn (sailcdn)") {
		t.Errorf("origin got Via of %d bytes ending %q; want it bounded, ending with the edge's own", len(via), via[max(0, len(via)-30):])
	}
	if next := h.get("site.cdn.test", "/page"); next.status != 200 || next.body != "the real page" {
		t.Fatalf("the next viewer got %d %q", next.status, next.body)
	}
}

// Errors that say "your request is bad" are the requester's, never everyone's: 400, 408, 411,
// 413, 414, 417, 429 and 431 from the origin are not cached, whatever their freshness, minimumTTL
// or customErrorResponses' errorCachingMinTTL say.
func TestErrorsBlamingTheRequestAreNeverCached(t *testing.T) {
	for _, status := range []int{400, 408, 411, 413, 414, 417, 429, 431} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			h := newHarness(t)
			o := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "public, max-age=600")
				w.WriteHeader(status)
			})
			h.distribution("site", "web", func(c *lightsail.LightsailDistribution) {
				c.CacheBehaviorSettings.MinimumTTL = ptr[int64](60)
				c.CustomErrorResponses = []lightsail.DistributionCustomErrorResponse{{ErrorCode: ptr(int64(status)), ErrorCachingMinTTL: ptr[int64](300)}}
			})
			h.get("site.cdn.test", "/x")
			if r := h.get("site.cdn.test", "/x"); r.status != status || o.hits.Load() != 2 {
				t.Fatalf("second request: %d (%s), origin hits %d; want the origin asked again", r.status, r.xcache(), o.hits.Load())
			}
		})
	}
}

// CloudFront answers a GET with a body with 403, and so does the edge (also HEAD): a body the key
// cannot see must not shape what is cached. The origin never sees such a request.
func TestGetWithBodyIsRefused(t *testing.T) {
	for _, fast := range []bool{true, false} {
		h := newHarness(t, func(c *Config) { c.NoFastPath = !fast })
		o := h.origin("web", cacheable)
		h.distribution("site", "web", nil)
		addr := h.srv.Listener.Addr().String()
		for _, raw := range []string{
			"GET /fat HTTP/1.1\r\nHost: site.cdn.test\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
			"GET /fat HTTP/1.1\r\nHost: site.cdn.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
			"HEAD /fat HTTP/1.1\r\nHost: site.cdn.test\r\nContent-Length: 5\r\n\r\nhello",
		} {
			method, _, _ := strings.Cut(raw, " ")
			resp, _ := roundTrip(t, addr, raw, method)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("fast path %v: %q: %d, want 403", fast, raw[:strings.Index(raw, "\r\n")], resp.StatusCode)
			}
		}
		if o.hits.Load() != 0 {
			t.Errorf("fast path %v: a GET with a body reached the origin", fast)
		}
		// An empty body is no body.
		if resp, _ := roundTrip(t, addr, "GET /fat HTTP/1.1\r\nHost: site.cdn.test\r\nContent-Length: 0\r\n\r\n", "GET"); resp.StatusCode != 200 {
			t.Errorf("fast path %v: GET with Content-Length: 0: %d", fast, resp.StatusCode)
		}
	}
}

// A fill is the cache's request, not the viewer's: the viewer's Cache-Control and Pragma do not
// reach the origin on a cache fill or revalidation, so they cannot change what everyone gets.
func TestViewerCacheControlIsNotSentOnAFill(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		if r.Header.Get("Cache-Control") != "" || r.Header.Get("Pragma") != "" {
			w.Header().Set("Cache-Control", "no-store")
			w.Write([]byte("asked with " + r.Header.Get("Cache-Control") + r.Header.Get("Pragma")))
			return
		}
		w.Write([]byte("plain"))
	})
	h.distribution("site", "web", nil)
	for _, f := range []http.Header{
		hdr("Cache-Control", "no-cache, max-age=0, no-transform"),
		hdr("Pragma", "no-cache"),
		hdr("Cache-Control", "min-fresh=100000, max-stale=0"),
	} {
		r := h.do(http.MethodGet, "site.cdn.test", "/cc", f, "")
		if r.body != "plain" {
			t.Errorf("with %v the origin was asked with the viewer's directives: %q", f, r.body)
		}
		if last, _ := o.lastRequest(); last.Header.Get("Cache-Control") != "" || last.Header.Get("Pragma") != "" {
			t.Errorf("with %v the origin got Cache-Control %q Pragma %q", f, last.Header.Get("Cache-Control"), last.Header.Get("Pragma"))
		}
	}
}

// poisonableOrigin answers "clean" to the request the edge makes for a plain viewer, and
// something else — cacheable, often an error — to any request that carries anything a viewer
// added: a field the edge does not itself send, a body, a field value over 4 KiB (431, as origins
// with header limits answer), a conditional (304), a range (206).
func poisonableOrigin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=600")
	body, _ := io.ReadAll(r.Body)
	var influenced []string
	for k, vs := range r.Header {
		for _, v := range vs {
			if len(v) > 4096 {
				w.WriteHeader(http.StatusRequestHeaderFieldsTooLarge)
				return
			}
		}
		switch k {
		case "User-Agent", "Accept-Encoding", RequestIDHeader:
			continue
		case "X-Forwarded-For":
			// Passed on, unkeyed, as CloudFront does: an origin may log it or refuse junk in it.
			for m := range strings.SplitSeq(strings.Join(vs, ","), ",") {
				if _, err := netip.ParseAddr(strings.TrimSpace(m)); err != nil {
					http.Error(w, "bad X-Forwarded-For", http.StatusBadRequest)
					return
				}
			}
			continue
		case "Via":
			continue
		}
		influenced = append(influenced, k)
	}
	switch {
	case r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Modified-Since") != "":
		w.WriteHeader(http.StatusNotModified)
	case r.Header.Get("Range") != "":
		w.Header().Set("Content-Range", "bytes 0-1/5")
		w.WriteHeader(http.StatusPartialContent)
		io.WriteString(w, "po")
	case len(body) > 0:
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, "poisoned by a body")
	case r.URL.RawQuery != "":
		io.WriteString(w, "poisoned by a query")
	case len(influenced) > 0:
		slices.Sort(influenced)
		w.Header().Set("X-Influenced", strings.Join(influenced, ","))
		io.WriteString(w, "poisoned by "+strings.Join(influenced, ","))
	default:
		w.Header().Set("Etag", `"clean"`)
		w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
		io.WriteString(w, "clean")
	}
}

// Cache-poisoning probes (issue 9): for every field a viewer can send that is not in the cache key
// under default forwarding, and for GETs with a body, a hostile request never changes what the next
// viewer gets. The origin answers anything a viewer added with a different (cacheable) response.
// X-Forwarded-For and Via are the two fields the edge passes on without keying them (rebuilt,
// bounded, well-formed), as CloudFront does: the origin here refuses over-long fields and junk
// addresses, as real ones do, and the edge must never make it; an origin that varies a shared
// response on their content has to say so with Vary.
func TestCachePoisoningProbes(t *testing.T) {
	big := strings.Repeat("x", 8000)
	probes := []struct {
		name   string
		target string
		raw    string // extra header lines, or a whole request when it starts with a method
	}{
		{"X-Forwarded-Host", "", "X-Forwarded-Host: evil.example\r\n"},
		{"X-Forwarded-For junk", "", "X-Forwarded-For: <script>, 10.0.0.1\r\n"},
		{"X-Forwarded-For huge", "", "X-Forwarded-For: " + strings.Repeat("10.0.0.1, ", 900) + "10.0.0.2\r\n"},
		{"X-Forwarded-Proto", "", "X-Forwarded-Proto: http\r\nX-Forwarded-Scheme: nothttps\r\nX-Forwarded-Port: 1\r\n"},
		{"Forwarded", "", "Forwarded: for=1.2.3.4;host=evil.example;proto=http\r\n"},
		{"X-Original-URL", "", "X-Original-URL: /admin\r\nX-Rewrite-URL: /admin\r\n"},
		{"X-Host", "", "X-Host: evil.example\r\nX-Forwarded-Server: evil.example\r\n"},
		{"method override", "", "X-HTTP-Method-Override: DELETE\r\nX-HTTP-Method: PUT\r\nX-Method-Override: POST\r\n"},
		{"Via huge", "", "Via: " + strings.Repeat("1.1 hop, ", 900) + "1.1 last\r\n"},
		{"Via junk", "", "Via: \x01\x02\r\n"},
		{"Cache-Control", "", "Cache-Control: no-cache, no-store, max-age=0\r\n"},
		{"Pragma", "", "Pragma: no-cache\r\n"},
		{"Authorization", "", "Authorization: Bearer attacker\r\n"},
		{"Cookie", "", "Cookie: session=attacker\r\n"},
		{"Accept-Language", "", "Accept-Language: xx\r\nAccept: application/evil\r\nAccept-Charset: evil\r\n"},
		{"Accept-Encoding", "", "Accept-Encoding: evil, gzip\r\n"},
		{"User-Agent", "", "User-Agent: evil\r\nReferer: http://evil.example/\r\nOrigin: http://evil.example\r\n"},
		{"Range", "", "Range: bytes=0-1\r\n"},
		{"If-None-Match", "", "If-None-Match: \"nope\"\r\nIf-Modified-Since: Mon, 02 Jan 2006 15:04:05 GMT\r\n"},
		{"If-Match", "", "If-Match: \"x\"\r\nIf-Unmodified-Since: Mon, 02 Jan 2006 15:04:05 GMT\r\n"},
		{"Max-Forwards", "", "Max-Forwards: 0\r\nTE: trailers\r\nExpect: 100-continue\r\n"},
		{"Connection-listed", "", "Connection: X-Evil, Authorization\r\nX-Evil: 1\r\nAuthorization: Bearer x\r\n"},
		{"Upgrade", "", "Connection: Upgrade\r\nUpgrade: websocket\r\n"},
		{"spoofed request id", "", RequestIDHeader + ": 0\r\n"},
		{"huge field", "", "X-Big: " + big + "\r\n"},
		{"Content-Type without body", "", "Content-Type: application/evil\r\nContent-Encoding: gzip\r\n"},
		{"query string", "?cb=1", ""},
		{"host case and port", "", ""},
		{"fat GET", "", "Content-Length: 4\r\n\r\nevil"},
		{"fat GET chunked", "", "Transfer-Encoding: chunked\r\n\r\n4\r\nevil\r\n0\r\n\r\n"},
		{"fat GET with Connection: close", "", "Connection: close\r\nContent-Length: 4\r\n\r\nevil"},
	}
	for _, fast := range []bool{true, false} {
		t.Run(fmt.Sprintf("fast path %v", fast), func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.NoFastPath = !fast })
			h.origin("web", poisonableOrigin)
			h.distribution("site", "web", nil)
			addr := h.srv.Listener.Addr().String()
			for i, p := range probes {
				t.Run(p.name, func(t *testing.T) {
					path := fmt.Sprintf("/object-%d", i)
					host := "site.cdn.test"
					if p.name == "host case and port" {
						host = "SITE.CDN.TEST.:80"
					}
					raw := "GET " + path + p.target + " HTTP/1.1\r\nHost: " + host + "\r\n" + p.raw
					if !strings.Contains(p.raw, "\r\n\r\n") {
						raw += "\r\n"
					}
					roundTrip(t, addr, raw, "GET")
					for range 2 {
						resp, body := roundTrip(t, addr, "GET "+path+" HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n", "GET")
						if resp.StatusCode != 200 || body != "clean" {
							t.Fatalf("after the hostile request, the next viewer got %d %q (X-Influenced %q)", resp.StatusCode, body, resp.Header.Get("X-Influenced"))
						}
					}
				})
			}
		})
	}
}
