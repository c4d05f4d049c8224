package httpcache

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// A response with Set-Cookie may be reused, but the cookie goes only to the viewer whose request
// reached the origin.
func TestSetCookieIsNotReplayedToOtherViewers(t *testing.T) {
	hits := 0
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Set-Cookie", "session=alice-secret")
		_, _ = w.Write([]byte("page"))
	}))
	defer origin.Close()
	c := New(Config{})
	fetch := func(ctx context.Context, req *http.Request) (*http.Response, error) {
		return http.DefaultTransport.RoundTrip(req)
	}
	serve := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, origin.URL+"/page", nil)
		req.RequestURI = ""
		rec := httptest.NewRecorder()
		if _, err := c.Serve(rec, &Request{Out: req, Namespace: "d1", Key: "page"}, fetch); err != nil {
			t.Fatal(err)
		}
		return rec
	}
	first, second := serve(), serve()
	if first.Header().Get("Set-Cookie") != "session=alice-secret" {
		t.Fatalf("the filling viewer did not get its cookie: %v", first.Header())
	}
	if second.Header().Get("X-Cache") != "Hit from sailcdn" || hits != 1 {
		t.Fatalf("second request was not a hit: %v (origin hits %d)", second.Header(), hits)
	}
	if got := second.Header().Get("Set-Cookie"); got != "" {
		t.Fatalf("another viewer received the first viewer's cookie: %q", got)
	}
}
