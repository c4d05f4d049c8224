package app

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/sailcdn/sailcdn/internal/awsjson"
)

// ServerLimits bound one HTTP server's connections, so that slow, idle or numerous clients cannot hold
// the process's descriptors and goroutines. Zero fields take the defaults of the port (DefaultAPILimits,
// adminLimits).
type ServerLimits struct {
	// ReadHeaderTimeout is how long a client may take to send a request's line and header fields
	// (--api-read-header-timeout). Default 10s.
	ReadHeaderTimeout time.Duration
	// ReadTimeout is how long a client may take to send a whole request, body included
	// (--api-read-timeout). Default 60s: the API takes bodies up to 1 MiB, which this allows at
	// about 17 KiB/s; a body trickled slower is cut off.
	ReadTimeout time.Duration
	// WriteTimeout is how long a request may take from the end of its header to the end of its
	// response (--api-write-timeout). Default 60s.
	WriteTimeout time.Duration
	// IdleTimeout is how long a keep-alive connection may wait for its next request
	// (--api-idle-timeout). Default 2m: longer than the AWS SDKs' idle timeout (aws-sdk-go-v2 closes
	// idle connections after 90 s), so clients close first and never send on a connection the server
	// is closing.
	IdleTimeout time.Duration
	// MaxConns is how many connections may be open at once (--api-max-conns). Default 1024. A
	// connection beyond that is answered 503 ServiceUnavailable with Retry-After and closed at once,
	// so a client that opens too many learns why instead of waiting in the kernel's backlog, and
	// every SDK retries it with backoff.
	MaxConns int
}

// DefaultAPILimits are the API port's limits (the flags' defaults).
var DefaultAPILimits = ServerLimits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       60 * time.Second,
	WriteTimeout:      60 * time.Second,
	IdleTimeout:       2 * time.Minute,
	MaxConns:          1024,
}

// adminLimits are the limits of an edge node's admin port, which serves health checks and
// Prometheus scrapes: few clients, small requests.
var adminLimits = ServerLimits{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       10 * time.Second,
	WriteTimeout:      30 * time.Second,
	IdleTimeout:       2 * time.Minute,
	MaxConns:          64,
}

func (l ServerLimits) withDefaults(d ServerLimits) ServerLimits {
	if l.ReadHeaderTimeout == 0 {
		l.ReadHeaderTimeout = d.ReadHeaderTimeout
	}
	if l.ReadTimeout == 0 {
		l.ReadTimeout = d.ReadTimeout
	}
	if l.WriteTimeout == 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	if l.IdleTimeout == 0 {
		l.IdleTimeout = d.IdleTimeout
	}
	if l.MaxConns == 0 {
		l.MaxConns = d.MaxConns
	}
	return l
}

// validate refuses negative limits; prefix is the flags' prefix ("--api").
func (l ServerLimits) validate(prefix string) error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"read-header-timeout", l.ReadHeaderTimeout}, {"read-timeout", l.ReadTimeout}, {"write-timeout", l.WriteTimeout}, {"idle-timeout", l.IdleTimeout}} {
		if f.d < 0 {
			return fmt.Errorf("%s-%s %s: must be positive", prefix, f.name, f.d)
		}
	}
	if l.MaxConns < 0 {
		return fmt.Errorf("%s-max-conns %d: must be positive", prefix, l.MaxConns)
	}
	return nil
}

// newServer is an http.Server for h with l's timeouts; serve it on l.listener.
func (l ServerLimits) newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: l.ReadHeaderTimeout,
		ReadTimeout:       l.ReadTimeout,
		WriteTimeout:      l.WriteTimeout,
		IdleTimeout:       l.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// listener bounds ln to l.MaxConns connections at once.
func (l ServerLimits) listener(ln net.Listener) net.Listener {
	return &limitListener{
		Listener: ln,
		slots:    make(chan struct{}, l.MaxConns),
		refusing: make(chan struct{}, maxRefusing),
		refusal:  refusalResponse,
	}
}

// maxRefusing bounds the refusals being written at once: past it, a connection over the limit is closed
// without an answer, so a flood cannot make the refusals themselves hold descriptors.
const maxRefusing = 64

// refusalLinger is how long a refused connection is kept open to read what the client sent: closing a
// socket with unread data makes the kernel reset it, and the client could lose the answer.
const refusalLinger = time.Second

// limitListener accepts at most cap(slots) connections at once; see ServerLimits.MaxConns. (x/net's
// netutil.LimitListener stops accepting instead, which leaves clients waiting unanswered.)
type limitListener struct {
	net.Listener
	slots    chan struct{} // one token per open connection
	refusing chan struct{} // one token per refusal being written
	refusal  []byte
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, release: func() { <-l.slots }}, nil
		default:
			l.refuse(c)
		}
	}
}

// refuse answers c with the refusal and closes it, without blocking Accept.
func (l *limitListener) refuse(c net.Conn) {
	select {
	case l.refusing <- struct{}{}:
	default:
		c.Close()
		return
	}
	go func() {
		defer func() { <-l.refusing }()
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(refusalLinger))
		if _, err := c.Write(l.refusal); err != nil {
			return
		}
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
	}()
}

// net/http half-closes a connection through this interface (server.go closeWriter).
var _ interface{ CloseWrite() error } = (*limitedConn)(nil)

// limitedConn gives its slot back when it is closed (net/http may close a connection more than once).
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// CloseWrite forwards the TCP half-close net/http uses before closing a connection it answered with
// "Connection: close" while the client may still be sending (a 413 for an oversize body): without it
// the close could reset the connection and lose the answer.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// refusalResponse is the whole HTTP/1.1 answer to a connection over the limit: 503 ServiceUnavailable
// (AWS's common error for "a temporary failure of the server"), written by awsjson's one error writer.
var refusalResponse = func() []byte {
	rec := &recordedResponse{header: http.Header{}}
	awsjson.WriteError(rec, &awsjson.Error{Type: "ServiceUnavailable", Status: http.StatusServiceUnavailable,
		Message: "The server has too many connections open; retry shortly."})
	rec.header.Set("Retry-After", "1")
	rec.header.Set("Connection", "close")
	resp := &http.Response{
		StatusCode: rec.status, ProtoMajor: 1, ProtoMinor: 1, Header: rec.header,
		ContentLength: int64(rec.body.Len()), Body: io.NopCloser(&rec.body), Close: true,
	}
	var out bytes.Buffer
	if err := resp.Write(&out); err != nil {
		panic("app: refusal response: " + err.Error())
	}
	return out.Bytes()
}()

// recordedResponse is an http.ResponseWriter into memory, to render a response once.
type recordedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recordedResponse) Header() http.Header { return r.header }
func (r *recordedResponse) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recordedResponse) Write(p []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(p)
}
