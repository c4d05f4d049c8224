package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/httpcache"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// dialTiny connects to addr with a 4 KiB receive buffer, so that a viewer that does not read
// stalls the server's writes after a few kilobytes.
func dialTiny(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// A viewer that stops reading is cut off after the viewer write timeout, and only that viewer: the
// others get the object meanwhile, from the same single origin fetch (issue 9, defect 1). Before,
// the stalled viewer led the fetch, every other viewer waited on it, and nothing ever cut it off.
func TestStalledViewerIsCutOffAloneAfterTheWriteTimeout(t *testing.T) {
	for _, fast := range []bool{true, false} {
		t.Run(fmt.Sprintf("fast path %v", fast), func(t *testing.T) {
			const size = 6 << 20
			var log syncBuffer
			h := newHarness(t, func(c *Config) {
				c.NoFastPath = !fast
				c.Viewers.WriteTimeout = time.Second
				c.AccessLog = &log
				c.Cache = httpcache.New(httpcache.Config{MaxBufferedBody: 8 << 20})
			})
			body := strings.Repeat("0123456789abcdef", size/16)
			o := h.origin("web", func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=600")
				w.Header().Set("Content-Length", fmt.Sprint(size))
				io.WriteString(w, body)
			})
			h.distribution("site", "web", nil)
			addr := h.srv.Listener.Addr().String()

			stalled := dialTiny(t, addr)
			asked := time.Now()
			if _, err := io.WriteString(stalled, "GET /big HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			wait.Until(t, 2*time.Second, "the stalled viewer's request to reach the origin", func() bool { return o.hits.Load() == 1 })

			start := time.Now()
			if r := h.get("site.cdn.test", "/big"); r.status != 200 || r.body != body {
				t.Fatalf("second viewer: %d, %d bytes", r.status, len(r.body))
			}
			// Before issue 9 the second viewer waited as long as the stalled one stalled: for ever.
			// The bound is loose because a 6 MiB transfer under -race took 4.7 s at a load average
			// of ~20 on 2 cores (it was 3 s); the ordering itself is pinned without timing by
			// httpcache's TestStalledViewerDoesNotStallTheOthers.
			if took := time.Since(start); took > 15*time.Second {
				t.Fatalf("the second viewer waited %s for the stalled one", took)
			}
			// The stalled viewer's request ends (its line is logged) without it reading anything.
			wait.Until(t, 5*time.Second, "the stalled viewer to be cut off", func() bool {
				return strings.Count(log.String(), "\n") >= 2
			})
			// Every write has at least half of the write timeout (limits.go: the deadline moves once
			// half of it has passed), so the cut-off cannot come sooner than that after the request;
			// how much sooner than a full timeout depends on when the stalled viewer's last write
			// went through, which the test cannot see.
			if took := time.Since(asked); took < 500*time.Millisecond {
				t.Fatalf("cut off %s after its request, before half of the 1 s write timeout", took)
			}
			_ = stalled.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(stalled), nil)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			if err == nil || n >= size {
				t.Fatalf("the stalled viewer read %d bytes, err %v: want its connection cut short", n, err)
			}
			if third := h.get("site.cdn.test", "/big"); third.xcache() != "Hit" || o.hits.Load() != 1 {
				t.Fatalf("third viewer: %s, origin hits %d; want the stored object", third.xcache(), o.hits.Load())
			}
		})
	}
}

// The viewer write timeout bounds writes to the viewer, never the wait for the origin: a response
// that takes longer than it to arrive is still delivered, over HTTP/1.1 and HTTP/2 alike (the
// HTTP/2 server resets a stream whose write deadline passes even while nothing is written).
func TestSlowOriginIsNotCutByTheViewerWriteTimeout(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Viewers.WriteTimeout = 300 * time.Millisecond })
	h.origin("web", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(800 * time.Millisecond):
		case <-r.Context().Done():
		}
		io.WriteString(w, "late but whole")
	})
	h.distribution("site", "web", nil)
	for _, c := range []struct {
		name   string
		client *http.Client
	}{{"HTTP/1.1", h.client}, {"h2c", h2cClient()}} {
		req, _ := http.NewRequest(http.MethodGet, h.srv.URL+"/slow-"+c.name, nil)
		req.Host = "site.cdn.test"
		resp, err := c.client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || string(body) != "late but whole" {
			t.Fatalf("%s: %q, %v", c.name, body, err)
		}
	}
}
