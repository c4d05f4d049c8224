package httpcache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"
	"time"
)

// errOriginStatus marks a flight whose origin answered 5xx while a stale response stood in.
var errOriginStatus = errors.New("httpcache: origin answered with a server error")

// fillOpts describes one exchange that may store its response.
type fillOpts struct {
	rk          resourceKey
	storeMethod string
	validating  *entry     // the stored response being revalidated, or nil for a plain fill
	rcc         directives // the request's Cache-Control (a copy: taking its address on the hit path would move it to the heap)
	flight      *flight    // nil when this exchange is not shared
	fk          flightKey
	// private: the exchange is the viewer's alone (its request said no-store): it stores,
	// freshens and removes nothing, whatever the origin answers.
	private bool
}

// viewerOnlyFields are the fields of the viewer's request that a fill or revalidation does not
// forward. The validators and range: the cache wants the complete current response for storage,
// and answers the viewer's conditions itself from it. Cache-Control and Pragma: they govern what
// this viewer accepts from the cache (its max-age, no-cache...), which the cache has already
// applied; the exchange is the cache's own, on behalf of every viewer of the key, and an origin
// that varied its answer on them would let one viewer choose what all the others get.
var viewerOnlyFields = [...]string{"If-None-Match", "If-Modified-Since", "If-Range", "Range", "Cache-Control", "Pragma"}

// send performs one origin exchange, relaying 1xx interim responses to w while it waits.
func (c *Cache) send(ctx context.Context, w http.ResponseWriter, out *http.Request, fetch Fetcher) (*http.Response, error) {
	// RFC 9110 §15.2: 1xx responses must not be sent to an HTTP/1.0 client.
	if w == nil || !out.ProtoAtLeast(1, 1) {
		return fetch(ctx, out)
	}
	fwd := &interimForwarder{w: w}
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{Got1xxResponse: fwd.got1xx})
	resp, err := fetch(ctx, out.WithContext(ctx))
	fwd.detach()
	return resp, err
}

// exchange fetches from the origin on behalf of the request (and, when opts.flight is set, of
// every request waiting on the flight), stores what may be stored, and answers the viewer.
// w may be nil (a background revalidation).
func (c *Cache) exchange(w http.ResponseWriter, r *Request, fetch Fetcher, o fillOpts) (Result, error) {
	viewerReq := r.Out
	ctx := viewerReq.Context()
	finish := func(flightOutcome, error) {}
	handedToFill := false
	if o.flight != nil {
		// The fill serves every waiter, so no single viewer's cancellation may end it.
		ctx = context.WithoutCancel(ctx)
		finish = func(out flightOutcome, err error) { c.finish(o.fk, o.flight, out, err) }
		defer func() {
			if !handedToFill {
				finish(flightNotStored, nil) // in case of panic or an early return below
			}
		}()
	}
	out := viewerReq.Clone(ctx)
	for _, f := range viewerOnlyFields {
		delete(out.Header, f)
	}
	if e := o.validating; e != nil {
		// RFC 9111 §4.3.1: validate with the stored validators, sent verbatim.
		if e.etag != "" {
			out.Header["If-None-Match"] = []string{e.etag}
		}
		if e.lastModified != "" {
			out.Header["If-Modified-Since"] = []string{e.lastModified}
		}
	}
	requestTime := c.now()
	resp, err := c.send(ctx, w, out, fetch)
	responseTime := c.now()
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrOrigin, err)
		c.log.Debug("origin exchange failed", "key", r.Key, "err", err)
		finish(flightOriginFailed, err)
		if e := o.validating; e != nil && e.staleOnError(responseTime, &o.rcc, true) {
			return c.serveStored(w, viewerReq, e, Hit), nil
		}
		return c.writeOriginError(w, err), err
	}
	defer func() {
		if !handedToFill {
			resp.Body.Close()
		}
	}()
	sh := sanitizeHeader(resp.Header)

	if e := o.validating; e != nil {
		if resp.StatusCode == http.StatusNotModified {
			return c.freshen(w, r, o, freshenInput{e: e, header: sh, requestTime: requestTime, responseTime: responseTime, finish: finish})
		}
		if resp.StatusCode >= 500 && e.staleOnError(responseTime, &o.rcc, false) {
			// RFC 9111 §4.3.3: a 5xx may be treated as if the server failed to respond.
			finish(flightOriginFailed, errOriginStatus)
			return c.serveStored(w, viewerReq, e, Hit), nil
		}
	}

	info := analyze(analyzeInput{
		policy: r.Policy, reqHeader: viewerReq.Header, reqCC: o.rcc,
		status: resp.StatusCode, header: sh, requestTime: requestTime, responseTime: responseTime,
	})
	st := Miss
	if resp.StatusCode >= 400 {
		st = Error
	}
	store := !o.private && info.storable && o.storeMethod != "" && resp.ContentLength <= c.maxBuffered
	if e := o.validating; e != nil && !store && !o.private && resp.StatusCode < 500 {
		// The origin replaced the stored response with one that may not be stored.
		c.remove(o.rk, e)
	}
	if !store {
		finish(flightNotStored, nil)
		if w == nil {
			return Result{Status: st}, nil
		}
		return c.forward(w, viewerReq, resp, sh, st, true)
	}

	// Storable (it fits MaxBufferedBody, or is of unknown length): a fill reads the body into
	// memory on its own goroutine, and the viewer — like every waiter of the flight — follows it
	// as it arrives (fill.go).
	entryInput := entryInput{method: o.storeMethod, key: r.Key, reqHeader: viewerReq.Header, info: &info}
	proto := newEntry(entryInput)
	fl := c.newFill(fillInput{
		status: resp.StatusCode, st: st, header: sh, proto: proto, body: resp.Body, sizeHint: resp.ContentLength,
		entryOfBody: func(body []byte) *entry {
			in := entryInput
			in.body = body
			return newEntry(in)
		},
		store: func(e *entry) bool {
			stored := c.insert(o.rk, e, viewerReq.Header, o.validating)
			if stored {
				finish(flightStored, nil)
			} else {
				finish(flightNotStored, nil)
			}
			return stored
		},
		abandon: func() { finish(flightNotStored, nil) },
	})
	var leader *subscriber
	if w != nil {
		leader, _ = fl.subscribe() // a new fill accepts its first subscriber
	}
	if o.flight != nil {
		c.publish(o.fk, o.flight, fl)
	}
	handedToFill = true
	fl.start()
	if w == nil {
		return Result{Status: st}, nil
	}
	return c.serveFill(w, viewerReq, fl, leader, true), nil
}

// serveFill answers a viewer from a fill, as its body arrives. The leader (whose request fetched
// it) gets the origin's header section and X-Cache Miss (Error for an error status); a follower
// gets the section the cache shares (no Set-Cookie, Age computed) and Hit. A viewer's own
// validators are answered with 304 at once; a viewer that wants a range waits for the stored
// response (or, if it is not stored after all, gets the whole body).
func (c *Cache) serveFill(w http.ResponseWriter, req *http.Request, fl *fill, s *subscriber, leader bool) Result {
	st, hdr := Hit, fl.in.proto.header
	if leader {
		st, hdr = fl.in.st, fl.in.header
	}
	res := Result{Status: st, StatusCode: fl.in.status}
	now := c.now()
	ctx := req.Context()
	// A viewer that gets no body from the fill returns once the fill has settled, so that what
	// it fetched is stored by the time its response is complete.
	settle := func() {
		fl.unsubscribe(s)
		fl.settled(ctx)
		fl.mu.Lock()
		res.Stored = leader && fl.stored
		fl.mu.Unlock()
	}
	if hasViewerConditional(req.Header) && notModified(req.Method, req.Header, fl.in.proto.validators(), now) {
		writeNotModifiedFrom(w, hdr, st)
		res.StatusCode = http.StatusNotModified
		settle()
		return res
	}
	if hasRange(req.Header) {
		if !fl.settled(ctx) {
			fl.unsubscribe(s)
			res.StatusCode = 0
			return res
		}
		fl.mu.Lock()
		e, stored := fl.entry, fl.stored
		fl.mu.Unlock()
		if stored {
			fl.unsubscribe(s)
			out := c.serveStored(w, req, e, st)
			out.Stored = leader
			return out
		}
	}
	if leader {
		writeForwardHeader(w, hdr, st, fl.in.status)
	} else {
		h := w.Header()
		for k, v := range hdr {
			if k != "Content-Length" {
				h[k] = v
			}
		}
		if v, ok := fl.in.header["Content-Length"]; ok {
			h["Content-Length"] = v
		}
		h["Age"] = ageValue(fl.in.proto.currentAge(now))
		h["X-Cache"] = xCacheValues[st]
		w.WriteHeader(fl.in.status)
	}
	if !bodyAllowed(fl.in.status) {
		settle()
		return res
	}
	err := fl.deliver(ctx, w, s)
	fl.mu.Lock()
	res.Stored = leader && fl.stored
	fl.mu.Unlock()
	if err != nil && !errors.Is(err, errViewerLeft) {
		res.Aborted = true
	}
	return res
}

type freshenInput struct {
	e                         *entry
	header                    http.Header // the 304's sanitized header
	requestTime, responseTime time.Time
	finish                    func(flightOutcome, error)
}

// freshen applies a 304 to the stored response it validated (RFC 9111 §4.3.4, §3.2) and serves
// the result. The 304 was asked for with this entry's own validators, so it selects this entry.
func (c *Cache) freshen(w http.ResponseWriter, r *Request, o fillOpts, in freshenInput) (Result, error) {
	e := in.e
	merged := mergeNotModified(e.header, in.header, in.responseTime)
	info := analyze(analyzeInput{
		policy: r.Policy, reqHeader: r.Out.Header, reqCC: o.rcc,
		status: e.status, header: merged, requestTime: in.requestTime, responseTime: in.responseTime,
	})
	ne := newEntry(entryInput{method: e.method, key: e.key, reqHeader: r.Out.Header, info: &info, body: e.body})
	stored := false
	switch {
	case o.private:
		// The viewer gets the freshened response; the stored one stays as it was.
	case info.storable:
		stored = c.insert(o.rk, ne, r.Out.Header, e)
	default:
		c.remove(o.rk, e)
	}
	if stored {
		in.finish(flightStored, nil)
	} else {
		in.finish(flightNotStored, nil)
	}
	res := c.serveStored(w, r.Out, ne, RefreshHit)
	res.Stored = stored
	return res, nil
}

// revalidateInBackground starts one detached revalidation of e unless one is already running
// for the same key (RFC 5861 §3: serve stale while revalidating asynchronously).
func (c *Cache) revalidateInBackground(r *Request, fetch Fetcher, fk flightKey, e *entry) {
	f, leader := c.joinFlight(fk)
	if !leader {
		return
	}
	bg := *r
	bg.Out = r.Out.Clone(context.WithoutCancel(r.Out.Context()))
	// The viewer's own request directives (no-store, max-age) governed its response; the
	// background refresh is the cache's and stores under the cache's rules.
	c.background.Add(1)
	go func() {
		defer c.background.Done()
		opts := fillOpts{rk: fk.rk, storeMethod: fk.method, validating: e, rcc: newDirectives(), flight: f, fk: fk}
		if _, err := c.exchange(nil, &bg, fetch, opts); err != nil {
			c.log.Debug("background revalidation failed", "key", fk.key, "err", err)
		}
	}()
}

// pass forwards the request as it is and the response as it comes, storing nothing.
func (c *Cache) pass(w http.ResponseWriter, r *Request, fetch Fetcher, st CacheStatus) (Result, error) {
	resp, err := c.send(r.Out.Context(), w, r.Out, fetch)
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrOrigin, err)
		return c.writeOriginError(w, err), err
	}
	defer resp.Body.Close()
	return c.forward(w, r.Out, resp, sanitizeHeader(resp.Header), st, false)
}

// passUnsafe forwards a request with an unsafe method and invalidates what its success makes
// stale (RFC 9111 §4.4). A POST response that names its own target URI in Content-Location and
// carries explicit freshness is stored as that URI's GET response (RFC 9110 §9.3.3).
func (c *Cache) passUnsafe(w http.ResponseWriter, r *Request, fetch Fetcher) (Result, error) {
	requestTime := c.now()
	resp, err := c.send(r.Out.Context(), w, r.Out, fetch)
	responseTime := c.now()
	if err != nil {
		err = fmt.Errorf("%w: %w", ErrOrigin, err)
		return c.writeOriginError(w, err), err
	}
	defer resp.Body.Close()
	sh := sanitizeHeader(resp.Header)
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		c.invalidateUnsafe(r, sh)
	}
	if r.Out.Method != http.MethodPost || r.Policy.Bypass || !r.Policy.cachesMethod(http.MethodGet) ||
		resp.ContentLength > c.maxBuffered || !c.postIsGetResponse(r, sh) {
		return c.forward(w, r.Out, resp, sh, Pass, false)
	}
	info := analyze(analyzeInput{
		policy: r.Policy, reqHeader: r.Out.Header, reqCC: parseCacheControl(r.Out.Header["Cache-Control"]),
		status: resp.StatusCode, header: sh, requestTime: requestTime, responseTime: responseTime,
	})
	if !info.storable || !info.explicit {
		return c.forward(w, r.Out, resp, sh, Pass, false)
	}
	writeForwardHeader(w, sh, Pass, resp.StatusCode)
	d := &delivery{buffering: true, limit: c.maxBuffered}
	d.setViewer(w)
	if err := d.copyBody(resp.Body); err != nil {
		return Result{Status: Pass, StatusCode: resp.StatusCode, Aborted: true}, fmt.Errorf("%w: %w", ErrOrigin, err)
	}
	res := Result{Status: Pass, StatusCode: resp.StatusCode}
	if d.buffering {
		e := newEntry(entryInput{method: http.MethodGet, key: r.Key, reqHeader: r.Out.Header, info: &info, body: d.buf})
		rk := c.resourceKey(r.Namespace, r.Out.URL, r.Out.Host)
		res.Stored = c.insert(rk, e, r.Out.Header, nil)
	}
	return res, nil
}

func (c *Cache) postIsGetResponse(r *Request, sh http.Header) bool {
	cl := sh.Get("Content-Location")
	if cl == "" {
		return false
	}
	u, err := r.Out.URL.Parse(cl)
	return err == nil && sameURI(u, r.Out.URL, r.Out.Host)
}

// forward streams an origin response that is not being stored to the viewer. With localConds the
// viewer's own If-None-Match/If-Modified-Since (which the cache did not forward) are evaluated
// against it.
func (c *Cache) forward(w http.ResponseWriter, viewerReq *http.Request, resp *http.Response, sh http.Header, st CacheStatus, localConds bool) (Result, error) {
	res := Result{Status: st, StatusCode: resp.StatusCode}
	if localConds && hasViewerConditional(viewerReq.Header) {
		info := respInfo{status: resp.StatusCode, header: sh}
		if d, ok := firstDate(sh["Date"], c.now()); ok {
			info.dateValue = d
		}
		if notModified(viewerReq.Method, viewerReq.Header, validatorsOf(&info), c.now()) {
			writeNotModifiedFrom(w, sh, st)
			res.StatusCode = http.StatusNotModified
			return res, nil
		}
	}
	writeForwardHeader(w, sh, st, resp.StatusCode)
	if !bodyAllowed(resp.StatusCode) || viewerReq.Method == http.MethodHead {
		return res, nil
	}
	d := &delivery{}
	d.setViewer(w)
	if err := d.copyBody(resp.Body); err != nil && !errors.Is(err, errViewerLeft) {
		res.Aborted = true
		return res, fmt.Errorf("%w: %w", ErrOrigin, err)
	}
	return res, nil
}

// validatorsOf extracts the validators of a response not yet stored.
func validatorsOf(info *respInfo) validators {
	v := validators{status: info.status, date: info.dateValue}
	if et := info.header["Etag"]; len(et) > 0 {
		v.etag = et[0]
	}
	if lm := info.header["Last-Modified"]; len(lm) > 0 {
		v.lastMod, v.hasLastMod = parseHTTPDate(lm[0], info.responseTime)
	}
	return v
}

func writeForwardHeader(w http.ResponseWriter, sh http.Header, st CacheStatus, status int) {
	h := w.Header()
	for k, v := range sh {
		h[k] = v
	}
	h["X-Cache"] = xCacheValues[st]
	w.WriteHeader(status)
}

func writeNotModifiedFrom(w http.ResponseWriter, sh http.Header, st CacheStatus) {
	h := w.Header()
	for _, k := range notModifiedFields {
		if v, ok := sh[k]; ok {
			h[k] = v
		}
	}
	if v, ok := sh["Age"]; ok {
		h["Age"] = v
	}
	h["X-Cache"] = xCacheValues[st]
	w.WriteHeader(http.StatusNotModified)
}

// errViewerLeft stops a streaming-only copy whose viewer went away: nobody needs the bytes.
var errViewerLeft = errors.New("httpcache: viewer left during streaming")

// chunkPool holds copy buffers for streaming bodies.
var chunkPool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// delivery copies an origin body that is not shared to its one viewer (flushing each chunk, so
// large bodies stream) and, while buffering, into memory for storage, up to limit bytes.
type delivery struct {
	w         http.ResponseWriter // nil: no viewer, or it went away
	rc        *http.ResponseController
	buffering bool
	buf       []byte
	limit     int64
}

func (d *delivery) setViewer(w http.ResponseWriter) {
	d.w, d.rc = w, http.NewResponseController(w)
}

func (d *delivery) copyBody(body io.Reader) error {
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	chunk := *bp
	for {
		n, err := body.Read(chunk)
		if n > 0 {
			if d.buffering && int64(len(d.buf)+n) > d.limit {
				d.overflow()
			} else if d.buffering {
				d.buf = append(d.buf, chunk[:n]...)
			}
			if d.w != nil {
				if _, werr := d.w.Write(chunk[:n]); werr != nil {
					d.w = nil // the viewer left; a buffering fill carries on for the others
				} else {
					_ = d.rc.Flush()
				}
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if d.w == nil && !d.buffering {
			return errViewerLeft
		}
	}
}

// overflow abandons storage.
func (d *delivery) overflow() {
	d.buffering, d.buf = false, nil
}
