package meter

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// Listener wraps ln so that every accepted connection counts the bytes read from and written to
// it. Use it together with Instrument on the http.Server that serves the listener. On a nil Meter
// it returns ln unchanged.
func (m *Meter) Listener(ln net.Listener) net.Listener {
	if m == nil {
		return ln
	}
	return &listener{Listener: ln, m: m}
}

type listener struct {
	net.Listener
	m *Meter
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	mc := &conn{Conn: c, m: l.m, fr: newRequestFramer(), pending: []int64{0}}
	l.m.conns.Store(mc, struct{}{})
	return mc, nil
}

// conn counts a connection's bytes until they are attributed to a distribution. It deliberately
// does not implement io.ReaderFrom or net.Buffers' writev hook: net/http then writes every byte
// through Write (no sendfile), so every byte is seen.
type conn struct {
	net.Conn
	m *Meter

	// Bytes written since the last attribution. Only the connection's own goroutines add;
	// settle swaps them out.
	written atomic.Int64

	mu sync.Mutex // guards everything below; serialises attributions
	// fr tells which request the bytes read belong to; pending holds, per request, the bytes
	// read and not attributed yet: [0] for the request being served, then one per request
	// already (partly) read behind it — the server's read-ahead, or pipelined requests.
	fr       requestFramer
	pending  []int64
	owner    string // distribution of the request being served; "" between requests
	download bool   // the request being served is a GET, HEAD or OPTIONS (BytesDownloaded)
	hijacked bool   // handed to another protocol (h2c): its bytes are never attributed here
}

func (c *conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		c.frameLocked(p[:n])
		c.mu.Unlock()
	}
	return n, err
}

// frameLocked books the bytes b just read to the requests they belong to.
func (c *conn) frameLocked(b []byte) {
	for len(b) > 0 {
		n, complete := c.fr.advance(b)
		c.pending[len(c.pending)-1] += int64(n)
		if complete {
			c.pending = append(c.pending, 0)
		}
		b = b[n:]
	}
}

func (c *conn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.written.Add(int64(n))
	}
	return n, err
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.m.conns.Delete(c)
	c.m.settle(c, settleClose)
	return err
}

// Unwrap gives access to the underlying connection (for example to set TCP options).
func (c *conn) Unwrap() net.Conn { return c.Conn }

type connKey struct{}

// Instrument installs the hooks that attribute connection bytes to distributions on srv, keeping
// any ConnContext and ConnState hooks already there (httptest.Server's, for example). Call it
// before the server starts. On a nil Meter it does nothing.
func (m *Meter) Instrument(srv *http.Server) {
	if m == nil {
		return
	}
	prevCtx, prevState := srv.ConnContext, srv.ConnState
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if prevCtx != nil {
			ctx = prevCtx(ctx, c)
		}
		if mc := asConn(c); mc != nil {
			ctx = context.WithValue(ctx, connKey{}, mc)
		}
		return ctx
	}
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		m.ConnState(c, s)
		if prevState != nil {
			prevState(c, s)
		}
	}
}

// ConnState is the connection-state hook Instrument installs, for servers other than
// http.Server that serve the meter's connections (the edge's fast path): Idle and Closed end the
// current request's attribution, Hijacked ends the connection's. c may wrap a metered
// connection (see asConn). On a nil Meter it does nothing.
func (m *Meter) ConnState(c net.Conn, s http.ConnState) {
	if m == nil {
		return
	}
	mc := asConn(c)
	if mc == nil {
		return
	}
	switch s {
	case http.StateIdle:
		// The response is flushed and the unread body drained; what the connection carries next
		// belongs to the next request (the bytes of it already read are waiting in pending).
		m.settle(mc, settleRelease)
	case http.StateClosed:
		m.settle(mc, settleClose)
	case http.StateHijacked:
		m.settle(mc, settleHijack)
	}
}

// asConn finds the metered connection in c, which may wrap it in layers that each have an
// Unwrap() net.Conn method (the fast path's hand-off wrapper does).
func asConn(c net.Conn) *conn {
	for c != nil {
		if mc, ok := c.(*conn); ok {
			return mc
		}
		u, ok := c.(interface{ Unwrap() net.Conn })
		if !ok {
			return nil
		}
		c = u.Unwrap()
	}
	return nil
}

type settleMode uint8

const (
	settleProgress settleMode = iota // attribute to the current owner, keep it
	settleRelease                    // attribute to the current owner, then move on to the next request
	settleClose                      // attribute to the current owner; requests read but never served are nobody's
	settleHijack                     // the connection leaves HTTP/1: nothing more is attributed
)

// claim makes dist the owner of c: the bytes read so far (this request's line and header section)
// and every byte until the connection is released are counted for dist; download says whether the
// request's method makes its answer count as downloaded.
func (m *Meter) claim(c *conn, dist string, download bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.hijacked {
		return
	}
	c.owner, c.download = dist, download
	m.attributeLocked(c)
}

// settle attributes the uncounted bytes of the request being served to its owner; without an
// owner they are counted as unattributed (an unknown host, a request net/http refused), except
// while the request is still unclaimed (progress sweeps): they wait for its claim. Bytes already
// read of the requests behind it stay theirs.
func (m *Meter) settle(c *conn, mode settleMode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.owner != "":
		m.attributeLocked(c)
	case mode != settleProgress || c.hijacked:
		m.prom.unattributed(c.pending[0], c.written.Swap(0))
		c.pending[0] = 0
	}
	switch mode {
	case settleRelease:
		c.owner = ""
		if len(c.pending) > 1 {
			// Shift rather than reslice, so that the array is reused by the next requests.
			c.pending = c.pending[:copy(c.pending, c.pending[1:])]
		}
	case settleClose, settleHijack:
		// Requests read but never served, and whatever a hijacked connection reads from now on.
		for _, n := range c.pending[1:] {
			m.prom.unattributed(n, 0)
		}
		c.owner, c.pending = "", c.pending[:1]
		if mode == settleHijack {
			c.hijacked = true
			c.fr.state = framerOpaque
		}
	}
}

func (m *Meter) attributeLocked(c *conn) {
	d := delta{up: c.pending[0], down: c.written.Swap(0)}
	c.pending[0] = 0
	if c.download {
		d.downloaded = d.down
	}
	m.add(c.owner, d)
}

// sweep attributes the bytes of every connection that is serving a request, so that a long
// transfer is counted while it runs, in the minutes it runs.
func (m *Meter) sweep() {
	m.conns.Range(func(k, _ any) bool {
		m.settle(k.(*conn), settleProgress)
		return true
	})
}

func connFrom(ctx context.Context) *conn {
	c, _ := ctx.Value(connKey{}).(*conn)
	return c
}
