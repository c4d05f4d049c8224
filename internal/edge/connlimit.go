package edge

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
)

// ConnectionStats are the viewer connection counters (for /metrics and tests).
type ConnectionStats struct {
	Open    int64 // connections open now
	Refused int64 // connections closed at once because a bound was reached, since start
}

// connLimiter is the listener that enforces the bounds; 0 disables a bound.
type connLimiter struct {
	net.Listener
	max, perClient int

	mu       sync.Mutex // guards open and byClient
	open     int
	byClient map[netip.Addr]int

	refused *atomic.Int64
}

// descriptorBound lowers n to three quarters of the descriptor limit, when there is one.
func descriptorBound(n int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur > 0 && lim.Cur < uint64(n)*4/3 {
		return max(1, int(lim.Cur*3/4))
	}
	return n
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		var ip netip.Addr
		if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
			ip = ap.Addr().Unmap()
		}
		if l.admit(ip) {
			return &limitedConn{Conn: c, l: l, ip: ip}, nil
		}
		l.refused.Add(1)
		c.Close()
	}
}

func (l *connLimiter) admit(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.open >= l.max || l.perClient > 0 && l.byClient[ip] >= l.perClient {
		return false
	}
	l.open++
	l.byClient[ip]++
	return true
}

func (l *connLimiter) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byClient[ip]--; l.byClient[ip] <= 0 {
		delete(l.byClient, ip)
	}
}

func (l *connLimiter) openCount() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(l.open)
}

// limitedConn gives its slot back when closed (once, whoever closes it: net/http, the fast path,
// the HTTP/2 server after a hijack).
type limitedConn struct {
	net.Conn
	l      *connLimiter
	ip     netip.Addr
	closed atomic.Bool
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.ip)
	}
	return err
}

// Unwrap gives access to the connection underneath.
func (c *limitedConn) Unwrap() net.Conn { return c.Conn }
