package edge

import (
	"crypto/tls"
	"net/http"
	"strings"
	"time"

	"github.com/sailcdn/sailcdn/internal/fastpath"
)

// fastHits is the edge's fastpath.Handler: it answers the requests that are plain cache hits and
// declines everything else, which serveHTTP then serves on net/http. What it sends is what
// serveHTTP would send for the same request — the same routing, forwarding rules, cache key,
// cache decision (httpcache.Lookup agrees with Serve), fields, metering and access log — only the
// HTTP/1.1 framing around it is the fast path's.
type fastHits struct {
	e   *Edge
	tls bool // the connection is TLS: no redirect to HTTPS applies
}

func (f fastHits) ServeFast(w http.ResponseWriter, r *http.Request) bool {
	e := f.e
	snap := e.snap.Load()
	d, _ := snap.lookup(r.Host)
	// Unknown, deleted and disabled distributions, refused methods and odd targets get the
	// edge's own error responses: rare, and serveHTTP's business. So do child edges' requests,
	// which are not metered (tier.go).
	if d == nil || !d.enabled || !d.allowedMethods[r.Method] || !strings.HasPrefix(r.URL.Path, "/") {
		return false
	}
	if !f.tls && e.redirectsToHTTPS(d) {
		return false
	}
	if f.tls {
		// The handshake's state, captured when the connection arrived (instrumentTLS): a Host of
		// another distribution than the server name is serveHTTP's 421.
		if st, _ := r.Context().Value(tlsStateKey{}).(*tls.ConnectionState); snap.misdirected(st, r.Host, d) {
			return false
		}
	}
	if _, child := r.Header[tierHeader]; child {
		return false
	}
	tp, ok := normalPath(r.URL)
	if !ok {
		return false
	}
	start := time.Now()
	rid := e.ids.next()                      // unused if declined: ids need only be unique
	creq, _ := e.cacheRequest(r, tp, d, rid) // no viewer context: a hit never waits or fetches
	stored, ok := e.cache.Lookup(creq)
	if !ok || d.mayReplace(stored.StatusCode(), r) {
		return false
	}
	mx, w := e.meter.Start(w, r, d.id)
	// The fast path set the write deadline as the request began (Server.WriteTimeout).
	vw := &viewerWriter{ResponseWriter: w, via: e.via, requestID: rid, writeTimeout: e.viewers.WriteTimeout, fresh: true}
	res := e.cache.ServeStored(vw, creq, stored)
	d.prom.result(res.Status)
	mx.End(vw.status)
	e.logAccess(start, r, vw, requestInfo{dist: d, cacheStatus: res.Status})
	return true
}

// mayReplace reports whether a custom error page could replace the answer to r from a stored
// response with this status: the status itself has a page, or r asks for a range and 416 (the
// one error status a stored 200 can turn into) has one.
func (d *distribution) mayReplace(status int, r *http.Request) bool {
	if len(d.errorPages) == 0 {
		return false
	}
	if _, ok := d.errorPages[status]; ok {
		return true
	}
	_, ranged := r.Header["Range"]
	_, page416 := d.errorPages[http.StatusRequestedRangeNotSatisfiable]
	return ranged && page416
}

var _ fastpath.Handler = fastHits{}
