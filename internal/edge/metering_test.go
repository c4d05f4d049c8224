package edge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/meter"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
	"github.com/sailcdn/sailcdn/internal/store"
)

// rawConn is a viewer on a raw TCP connection that counts exactly what it writes and reads.
type rawConn struct {
	t            testing.TB
	c            net.Conn
	br           *bufio.Reader
	wrote, nread int64
}

type counting struct {
	r io.Reader
	n *int64
}

func (c counting) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

func (h *harness) rawDial() *rawConn {
	h.t.Helper()
	return dialRaw(h.t, h.srv.Listener.Addr().String())
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	rc := &rawConn{t: t, c: c}
	rc.br = bufio.NewReader(counting{c, &rc.nread})
	t.Cleanup(func() { c.Close() })
	return rc
}

// roundTrip sends raw on a new connection to addr and reads one response to method.
func roundTrip(t testing.TB, addr, raw, method string) (*http.Response, string) {
	t.Helper()
	c := dialRaw(t, addr)
	c.send(raw)
	res, body := c.readResponse(method)
	c.c.Close()
	return res, string(body)
}

func (rc *rawConn) send(s string) {
	rc.t.Helper()
	n, err := io.WriteString(rc.c, s)
	rc.wrote += int64(n)
	if err != nil {
		rc.t.Fatal(err)
	}
}

// readResponse reads one whole response; the edge sends nothing else on the connection.
func (rc *rawConn) readResponse(method string) (*http.Response, []byte) {
	rc.t.Helper()
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		rc.t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatal(err)
	}
	return resp, b
}

// The meter's counts equal the bytes a raw TCP viewer wrote and read, for misses, hits, range
// responses, uploads, refusals and error statuses; and they reach the store exactly.
func TestMeteringIsByteExact(t *testing.T) {
	h := newHarness(t)
	object := bytes.Repeat([]byte("sailcdn!"), 40_000) // 320 kB, cacheable
	handler := func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/object":
			w.Header().Set("Cache-Control", "max-age=300")
			w.Write(object)
		case "/upload":
			n, _ := io.Copy(io.Discard, r.Body)
			fmt.Fprintf(w, "got %d", n)
		default:
			http.Error(w, "missing", http.StatusNotFound)
		}
	}
	// Each distribution has its own origin, which counts the bytes its socket receives: what the
	// edge sent it, the other half of the distribution's transfer out.
	web := h.origin("web", handler)
	h.origin("web-other", handler)
	d := h.distribution("site", "web", nil)
	h.distribution("other", "web-other", nil) // traffic of another distribution must not leak in

	type req struct {
		raw    string
		method string
		status int
		xcache string
	}
	body := strings.Repeat("u", 70_000)
	requests := []req{
		{"GET /object HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n", "GET", 200, "Miss"},
		{"GET /object HTTP/1.1\r\nHost: site.cdn.test\r\nUser-Agent: raw\r\n\r\n", "GET", 200, "Hit"},
		{"GET /object HTTP/1.1\r\nHost: site.cdn.test\r\nRange: bytes=1000-1999\r\n\r\n", "GET", 206, "Hit"},
		{"HEAD /object HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n", "HEAD", 200, "Hit"},
		{fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: site.cdn.test\r\nContent-Length: %d\r\n\r\n%s", len(body), body), "POST", 200, "Miss"},
		{"GET /nope HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n", "GET", 404, "Error"},
		{"BREW /pot HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n", "BREW", 403, "Error"},
	}
	var want meter.Usage
	want.DistributionID = d.ID
	for i, rq := range requests {
		c := h.rawDial()
		c.send(rq.raw)
		resp, b := c.readResponse(rq.method)
		if resp.StatusCode != rq.status || !strings.HasPrefix(resp.Header.Get("X-Cache"), rq.xcache) {
			t.Fatalf("request %d: %d %q, want %d %s", i, resp.StatusCode, resp.Header.Get("X-Cache"), rq.status, rq.xcache)
		}
		if rq.status == 206 && len(b) != 1000 {
			t.Fatalf("range body %d bytes", len(b))
		}
		c.c.Close()
		want.Requests++
		want.BytesFromViewers += c.wrote
		want.BytesToViewers += c.nread
		if rq.method == "GET" || rq.method == "HEAD" {
			want.BytesDownloaded += c.nread
		}
		if rq.method == "POST" {
			want.BytesUploaded = web.tap.Read.Load() - want.BytesToOrigin
		}
		want.BytesToOrigin = web.tap.Read.Load()
		if rq.status >= 400 {
			want.Status4xx++
		}
		// Traffic for another distribution on its own connection.
		o := h.rawDial()
		o.send("GET /object HTTP/1.1\r\nHost: other.cdn.test\r\n\r\n")
		o.readResponse("GET")
		o.c.Close()
	}
	wait.Until(t, 3*time.Second, "meter matches the viewer's bytes", func() bool {
		return meter.Sum(h.meter.Pending(), d.ID) == want
	})

	if err := h.meter.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	stored := h.storedUsage(d.ID)
	if stored.Requests != want.Requests || stored.BytesToViewers != want.BytesToViewers || stored.BytesDownloaded != want.BytesDownloaded ||
		stored.BytesFromViewers != want.BytesFromViewers || stored.BytesToOrigin != want.BytesToOrigin || stored.BytesUploaded != want.BytesUploaded ||
		stored.Status4xx != want.Status4xx || want.BytesUploaded < int64(len(body)) || want.BytesToOrigin <= want.BytesUploaded {
		t.Fatalf("stored %+v, want %+v", stored, want)
	}
}

// A viewer that hangs up mid-body is charged for what reached the socket: at least what it read,
// less than the whole object, and exactly what the socket carried.
func TestMeteringAbortedDownload(t *testing.T) {
	h := newHarness(t)
	const size = 32 << 20
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	originDone := make(chan struct{})
	h.origin("big", func(w http.ResponseWriter, r *http.Request) {
		defer close(originDone)
		w.Header().Set("Content-Length", fmt.Sprint(size))
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	d := h.distribution("big", "big", nil)
	c := h.rawDial()
	c.send("GET /movie HTTP/1.1\r\nHost: big.cdn.test\r\n\r\n")
	resp, err := http.ReadResponse(c.br, &http.Request{Method: http.MethodGet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(io.Discard, resp.Body, 200_000); err != nil {
		t.Fatal(err)
	}
	c.c.(*net.TCPConn).SetLinger(0) // reset: unread bytes are discarded
	c.c.Close()
	select {
	case <-originDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the origin transfer did not stop after the viewer left")
	}
	wait.Until(t, 5*time.Second, "download attributed", func() bool {
		u := meter.Sum(h.meter.Pending(), d.ID)
		return u.Requests == 1 && u.BytesDownloaded == h.tap.Written.Load() && u.BytesToViewers == u.BytesDownloaded
	})
	u := meter.Sum(h.meter.Pending(), d.ID)
	if u.BytesDownloaded < c.nread || u.BytesDownloaded >= size || u.BytesFromViewers != c.wrote {
		t.Fatalf("counted %+v; the viewer wrote %d and read %d of a %d-byte body", u, c.wrote, c.nread, size)
	}
}

// storedUsage sums a distribution's usage rows in the store over all time.
func (h *harness) storedUsage(id string) store.UsageDelta {
	h.t.Helper()
	rows, err := h.db.QueryUsage(ctx, id, 0, 1<<62)
	if err != nil {
		h.t.Fatal(err)
	}
	sum := store.UsageDelta{DistributionID: id}
	for _, r := range rows {
		sum.Add(r)
	}
	return sum
}

func TestStoreFlusherDropsUnknownDistributions(t *testing.T) {
	h := newHarness(t)
	h.origin("web", cacheable)
	d := h.distribution("site", "web", nil)
	flush := StoreFlusher(h.db, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	b := meter.Batch{ID: "batch-1", At: time.Unix(600, 0), Usage: []meter.Usage{
		{DistributionID: d.ID, Minute: 600, Requests: 2, BytesDownloaded: 10},
		{DistributionID: "no-such-distribution", Minute: 600, Requests: 1},
	}}
	for range 2 { // the second time is a retry of the same batch: it adds nothing
		if err := flush(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := h.db.QueryUsage(ctx, d.ID, 0, 1<<62)
	if err != nil || len(rows) != 1 || rows[0].Requests != 2 || rows[0].BytesDownloaded != 10 {
		t.Fatalf("rows %+v, err %v", rows, err)
	}
}

// A flush whose COMMIT reaches the store but whose acknowledgement is lost is retried by the meter
// and not counted twice: the stored usage equals the bytes on the viewer's socket.
func TestAmbiguousFlushIsNotCountedTwice(t *testing.T) {
	var h *harness
	lost := true
	h = newHarness(t, func(c *Config) {
		flush := StoreFlusher(c.Store, nil)
		m, err := meter.New(meter.Config{Flush: func(ctx context.Context, b meter.Batch) error {
			if err := flush(ctx, b); err != nil {
				return err
			}
			if lost {
				lost = false
				return errors.New("connection reset after COMMIT")
			}
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		c.Meter = m
	})
	h.origin("web", cacheable)
	d := h.distribution("site", "web", nil)
	c := h.rawDial()
	c.send("GET /a HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
	c.readResponse(http.MethodGet)
	c.send("GET /a HTTP/1.1\r\nHost: site.cdn.test\r\nConnection: close\r\n\r\n")
	c.readResponse(http.MethodGet)
	wait.Until(t, 3*time.Second, "both requests counted", func() bool {
		u := meter.Sum(h.meter.Pending(), d.ID)
		return u.Requests == 2 && u.BytesToViewers == c.nread && u.BytesFromViewers == c.wrote
	})
	if err := h.meter.Flush(ctx); err == nil {
		t.Fatal("the first flush should report the lost acknowledgement")
	}
	if err := h.meter.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := h.storedUsage(d.ID)
	if got.Requests != 2 || got.BytesToViewers != c.nread || got.BytesFromViewers != c.wrote {
		t.Fatalf("stored %+v; the viewer wrote %d and read %d bytes in 2 requests", got, c.wrote, c.nread)
	}
}

// One keep-alive connection carrying requests for two distributions in turn: each request's bytes go
// to its own distribution, and the totals equal what the viewer wrote and read.
func TestMeteringAttributesKeepAliveBytesPerRequest(t *testing.T) {
	h := newHarness(t)
	h.origin("web", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		w.Write(bytes.Repeat([]byte(r.URL.Path), 500))
	})
	a := h.distribution("site", "web", nil)
	b := h.distribution("other", "web", nil)
	c := h.rawDial()
	want := map[string]*meter.Usage{a.ID: {DistributionID: a.ID}, b.ID: {DistributionID: b.ID}}
	for i := 0; i < 6; i++ {
		host, id := "site.cdn.test", a.ID
		if i%2 == 1 {
			host, id = "other.cdn.test", b.ID
		}
		wrote, read := c.wrote, c.nread
		c.send(fmt.Sprintf("GET /p%d HTTP/1.1\r\nHost: %s\r\n\r\n", i/2, host))
		resp, _ := c.readResponse("GET")
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d", i, resp.StatusCode)
		}
		want[id].Requests++
		want[id].BytesFromViewers += c.wrote - wrote
		want[id].BytesToViewers += c.nread - read
		want[id].BytesDownloaded += c.nread - read
	}
	c.c.Close()
	wait.Until(t, 3*time.Second, "per-distribution bytes on one connection", func() bool {
		p := h.meter.Pending()
		return viewerSide(meter.Sum(p, a.ID)) == *want[a.ID] && viewerSide(meter.Sum(p, b.ID)) == *want[b.ID]
	})
}

// Pipelined requests of two distributions, sent in one write — fast-path hits, then a hand-off to
// net/http with an upload, then hits again — are each booked to their own distribution, to the
// byte (issue 9, defect 8): what the viewer sent and received for each, and what the upload sent
// to the origin.
func TestMeteringBooksPipelinedRequestsToTheirOwnDistribution(t *testing.T) {
	for _, fast := range []bool{true, false} {
		t.Run(fmt.Sprintf("fast path %v", fast), func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.NoFastPath = !fast })
			web := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
				n, _ := io.Copy(io.Discard, r.Body)
				w.Header().Set("Cache-Control", "max-age=300")
				fmt.Fprintf(w, "%s %s %d", r.Method, r.URL.Path, n)
			})
			a := h.distribution("site", "web", nil)
			b := h.distribution("other", "web", nil)
			addr := h.srv.Listener.Addr().String()
			settle(t, addr, "GET /hit HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
			settle(t, addr, "GET /hit HTTP/1.1\r\nHost: other.cdn.test\r\n\r\n")
			// The warming requests are booked once their handlers end, which may be after their
			// viewers have the responses; and their connections' bytes once they close. Both
			// distributions' origin fetches are over: what the origin reads from now on is the upload's.
			wait.Until(t, 3*time.Second, "the warming requests to be booked", func() bool {
				p := h.meter.Pending()
				return meter.Sum(p, a.ID).Requests == 1 && meter.Sum(p, b.ID).Requests == 1 && h.edge.ConnectionStats().Open == 0 &&
					meter.Sum(p, a.ID).BytesToOrigin+meter.Sum(p, b.ID).BytesToOrigin == web.tap.Read.Load()
			})
			originBefore := web.tap.Read.Load()
			before := map[string]meter.Usage{a.ID: meter.Sum(h.meter.Pending(), a.ID), b.ID: meter.Sum(h.meter.Pending(), b.ID)}

			requests := []struct{ id, raw string }{
				{a.ID, "GET /hit HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n"},
				{b.ID, "GET /hit HTTP/1.1\r\nHost: other.cdn.test\r\nUser-Agent: a-longer-head-for-b\r\n\r\n"},
				{a.ID, "POST /upload HTTP/1.1\r\nHost: site.cdn.test\r\nContent-Length: 13\r\n\r\nthirteen byte"},
				{b.ID, "GET /hit HTTP/1.1\r\nHost: other.cdn.test\r\n\r\n"},
				{a.ID, "GET /hit HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n"},
			}
			var all strings.Builder
			want := map[string]meter.Usage{a.ID: before[a.ID], b.ID: before[b.ID]}
			for _, r := range requests {
				all.WriteString(r.raw)
				u := want[r.id]
				u.Requests++
				u.BytesFromViewers += int64(len(r.raw))
				want[r.id] = u
			}
			c := h.rawDial()
			c.send(all.String())
			consumed := func() int64 { return c.nread - int64(c.br.Buffered()) }
			for _, r := range requests {
				start := consumed()
				method, _, _ := strings.Cut(r.raw, " ")
				if resp, _ := c.readResponse(method); resp.StatusCode != 200 {
					t.Fatalf("%q: %d", r.raw, resp.StatusCode)
				}
				u := want[r.id]
				u.BytesToViewers += consumed() - start
				if method == http.MethodGet {
					u.BytesDownloaded += consumed() - start
				}
				want[r.id] = u
			}
			c.c.Close()
			wait.For(t, 3*time.Second, "each distribution's bytes", func() error {
				// The hits never reach the origin; the upload is a's, to the origin and as uploaded.
				toOrigin := web.tap.Read.Load() - originBefore
				wa := want[a.ID]
				wa.BytesToOrigin += toOrigin
				wa.BytesUploaded += toOrigin
				for id, w := range map[string]meter.Usage{a.ID: wa, b.ID: want[b.ID]} {
					if got := meter.Sum(h.meter.Pending(), id); got != w {
						return fmt.Errorf("%s: got %+v, want %+v", id, got, w)
					}
				}
				if toOrigin < 13 {
					return fmt.Errorf("the origin read %d bytes of the upload", toOrigin)
				}
				return nil
			})
		})
	}
}

// viewerSide is u without the bytes sent to origins, for tests about the viewers' connections.
func viewerSide(u meter.Usage) meter.Usage {
	u.BytesToOrigin, u.BytesUploaded = 0, 0
	return u
}
