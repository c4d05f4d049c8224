package httpcache

import (
	"net/http"
	"net/textproto"
	"sync"
)

// Request collapsing: concurrent requests that need the origin for the same stored resource and
// key share one origin exchange (a "flight"). The first becomes the leader and fetches on a
// context detached from its viewer; the others wait. When the response may be stored, its body is
// read by a fill (fill.go) that the leader and the waiters all follow as it arrives; otherwise
// the waiters look the cache up again once the flight is done.

type flightKey struct {
	rk     resourceKey
	method string
	key    string
}

type flightOutcome uint8

const (
	// flightNotStored: the response could not be stored (uncacheable, too large, body failed);
	// waiters go to the origin themselves.
	flightNotStored flightOutcome = iota
	// flightStored: a response was stored or freshened; waiters look it up.
	flightStored
	// flightOriginFailed: the origin was unreachable (or answered 5xx where a stale response was
	// usable); waiters serve stale if they may, else an error, instead of hammering the origin.
	flightOriginFailed
)

type flight struct {
	// started is closed when the flight's body begins to arrive (fill is then set) or when the
	// flight is done, whichever comes first: waiters may then follow the fill as it arrives.
	started chan struct{}
	done    chan struct{}
	fill    *fill // set before started is closed, if a shared fill began
	outcome flightOutcome
	err     error
}

// joinFlight returns the flight for k and whether the caller leads it.
func (c *Cache) joinFlight(k flightKey) (*flight, bool) {
	c.flightsMu.Lock()
	defer c.flightsMu.Unlock()
	if f, ok := c.flights[k]; ok {
		return f, false
	}
	f := &flight{started: make(chan struct{}), done: make(chan struct{})}
	c.flights[k] = f
	return f, true
}

// publish lets the flight's waiters follow fl as its body arrives.
func (c *Cache) publish(k flightKey, f *flight, fl *fill) {
	c.flightsMu.Lock()
	defer c.flightsMu.Unlock()
	if c.flights[k] != f {
		return // already finished
	}
	f.fill = fl
	close(f.started)
}

// finish publishes the outcome and releases the waiters. Only the first call has an effect, so
// a leader can finish early (as soon as it knows the response will not be stored) and again,
// harmlessly, from a deferred call.
func (c *Cache) finish(k flightKey, f *flight, outcome flightOutcome, err error) {
	c.flightsMu.Lock()
	defer c.flightsMu.Unlock()
	if c.flights[k] != f {
		return // already finished
	}
	delete(c.flights, k)
	f.outcome, f.err = outcome, err
	if f.fill == nil {
		close(f.started)
	}
	close(f.done)
}

// interimForwarder relays 1xx interim responses (103 Early Hints, 102 Processing) from the origin
// to the viewer that leads an exchange (RFC 9110 §15.2: a proxy forwards them). It is called by
// the transport's goroutine while the viewer's goroutine waits for the final response; detach
// stops it before the viewer's goroutine writes again.
type interimForwarder struct {
	mu   sync.Mutex // guards w
	w    http.ResponseWriter
	sent bool
}

func (f *interimForwarder) got1xx(code int, h textproto.MIMEHeader) error {
	if code == http.StatusContinue || code == http.StatusSwitchingProtocols {
		return nil // 100 belongs to the origin connection's own body handshake
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.w == nil {
		return nil
	}
	// net/http writes the current header map with a 1xx, so the interim fields are set for the
	// write and removed after it; they must not leak into the final response (RFC 9111 §3:
	// only final responses are stored).
	hdr := f.w.Header()
	saved := make(map[string][]string, len(h))
	for k, v := range h {
		if old, ok := hdr[k]; ok {
			saved[k] = old
		}
		hdr[k] = v
	}
	f.w.WriteHeader(code)
	for k := range h {
		if old, ok := saved[k]; ok {
			hdr[k] = old
		} else {
			delete(hdr, k)
		}
	}
	f.sent = true
	return nil
}

func (f *interimForwarder) detach() {
	f.mu.Lock()
	f.w = nil
	f.mu.Unlock()
}
