package meter

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/meter/metertest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// originTransport dials through the meter, keeping one idle connection per host, so that exchanges
// share a connection.
func originTransport(m *Meter, tlsConfig *tls.Config) *http.Transport {
	return &http.Transport{
		DialContext:         m.Origin((&net.Dialer{}).DialContext),
		MaxIdleConnsPerHost: 1,
		DisableCompression:  true,
		TLSClientConfig:     tlsConfig,
	}
}

// TestOriginBytesGoToTheExchangeThatHoldsTheConnection: exchanges of two distributions and four
// methods share one origin connection; each one's bytes are what the origin's socket received while
// it held the connection, and only POST and PUT count as uploaded.
func TestOriginBytesGoToTheExchangeThatHoldsTheConnection(t *testing.T) {
	m, _ := newTestMeter(t, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tap := &metertest.TapListener{Listener: ln}
	// The origin reads each request whole before it answers, and the client sends the next only
	// after the answer, so the socket's count at the end of a request is the bytes of the requests so far.
	seen := make(chan int64, 10)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		seen <- tap.Read.Load()
		_, _ = io.WriteString(w, strings.Repeat("r", 700))
	})}
	go srv.Serve(tap)
	t.Cleanup(func() { srv.Close() })

	tr := originTransport(m, nil)
	defer tr.CloseIdleConnections()
	exchanges := []struct {
		dist, method string
		body         int
	}{
		{"d1", http.MethodGet, 0},
		{"d2", http.MethodPost, 10_000},
		{"d1", http.MethodPut, 70_000},
		{"d2", http.MethodDelete, 0},
		{"d1", http.MethodOptions, 0},
		{"d2", http.MethodPatch, 300},
	}
	want := map[string]*Usage{"d1": {DistributionID: "d1"}, "d2": {DistributionID: "d2"}}
	var before int64
	for _, x := range exchanges {
		var body io.Reader
		if x.body > 0 {
			body = strings.NewReader(strings.Repeat("b", x.body))
		}
		req, err := http.NewRequestWithContext(m.OriginContext(context.Background(), x.dist, x.method),
			x.method, "http://"+ln.Addr().String()+"/o", body)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		got := <-seen
		sent := got - before
		before = got
		want[x.dist].BytesToOrigin += sent
		if uploadMethod(x.method) {
			want[x.dist].BytesUploaded += sent
		}
	}
	for _, u := range want {
		waitFor(t, m, *u)
	}
}

// TestOriginTLSHandshakeCounts: over TLS, every byte the origin's socket receives — the handshake,
// the encrypted records, the close_notify of a connection closed idle — is counted, for the
// distribution of the exchange that first held the connection.
func TestOriginTLSHandshakeCounts(t *testing.T) {
	m, _ := newTestMeter(t, Config{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tap := &metertest.TapListener{Listener: ln}
	srv.Listener = tap
	srv.StartTLS()
	defer srv.Close()
	tr := originTransport(m, srv.Client().Transport.(*http.Transport).TLSClientConfig)
	for i, method := range []string{http.MethodGet, http.MethodPost, http.MethodGet} {
		req, _ := http.NewRequestWithContext(m.OriginContext(context.Background(), "tls", method), method, srv.URL+fmt.Sprintf("/%d", i),
			strings.NewReader(strings.Repeat("x", 1000*i)))
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	tr.CloseIdleConnections()
	wait.Until(t, 3*time.Second, "the origin to read the whole connection", func() bool {
		return Sum(m.Pending(), "tls").BytesToOrigin == tap.Read.Load() && tap.Read.Load() > 2000
	})
	if u := Sum(m.Pending(), "tls"); u.BytesUploaded <= 1000 || u.BytesUploaded >= u.BytesToOrigin {
		t.Errorf("uploaded %d of %d bytes to the origin", u.BytesUploaded, u.BytesToOrigin)
	}
}

func TestOriginOnANilMeter(t *testing.T) {
	var m *Meter
	dial := (&net.Dialer{}).DialContext
	if m.Origin(dial) == nil || m.OriginContext(context.Background(), "d", "GET") != context.Background() {
		t.Fatal("a nil meter must leave the dialer and the context as they are")
	}
}
