package httpcache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// maxAttempts bounds how often one request waits for other requests' fills before fetching on
// its own (it can lose several times when the fills store other Vary variants).
const maxAttempts = 3

// Serve answers one viewer request from storage, by revalidating a stored response, or from the
// origin through fetch, and writes the response to w with X-Cache set. It returns an error
// (wrapping ErrOrigin or ErrViewerGone) only for logging: by then an error response has been
// written, or the viewer is gone.
func (c *Cache) Serve(w http.ResponseWriter, r *Request, fetch Fetcher) (Result, error) {
	res, err := c.serve(w, r, fetch)
	c.count(res.Status)
	return res, err
}

// route is how Serve will treat a request before it looks at storage.
type route uint8

const (
	routeStorage route = iota // may be answered from storage
	routeUnsafe               // unsafe method: pass through and invalidate
	routePass                 // bypass the cache
)

func (r *Request) route() (route, string) {
	req := r.Out
	if !isSafeMethod(req.Method) {
		return routeUnsafe, ""
	}
	if r.Policy.Bypass {
		return routePass, ""
	}
	storeMethod, ok := r.Policy.storageMethod(req.Method)
	if !ok || hasOriginOnlyPrecondition(req.Header) {
		return routePass, ""
	}
	return routeStorage, storeMethod
}

// Stored is a response Lookup found that ServeStored can send.
type Stored struct {
	e   *entry
	now time.Time
}

// StatusCode is the stored response's status (what the viewer gets unless its request is
// conditional or asks for a range).
func (s Stored) StatusCode() int { return s.e.status }

// Lookup finds the stored response that Serve would send for r as it is — fresh, or stale as the
// request allows — without contacting the origin. It changes nothing (no counters, no
// revalidation), so a caller that finds nothing, or does not like what it found, can still call
// Serve. ok is false whenever Serve would do anything else: fill, validate, pass, refuse (only-if-
// cached) or serve stale while revalidating.
func (c *Cache) Lookup(r *Request) (Stored, bool) {
	rt, storeMethod := r.route()
	if rt != routeStorage {
		return Stored{}, false
	}
	req := r.Out
	now := c.now()
	rcc := parseCacheControl(req.Header["Cache-Control"])
	e := c.lookup(c.resourceKey(r.Namespace, req.URL, req.Host), storeMethod, r.Key, req.Header)
	if e == nil {
		return Stored{}, false
	}
	switch e.reuse(now, &rcc, false) {
	case reuseFresh, reuseStale:
		return Stored{e: e, now: now}, true
	}
	return Stored{}, false
}

// ServeStored sends s, found by Lookup for r, exactly as Serve would have: a Hit.
func (c *Cache) ServeStored(w http.ResponseWriter, r *Request, s Stored) Result {
	c.count(Hit)
	return c.serveStoredAt(w, r.Out, s.e, Hit, s.now)
}

func (c *Cache) serve(w http.ResponseWriter, r *Request, fetch Fetcher) (Result, error) {
	req := r.Out
	switch rt, storeMethod := r.route(); rt {
	case routeUnsafe:
		return c.passUnsafe(w, r, fetch)
	case routePass:
		return c.pass(w, r, fetch, Pass)
	default:
		return c.serveFromStorage(w, r, fetch, req, storeMethod)
	}
}

func (c *Cache) serveFromStorage(w http.ResponseWriter, r *Request, fetch Fetcher, req *http.Request, storeMethod string) (Result, error) {
	start := c.now()
	rcc := parseCacheControl(req.Header["Cache-Control"])
	rk := c.resourceKey(r.Namespace, req.URL, req.Host)
	fk := flightKey{rk: rk, method: storeMethod, key: r.Key}
	joined := false
	for attempt := 0; ; attempt++ {
		now := start
		if attempt > 0 {
			now = c.now()
		}
		e := c.lookup(rk, storeMethod, r.Key, req.Header)
		if e != nil {
			switch e.reuse(now, &rcc, joined && !e.responseTime.Before(start)) {
			case reuseFresh, reuseStale:
				return c.serveStoredAt(w, req, e, Hit, now), nil
			case reuseStaleRevalidate:
				c.revalidateInBackground(r, fetch, fk, e)
				return c.serveStoredAt(w, req, e, Hit, now), nil
			}
		}
		if rcc.onlyIfCached {
			// RFC 9111 §5.2.1.7: nothing usable is stored, so 504 rather than the origin.
			return c.writeError(w, http.StatusGatewayTimeout, "not in the cache and the request said only-if-cached"), nil
		}
		if req.Method == http.MethodHead || e == nil && hasRange(req.Header) {
			// A HEAD has no body to fill the cache with, and a Range miss is forwarded as is so
			// that the origin sends only the bytes asked for.
			return c.pass(w, r, fetch, Miss)
		}
		opts := fillOpts{rk: rk, storeMethod: storeMethod, validating: e, rcc: rcc, fk: fk}
		if rcc.noStore {
			// RFC 9111 §5.2.1.5: nothing of this exchange may be stored. It is this viewer's own:
			// it neither leads a shared fill (the viewers waiting on it would get nothing they
			// could reuse) nor changes what is stored for the others.
			opts.private = true
			return c.exchange(w, r, fetch, opts)
		}
		if attempt == maxAttempts {
			return c.exchange(w, r, fetch, opts)
		}
		f, leader := c.joinFlight(fk)
		if leader {
			opts.flight = f
			return c.exchange(w, r, fetch, opts)
		}
		c.collapsed.Add(1)
		select {
		case <-f.started:
		case <-req.Context().Done():
			return Result{Status: Miss}, fmt.Errorf("%w: %w", ErrViewerGone, context.Cause(req.Context()))
		}
		// The body is arriving: follow it, at this viewer's own pace, if it is the variant this
		// request selects (RFC 9111 §4.1) and the fill still holds it from its first byte.
		if fl := f.fill; fl != nil && fl.in.proto.varyMatches(req.Header) {
			if s, ok := fl.subscribe(); ok {
				return c.serveFill(w, req, fl, s, false), nil
			}
		}
		select {
		case <-f.done:
		case <-req.Context().Done():
			return Result{Status: Miss}, fmt.Errorf("%w: %w", ErrViewerGone, context.Cause(req.Context()))
		}
		switch f.outcome {
		case flightStored:
			joined = true
			continue
		case flightOriginFailed:
			if e != nil && e.staleOnError(c.now(), &rcc, isDisconnect(f.err)) {
				return c.serveStored(w, req, e, Hit), nil
			}
			return c.writeOriginError(w, f.err), f.err
		default:
			// The shared response was not storable: this request needs its own.
			return c.exchange(w, r, fetch, opts)
		}
	}
}

// isSafeMethod: RFC 9110 §9.2.1. Every other method, known or not, is unsafe for invalidation
// (RFC 9111 §4.4 "including methods whose safety is unknown").
func isSafeMethod(m string) bool {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

func hasRange(h http.Header) bool {
	_, ok := h["Range"]
	return ok
}

type reuseDecision uint8

const (
	reuseValidate        reuseDecision = iota // contact the origin first
	reuseFresh                                // serve as is
	reuseStale                                // serve stale: the request allows it (max-stale)
	reuseStaleRevalidate                      // serve stale and revalidate in the background
)

// reuse decides whether a stored response may be served for a request (RFC 9111 §4.2, §4.2.4,
// §5.2.1 request directives, RFC 5861 §3). justFetched marks a response obtained by a shared fill
// this request waited for: it is as current as the request could ask for.
func (e *entry) reuse(now time.Time, rcc *directives, justFetched bool) reuseDecision {
	if justFetched {
		return reuseFresh
	}
	if e.noCache || rcc.noCache {
		return reuseValidate
	}
	age := e.currentAge(now)
	if rcc.maxAge != absent && age > seconds(rcc.maxAge) {
		return reuseValidate
	}
	if age < e.lifetime {
		if rcc.minFresh != absent && e.lifetime-age < seconds(rcc.minFresh) {
			return reuseValidate
		}
		return reuseFresh
	}
	if e.mustRevalidate {
		return reuseValidate
	}
	staleness := age - e.lifetime
	if rcc.maxStaleAny || rcc.maxStale != absent && staleness <= seconds(rcc.maxStale) {
		return reuseStale
	}
	if e.swr >= 0 && staleness <= e.swr {
		return reuseStaleRevalidate
	}
	return reuseValidate
}

// staleOnError decides whether a stored response may stand in when the origin fails (RFC 9111
// §4.2.4 "disconnected", RFC 5861 §4 stale-if-error). Never when the response forbids stale use
// (no-cache, must-revalidate, proxy-revalidate, s-maxage). A 5xx answer needs a stale-if-error
// window; an unreachable origin counts as disconnected.
func (e *entry) staleOnError(now time.Time, rcc *directives, disconnected bool) bool {
	if e.noCache || e.mustRevalidate {
		return false
	}
	staleness := e.currentAge(now) - e.lifetime
	if rcc.staleIfError != absent && staleness <= seconds(rcc.staleIfError) {
		return true
	}
	if e.sie >= 0 && staleness <= e.sie {
		return true
	}
	return disconnected && !rcc.noCache
}

// ageValues holds preformatted Age values so that a hit does not allocate for them.
var ageValues = func() (t [4096][]string) {
	for i := range t {
		t[i] = []string{strconv.Itoa(i)}
	}
	return t
}()

func ageValue(age time.Duration) []string {
	s := int64(age / time.Second)
	if s < 0 {
		s = 0
	}
	if s < int64(len(ageValues)) {
		return ageValues[s]
	}
	return []string{strconv.FormatInt(s, 10)}
}

// serveStored writes a stored response (RFC 9111 §4): the stored header section with Age
// computed now (§4.2.3), answering the viewer's If-None-Match/If-Modified-Since (§4.3.2) and a
// single Range over a stored 200. This is the hit path; it copies header slices, never values.
func (c *Cache) serveStored(w http.ResponseWriter, req *http.Request, e *entry, st CacheStatus) Result {
	return c.serveStoredAt(w, req, e, st, c.now())
}

func (c *Cache) serveStoredAt(w http.ResponseWriter, req *http.Request, e *entry, st CacheStatus, now time.Time) Result {
	res := Result{Status: st}
	if w == nil {
		return res
	}
	h := w.Header()
	if hasViewerConditional(req.Header) && notModified(req.Method, req.Header, e.validators(), now) {
		for _, k := range notModifiedFields {
			if v, ok := e.header[k]; ok {
				h[k] = v
			}
		}
		h["Age"] = ageValue(e.currentAge(now))
		h["X-Cache"] = xCacheValues[st]
		w.WriteHeader(http.StatusNotModified)
		res.StatusCode = http.StatusNotModified
		return res
	}
	for _, f := range e.fields {
		h[f.key] = f.values
	}
	h["Age"] = ageValue(e.currentAge(now))
	h["X-Cache"] = xCacheValues[st]
	status, body := e.status, e.body
	if req.Method == http.MethodGet && e.status == http.StatusOK {
		if rng, ok := req.Header["Range"]; ok && ifRangeAllows(req.Header, e, now) {
			size := int64(len(body))
			switch start, n, out := parseByteRange(rng, size); out {
			case rangePartial:
				status, body = http.StatusPartialContent, body[start:start+n]
				h["Content-Range"] = []string{contentRange(start, n, size)}
				h["Content-Length"] = []string{strconv.FormatInt(n, 10)}
			case rangeUnsatisfiable:
				status, body = http.StatusRequestedRangeNotSatisfiable, nil
				h["Content-Range"] = []string{"bytes */" + strconv.FormatInt(size, 10)}
				h["Content-Length"] = []string{"0"}
			}
		}
	}
	w.WriteHeader(status)
	res.StatusCode = status
	if req.Method != http.MethodHead && len(body) > 0 {
		_, _ = w.Write(body) // a failed write means the viewer left; nothing to do
	}
	return res
}

func contentRange(start, n, size int64) string {
	b := make([]byte, 0, 48)
	b = append(b, "bytes "...)
	b = strconv.AppendInt(b, start, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, start+n-1, 10)
	b = append(b, '/')
	b = strconv.AppendInt(b, size, 10)
	return string(b)
}

// writeError writes a response the cache generates itself.
func (c *Cache) writeError(w http.ResponseWriter, status int, why string) Result {
	res := Result{Status: Error, StatusCode: status}
	if w == nil {
		return res
	}
	h := w.Header()
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	// Generated errors describe this moment at this edge, not the resource.
	h["Cache-Control"] = []string{"no-store"}
	h["X-Cache"] = xCacheValues[Error]
	w.WriteHeader(status)
	_, _ = w.Write([]byte(http.StatusText(status) + ": " + why + "\n"))
	return res
}

// writeOriginError reports an unreachable origin: 504 when the exchange timed out, else 502 (the
// codes CloudFront uses for the two cases); 408 or 400 when it failed because of the viewer's
// request body (ErrRequestTimeout, ErrRequestBody).
func (c *Cache) writeOriginError(w http.ResponseWriter, err error) Result {
	switch {
	case errors.Is(err, ErrRequestTimeout):
		return c.writeError(w, http.StatusRequestTimeout, "the request body did not arrive within the read timeout")
	case errors.Is(err, ErrRequestBody):
		return c.writeError(w, http.StatusBadRequest, "the request body is malformed")
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return c.writeError(w, http.StatusGatewayTimeout, "the origin did not answer within its response timeout")
	}
	return c.writeError(w, http.StatusBadGateway, "the origin could not be reached")
}

// isDisconnect reports whether a failed exchange means the origin could not be reached (as
// opposed to answering with a 5xx).
func isDisconnect(err error) bool {
	return err != nil && errors.Is(err, ErrOrigin)
}
