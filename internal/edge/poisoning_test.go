package edge

import (
	"net/http"
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
