package httpcache

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// routed builds an origin handler from per-method responders.
func routed(get func(clk *testClock) http.HandlerFunc, other func(w http.ResponseWriter, r *http.Request)) func(*testClock) http.HandlerFunc {
	return func(clk *testClock) http.HandlerFunc {
		g := get(clk)
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet || r.Method == http.MethodHead {
				g(w, r)
				return
			}
			other(w, r)
		}
	}
}

func TestInvalidationByUnsafeMethods(t *testing.T) {
	cases := []struct {
		name        string
		method      string
		status      int
		respHdr     []string
		wantInvalid []string // paths that must miss afterwards
		wantValid   []string // paths that must still hit
	}{
		{name: "POST success", method: "POST", status: 200, wantInvalid: []string{"/t"}, wantValid: []string{"/other"}},
		{name: "PUT success", method: "PUT", status: 201, wantInvalid: []string{"/t"}},
		{name: "DELETE success", method: "DELETE", status: 204, wantInvalid: []string{"/t"}},
		{name: "unknown method counts as unsafe", method: "M-SEARCH", status: 200, wantInvalid: []string{"/t"}},
		{name: "redirect is not an error", method: "POST", status: 303, wantInvalid: []string{"/t"}},
		{name: "failed POST keeps the entry", method: "POST", status: 500, wantValid: []string{"/t"}},
		{name: "client error keeps the entry", method: "POST", status: 404, wantValid: []string{"/t"}},
		{name: "Location and Content-Location", method: "POST", status: 200,
			respHdr:     []string{"Location: /loc", "Content-Location: /t/cl"},
			wantInvalid: []string{"/t", "/loc", "/t/cl"}, wantValid: []string{"/other"}},
		{name: "other origin in Location is left alone", method: "POST", status: 200,
			respHdr:     []string{"Location: http://elsewhere.example/other"},
			wantInvalid: []string{"/t"}, wantValid: []string{"/other"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{}, routed(respond(200, "cached", "Cache-Control: max-age=600"),
				func(w http.ResponseWriter, r *http.Request) {
					for _, l := range tc.respHdr {
						k, v, _ := strings.Cut(l, ":")
						w.Header().Set(k, strings.TrimSpace(v))
					}
					w.WriteHeader(tc.status)
				}))
			paths := []string{"/t", "/loc", "/t/cl", "/other"}
			for _, p := range paths {
				e.get(p)
			}
			rec, res := e.do(tc.method, "/t")
			if rec.Code != tc.status || res.Status != Pass {
				t.Fatalf("%s: %d %v", tc.method, rec.Code, res.Status)
			}
			for _, p := range tc.wantInvalid {
				if _, res := e.get(p); res.Status == Hit {
					t.Errorf("%s still served from cache", p)
				}
			}
			for _, p := range tc.wantValid {
				if _, res := e.get(p); res.Status != Hit {
					t.Errorf("%s was invalidated (%v)", p, res.Status)
				}
			}
		})
	}
}

func TestInvalidationReachesEveryKeyOfTheURI(t *testing.T) {
	e := newEnv(t, Config{}, routed(respond(200, "x", "Cache-Control: max-age=600"),
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	// The edge may put a cookie in its key: two keys, one URI.
	for _, key := range []string{"k-alice", "k-bob"} {
		r := e.request("GET", "/cart")
		r.Key = key
		if _, err := e.c.Serve(httptest.NewRecorder(), r, e.o.fetch()); err != nil {
			t.Fatal(err)
		}
	}
	e.do("POST", "/cart")
	for _, key := range []string{"k-alice", "k-bob"} {
		r := e.request("GET", "/cart")
		r.Key = key
		res, _ := e.c.Serve(httptest.NewRecorder(), r, e.o.fetch())
		if res.Status == Hit {
			t.Fatalf("key %s survived invalidation", key)
		}
	}
}

func TestPOSTWithOwnContentLocationIsStoredForGET(t *testing.T) {
	e := newEnv(t, Config{}, routed(respond(200, "from-get"), func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Location", r.URL.Path)
		_, _ = io.WriteString(w, "from-post")
	}))
	rec, res := e.do("POST", "/p")
	if rec.Body.String() != "from-post" || !res.Stored {
		t.Fatalf("POST: %q stored=%v", rec.Body.String(), res.Stored)
	}
	rec, res = e.get("/p")
	if res.Status != Hit || rec.Body.String() != "from-post" {
		t.Fatalf("GET after POST: %v %q", res.Status, rec.Body.String())
	}
}

func TestHEAD(t *testing.T) {
	e := newEnv(t, Config{}, respond(200, "0123456789", "Cache-Control: max-age=600"))
	t.Run("miss is forwarded and stores nothing", func(t *testing.T) {
		rec, res := e.do("HEAD", "/h")
		if res.Status != Miss || rec.Body.Len() != 0 {
			t.Fatalf("HEAD miss: %v body %q", res.Status, rec.Body.String())
		}
		if m := e.o.lastMethod(); m != "HEAD" {
			t.Fatalf("origin saw %s, want HEAD", m)
		}
		rec, res = e.get("/h")
		if res.Status != Miss || rec.Body.String() != "0123456789" {
			t.Fatalf("GET after HEAD miss: %v %q (a HEAD must not store an empty body)", res.Status, rec.Body.String())
		}
	})
	t.Run("served from the GET entry", func(t *testing.T) {
		before := e.o.hits.Load()
		rec, res := e.do("HEAD", "/h")
		if res.Status != Hit || rec.Body.Len() != 0 || rec.Header().Get("Content-Length") != "10" {
			t.Fatalf("HEAD hit: %v body %q Content-Length %q", res.Status, rec.Body.String(), rec.Header().Get("Content-Length"))
		}
		if e.o.hits.Load() != before {
			t.Fatalf("HEAD hit reached the origin")
		}
	})
	t.Run("not when the policy does not cache HEAD", func(t *testing.T) {
		e.policy = Policy{CachedMethods: []string{"GET"}}
		defer func() { e.policy = Policy{} }()
		_, res := e.do("HEAD", "/h")
		if res.Status != Pass {
			t.Fatalf("HEAD with CachedMethods=GET: %v, want Pass", res.Status)
		}
	})
}

func TestOPTIONSCachedOnlyWhenListed(t *testing.T) {
	e := newEnv(t, Config{}, respond(204, "", "Cache-Control: max-age=600", "Access-Control-Allow-Origin: *"))
	e.do("OPTIONS", "/o")
	if _, res := e.do("OPTIONS", "/o"); res.Status != Pass {
		t.Fatalf("OPTIONS with default policy: %v, want Pass", res.Status)
	}
	e.policy = Policy{CachedMethods: []string{"GET", "HEAD", "OPTIONS"}}
	e.do("OPTIONS", "/o")
	rec, res := e.do("OPTIONS", "/o")
	if res.Status != Hit || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("OPTIONS listed: %v", res.Status)
	}
	if _, res := e.get("/o"); res.Status == Hit {
		t.Fatalf("GET was answered from the OPTIONS entry")
	}
}

func TestBypass(t *testing.T) {
	e := newEnv(t, Config{}, routed(respond(200, "x", "Cache-Control: max-age=600"),
		func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(200) }))
	e.get("/b") // stored under the caching behaviour
	e.policy = Policy{Bypass: true}
	for range 2 {
		rec, res := e.get("/b")
		if res.Status != Pass {
			t.Fatalf("bypass: %v", res.Status)
		}
		wantXCache(t, rec, "Miss")
	}
	e.do("POST", "/b") // a dont-cache behaviour still invalidates
	e.policy = Policy{}
	if _, res := e.get("/b"); res.Status == Hit {
		t.Fatalf("POST under Bypass did not invalidate")
	}
	if e.o.hits.Load() != 5 {
		t.Fatalf("origin hits = %d, want 5", e.o.hits.Load())
	}
}

func TestVary(t *testing.T) {
	echo := func(clk *testClock) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Date", clk.httpDate(0))
			w.Header().Set("Cache-Control", "max-age=600")
			w.Header().Set("Vary", r.Header.Get("X-Test-Vary"))
			if lang := r.Header.Get("X-Content-Language"); lang != "" {
				w.Header().Set("Content-Language", lang)
			}
			_, _ = io.WriteString(w, "foo="+r.Header.Get("Foo")+" lang="+r.Header.Get("Accept-Language"))
		}
	}
	cases := []struct {
		name    string
		first   []string
		second  []string
		wantHit bool
	}{
		{name: "same value", first: []string{"X-Test-Vary: Foo", "Foo: 1"}, second: []string{"Foo: 1"}, wantHit: true},
		{name: "different value", first: []string{"X-Test-Vary: Foo", "Foo: 1"}, second: []string{"Foo: 2"}},
		{name: "presented request omits it", first: []string{"X-Test-Vary: Foo", "Foo: 1"}},
		{name: "stored request omitted it", first: []string{"X-Test-Vary: Foo"}, second: []string{"Foo: 1"}},
		{name: "both omit it", first: []string{"X-Test-Vary: Foo, Bar", "Foo: 1"}, second: []string{"Foo: 1"}, wantHit: true},
		{name: "unlisted headers do not matter", first: []string{"X-Test-Vary: Foo", "Foo: 1", "Other: a"}, second: []string{"Foo: 1", "Other: b"}, wantHit: true},
		{name: "whitespace normalised", first: []string{"X-Test-Vary: Foo", "Foo: 1,2"}, second: []string{"Foo:  1 , 2 "}, wantHit: true},
		{name: "field lines combined", first: []string{"X-Test-Vary: Foo", "Foo: 1, 2"}, second: []string{"Foo: 1", "Foo: 2"}, wantHit: true},
		{name: "Accept-Language order and case", first: []string{"X-Test-Vary: Accept-Language", "Accept-Language: en, de"}, second: []string{"Accept-Language: DE,En"}, wantHit: true},
		{name: "Accept-Language selection by qvalue", first: []string{"X-Test-Vary: Accept-Language", "Accept-Language: en, de", "X-Content-Language: de"},
			second: []string{"Accept-Language: fr;q=0.5, de;q=1.0"}, wantHit: true},
		{name: "Accept-Language different preference", first: []string{"X-Test-Vary: Accept-Language", "Accept-Language: en, de", "X-Content-Language: de"},
			second: []string{"Accept-Language: fr"}},
		{name: "star", first: []string{"X-Test-Vary: *", "Foo: 1"}, second: []string{"Foo: 1"}},
		{name: "star among names", first: []string{"X-Test-Vary: Foo, *", "Foo: 1"}, second: []string{"Foo: 1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Config{}, echo)
			e.get("/v", tc.first...)
			_, res := e.get("/v", tc.second...)
			if (res.Status == Hit) != tc.wantHit {
				t.Fatalf("second request: %v, want hit=%v", res.Status, tc.wantHit)
			}
		})
	}
	t.Run("variants live side by side", func(t *testing.T) {
		e := newEnv(t, Config{}, echo)
		e.get("/v", "X-Test-Vary: Foo", "Foo: 1")
		e.get("/v", "X-Test-Vary: Foo", "Foo: 2")
		for _, v := range []string{"1", "2"} {
			rec, res := e.get("/v", "Foo: "+v)
			if res.Status != Hit || rec.Body.String() != "foo="+v+" lang=" {
				t.Fatalf("variant %s: %v %q", v, res.Status, rec.Body.String())
			}
		}
	})
}

func TestRange(t *testing.T) {
	e := newEnv(t, Config{}, respond(200, "0123456789A", "Cache-Control: max-age=600", `Etag: "r1"`,
		"Last-Modified: Sun, 01 Mar 2026 10:00:00 GMT"))
	t.Run("miss forwards Range and stores nothing", func(t *testing.T) {
		// The test origin ignores Range and answers 200: the cache must not turn that into a
		// stored partial, nor refuse it.
		_, res := e.get("/r", "Range: bytes=0-1")
		if e.o.lastHeader().Get("Range") != "bytes=0-1" {
			t.Fatalf("Range not forwarded on a miss: %v", e.o.lastHeader())
		}
		if res.Status != Miss || res.Stored {
			t.Fatalf("Range miss: %+v", res)
		}
	})
	e.get("/r") // store the full response
	cases := []struct {
		name      string
		req       []string
		wantCode  int
		wantBody  string
		wantRange string
	}{
		{name: "byte range", req: []string{"Range: bytes=0-1"}, wantCode: 206, wantBody: "01", wantRange: "bytes 0-1/11"},
		{name: "open end", req: []string{"Range: bytes=9-"}, wantCode: 206, wantBody: "9A", wantRange: "bytes 9-10/11"},
		{name: "suffix", req: []string{"Range: bytes=-1"}, wantCode: 206, wantBody: "A", wantRange: "bytes 10-10/11"},
		{name: "last beyond end", req: []string{"Range: bytes=5-100"}, wantCode: 206, wantBody: "56789A", wantRange: "bytes 5-10/11"},
		{name: "unsatisfiable", req: []string{"Range: bytes=20-"}, wantCode: 416, wantRange: "bytes */11"},
		{name: "several ranges: whole body", req: []string{"Range: bytes=0-1,3-4"}, wantCode: 200, wantBody: "0123456789A"},
		{name: "other unit: whole body", req: []string{"Range: items=0-1"}, wantCode: 200, wantBody: "0123456789A"},
		{name: "If-Range matching ETag", req: []string{"Range: bytes=0-1", `If-Range: "r1"`}, wantCode: 206, wantBody: "01", wantRange: "bytes 0-1/11"},
		{name: "If-Range other ETag", req: []string{"Range: bytes=0-1", `If-Range: "zz"`}, wantCode: 200, wantBody: "0123456789A"},
		{name: "If-Range matching date", req: []string{"Range: bytes=0-1", "If-Range: Sun, 01 Mar 2026 10:00:00 GMT"}, wantCode: 206, wantBody: "01", wantRange: "bytes 0-1/11"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := e.o.hits.Load()
			rec, res := e.get("/r", tc.req...)
			if res.Status != Hit || e.o.hits.Load() != before {
				t.Fatalf("not served from cache: %v", res.Status)
			}
			if rec.Code != tc.wantCode || rec.Body.String() != tc.wantBody || rec.Header().Get("Content-Range") != tc.wantRange {
				t.Fatalf("got %d %q Content-Range %q", rec.Code, rec.Body.String(), rec.Header().Get("Content-Range"))
			}
			if tc.wantCode == 206 && rec.Header().Get("Content-Length") != itoa(int64(len(tc.wantBody))) {
				t.Fatalf("Content-Length %q for %q", rec.Header().Get("Content-Length"), tc.wantBody)
			}
		})
	}
}

func TestHopByHopFieldsAreNeitherForwardedNorStored(t *testing.T) {
	e := newEnv(t, Config{}, respond(200, "body", "Cache-Control: max-age=600", "Connection: X-Conn-Only",
		"X-Conn-Only: 1", "Keep-Alive: timeout=5", "Proxy-Authenticate: Basic", "Upgrade: h2c", "X-Kept: yes"))
	for _, label := range []string{"Miss", "Hit"} {
		rec, _ := e.get("/hop")
		wantXCache(t, rec, label)
		for _, f := range []string{"Connection", "X-Conn-Only", "Keep-Alive", "Proxy-Authenticate", "Upgrade"} {
			if v := rec.Header().Get(f); v != "" {
				t.Fatalf("%s response carries %s: %q", label, f, v)
			}
		}
		if rec.Header().Get("X-Kept") != "yes" || rec.Header().Get("Content-Length") != "4" {
			t.Fatalf("%s response lost X-Kept or Content-Length: %v", label, rec.Header())
		}
	}
}

func TestQualifiedNoCacheFieldsAreNotStored(t *testing.T) {
	e := newEnv(t, Config{}, respond(200, "b", `Cache-Control: no-cache="Set-Cookie", max-age=600`, "Set-Cookie: a=1", "X-Other: 2"))
	rec, _ := e.get("/q")
	if rec.Header().Get("Set-Cookie") != "a=1" {
		t.Fatalf("the miss must forward the field")
	}
	rec, res := e.get("/q")
	if res.Status != Hit || rec.Header().Get("Set-Cookie") != "" || rec.Header().Get("X-Other") != "2" {
		t.Fatalf("hit: %v Set-Cookie %q X-Other %q", res.Status, rec.Header().Get("Set-Cookie"), rec.Header().Get("X-Other"))
	}
}

// TestInterimResponsesAreRelayed runs the cache behind a real server, since interim responses
// only exist on the wire.
func TestInterimResponsesAreRelayed(t *testing.T) {
	clk := newTestClock()
	c := New(Config{Now: clk.Now})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.Header().Del("Link")
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Date", clk.httpDate(0))
		_, _ = io.WriteString(w, "final")
	})
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := r.Clone(r.Context())
		out.URL.Scheme, out.URL.Host, out.RequestURI = "http", o.srv.Listener.Addr().String(), ""
		_, _ = c.Serve(w, &Request{Out: out, Namespace: "d", Key: out.URL.Path}, o.fetch())
	}))
	defer front.Close()
	get := func() (codes []int, links []string, resp *http.Response) {
		var mu sync.Mutex
		trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
			mu.Lock()
			defer mu.Unlock()
			codes = append(codes, code)
			links = append(links, h.Get("Link"))
			return nil
		}}
		req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", front.URL+"/i", nil)
		resp, err := front.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return codes, links, resp
	}
	codes, links, resp := get()
	if len(codes) != 1 || codes[0] != 103 || links[0] != "</style.css>; rel=preload" {
		t.Fatalf("interim responses seen by the viewer: %v %v", codes, links)
	}
	if resp.Header.Get("Link") != "" {
		t.Fatalf("interim field leaked into the final response")
	}
	codes, _, resp = get()
	if len(codes) != 0 || resp.Header.Get("X-Cache") != "Hit from sailcdn" || resp.Header.Get("Link") != "" {
		t.Fatalf("second request: interim %v, X-Cache %q, Link %q", codes, resp.Header.Get("X-Cache"), resp.Header.Get("Link"))
	}
}

func TestGeneratedErrors(t *testing.T) {
	e := newEnv(t, Config{}, respond(200, "x"))
	e.o.srv.Close()
	rec, res := e.get("/down")
	if rec.Code != http.StatusBadGateway || res.Status != Error || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("unreachable origin: %d %v %v", rec.Code, res.Status, rec.Header())
	}
	// A Fetcher that times out (its transport's own timeouts bound shared fills) gives 504.
	timeout := func(ctx context.Context, req *http.Request) (*http.Response, error) {
		return nil, &url.Error{Op: "Get", URL: req.URL.String(), Err: context.DeadlineExceeded}
	}
	rec = httptest.NewRecorder()
	if _, err := e.c.Serve(rec, e.request("GET", "/slow"), timeout); !errors.Is(err, ErrOrigin) || rec.Code != http.StatusGatewayTimeout {
		t.Fatalf("timed out exchange: %d %v, want 504 and ErrOrigin", rec.Code, err)
	}
}
