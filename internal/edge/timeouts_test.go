package edge

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// closedWithin reports whether the edge closes c (a read returns EOF or an error other than our
// own deadline) within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// Issue 9, defect 7 (the edge): an idle keep-alive connection is closed after the idle timeout,
// on the fast path and through net/http.
func TestIdleViewerConnectionsAreClosed(t *testing.T) {
	for _, fast := range []bool{true, false} {
		t.Run(fmt.Sprintf("fast path %v", fast), func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.NoFastPath = !fast; c.Viewers.IdleTimeout = 300 * time.Millisecond })
			h.origin("web", cacheable)
			h.distribution("site", "web", nil)
			settle(t, h.srv.Listener.Addr().String(), "GET /a HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
			c := h.rawDial()
			c.send("GET /a HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
			if resp, _ := c.readResponse("GET"); resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			start := time.Now()
			if !closedWithin(c.c, 5*time.Second) {
				t.Fatalf("an idle connection was still open after 5 s")
			}
			if took := time.Since(start); took < 250*time.Millisecond {
				t.Fatalf("closed after %s, before the idle timeout", took)
			}
		})
	}
}

// A request body that stops arriving is cut off after the viewer read timeout: the viewer gets
// 408 and its connection is closed; the origin's connection is not held.
func TestStalledRequestBodyIsCutOff(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Viewers.ReadTimeout = 300 * time.Millisecond })
	h.origin("web", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "uploaded") })
	h.distribution("site", "web", nil)
	c := h.rawDial()
	c.send("POST /upload HTTP/1.1\r\nHost: site.cdn.test\r\nContent-Length: 100\r\n\r\nonly ten b")
	start := time.Now()
	resp, body := c.readResponse("POST")
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("status %d %q after %s, want 408", resp.StatusCode, body, time.Since(start))
	}
	if took := time.Since(start); took > 3*time.Second || took < 250*time.Millisecond {
		t.Fatalf("answered after %s, want about the 300 ms read timeout", took)
	}
	if !closedWithin(c.c, 3*time.Second) {
		t.Fatalf("the connection stayed open")
	}
}

// Connections are bounded in total and per client address: beyond the bound a new connection is
// closed at once, the others keep working, and a slot freed is usable again.
func TestViewerConnectionsAreBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
	}{
		{"total", func(c *Config) { c.Viewers.MaxConns = 3 }},
		{"per client", func(c *Config) { c.Viewers.MaxConnsPerClient = 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, tc.mod)
			h.origin("web", cacheable)
			h.distribution("site", "web", nil)
			var open []*rawConn
			for range 3 {
				c := h.rawDial()
				c.send("GET /a HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
				if resp, _ := c.readResponse("GET"); resp.StatusCode != 200 {
					t.Fatalf("status %d", resp.StatusCode)
				}
				open = append(open, c)
			}
			extra := h.rawDial()
			extra.send("GET /a HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
			if !closedWithin(extra.c, 3*time.Second) {
				t.Fatalf("a fourth connection was served")
			}
			for _, c := range open {
				c.send("GET /a HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
				if resp, _ := c.readResponse("GET"); resp.StatusCode != 200 {
					t.Fatalf("an admitted connection: status %d", resp.StatusCode)
				}
			}
			open[0].c.Close()
			wait.For(t, 3*time.Second, "a freed slot to admit a new connection", func() error {
				c := h.rawDial()
				defer c.c.Close()
				_ = c.c.SetDeadline(time.Now().Add(time.Second))
				if _, err := io.WriteString(c.c, "GET /a HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n"); err != nil {
					return err
				}
				resp, err := http.ReadResponse(c.br, nil)
				if err != nil {
					return err
				}
				resp.Body.Close()
				return nil
			})
			if got := h.edge.ConnectionStats().Refused; got < 1 {
				t.Fatalf("refused connections counted: %d", got)
			}
		})
	}
}

// A slow upload is not the origin's silence: responseTimeout counts from the last byte of the body
// sent to the origin, so an upload that takes longer than it (but never stalls for the viewer read
// timeout) succeeds. Before, the origin's timer ran from the start of the exchange and cut any
// upload longer than responseTimeout with 504.
func TestSlowUploadOutlastsTheOriginTimeout(t *testing.T) {
	h := newHarness(t)
	o := h.origin("web", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "uploaded") })
	h.distribution("site", "web", func(c *lightsail.LightsailDistribution) { c.Origin.ResponseTimeout = ptr[int64](1) })
	c := h.rawDial()
	c.send("POST /upload HTTP/1.1\r\nHost: site.cdn.test\r\nContent-Length: 50\r\n\r\n")
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for range 5 {
		<-tick.C
		c.send("0123456789")
	}
	if resp, body := c.readResponse("POST"); resp.StatusCode != 200 || string(body) != "uploaded" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	if _, got := o.lastRequest(); len(got) != 50 {
		t.Fatalf("the origin received %d body bytes", len(got))
	}
}

// The plain and TLS ports share the connection bounds: a connection on the TLS port takes its slot
// as soon as it is accepted, before its handshake.
func TestTLSPortSharesTheConnectionBounds(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Viewers.MaxConnsPerClient = 2 })
	h.origin("web", cacheable)
	h.distribution("site", "web", nil)
	srv := h.edge.NewTLSServer()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tl, err := h.edge.TLSListener(raw, srv)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(tl)
	t.Cleanup(func() { srv.Close() })

	plain := h.rawDial()
	plain.send("GET /a HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
	plain.readResponse("GET")
	tlsConn, err := net.Dial("tcp", raw.Addr().String()) // never handshakes
	if err != nil {
		t.Fatal(err)
	}
	wait.Until(t, 3*time.Second, "the TLS connection to take a slot", func() bool { return h.edge.ConnectionStats().Open == 2 })
	third := h.rawDial()
	third.send("GET /a HTTP/1.1\r\nHost: site.cdn.test\r\n\r\n")
	if !closedWithin(third.c, 3*time.Second) {
		t.Fatalf("a third connection of the client was served")
	}
	tlsConn.Close()
	wait.Until(t, 3*time.Second, "the TLS connection's slot to be given back", func() bool { return h.edge.ConnectionStats().Open == 1 })
}
