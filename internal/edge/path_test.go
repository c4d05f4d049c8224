package edge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/sailcdn/sailcdn/internal/lightsail"
)

// pathEcho answers with the escaped path it received, cacheably.
func pathEcho(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "max-age=600")
	fmt.Fprint(w, r.URL.EscapedPath())
}

// Dot-segments, raw or percent-encoded, are removed before the behaviour is chosen and before the
// request is forwarded (issue 9, defect 4): "/static/../api/x" is "/api/x" for the origin, whose
// path prefix it cannot leave, and for the path patterns, on the fast path and through net/http.
// Spellings that would still hide a ".." from us but not from the origin are refused.
func TestDotSegmentsAreRemovedBeforeMatchingAndForwarding(t *testing.T) {
	for _, fast := range []bool{true, false} {
		t.Run(fmt.Sprintf("fast path %v", fast), func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.NoFastPath = !fast })
			o := h.origin("web", pathEcho)
			h.registerOrigin("web", o.URL+"/prefix/")
			h.distribution("site", "web", func(c *lightsail.LightsailDistribution) {
				c.CacheBehaviors = []lightsail.CacheBehaviorPerPath{{Path: ptr("/api/*"), Behavior: ptr("dont-cache")}}
			})
			addr := h.srv.Listener.Addr().String()
			get := func(target string) (*http.Response, string) {
				return roundTrip(t, addr, "GET "+target+" HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n", http.MethodGet)
			}
			for _, tc := range []struct{ target, origin string }{
				{"/../x", "/prefix/x"},
				{"/%2e%2e/x", "/prefix/x"},
				{"/%2E./%2e/x", "/prefix/x"},
				{"/a/b/../../../../etc/passwd", "/prefix/etc/passwd"},
				{"/static/../api/x", "/prefix/api/x"},
				{"/static/%2e%2e/api/x", "/prefix/api/x"},
			} {
				resp, body := get(tc.target)
				if resp.StatusCode != 200 || body != tc.origin {
					t.Errorf("GET %s: %d, origin saw %q; want %q", tc.target, resp.StatusCode, body, tc.origin)
				}
			}
			// "/static/../api/x" is "/api/x" for the behaviour too: dont-cache, so both reach the origin.
			before := o.hits.Load()
			get("/static/../api/y")
			resp, _ := get("/static/%2e%2e/api/y")
			if hits := o.hits.Load() - before; hits != 2 || resp.Header.Get("X-Cache") != "Miss from sailcdn" {
				t.Errorf("/api/* is dont-cache, but through dot-segments: %d origin hits, X-Cache %q", hits, resp.Header.Get("X-Cache"))
			}
			// Dot-segments an origin could still resolve: refused, never forwarded.
			before = o.hits.Load()
			for _, target := range []string{"/static%2F..%2Fapi/x", "/static/..%2fapi/x", "/static/..%5Capi/x", "/static/..;/api/x"} {
				if resp, _ := get(target); resp.StatusCode != http.StatusBadRequest {
					t.Errorf("GET %s: %d, want 400", target, resp.StatusCode)
				}
			}
			if o.hits.Load() != before {
				t.Errorf("a refused path reached the origin")
			}
			// A stored "/x" answers "/a/../x" (on the fast path when it is on).
			settle(t, addr, "GET /x HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
			served := h.edge.FastPathStats().Served
			resp, body := get("/a/../x")
			if resp.Header.Get("X-Cache") != "Hit from sailcdn" || body != "/prefix/x" {
				t.Errorf("/a/../x: %q %q, want the stored /x", resp.Header.Get("X-Cache"), body)
			}
			if fast && h.edge.FastPathStats().Served != served+1 {
				t.Errorf("the hit through dot-segments did not take the fast path")
			}
		})
	}
}

// Every spelling of one path is one cache entry (RFC 3986 §6.2.2: percent-encoded unreserved
// characters decoded, hex upper-cased), so a viewer cannot fork an object, or push the real
// entry out of its URI's variants with spellings (issue 9, defect 3).
func TestPathSpellingsShareOneEntry(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", pathEcho)
	h.distribution("site", "web", nil)
	addr := h.srv.Listener.Addr().String()
	get := func(target string) (*http.Response, string) {
		return roundTrip(t, addr, "GET "+target+" HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n", http.MethodGet)
	}
	if _, body := get("/file.txt"); body != "/file.txt" {
		t.Fatalf("origin saw %q", body)
	}
	// 40 spellings of "/file.txt": each letter encoded or not, in either case of hex.
	letters := "file.txt"
	for i := range 40 {
		var b strings.Builder
		b.WriteByte('/')
		for j := 0; j < len(letters); j++ {
			if i>>(j%6)&1 == 1 {
				enc := fmt.Sprintf("%%%02X", letters[j])
				if i%2 == 0 {
					enc = strings.ToLower(enc)
				}
				b.WriteString(enc)
			} else {
				b.WriteByte(letters[j])
			}
		}
		resp, body := get(b.String())
		if resp.Header.Get("X-Cache") != "Hit from sailcdn" || body != "/file.txt" {
			t.Fatalf("spelling %q: X-Cache %q, body %q; want the stored /file.txt", b.String(), resp.Header.Get("X-Cache"), body)
		}
	}
	// Encoded reserved characters are another resource ("/a%2Fb" is not "/a/b"), whatever the
	// case of their hex; the origin receives the normal form.
	_, body1 := get("/a%2fb")
	resp, body2 := get("/a%2Fb")
	if body1 != "/a%2Fb" || body2 != "/a%2Fb" || resp.Header.Get("X-Cache") != "Hit from sailcdn" {
		t.Fatalf("/a%%2fb then /a%%2Fb: %q, %q (%s)", body1, body2, resp.Header.Get("X-Cache"))
	}
	if _, body := get("/a/b"); body != "/a/b" {
		t.Fatalf("/a/b got %q", body)
	}
	if got := o.hits.Load(); got != 3 {
		t.Fatalf("origin hits %d, want 3 (/file.txt, /a%%2Fb, /a/b)", got)
	}
}

// Encoded slashes make other resources ("/a%2Fb" is not "/a/b"), and they are stored as other
// resources: 63 spellings of "/a/b/c/d/e/f/g" with some '/' encoded do not push the real entry out
// of its URI's bounded list of variants.
func TestEncodedSlashesDoNotCrowdTheRealEntry(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", pathEcho)
	h.distribution("site", "web", nil)
	addr := h.srv.Listener.Addr().String()
	get := func(target string) *http.Response {
		resp, _ := roundTrip(t, addr, "GET "+target+" HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n", http.MethodGet)
		return resp
	}
	get("/a/b/c/d/e/f/g")
	for i := 1; i < 64; i++ {
		var b strings.Builder
		for j, seg := range strings.Split("a/b/c/d/e/f/g", "/") {
			switch {
			case j == 0:
				b.WriteByte('/')
			case i>>(j-1)&1 == 1:
				b.WriteString("%2F")
			default:
				b.WriteByte('/')
			}
			b.WriteString(seg)
		}
		get(b.String())
	}
	if resp := get("/a/b/c/d/e/f/g"); resp.Header.Get("X-Cache") != "Hit from sailcdn" {
		t.Fatalf("after 63 encoded-slash spellings, /a/b/c/d/e/f/g: X-Cache %q (origin hits %d)", resp.Header.Get("X-Cache"), o.hits.Load())
	}
}
