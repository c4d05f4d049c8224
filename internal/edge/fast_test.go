package edge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
)

// TestFastPathAnswersLikeNetHTTP sends the same requests to the edge through the fast path and
// through net/http alone (a second server on the same Edge, without the fast path) and compares
// the responses: status, every field (the request id aside, Age within a second) and body. It
// also checks which requests the fast path took: plain hits, and nothing else. The forwarding
// cases check that the key the fast path looks up is the one the net/http path fills.
func TestFastPathAnswersLikeNetHTTP(t *testing.T) {
	h := newHarness(t)
	h.origin("web", func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/obj", "/index.html":
			w.Header().Set("Cache-Control", "max-age=600")
			w.Header().Set("Etag", `"v1"`)
			w.Header().Set("Last-Modified", "Wed, 25 Nov 2026 10:00:00 GMT")
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, strings.Repeat("0123456789", 100))
		case "/sniff":
			w.Header().Set("Cache-Control", "max-age=600")
			w.Header()["Content-Type"] = nil // no Content-Type from the origin
			_, _ = io.WriteString(w, "<html><body>sniff me</body></html>")
		case "/missing":
			w.Header().Set("Cache-Control", "max-age=600")
			http.Error(w, "not here", http.StatusNotFound)
		case "/private":
			w.Header().Set("Cache-Control", "private")
			_, _ = io.WriteString(w, "mine")
		default:
			w.Header().Set("Cache-Control", "max-age=600")
			_, _ = io.WriteString(w, "q="+r.URL.RawQuery)
		}
	})
	h.distribution("site", "web", func(d *lightsail.LightsailDistribution) {
		d.DefaultRootObject = ptr("index.html")
	})
	h.distribution("pages", "web", func(d *lightsail.LightsailDistribution) {
		d.CustomErrorResponses = []lightsail.DistributionCustomErrorResponse{{ErrorCode: ptr[int64](404), ResponsePagePath: ptr("/obj"), ResponseCode: ptr("200")}}
	})
	off := h.distribution("off", "web", nil)
	h.distribution("fwd", "web", func(d *lightsail.LightsailDistribution) {
		s := d.CacheBehaviorSettings
		s.ForwardedQueryStrings = &lightsail.QueryStringObject{Option: ptr(true), QueryStringsAllowList: []string{"a"}}
		s.ForwardedCookies = &lightsail.CookieObject{Option: ptr("allow-list"), CookiesAllowList: []string{"lang"}}
		s.ForwardedHeaders = &lightsail.HeaderObject{Option: ptr("allow-list"), HeadersAllowList: []string{"X-Variant"}}
	})

	// The same Edge served by net/http alone.
	plain := httptest.NewUnstartedServer(h.edge.Handler())
	h.edge.Instrument(plain.Config)
	plain.Listener = h.edge.meter.Listener(plain.Listener)
	plain.Start()
	t.Cleanup(plain.Close)

	for _, fill := range []string{"/obj", "/sniff", "/missing", "/private", "/q?a=1", "/"} {
		h.get("site.cdn.test", fill)
	}
	h.get("pages.cdn.test", "/missing")
	h.get("pages.cdn.test", "/obj")
	h.get("off.cdn.test", "/obj")
	h.do(http.MethodGet, "fwd.cdn.test", "/q?a=1&b=1", hdr("Cookie", "lang=fr; session=1", "X-Variant", "v1"), "")
	addr := h.srv.Listener.Addr().String()
	for _, fill := range []string{"/obj", "/sniff", "/missing", "/private", "/q?a=1", "/"} {
		settle(t, addr, "GET "+fill+" HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
	}
	settle(t, addr, "GET /missing HTTP/1.1\r\nHost: pages.cdn.test\r\n\r\n")
	settle(t, addr, "GET /obj HTTP/1.1\r\nHost: pages.cdn.test\r\n\r\n")
	settle(t, addr, "GET /obj HTTP/1.1\r\nHost: off.cdn.test\r\n\r\n")
	settle(t, addr, "GET /q?a=1&b=1 HTTP/1.1\r\nHost: fwd.cdn.test\r\nCookie: lang=fr\r\nX-Variant: v1\r\n\r\n")
	h.update(off, func(d *store.Distribution, _ *lightsail.LightsailDistribution) { d.IsEnabled = false })

	const host = "Host: site.cdn.test\r\n"
	cases := []struct {
		name, raw string
		fast      bool // the fast path answers it
	}{
		// A request whose forwarded values form a key nobody has filled misses (the fast path
		// declines) and fills; sent again, it is a fast-path hit, compared with net/http below.
		{"forwarding: another forwarded cookie value misses, then hits", "GET /q?a=1 HTTP/1.1\r\nHost: fwd.cdn.test\r\nCookie: lang=de\r\nX-Variant: v1\r\n\r\n", true},
		{"forwarding: another forwarded header value misses, then hits", "GET /q?a=1 HTTP/1.1\r\nHost: fwd.cdn.test\r\nCookie: lang=fr\r\nX-Variant: v2\r\n\r\n", true},
		{"forwarding: another forwarded query value misses, then hits", "GET /q?a=2 HTTP/1.1\r\nHost: fwd.cdn.test\r\nCookie: lang=fr\r\nX-Variant: v1\r\n\r\n", true},
		{"hit", "GET /obj HTTP/1.1\r\n" + host + "\r\n", true},
		{"HEAD hit", "HEAD /obj HTTP/1.1\r\n" + host + "\r\n", true},
		{"hit, upper-case host with port", "GET /obj HTTP/1.1\r\nHost: SITE.cdn.test:8080\r\n\r\n", true},
		{"If-None-Match: 304", "GET /obj HTTP/1.1\r\n" + host + "If-None-Match: \"v1\"\r\n\r\n", true},
		{"If-Modified-Since: 304", "GET /obj HTTP/1.1\r\n" + host + "If-Modified-Since: Thu, 26 Nov 2026 00:00:00 GMT\r\n\r\n", true},
		{"Range: 206", "GET /obj HTTP/1.1\r\n" + host + "Range: bytes=10-19\r\n\r\n", true},
		{"Range: 416", "GET /obj HTTP/1.1\r\n" + host + "Range: bytes=5000-\r\n\r\n", true},
		{"sniffed Content-Type", "GET /sniff HTTP/1.1\r\n" + host + "\r\n", true},
		{"stored 404", "GET /missing HTTP/1.1\r\n" + host + "\r\n", true},
		{"query not forwarded: shares the entry", "GET /q?a=2 HTTP/1.1\r\n" + host + "\r\n", true},
		{"default root object", "GET / HTTP/1.1\r\n" + host + "\r\n", true},
		{"Connection: close", "GET /obj HTTP/1.1\r\n" + host + "Connection: close\r\n\r\n", true},
		{"Pragma: no-cache revalidates", "GET /obj HTTP/1.1\r\n" + host + "Pragma: no-cache\r\n\r\n", false},
		{"not stored (private)", "GET /private HTTP/1.1\r\n" + host + "\r\n", false},
		{"uncacheable", "GET /never-seen HTTP/1.1\r\n" + host + "Cache-Control: no-store\r\n\r\n", false},
		{"custom error page replaces the stored 404", "GET /missing HTTP/1.1\r\nHost: pages.cdn.test\r\n\r\n", false},
		{"hit on a distribution with error pages", "GET /obj HTTP/1.1\r\nHost: pages.cdn.test\r\n\r\n", true},
		{"forwarding: same query parameter, cookie and header values hit", "GET /q?b=2&a=1 HTTP/1.1\r\nHost: fwd.cdn.test\r\nCookie: session=2; lang=fr\r\nX-Variant: v1\r\n\r\n", true},
		{"disabled distribution", "GET /obj HTTP/1.1\r\nHost: off.cdn.test\r\n\r\n", false},
		{"unknown host", "GET /obj HTTP/1.1\r\nHost: nobody.cdn.test\r\n\r\n", false},
		{"method not allowed here: OPTIONS is unfit", "OPTIONS /obj HTTP/1.1\r\n" + host + "\r\n", false},
		{"HTTP/1.0", "GET /obj HTTP/1.0\r\n" + host + "\r\n", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method, _, _ := strings.Cut(tc.raw, " ")
			if strings.HasSuffix(tc.name, "misses, then hits") {
				before := h.edge.FastPathStats().Served
				first, _ := roundTrip(t, addr, tc.raw, method)
				if n := h.edge.FastPathStats().Served - before; n != 0 || first.Header.Get("X-Cache") != "Miss from sailcdn" {
					t.Fatalf("first request: fast path answered %d, X-Cache %q; want a miss on net/http", n, first.Header.Get("X-Cache"))
				}
				settle(t, plain.Listener.Addr().String(), tc.raw)
			}
			before := h.edge.FastPathStats().Served
			start := time.Now()
			got, gotBody := roundTrip(t, addr, tc.raw, method)
			fast := h.edge.FastPathStats().Served - before
			want, wantBody := roundTrip(t, plain.Listener.Addr().String(), tc.raw, method)
			// Date and Age count whole seconds: two answers apart by d may differ by up to d+1 s
			// (the next second may begin between them). d is milliseconds on an idle machine and
			// has been over a second on a loaded one.
			slack := time.Second + time.Since(start).Truncate(time.Second)
			if tc.fast != (fast == 1) {
				t.Fatalf("fast path answered %d requests, want fast=%v", fast, tc.fast)
			}
			if got.StatusCode != want.StatusCode || gotBody != wantBody || got.Proto != want.Proto {
				t.Fatalf("fast path %s %d %q, net/http %s %d %q", got.Proto, got.StatusCode, gotBody, want.Proto, want.StatusCode, wantBody)
			}
			for _, hd := range []*http.Response{got, want} {
				if hd.Header.Get(RequestIDHeader) == "" {
					t.Fatalf("no request id in %v", hd.Header)
				}
				hd.Header.Del(RequestIDHeader)
			}
			ga, wa := got.Header.Get("Age"), want.Header.Get("Age")
			if gi, err1 := strconv.Atoi(ga); err1 == nil {
				if wi, err2 := strconv.Atoi(wa); err2 == nil && time.Duration(max(gi-wi, wi-gi))*time.Second <= slack {
					got.Header.Del("Age")
					want.Header.Del("Age")
				}
			}
			if gd, err1 := http.ParseTime(got.Header.Get("Date")); err1 == nil {
				if wd, err2 := http.ParseTime(want.Header.Get("Date")); err2 == nil && wd.Sub(gd).Abs() <= slack {
					got.Header.Del("Date")
					want.Header.Del("Date")
				}
			}
			if !reflect.DeepEqual(got.Header, want.Header) {
				t.Fatalf("fields differ\nfast path %v\nnet/http  %v", got.Header, want.Header)
			}
		})
	}
}

// TestFastPathFollowsConfiguration: the fast path answers from the same configuration snapshot and
// cache generation as the net/http path, so a cache reset, disabling and deleting take effect on it
// at once (each step on a fresh connection, which the fast path reads first).
func TestFastPathFollowsConfiguration(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", cacheable)
	d := h.distribution("site", "web", nil)
	addr := h.srv.Listener.Addr().String()
	const req = "GET /a HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n"
	step := func(name string, wantFast bool, wantStatus int, wantXCache string) {
		t.Helper()
		before := h.edge.FastPathStats().Served
		r, _ := roundTrip(t, addr, req, http.MethodGet)
		fast := h.edge.FastPathStats().Served - before
		if (fast == 1) != wantFast || r.StatusCode != wantStatus || r.Header.Get("X-Cache") != wantXCache {
			t.Fatalf("%s: fast %d, %d %q; want fast=%v, %d %q", name, fast, r.StatusCode, r.Header.Get("X-Cache"), wantFast, wantStatus, wantXCache)
		}
	}
	step("fill", false, 200, "Miss from sailcdn")
	settle(t, addr, req)
	step("hit", true, 200, "Hit from sailcdn")
	h.update(d, func(d *store.Distribution, _ *lightsail.LightsailDistribution) { d.CacheResetAt = time.Now() })
	step("after a cache reset", false, 200, "Miss from sailcdn")
	settle(t, addr, req)
	step("hit again", true, 200, "Hit from sailcdn")
	h.update(d, func(d *store.Distribution, _ *lightsail.LightsailDistribution) { d.IsEnabled = false })
	step("disabled", false, 403, "Error from sailcdn")
	h.update(d, func(d *store.Distribution, _ *lightsail.LightsailDistribution) { d.IsEnabled = true })
	step("enabled again: still stored", true, 200, "Hit from sailcdn")
	if err := h.db.Tx(ctx, func(tx *store.Tx) error { return tx.DeleteDistribution(ctx, d.ID, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	h.reload()
	step("deleted", false, 404, "Error from sailcdn")
	if n := o.hits.Load(); n != 2 {
		t.Fatalf("origin hits %d, want 2 (the fill and the fill after the reset)", n)
	}
}

// settle waits until the fill started by a miss has stored its response. The viewer of a miss gets
// the body as it streams from the origin and the cache stores it once the body is complete, so a
// request right after can arrive in between: the fast path then finds nothing and declines, and on
// net/http the request joins the fill. settle sends raw as HTTP/1.0, which the fast path always
// leaves to net/http, and so returns only once the fill is stored.
func settle(t *testing.T, addr, raw string) {
	t.Helper()
	raw10 := strings.Replace(raw, " HTTP/1.1\r\n", " HTTP/1.0\r\n", 1)
	roundTrip(t, addr, raw10, http.MethodGet)
}
