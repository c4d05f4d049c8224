package edge

import "time"

// ViewerLimits bound what one viewer can hold of the edge: how long it may take to send a request
// and to take a response, how long an idle connection stays, and how many connections it may open.
// A zero field takes DefaultViewerLimits' value; a negative one turns the bound off.
type ViewerLimits struct {
	// HeaderTimeout bounds the time to receive a request's line and header section, from the
	// connection's start (first request) or the request's first byte (later ones), however
	// slowly they trickle (http.Server.ReadHeaderTimeout; the fast path applies it likewise).
	HeaderTimeout time.Duration
	// ReadTimeout bounds every read of a request body: a body that stops arriving for this long is
	// cut off (408, connection closed). Per read, not per body, so a large upload on a slow link
	// is not cut (nginx's client_body_timeout works the same way).
	ReadTimeout time.Duration
	// WriteTimeout bounds every write to a viewer (at most 256 KiB each): a viewer that takes
	// nothing for this long is cut off, and only that viewer; a slow one that keeps reading is
	// not, whatever the body's size. (A write starts with between half of it and all of it left:
	// the deadline is moved once half has passed, to spare a timer update per write.)
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle between requests for this long.
	IdleTimeout time.Duration
	// MaxConns bounds the open viewer connections, MaxConnsPerClient those of one client address;
	// a connection beyond either is closed at once, so that the kernel's queue never fills with
	// connections nobody will serve. The default MaxConns is lowered to three quarters of the
	// process's descriptor limit when that is smaller, so that viewers never take the descriptors
	// the edge needs for origins and its store; the per-client default is generous for clients
	// behind one NAT address (a browser opens 6 per host).
	MaxConns          int
	MaxConnsPerClient int
}

// DefaultViewerLimits are the bounds a zero ViewerLimits field takes.
var DefaultViewerLimits = ViewerLimits{
	HeaderTimeout:     10 * time.Second,
	ReadTimeout:       30 * time.Second, // nginx's client_body_timeout is 60 s
	WriteTimeout:      30 * time.Second,
	IdleTimeout:       2 * time.Minute,
	MaxConns:          16384,
	MaxConnsPerClient: 1024,
}

// withDefaults fills zero fields from DefaultViewerLimits and turns negative ones into 0 (none).
func (l ViewerLimits) withDefaults() ViewerLimits {
	d := DefaultViewerLimits
	d.MaxConns = descriptorBound(d.MaxConns)
	return ViewerLimits{
		HeaderTimeout:     orDefault(l.HeaderTimeout, d.HeaderTimeout),
		ReadTimeout:       orDefault(l.ReadTimeout, d.ReadTimeout),
		WriteTimeout:      orDefault(l.WriteTimeout, d.WriteTimeout),
		IdleTimeout:       orDefault(l.IdleTimeout, d.IdleTimeout),
		MaxConns:          orDefault(l.MaxConns, d.MaxConns),
		MaxConnsPerClient: orDefault(l.MaxConnsPerClient, d.MaxConnsPerClient),
	}
}

// orDefault is a limit's convention: 0 takes def, negative means none (0).
func orDefault[T ~int | ~int64](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}
