// Package fastpath serves the simplest HTTP/1.1 requests — bodiless GET and HEAD, on a
// keep-alive connection, that a Handler can answer at once — without net/http's per-request
// machinery, and hands every other connection to a net/http server unchanged.
//
// It sits between a listener and an http.Server: NewListener returns a net.Listener for the
// server to Serve. Each accepted connection is read here first. While its requests are ones
// parse accepts and the Handler answers (the edge: cache hits), they are served here, one
// write per response. At the first request that is anything else the connection, with that
// request's bytes still unread, is returned from Accept to the http.Server, which serves it from
// then on as if it had accepted it itself: its parser, limits, 400s, h2c and body handling apply.
// Nothing is ever half-parsed by both.
//
// Why: on 1 KiB cache hits net/http's request parsing and response header writing cost about a
// fifth of the edge's CPU, and a bare net/http server reaches only ~0.9× nginx (docs/benchmarks.md).
package fastpath

import (
	"context"
	"errors"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Handler answers the requests the fast path accepts.
type Handler interface {
	// ServeFast either answers r through w and reports true, or reports false having neither
	// used w nor changed anything, and r goes to the http.Server with its connection. r is a
	// bodiless GET or HEAD; its context carries what the http.Server's would (ServerContextKey,
	// LocalAddrContextKey, and ConnContext's values). w supports no Flusher, Hijacker or 1xx
	// beyond what net/http's would send for the same calls.
	ServeFast(w http.ResponseWriter, r *http.Request) bool
}

// Stats counts what the fast path did.
type Stats struct {
	Served    int64 // requests answered by the Handler
	HandedOff int64 // connections handed to the http.Server
}

// Config configures a Listener.
type Config struct {
	// Server serves the connections handed off, through the Listener; required. Its
	// ReadHeaderTimeout, IdleTimeout (or ReadTimeout), WriteTimeout (a response gets between half
	// of it and all of it), BaseContext, ConnContext and ErrorLog apply to the fast path as well.
	Server *http.Server
	// Handler answers fast-path requests; required.
	Handler Handler
	// ConnState, when set, is told the states of a connection while the fast path serves it:
	// New, Active, Idle after each response, Closed unless handed off. Server.ConnState is not
	// called for them: its owner may track the connections it accepted (httptest.Server does)
	// and would then see a handed-off connection arrive twice.
	ConnState func(net.Conn, http.ConnState)
}

// Listener is the net.Listener an http.Server serves; see the package comment.
type Listener struct {
	inner     net.Listener
	srv       *http.Server
	handler   Handler
	connState func(net.Conn, http.ConnState)

	startOnce sync.Once
	handoff   chan net.Conn
	done      chan struct{} // closed by Close
	closeOnce sync.Once
	acceptErr error         // set before acceptDone is closed
	acceptEnd chan struct{} // closed when the accept loop ends

	mu    sync.Mutex
	conns map[*conn]struct{} // connections being served here (not handed off); guarded by mu
	wg    sync.WaitGroup     // one per entry in conns

	served, handedOff atomic.Int64
}

// NewListener returns the listener cfg.Server must Serve: connections accepted from inner are
// served by cfg.Handler while it can, then by the server. Accepting starts with the first Accept
// call.
func NewListener(inner net.Listener, cfg Config) *Listener {
	if cfg.Server == nil || cfg.Handler == nil {
		panic("fastpath: Config.Server and Config.Handler are required")
	}
	return &Listener{
		inner: inner, srv: cfg.Server, handler: cfg.Handler, connState: cfg.ConnState,
		handoff:   make(chan net.Conn),
		done:      make(chan struct{}),
		acceptEnd: make(chan struct{}),
		conns:     make(map[*conn]struct{}),
	}
}

// Accept returns the next connection the fast path hands over.
func (l *Listener) Accept() (net.Conn, error) {
	l.startOnce.Do(func() { go l.acceptLoop() })
	select {
	case c := <-l.handoff:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	case <-l.acceptEnd:
		return nil, l.acceptErr
	}
}

// Addr is the inner listener's address.
func (l *Listener) Addr() net.Addr { return l.inner.Addr() }

// Close stops accepting, closes the connections that are idle here, and lets those serving a
// request finish it and close. Shutdown waits for them.
func (l *Listener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.inner.Close()
		l.mu.Lock()
		for c := range l.conns {
			c.closeIfIdle()
		}
		l.mu.Unlock()
	})
	return err
}

// Shutdown closes the listener and waits until every connection served here has ended, or ctx
// ends; then it closes those left and returns ctx's error. (Connections handed off are the
// http.Server's, and its Shutdown's.)
func (l *Listener) Shutdown(ctx context.Context) error {
	_ = l.Close()
	idle := make(chan struct{})
	go func() { l.wg.Wait(); close(idle) }()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		l.mu.Lock()
		for c := range l.conns {
			c.rwc.Close()
		}
		l.mu.Unlock()
		<-idle
		return ctx.Err()
	}
}

// Stats returns counters since the listener was made.
func (l *Listener) Stats() Stats {
	return Stats{Served: l.served.Load(), HandedOff: l.handedOff.Load()}
}

func (l *Listener) acceptLoop() {
	defer close(l.acceptEnd)
	var delay time.Duration
	for {
		rwc, err := l.inner.Accept()
		if err != nil {
			select {
			case <-l.done:
				l.acceptErr = net.ErrClosed
				return
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of descriptors and the like: back off as net/http does, then retry.
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				time.Sleep(delay)
				continue
			}
			l.acceptErr = err
			return
		}
		delay = 0
		c := &conn{l: l, rwc: rwc}
		if !l.track(c) {
			rwc.Close()
			continue
		}
		go c.serve()
	}
}

func (l *Listener) track(c *conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.done:
		return false
	default:
	}
	l.conns[c] = struct{}{}
	l.wg.Add(1)
	return true
}

func (l *Listener) untrack(c *conn) {
	l.mu.Lock()
	delete(l.conns, c)
	l.mu.Unlock()
	l.wg.Done()
}

func (l *Listener) setState(c net.Conn, s http.ConnState) {
	if l.connState != nil {
		l.connState(c, s)
	}
}

// conn is one connection while the fast path serves it.
type conn struct {
	l   *Listener
	rwc net.Conn

	// state is connIdle while waiting for a request's first byte, connActive from then until the
	// response is written, connClosed once Close chose to close it: the swaps decide races
	// between Close and a request that arrives at the same moment.
	state atomic.Int32
}

const (
	connIdle int32 = iota
	connActive
	connClosed
)

func (c *conn) closeIfIdle() {
	if c.state.CompareAndSwap(connIdle, connClosed) {
		c.rwc.Close()
	}
}

func (c *conn) serve() {
	l := c.l
	handedOff := false
	defer func() {
		if err := recover(); err != nil && err != http.ErrAbortHandler {
			buf := make([]byte, 64<<10)
			buf = buf[:runtime.Stack(buf, false)]
			l.logf("fastpath: panic serving %v: %v\n%s", c.rwc.RemoteAddr(), err, buf)
		}
		if !handedOff {
			c.rwc.Close()
			l.setState(c.rwc, http.StateClosed)
		}
		l.untrack(c)
	}()
	l.setState(c.rwc, http.StateNew)

	srv := l.srv
	ctx := context.Background()
	if srv.BaseContext != nil {
		ctx = srv.BaseContext(l)
	}
	ctx = context.WithValue(ctx, http.ServerContextKey, srv)
	ctx = context.WithValue(ctx, http.LocalAddrContextKey, c.rwc.LocalAddr())
	if srv.ConnContext != nil {
		ctx = srv.ConnContext(ctx, c.rwc)
	}
	tmpl := (&http.Request{}).WithContext(ctx)
	remote := c.rwc.RemoteAddr().String()
	w := &response{conn: c.rwc, header: make(http.Header, 16), sent: make(fields, 0, 16),
		out: make([]byte, 0, 4096), logf: l.logf, closing: l.closing,
		// Counted before the first byte goes out: once written, the viewer may look at the counters.
		answering: func() { l.served.Add(1) }}

	// Timeouts as net/http applies them: the header timeout runs from the connection's start for
	// its first request and from a request's first byte for later ones, once per head (a viewer
	// trickling bytes does not extend it); the idle timeout runs between requests.
	headerTimeout, idleTimeout := srv.ReadHeaderTimeout, srv.IdleTimeout
	if headerTimeout <= 0 {
		headerTimeout = srv.ReadTimeout
	}
	if idleTimeout <= 0 {
		idleTimeout = srv.ReadTimeout
	}
	deadline := func(d time.Duration) time.Time {
		if d <= 0 {
			return time.Time{}
		}
		return time.Now().Add(d)
	}

	buf := make([]byte, 0, 4096)
	var h head
	var writeDeadline time.Time // the connection's write deadline, when WriteTimeout is set
	for first := true; ; first = false {
		if first {
			_ = c.rwc.SetReadDeadline(deadline(headerTimeout))
		} else if len(buf) == 0 {
			_ = c.rwc.SetReadDeadline(deadline(idleTimeout))
		}
		if len(buf) == 0 && !c.read(&buf) {
			return
		}
		// A request has begun (read now, or pipelined behind the last one).
		if !c.state.CompareAndSwap(connIdle, connActive) {
			return // Close closed the connection as idle meanwhile
		}
		l.setState(c.rwc, http.StateActive)
		if !first {
			_ = c.rwc.SetReadDeadline(deadline(headerTimeout))
		}
		// Read until buf holds a complete head, or something the fast path does not take.
		end, v := headEnd(buf, 0)
		for v == needMore {
			scanned := len(buf)
			if len(buf) == cap(buf) {
				buf = append(buf, 0)[:len(buf)] // grow; headEnd bounds the head at maxHead
			}
			if !c.read(&buf) {
				return
			}
			end, v = headEnd(buf, scanned)
		}
		if v == fit {
			v = parseHead(buf[:end], &h)
		}
		if v == unfit {
			handedOff = c.handOff(buf)
			return
		}
		r, ok := h.request(tmpl, remote)
		if !ok {
			handedOff = c.handOff(buf)
			return
		}
		if srv.WriteTimeout > 0 {
			// The response's writes get between WriteTimeout/2 and WriteTimeout (net/http: exactly
			// WriteTimeout): moving the deadline only once half of it has passed spares a timer
			// update on nearly every hit of a busy connection.
			if now := time.Now(); writeDeadline.Sub(now) < srv.WriteTimeout/2 {
				writeDeadline = now.Add(srv.WriteTimeout)
				_ = c.rwc.SetWriteDeadline(writeDeadline)
			}
		}
		w.reset(r)
		if !l.handler.ServeFast(w, r) {
			if w.touched {
				l.logf("%v", errHandOffAfterWrite)
				return
			}
			handedOff = c.handOff(buf)
			return
		}
		err := w.finish()
		l.setState(c.rwc, http.StateIdle)
		if err != nil || w.closeAfter {
			return
		}
		w.idle()
		rest := buf[h.n:]
		if cap(buf) > keepBuffer && len(rest) <= 4096 {
			buf = append(make([]byte, 0, 4096), rest...)
		} else {
			buf = buf[:copy(buf, rest)]
		}
		if !c.state.CompareAndSwap(connActive, connIdle) || l.closing() {
			return
		}
	}
}

// read reads into buf's spare capacity under the deadline already set. It reports false when
// the connection is done (EOF, error, timeout, closed by Close).
func (c *conn) read(buf *[]byte) bool {
	n, err := c.rwc.Read((*buf)[len(*buf):cap(*buf)])
	*buf = (*buf)[:len(*buf)+n]
	return err == nil || n > 0
}

func (l *Listener) closing() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// errHandOffAfterWrite is logged when a Handler declined a request after writing to it.
var errHandOffAfterWrite = errors.New("fastpath: handler declined a request after using its ResponseWriter")

// handOff gives the connection to the http.Server with pending (unread by it) replayed first.
func (c *conn) handOff(pending []byte) bool {
	_ = c.rwc.SetDeadline(time.Time{}) // net/http sets its own
	rc := &replayConn{Conn: c.rwc, pending: pending}
	c.l.handedOff.Add(1) // before the send: once sent, the connection may be served at once
	select {
	case c.l.handoff <- rc:
		return true
	case <-c.l.done:
		c.l.handedOff.Add(-1)
		return false
	}
}

func (l *Listener) logf(format string, args ...any) {
	if l.srv.ErrorLog != nil {
		l.srv.ErrorLog.Printf(format, args...)
	}
}

// replayConn is a handed-off connection: reads return the bytes the fast path read but did not
// serve, then continue on the connection.
type replayConn struct {
	net.Conn
	pending []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// Unwrap returns the connection underneath (the meter finds its own connection this way).
func (c *replayConn) Unwrap() net.Conn { return c.Conn }

var _ net.Listener = (*Listener)(nil)
