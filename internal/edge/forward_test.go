package edge

import (
	"net/http"
	"strings"
	"testing"

	"github.com/sailcdn/sailcdn/internal/lightsail"
)

// Each forwarding option: what the origin receives, and which requests share a cache entry.
func TestForwardingAndCacheKeys(t *testing.T) {
	type step struct {
		target  string
		header  http.Header
		wantHit bool
		// origin checks the request the origin received (for misses).
		origin func(t *testing.T, r *http.Request)
	}
	query := func(want string) func(*testing.T, *http.Request) {
		return func(t *testing.T, r *http.Request) {
			if r.URL.RawQuery != want {
				t.Errorf("origin query %q, want %q", r.URL.RawQuery, want)
			}
		}
	}
	field := func(name, want string) func(*testing.T, *http.Request) {
		return func(t *testing.T, r *http.Request) {
			if got := strings.Join(r.Header.Values(name), ","); got != want {
				t.Errorf("origin %s %q, want %q", name, got, want)
			}
		}
	}
	host := func(want func(r *http.Request) bool, what string) func(*testing.T, *http.Request) {
		return func(t *testing.T, r *http.Request) {
			if !want(r) {
				t.Errorf("origin Host %q, want %s", r.Host, what)
			}
		}
	}
	settings := func(mod func(s *lightsail.CacheSettings)) func(*lightsail.LightsailDistribution) {
		return func(c *lightsail.LightsailDistribution) { mod(c.CacheBehaviorSettings) }
	}
	cases := []struct {
		name  string
		mod   func(*lightsail.LightsailDistribution)
		steps []step
	}{
		{
			name: "query strings off: none forwarded, one entry",
			mod:  nil,
			steps: []step{
				{target: "/q?a=1", origin: query("")},
				{target: "/q?a=2", wantHit: true},
				{target: "/q", wantHit: true},
			},
		},
		{
			name: "query strings all: forwarded verbatim, order matters",
			mod: settings(func(s *lightsail.CacheSettings) {
				s.ForwardedQueryStrings = &lightsail.QueryStringObject{Option: ptr(true)}
			}),
			steps: []step{
				{target: "/q?a=1&b=2", origin: query("a=1&b=2")},
				{target: "/q?a=1&b=2", wantHit: true},
				{target: "/q?b=2&a=1", origin: query("b=2&a=1")},
				{target: "/q?a=2&b=2", origin: query("a=2&b=2")},
				{target: "/q", origin: query("")},
			},
		},
		{
			name: "query strings allow-list: only listed",
			mod: settings(func(s *lightsail.CacheSettings) {
				s.ForwardedQueryStrings = &lightsail.QueryStringObject{Option: ptr(true), QueryStringsAllowList: []string{"a", "c d"}}
			}),
			steps: []step{
				{target: "/q?z=9&a=1&b=2&c+d=3", origin: query("a=1&c+d=3")},
				{target: "/q?a=1&b=7&c%20d=3&c+d=3", origin: query("a=1&c%20d=3&c+d=3")},
				{target: "/q?c+d=3&a=1&b=8", origin: query("c+d=3&a=1")},
				{target: "/q?a=1&c+d=3&zz=1", wantHit: true},
				{target: "/q?A=1", origin: query("")},
			},
		},
		{
			name: "cookies none: none forwarded, one entry",
			steps: []step{
				{target: "/c", header: hdr("Cookie", "session=1"), origin: field("Cookie", "")},
				{target: "/c", header: hdr("Cookie", "session=2"), wantHit: true},
			},
		},
		{
			name: "cookies allow-list: listed (with wildcards), sorted by name",
			mod: settings(func(s *lightsail.CacheSettings) {
				s.ForwardedCookies = &lightsail.CookieObject{Option: ptr("allow-list"), CookiesAllowList: []string{"lang", "ab-*"}}
			}),
			steps: []step{
				{target: "/c", header: hdr("Cookie", "session=1; lang=fr; ab-test=b"), origin: field("Cookie", "ab-test=b; lang=fr")},
				{target: "/c", header: hdr("Cookie", "lang=fr; session=2", "Cookie", "ab-test=b"), wantHit: true},
				{target: "/c", header: hdr("Cookie", "lang=en; ab-test=b"), origin: field("Cookie", "ab-test=b; lang=en")},
				{target: "/c", header: hdr("Cookie", "session=3"), origin: field("Cookie", "")},
			},
		},
		{
			name: "cookies all: every cookie, sorted",
			mod: settings(func(s *lightsail.CacheSettings) {
				s.ForwardedCookies = &lightsail.CookieObject{Option: ptr("all")}
			}),
			steps: []step{
				{target: "/c", header: hdr("Cookie", "z=1; a=2"), origin: field("Cookie", "a=2; z=1")},
				{target: "/c", header: hdr("Cookie", "a=2; z=1"), wantHit: true},
				{target: "/c", header: hdr("Cookie", "a=2; z=2"), origin: field("Cookie", "a=2; z=2")},
			},
		},
		{
			name: "headers default: only what HTTP needs, origin host, one entry",
			steps: []step{
				{target: "/h", header: hdr("X-Custom", "1", "Accept-Language", "fr", "User-Agent", "viewer/1", "Authorization", "secret"),
					origin: func(t *testing.T, r *http.Request) {
						field("X-Custom", "")(t, r)
						field("Accept-Language", "")(t, r)
						field("Authorization", "")(t, r) // removed from GET (CloudFront)
						field("User-Agent", "sailcdn")(t, r)
						field("X-Forwarded-For", "127.0.0.1")(t, r)
						field("Via", "1.1 sailcdn (sailcdn)")(t, r)
						host(func(r *http.Request) bool { return strings.HasPrefix(r.Host, "127.0.0.1:") }, "the origin's")(t, r)
						if r.Header.Get(RequestIDHeader) == "" {
							t.Error("origin got no request id")
						}
					}},
				{target: "/h", header: hdr("X-Custom", "2", "X-Forwarded-For", "203.0.113.7"), wantHit: true},
				{target: "/h2", header: hdr("X-Forwarded-For", "203.0.113.7", "Via", "1.1 proxy"),
					origin: func(t *testing.T, r *http.Request) {
						field("X-Forwarded-For", "203.0.113.7, 127.0.0.1")(t, r)
						field("Via", "1.1 proxy, 1.1 sailcdn (sailcdn)")(t, r)
					}},
			},
		},
		{
			name: "headers allow-list: listed fields forwarded and keyed; Host forwarded",
			mod: settings(func(s *lightsail.CacheSettings) {
				s.ForwardedHeaders = &lightsail.HeaderObject{Option: ptr("allow-list"), HeadersAllowList: []string{"x-custom", "Host", "Accept-Language"}}
			}),
			steps: []step{
				{target: "/h", header: hdr("X-Custom", "1", "X-Other", "o"), origin: func(t *testing.T, r *http.Request) {
					field("X-Custom", "1")(t, r)
					field("X-Other", "")(t, r)
					host(func(r *http.Request) bool { return r.Host == "site.cdn.test" }, "the viewer's")(t, r)
				}},
				{target: "/h", header: hdr("X-Custom", "1", "X-Other", "p"), wantHit: true},
				{target: "/h", header: hdr("X-Custom", "2"), origin: field("X-Custom", "2")},
				{target: "/h", header: hdr("X-Custom", "1", "Accept-Language", "de"), origin: field("Accept-Language", "de")},
				{target: "/h", origin: field("X-Custom", "")},
			},
		},
		{
			name: "headers all: everything forwarded, nothing shared",
			mod: settings(func(s *lightsail.CacheSettings) {
				s.ForwardedHeaders = &lightsail.HeaderObject{Option: ptr("all")}
			}),
			steps: []step{
				{target: "/h", header: hdr("X-Custom", "1", "User-Agent", "viewer/1"), origin: func(t *testing.T, r *http.Request) {
					field("X-Custom", "1")(t, r)
					field("User-Agent", "viewer/1")(t, r)
					host(func(r *http.Request) bool { return r.Host == "site.cdn.test" }, "the viewer's")(t, r)
				}},
				{target: "/h", header: hdr("X-Custom", "1", "User-Agent", "viewer/1"), origin: field("X-Custom", "1")},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			o := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=300")
				w.Write([]byte(r.URL.RawQuery))
			})
			h.distribution("site", "web", tc.mod)
			for i, s := range tc.steps {
				before := o.hits.Load()
				r := h.do(http.MethodGet, "site.cdn.test", s.target, s.header, "")
				hit := o.hits.Load() == before
				if hit != s.wantHit || (r.xcache() == "Hit") != s.wantHit {
					t.Fatalf("step %d (%s %v): hit=%v X-Cache %q, want hit=%v", i, s.target, s.header, hit, r.xcache(), s.wantHit)
				}
				if !hit && s.origin != nil {
					last, _ := o.lastRequest()
					s.origin(t, last)
				}
			}
		})
	}
}

func TestSetCookieFollowsTheCookieOption(t *testing.T) {
	cases := []struct {
		option string
		list   []string
		want   []string
	}{
		{"none", nil, nil},
		{"allow-list", []string{"lang"}, []string{"lang=fr; Path=/"}},
		{"all", nil, []string{"session=abc; HttpOnly", "lang=fr; Path=/"}},
	}
	for _, tc := range cases {
		t.Run(tc.option, func(t *testing.T) {
			h := newHarness(t)
			h.origin("web", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Add("Set-Cookie", "session=abc; HttpOnly")
				w.Header().Add("Set-Cookie", "lang=fr; Path=/")
				w.Write([]byte("x"))
			})
			h.distribution("site", "web", func(c *lightsail.LightsailDistribution) {
				c.CacheBehaviorSettings.ForwardedCookies = &lightsail.CookieObject{Option: ptr(tc.option), CookiesAllowList: tc.list}
			})
			r := h.get("site.cdn.test", "/")
			if got := r.header.Values("Set-Cookie"); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("Set-Cookie %q, want %q", got, tc.want)
			}
		})
	}
}

// Viewer validators and ranges are answered by the cache for cached objects, and reach the origin
// for a behaviour that does not cache.
func TestConditionalAndRangeFields(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("ETag", `"v1"`)
		http.ServeContent(w, r, "f.txt", noModTime, strings.NewReader("0123456789"))
	})
	h.distribution("site", "web", func(c *lightsail.LightsailDistribution) {
		c.CacheBehaviors = []lightsail.CacheBehaviorPerPath{{Path: ptr("/live/*"), Behavior: ptr("dont-cache")}}
	})
	h.get("site.cdn.test", "/f")
	if r := h.do(http.MethodGet, "site.cdn.test", "/f", hdr("If-None-Match", `"v1"`), ""); r.status != 304 || r.xcache() != "Hit" {
		t.Fatalf("conditional hit: %d %q", r.status, r.xcache())
	}
	if r := h.do(http.MethodGet, "site.cdn.test", "/f", hdr("Range", "bytes=2-4"), ""); r.status != 206 || r.body != "234" || r.xcache() != "Hit" {
		t.Fatalf("range hit: %d %q %q", r.status, r.body, r.xcache())
	}
	if o.hits.Load() != 1 {
		t.Fatalf("origin hits %d", o.hits.Load())
	}
	r := h.do(http.MethodGet, "site.cdn.test", "/live/f", hdr("Range", "bytes=5-"), "")
	last, _ := o.lastRequest()
	if r.status != 206 || r.body != "56789" || last.Header.Get("Range") != "bytes=5-" {
		t.Fatalf("dont-cache range: %d %q, origin Range %q", r.status, r.body, last.Header.Get("Range"))
	}
}

// A field the viewer names in Connection is hop-by-hop (RFC 9110 §7.6.1): it is neither forwarded
// nor keyed, whichever rule would otherwise have forwarded it. Before, an allow-listed
// Authorization named in Connection was forwarded on a GET but left out of the key, so one
// viewer's credentials filled the anonymous entry every other viewer then got.
func TestConnectionListedFieldsAreNeitherForwardedNorKeyed(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Write([]byte("for " + r.Header.Get("Authorization") + "|" + r.Header.Get("Accept-Language") + "|" + r.Header.Get("If-Match")))
	})
	h.distribution("site", "web", func(c *lightsail.LightsailDistribution) {
		c.CacheBehaviorSettings.ForwardedHeaders = &lightsail.HeaderObject{
			Option: ptr("allow-list"), HeadersAllowList: []string{"Authorization", "Accept-Language"},
		}
	})
	hostile := h.do(http.MethodGet, "site.cdn.test", "/private", hdr(
		"Connection", "Authorization, Accept-Language", "Authorization", "Bearer alice-secret", "Accept-Language", "fr"), "")
	if hostile.body != "for ||" {
		t.Errorf("the origin received Connection-listed fields: %q", hostile.body)
	}
	anon := h.get("site.cdn.test", "/private")
	if strings.Contains(anon.body, "alice") {
		t.Fatalf("an anonymous viewer got %q: the hostile viewer's credentials filled the anonymous key", anon.body)
	}
	if anon.body != "for ||" || anon.xcache() != "Hit" {
		t.Fatalf("anonymous viewer: %q (%s), want the anonymous response from the cache", anon.body, anon.xcache())
	}
	// The same for the fields every behaviour forwards: a listed If-Match is dropped, so the
	// request is an ordinary cacheable GET.
	h.do(http.MethodGet, "site.cdn.test", "/precondition", hdr("Connection", "If-Match", "If-Match", `"x"`), "")
	if last, _ := o.lastRequest(); last.Header.Get("If-Match") != "" {
		t.Errorf("origin got If-Match %q, named in the viewer's Connection", last.Header.Get("If-Match"))
	}
}
