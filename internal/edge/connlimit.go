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

// connSlots are the viewer connection bounds of an Edge, shared by every port it serves (plain and
// TLS): one budget of descriptors, one per client address. 0 disables a bound.
type connSlots struct {
	max, perClient int

	mu       sync.Mutex // guards open and byClient
	open     int
	byClient map[netip.Addr]int

	refused atomic.Int64
}

func newConnSlots(max, perClient int) *connSlots {
	return &connSlots{max: max, perClient: perClient, byClient: map[netip.Addr]int{}}
}

func (s *connSlots) admit(ip netip.Addr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.max > 0 && s.open >= s.max || s.perClient > 0 && s.byClient[ip] >= s.perClient {
		return false
	}
	s.open++
	s.byClient[ip]++
	return true
}

func (s *connSlots) release(ip netip.Addr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open--
	if s.byClient[ip]--; s.byClient[ip] <= 0 {
		delete(s.byClient, ip)
	}
}

func (s *connSlots) stats() ConnectionStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ConnectionStats{Open: int64(s.open), Refused: s.refused.Load()}
}

// descriptorBound lowers n to three quarters of the descriptor limit, when there is one.
func descriptorBound(n int) int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur > 0 && lim.Cur < uint64(n)*4/3 {
		return max(1, int(lim.Cur*3/4))
	}
	return n
}

// connLimiter is a listener whose connections take slots: one beyond a bound is accepted and
// closed at once, so that the kernel's queue never fills with connections nobody will serve and the
// viewer learns at once.
type connLimiter struct {
	net.Listener
	slots *connSlots
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
		if l.slots.admit(ip) {
			return &limitedConn{Conn: c, slots: l.slots, ip: ip}, nil
		}
		l.slots.refused.Add(1)
		c.Close()
	}
}

// limitedConn gives its slot back when closed (once, whoever closes it: net/http, the fast path,
// the HTTP/2 server, a failed TLS handshake).
type limitedConn struct {
	net.Conn
	slots  *connSlots
	ip     netip.Addr
	closed atomic.Bool
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.slots.release(c.ip)
	}
	return err
}

// Unwrap gives access to the connection underneath.
func (c *limitedConn) Unwrap() net.Conn { return c.Conn }
