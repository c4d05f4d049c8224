package meter

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/h2c"

	"github.com/sailcdn/sailcdn/internal/meter/metertest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// sink records flushed batches (their usage), and the id of every attempt, failed or not.
type sink struct {
	mu       sync.Mutex
	batches  [][]Usage
	attempts []string
	fail     error
}

func (s *sink) flush(_ context.Context, b Batch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts = append(s.attempts, b.ID)
	if s.fail != nil {
		return s.fail
	}
	s.batches = append(s.batches, append([]Usage(nil), b.Usage...))
	return nil
}

func newTestMeter(t *testing.T, cfg Config) (*Meter, *sink) {
	t.Helper()
	s := &sink{}
	if cfg.Flush == nil {
		cfg.Flush = s.flush
	}
	m, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return m, s
}

func serve(t *testing.T, m *Meter, h http.Handler) (string, *metertest.TapListener) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tap := &metertest.TapListener{Listener: ln}
	srv := &http.Server{Handler: h}
	m.Instrument(srv)
	go srv.Serve(m.Listener(tap))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), tap
}

// meteredHandler claims every request for the distribution named by its X-Dist header (none: the
// request stays unattributed), then runs h.
func meteredHandler(m *Meter, h func(w http.ResponseWriter, r *http.Request) int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dist := r.Header.Get("X-Dist")
		if dist == "" {
			h(w, r)
			return
		}
		x, w := m.Start(w, r, dist)
		status := h(w, r)
		x.End(status)
	})
}

// rawClient is a TCP client that counts what it writes and reads.
type rawClient struct {
	t             *testing.T
	c             net.Conn
	br            *bufio.Reader
	wrote, nread  int64
	countedReader *countReader
}

type countReader struct {
	r io.Reader
	n *int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

func dial(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	rc := &rawClient{t: t, c: c}
	rc.countedReader = &countReader{r: c, n: &rc.nread}
	rc.br = bufio.NewReader(rc.countedReader)
	t.Cleanup(func() { c.Close() })
	return rc
}

func (rc *rawClient) send(s string) {
	rc.t.Helper()
	n, err := io.WriteString(rc.c, s)
	rc.wrote += int64(n)
	if err != nil {
		rc.t.Fatal(err)
	}
}

// response reads one whole response; the server sends nothing else, so the bytes read from the
// socket are exactly the response's.
func (rc *rawClient) response(method string) *http.Response {
	rc.t.Helper()
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		rc.t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		rc.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// waitFor polls m until the distribution's pending usage equals want (ignoring Minute).
func waitFor(t *testing.T, m *Meter, want Usage) {
	t.Helper()
	wait.For(t, 3*time.Second, "usage of "+want.DistributionID, func() error {
		if got := Sum(m.Pending(), want.DistributionID); got != want {
			return fmt.Errorf("got %+v, want %+v", got, want)
		}
		return nil
	})
}

func TestHTTP1BytesMatchWhatTheClientSentAndReceived(t *testing.T) {
	payload := bytes.Repeat([]byte("0123456789abcdef"), 20_000) // 320 kB: larger than every buffer on the way
	cases := []struct {
		name    string
		request func(dist string, body string) string
		body    string
		method  string
		status  int
		handler func(w http.ResponseWriter, r *http.Request) int
	}{
		{
			name:    "GET with Content-Length",
			request: func(d, _ string) string { return "GET /a HTTP/1.1\r\nHost: x\r\nX-Dist: " + d + "\r\n\r\n" },
			method:  http.MethodGet, status: 200,
			handler: func(w http.ResponseWriter, r *http.Request) int {
				w.Header().Set("Content-Length", fmt.Sprint(len(payload)))
				w.Write(payload)
				return 200
			},
		},
		{
			name:    "chunked response with flushes",
			request: func(d, _ string) string { return "GET /c HTTP/1.1\r\nHost: x\r\nX-Dist: " + d + "\r\n\r\n" },
			method:  http.MethodGet, status: 200,
			handler: func(w http.ResponseWriter, r *http.Request) int {
				for i := 0; i < 5; i++ {
					w.Write(payload[:1000*(i+1)])
					w.(http.Flusher).Flush()
				}
				return 200
			},
		},
		{
			name: "POST body the handler reads",
			request: func(d, body string) string {
				return fmt.Sprintf("POST /p HTTP/1.1\r\nHost: x\r\nX-Dist: %s\r\nContent-Length: %d\r\n\r\n%s", d, len(body), body)
			},
			body:   strings.Repeat("u", 100_000),
			method: http.MethodPost, status: 201,
			handler: func(w http.ResponseWriter, r *http.Request) int {
				n, _ := io.Copy(io.Discard, r.Body)
				w.WriteHeader(201)
				fmt.Fprintf(w, "read %d", n)
				return 201
			},
		},
		{
			name: "POST body the handler ignores (net/http drains it after the handler)",
			request: func(d, body string) string {
				return fmt.Sprintf("POST /p HTTP/1.1\r\nHost: x\r\nX-Dist: %s\r\nContent-Length: %d\r\n\r\n%s", d, len(body), body)
			},
			body:   strings.Repeat("i", 50_000),
			method: http.MethodPost, status: 404,
			handler: func(w http.ResponseWriter, r *http.Request) int {
				http.Error(w, "nope", 404)
				return 404
			},
		},
		{
			name: "Range request",
			request: func(d, _ string) string {
				return "GET /r HTTP/1.1\r\nHost: x\r\nRange: bytes=1000-4999\r\nX-Dist: " + d + "\r\n\r\n"
			},
			method: http.MethodGet, status: 206,
			handler: func(w http.ResponseWriter, r *http.Request) int {
				http.ServeContent(w, r, "r.bin", time.Time{}, bytes.NewReader(payload))
				return 206
			},
		},
		{
			name: "HEAD",
			request: func(d, _ string) string {
				return "HEAD /h HTTP/1.1\r\nHost: x\r\nX-Dist: " + d + "\r\n\r\n"
			},
			method: http.MethodHead, status: 503,
			handler: func(w http.ResponseWriter, r *http.Request) int {
				w.Header().Set("Content-Length", "12345")
				w.WriteHeader(503)
				return 503
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newTestMeter(t, Config{})
			addr, tap := serve(t, m, meteredHandler(m, tc.handler))
			c := dial(t, addr)
			c.send(tc.request("d1", tc.body))
			resp := c.response(tc.method)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			c.c.Close()
			want := Usage{DistributionID: "d1", Requests: 1, BytesToViewers: c.nread, BytesFromViewers: c.wrote}
			if downloadMethod(tc.method) { // GET, HEAD, OPTIONS: the answer counts as downloaded
				want.BytesDownloaded = c.nread
			}
			switch {
			case tc.status >= 500:
				want.Status5xx = 1
			case tc.status >= 400:
				want.Status4xx = 1
			}
			waitFor(t, m, want)
			if tap.Read.Load() != c.wrote || tap.Written.Load() != c.nread {
				t.Errorf("socket tap read %d wrote %d; client wrote %d read %d", tap.Read.Load(), tap.Written.Load(), c.wrote, c.nread)
			}
		})
	}
}

func TestHTTP1KeepAliveAttributesEachRequest(t *testing.T) {
	m, _ := newTestMeter(t, Config{})
	addr, _ := serve(t, m, meteredHandler(m, func(w http.ResponseWriter, r *http.Request) int {
		io.WriteString(w, strings.Repeat("k", 5000+len(r.URL.Path)))
		return 200
	}))
	c := dial(t, addr)
	var perDist [2]struct{ up, down int64 }
	for i, path := range []string{"/first", "/second-longer", "/third"} {
		dist := i % 2
		up0, down0 := c.wrote, c.nread
		c.send(fmt.Sprintf("GET %s HTTP/1.1\r\nHost: x\r\nX-Dist: d%d\r\n\r\n", path, dist))
		c.response(http.MethodGet)
		perDist[dist].up += c.wrote - up0
		perDist[dist].down += c.nread - down0
	}
	// An unknown-host request on the same connection counts for nobody.
	c.send("GET /nobody HTTP/1.1\r\nHost: x\r\n\r\n")
	c.response(http.MethodGet)
	c.c.Close()
	waitFor(t, m, Usage{DistributionID: "d0", Requests: 2, BytesFromViewers: perDist[0].up, BytesToViewers: perDist[0].down, BytesDownloaded: perDist[0].down})
	waitFor(t, m, Usage{DistributionID: "d1", Requests: 1, BytesFromViewers: perDist[1].up, BytesToViewers: perDist[1].down, BytesDownloaded: perDist[1].down})
}

func TestHTTP1AbortedDownloadCountsWhatReachedTheSocket(t *testing.T) {
	const size = 16 << 20
	m, _ := newTestMeter(t, Config{})
	handlerDone := make(chan struct{})
	addr, tap := serve(t, m, meteredHandler(m, func(w http.ResponseWriter, r *http.Request) int {
		defer close(handlerDone)
		w.Header().Set("Content-Length", fmt.Sprint(size))
		chunk := make([]byte, 64<<10)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		return 200
	}))
	c := dial(t, addr)
	c.send("GET /big HTTP/1.1\r\nHost: x\r\nX-Dist: big\r\n\r\n")
	resp, err := http.ReadResponse(c.br, &http.Request{Method: http.MethodGet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, 100_000); err != nil {
		t.Fatal(err)
	}
	// Hang up with unread data: the kernel answers with a reset, the server's writes fail.
	c.c.(*net.TCPConn).SetLinger(0)
	c.c.Close()
	<-handlerDone
	wait.For(t, 3*time.Second, "the download counted as the socket carried it", func() error {
		if got := Sum(m.Pending(), "big"); got.BytesDownloaded != tap.Written.Load() || got.Requests != 1 {
			return fmt.Errorf("counted %+v; the socket carried %d bytes down", got, tap.Written.Load())
		}
		return nil
	})
	got := Sum(m.Pending(), "big")
	if got.BytesDownloaded < c.nread || got.BytesDownloaded >= size {
		t.Fatalf("counted %d bytes down; the client read %d of a %d-byte body", got.BytesDownloaded, c.nread, size)
	}
	if got.BytesFromViewers != c.wrote || got.BytesToViewers != got.BytesDownloaded {
		t.Fatalf("counted %d bytes up, the client wrote %d (down %d, downloaded %d)", got.BytesFromViewers, c.wrote, got.BytesToViewers, got.BytesDownloaded)
	}
}

func TestLongDownloadIsCountedWhileItRuns(t *testing.T) {
	m, s := newTestMeter(t, Config{Interval: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	release := make(chan struct{})
	addr, _ := serve(t, m, meteredHandler(m, func(w http.ResponseWriter, r *http.Request) int {
		w.Write(make([]byte, 10_000))
		w.(http.Flusher).Flush()
		<-release
		return 200
	}))
	c := dial(t, addr)
	c.send("GET /slow HTTP/1.1\r\nHost: x\r\nX-Dist: slow\r\n\r\n")
	var flushed Usage
	wait.For(t, 3*time.Second, "bytes of a running download flushed", func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		flushed = Usage{}
		for _, b := range s.batches {
			u := Sum(b, "slow")
			flushed.BytesDownloaded += u.BytesDownloaded
			flushed.Requests += u.Requests
		}
		if flushed.BytesDownloaded < 10_000 {
			return fmt.Errorf("flushed %+v", flushed)
		}
		return nil
	})
	if flushed.Requests != 0 {
		t.Fatalf("request counted before it ended: %+v", flushed)
	}
	close(release)
}

func TestH2CCountsBodiesExactlyAndHeadersApproximately(t *testing.T) {
	m, _ := newTestMeter(t, Config{})
	body := strings.Repeat("b", 70_000)
	h := meteredHandler(m, func(w http.ResponseWriter, r *http.Request) int {
		if r.ProtoMajor != 2 {
			t.Errorf("request over %s, want HTTP/2", r.Proto)
		}
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-A", "1")
		w.WriteHeader(404)
		io.WriteString(w, body)
		return 404
	})
	addr, _ := serve(t, m, h2c.NewHandler(h, &http2.Server{}))
	client := &http.Client{Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
	upload := strings.Repeat("u", 30_000)
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/h2", strings.NewReader(upload))
	req.Header.Set("X-Dist", "h2")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(got) != len(body) || resp.StatusCode != 404 {
		t.Fatalf("got %d bytes, status %d", len(got), resp.StatusCode)
	}
	u := Sum(m.Pending(), "h2")
	// Bodies exactly; header sections by their HTTP/1.1 text size, which here is at least the
	// status line and the one field the handler set.
	headDown := u.BytesToViewers - int64(len(body))
	headUp := u.BytesFromViewers - int64(len(upload))
	if u.Requests != 1 || u.Status4xx != 1 || u.BytesDownloaded != 0 || headDown < int64(len("HTTP/2.0 404 Not Found\r\nX-A: 1\r\n\r\n")) || headDown > 200 || headUp < int64(len("PUT /h2 HTTP/2.0\r\n")) || headUp > 300 {
		t.Fatalf("usage %+v (head down %d, head up %d)", u, headDown, headUp)
	}
}

func TestMinutesFollowTheInjectedClock(t *testing.T) {
	var now atomic.Pointer[time.Time]
	set := func(t time.Time) { now.Store(&t) }
	set(time.Date(2026, 4, 10, 12, 0, 59, 0, time.UTC))
	m, s := newTestMeter(t, Config{Now: func() time.Time { return *now.Load() }})
	m.add("d", delta{requests: 1, down: 10})
	set(time.Date(2026, 4, 10, 12, 1, 0, 0, time.UTC))
	m.add("d", delta{requests: 2, down: 20, s5xx: 1})
	m.add("e", delta{up: 7})
	if err := m.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	minute := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC).Unix()
	want := map[usageKey]Usage{
		{"d", minute}:      {DistributionID: "d", Minute: minute, Requests: 1, BytesToViewers: 10},
		{"d", minute + 60}: {DistributionID: "d", Minute: minute + 60, Requests: 2, BytesToViewers: 20, Status5xx: 1},
		{"e", minute + 60}: {DistributionID: "e", Minute: minute + 60, BytesFromViewers: 7},
	}
	if len(s.batches) != 1 || len(s.batches[0]) != len(want) {
		t.Fatalf("batches %+v", s.batches)
	}
	for _, u := range s.batches[0] {
		if want[usageKey{u.DistributionID, u.Minute}] != u {
			t.Errorf("flushed %+v, want %+v", u, want[usageKey{u.DistributionID, u.Minute}])
		}
	}
	if minuteOf(time.Unix(-61, 0)) != -120 || minuteOf(time.Unix(-60, 0)) != -60 {
		t.Errorf("minuteOf before 1970: %d %d", minuteOf(time.Unix(-61, 0)), minuteOf(time.Unix(-60, 0)))
	}
}

// A failed batch is retried unchanged, with its id, before the counts made since (which form a new
// batch with a new id): a store that records ids then applies each exactly once.
func TestFailedFlushKeepsDeltasForTheNextOne(t *testing.T) {
	m, s := newTestMeter(t, Config{Now: func() time.Time { return time.Unix(600, 0) }})
	m.add("d", delta{requests: 1, down: 100})
	s.fail = errors.New("database is down")
	for range 2 {
		if err := m.Flush(context.Background()); err == nil {
			t.Fatal("flush reported success")
		}
	}
	m.add("d", delta{requests: 1, down: 50, s4xx: 1})
	if p := m.Pending(); len(p) != 1 || p[0].Requests != 2 {
		t.Fatalf("pending after a failed flush: %+v", p)
	}
	s.fail = nil
	if err := m.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := [][]Usage{
		{{DistributionID: "d", Minute: 600, Requests: 1, BytesToViewers: 100}},
		{{DistributionID: "d", Minute: 600, Requests: 1, BytesToViewers: 50, Status4xx: 1}},
	}
	if !reflect.DeepEqual(s.batches, want) {
		t.Fatalf("flushed %+v, want %+v", s.batches, want)
	}
	// Attempts: the first batch three times under one id, then the new batch under another.
	if a := s.attempts; len(a) != 4 || a[0] == "" || a[1] != a[0] || a[2] != a[0] || a[3] == a[0] {
		t.Fatalf("attempt ids %q", a)
	}
	if p := m.Pending(); len(p) != 0 {
		t.Fatalf("pending after a successful flush: %+v", p)
	}
	if err := m.Flush(context.Background()); err != nil || len(s.batches) != 2 {
		t.Fatalf("an empty flush called the hook: %v %d", err, len(s.batches))
	}
}

func TestRunFlushesPeriodically(t *testing.T) {
	m, s := newTestMeter(t, Config{Interval: 10 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	m.add("d", delta{requests: 1})
	wait.Until(t, 2*time.Second, "Run to flush", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.batches) > 0
	})
	cancel()
	<-done
}

func TestPrometheusCounters(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, _ := newTestMeter(t, Config{Registerer: reg})
	m.add("d", delta{requests: 3, down: 1000, up: 10, s4xx: 2, s5xx: 1})
	checks := []struct {
		name, class string
		want        float64
	}{
		{"sailcdn_edge_requests_total", "", 3},
		{"sailcdn_edge_bytes_downloaded_total", "", 1000},
		{"sailcdn_edge_bytes_uploaded_total", "", 10},
		{"sailcdn_edge_error_responses_total", "4xx", 2},
		{"sailcdn_edge_error_responses_total", "5xx", 1},
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range checks {
		got := -1.0
		for _, f := range families {
			if f.GetName() != c.name {
				continue
			}
			for _, metric := range f.GetMetric() {
				labels := map[string]string{}
				for _, l := range metric.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["distribution_id"] == "d" && labels["class"] == c.class {
					got = metric.GetCounter().GetValue()
				}
			}
		}
		if got != c.want {
			t.Errorf("%s{class=%q} = %v, want %v", c.name, c.class, got, c.want)
		}
	}
	if _, err := New(Config{Flush: func(context.Context, Batch) error { return nil }, Registerer: reg}); err == nil {
		t.Error("registering the collectors twice succeeded")
	}
}

func TestNilMeterIsANoOp(t *testing.T) {
	var m *Meter
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if m.Listener(ln) != ln {
		t.Error("nil meter wrapped the listener")
	}
	srv := &http.Server{}
	m.Instrument(srv)
	if srv.ConnState != nil || srv.ConnContext != nil {
		t.Error("nil meter installed hooks")
	}
	rec := &struct{ http.ResponseWriter }{}
	x, w := m.Start(rec, &http.Request{}, "d")
	if x != nil || w != http.ResponseWriter(rec) {
		t.Error("nil meter wrapped the writer")
	}
	x.End(200)
	if err := m.Close(context.Background()); err != nil || m.Pending() != nil {
		t.Error("nil meter Close/Pending")
	}
	if _, err := New(Config{}); err == nil {
		t.Error("New without Flush succeeded")
	}
}

// Pipelined requests for different distributions, sent in one write, are each booked to their
// own distribution, bodies included (issue 9, defect 8): net/http reads ahead into the next
// request while it serves one, and those bytes belong to the next.
func TestHTTP1PipelinedRequestsAreBookedToTheirOwnDistribution(t *testing.T) {
	m, _ := newTestMeter(t, Config{})
	addr, _ := serve(t, m, meteredHandler(m, func(w http.ResponseWriter, r *http.Request) int {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.Path, n)
		return 200
	}))
	requests := []struct{ dist, raw string }{
		{"d0", "GET /first HTTP/1.1\r\nHost: x\r\nX-Dist: d0\r\n\r\n"},
		{"d1", "POST /upload HTTP/1.1\r\nHost: x\r\nX-Dist: d1\r\nContent-Length: 11\r\n\r\nhello world"},
		{"d0", "GET /second HTTP/1.1\r\nHost: x\r\nX-Dist: d0\r\n\r\n"},
		{"d1", "PUT /chunked HTTP/1.1\r\nHost: x\r\nX-Dist: d1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer-Field: v\r\n\r\n"},
		{"d2", "GET /third HTTP/1.1\r\nHost: x\r\nX-Dist: d2\r\n\r\n"},
	}
	var all strings.Builder
	want := map[string]*Usage{}
	for _, r := range requests {
		all.WriteString(r.raw)
		if want[r.dist] == nil {
			want[r.dist] = &Usage{DistributionID: r.dist}
		}
		want[r.dist].Requests++
		want[r.dist].BytesFromViewers += int64(len(r.raw))
	}
	c := dial(t, addr)
	c.send(all.String())
	// The client's reader reads ahead too: a response's bytes are what parsing it consumed.
	consumed := func() int64 { return c.nread - int64(c.br.Buffered()) }
	for _, r := range requests {
		before := consumed()
		method, _, _ := strings.Cut(r.raw, " ")
		c.response(method)
		want[r.dist].BytesToViewers += consumed() - before
		if downloadMethod(method) {
			want[r.dist].BytesDownloaded += consumed() - before
		}
	}
	c.c.Close()
	for _, u := range want {
		waitFor(t, m, *u)
	}
}
