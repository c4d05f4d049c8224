package meter

import (
	"context"
	"net"
	"net/http/httptrace"
	"sync/atomic"
)

// DialFunc dials a connection, as http.Transport.DialContext does.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Origin returns dial wrapped so that every connection it makes counts the bytes written to it —
// what the origin's socket receives — for the exchange that holds the connection (see
// OriginContext). Use it as the origin transport's DialContext (with TLS left to the transport, so
// that the handshake's bytes are counted too). On a nil Meter it returns dial unchanged.
func (m *Meter) Origin(dial DialFunc) DialFunc {
	if m == nil {
		return dial
	}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &originConn{Conn: c, m: m}, nil
	}
}

// OriginContext returns ctx carrying the trace through which an exchange with an origin, for
// distributionID with the given method, claims the connection the transport hands it: every byte
// written to that connection from then on is counted for the distribution (and as uploaded for POST
// and PUT), until another exchange claims it. net/http reports GotConn before it writes the request,
// and an HTTP/1.1 connection goes back to the pool only once the request is written, so each byte
// goes to the exchange that wrote it. On a nil Meter it returns ctx.
func (m *Meter) OriginContext(ctx context.Context, distributionID, method string) context.Context {
	if m == nil {
		return ctx
	}
	h := &originHolder{dist: distributionID, upload: uploadMethod(method)}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) {
		if c := asOriginConn(info.Conn); c != nil {
			c.claim(h)
		}
	}})
}

// originHolder is the exchange a connection's bytes are counted for.
type originHolder struct {
	dist   string
	upload bool // POST or PUT: BytesUploaded
}

func (h *originHolder) delta(n int64) delta {
	d := delta{toOrigin: n}
	if h.upload {
		d.uploaded = n
	}
	return d
}

// originConn counts the bytes written to an origin connection. Like conn it implements no
// io.ReaderFrom or writev hook, so every byte passes through Write.
type originConn struct {
	net.Conn
	m *Meter
	// holder is the exchange holding the connection (nil until the first claims it); it stays after
	// the exchange, so the bytes a connection writes on its way out (a TLS close_notify) are the last
	// holder's.
	holder atomic.Pointer[originHolder]
	// unclaimed counts bytes written before any exchange held the connection: the TLS handshake,
	// which the transport runs before it hands the connection over. The first holder gets them.
	unclaimed atomic.Int64
}

func (c *originConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if n > 0 {
		if h := c.holder.Load(); h != nil {
			c.m.add(h.dist, h.delta(int64(n)))
		} else {
			c.unclaimed.Add(int64(n))
		}
	}
	return n, err
}

func (c *originConn) claim(h *originHolder) {
	c.holder.Store(h)
	if n := c.unclaimed.Swap(0); n > 0 {
		c.m.add(h.dist, h.delta(n))
	}
}

// Close counts the bytes of a connection no exchange ever held (dialed, then closed idle) as
// unattributed.
func (c *originConn) Close() error {
	err := c.Conn.Close()
	if n := c.unclaimed.Swap(0); n > 0 {
		c.m.prom.unattributedToOrigin(n)
	}
	return err
}

// Unwrap gives access to the underlying connection.
func (c *originConn) Unwrap() net.Conn { return c.Conn }

// asOriginConn finds the counting connection in c, which the transport may have wrapped in TLS
// (tls.Conn.NetConn) or other layers with Unwrap.
func asOriginConn(c net.Conn) *originConn {
	for c != nil {
		switch v := c.(type) {
		case *originConn:
			return v
		case interface{ NetConn() net.Conn }:
			c = v.NetConn()
		case interface{ Unwrap() net.Conn }:
			c = v.Unwrap()
		default:
			return nil
		}
	}
	return nil
}
