package edge

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sailcdn/sailcdn/internal/httpcache"
	"github.com/sailcdn/sailcdn/internal/meter"
	"github.com/sailcdn/sailcdn/internal/uripath"
)

// Bodies of the responses the edge generates itself (short, so a viewer can tell them apart).
const (
	msgUnknownHost = "no distribution serves this host"
	msgDeleted     = "this distribution has been deleted"
	msgDisabled    = "this distribution is disabled"
	msgMethod      = "this distribution does not allow the method "
	msgBodyOnGet   = "a request body is not allowed with the method "
	msgBadTarget   = "the request target is not a path"
	msgLoop        = "this request has already passed this edge: the edges' parents form a loop"
	msgBadPath     = "the request path hides a dot-segment"
	msgBadPage     = "the distribution's error page path is not usable"
	msgMisdirected = "the Host field names another distribution than this connection's TLS server name"
)

// RequestIDHeader names the response (and origin request) field carrying the edge's request id,
// sailcdn's X-Amz-Cf-Id.
const RequestIDHeader = "X-Sailcdn-Request-Id"

// requestInfo is what the edge learned about one request, for the access log.
type requestInfo struct {
	dist        *distribution
	cacheStatus httpcache.CacheStatus
	aborted     bool // the response was cut short: the connection must be aborted
}

func (e *Edge) serveHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rid := e.ids.next()
	snap := e.snap.Load()
	d, deleted := snap.lookup(r.Host)
	var x requestInfo
	var mx *meter.Exchange // nil for unknown hosts and child edges: the meter counts their bytes as unattributed
	child, chain, loop := e.tier.fromChild(r)
	if d != nil && !child {
		mx, w = e.meter.Start(w, r, d.id)
	}
	if child {
		r = r.WithContext(context.WithValue(r.Context(), tierChainKey{}, chain))
	}
	vw := &viewerWriter{ResponseWriter: w, via: e.via, requestID: rid, writeTimeout: e.viewers.WriteTimeout}
	vw.http1 = r.ProtoMajor == 1
	if vw.http1 {
		// A fresh write deadline for everything this request writes, net/http's own writes
		// included ("100 Continue"): the one left by the connection's previous request may
		// have passed.
		vw.extendDeadline()
	} else if vw.writeTimeout > 0 {
		// The HTTP/2 server resets a stream when its write deadline passes, written to or not:
		// none until the first write, so that a slow origin is not the viewer's fault.
		_ = vw.controller().SetWriteDeadline(time.Time{})
	}
	if r.Body != nil && r.Body != http.NoBody {
		vw.body = &viewerBody{ReadCloser: r.Body, rc: vw.controller(), timeout: e.viewers.ReadTimeout}
		r.Body = vw.body
	}
	// RFC 9112 §6.1: a server that receives Transfer-Encoding and Content-Length together "MUST
	// close the connection after responding". net/http removes Content-Length from such a
	// request before the handler sees it, so every request with a Transfer-Encoding ends its
	// connection, and so does an HTTP/1.0 request with a body (net/http ignores Transfer-Encoding
	// there, and removes it, framing by Content-Length). Browsers never send either on a
	// keep-alive connection; what a front end and the edge might frame differently can then never
	// be followed by another request.
	vw.closeAfter = vw.http1 && (len(r.TransferEncoding) > 0 || r.ProtoMinor == 0 && r.ContentLength != 0)
	switch {
	case loop:
		writeText(vw, http.StatusLoopDetected, msgLoop)
	case d == nil && deleted:
		writeText(vw, http.StatusNotFound, msgDeleted)
	case d == nil:
		writeText(vw, http.StatusNotFound, msgUnknownHost)
	case !child && snap.misdirected(r.TLS, r.Host, d):
		x.dist = d
		writeText(vw, http.StatusMisdirectedRequest, msgMisdirected)
	case r.TLS == nil && !child && e.redirectsToHTTPS(d): // a child redirects its viewers itself
		x.dist = d
		e.writeRedirect(vw, r)
	case !d.enabled:
		x.dist = d
		writeText(vw, http.StatusForbidden, msgDisabled)
	case !d.allowedMethods[r.Method]:
		x.dist = d
		writeText(vw, http.StatusForbidden, msgMethod+r.Method)
	case (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.ContentLength != 0:
		// CloudFront's rule ("If a viewer GET request includes a body, CloudFront returns an
		// HTTP status code 403"): a body the cache key cannot see must not shape a response
		// the cache shares. The fast path never sees one (it hands bodies to net/http).
		x.dist = d
		writeText(vw, http.StatusForbidden, msgBodyOnGet+r.Method)
	case r.URL.Path != "" && !strings.HasPrefix(r.URL.Path, "/"):
		// "GET *" and the like name no object (net/http answers "OPTIONS *" itself).
		x.dist = d
		writeText(vw, http.StatusBadRequest, msgBadTarget)
	default:
		x.dist = d
		// A child edge applies the error pages itself (tier.go).
		if tp, ok := normalPath(r.URL); ok {
			res := e.serveDistribution(vw, r, tp, d, rid, child)
			x.cacheStatus, x.aborted = res.Status, res.Aborted
		} else {
			writeText(vw, http.StatusBadRequest, msgBadPath)
		}
	}
	mx.End(vw.status)
	e.logAccess(start, r, vw, x)
	if x.aborted {
		// The origin failed mid-body: end the viewer's connection (HTTP/1) or stream (HTTP/2)
		// without the end of the body, so that the viewer sees the response is incomplete;
		// net/http and the HTTP/2 server treat this panic as exactly that request.
		panic(http.ErrAbortHandler)
	}
}

// logAccess writes the access-log line of a request the edge has answered.
func (e *Edge) logAccess(start time.Time, r *http.Request, vw *viewerWriter, x requestInfo) {
	if e.access != nil {
		e.access.write(accessEntry{at: e.clock.Now(), r: r, status: vw.status, bytes: vw.bytes, dist: x.dist,
			cache: x.cacheStatus, requestID: vw.requestID, elapsed: time.Since(start)})
	}
}

// serveDistribution serves r from d's cache and origin. When the origin answers with a status that
// has a custom error page (and this is not already the error page's own request), the answer is
// held back and the page is served instead.
func (e *Edge) serveDistribution(w *viewerWriter, r *http.Request, tp targetPath, d *distribution, rid string, errorPageRequest bool) httpcache.Result {
	creq, path := e.cacheRequest(r, tp, d, rid)
	// The origin exchange (and a wait for another request's fill) ends when the viewer leaves.
	creq.Out = creq.Out.WithContext(r.Context())
	var target http.ResponseWriter = w
	var held *errorInterceptor
	if len(d.errorPages) > 0 && !errorPageRequest {
		held = &errorInterceptor{ResponseWriter: w, pages: d.errorPages, header: http.Header{}}
		target = held
	}
	res, err := e.cache.Serve(target, creq, d.fetch)
	if err != nil {
		level := e.log.Warn
		if errors.Is(err, httpcache.ErrViewerGone) {
			level = e.log.Debug
		}
		level("edge: request not served normally", "distribution", d.name, "path", path, "request_id", rid, "err", err)
	}
	d.prom.result(res.Status)
	if held != nil && held.intercepted {
		page := e.serveErrorPage(w, r, d, rid, held.status)
		res.Aborted = page.Aborted
	}
	return res
}

// targetPath is a request's path in normal form (package uripath): decoded, for the path
// patterns, and escaped, for the origin and the cache key ("" when the decoded form needs no
// escaping).
type targetPath struct{ path, raw string }

// normalPath puts u's path in normal form: every spelling of a resource is one path, and
// dot-segments, raw or percent-encoded, are resolved before anything matches, forwards or keys on
// it. ok is false for a path that must be refused (see uripath.Normalize).
func normalPath(u *url.URL) (targetPath, bool) {
	escaped := u.EscapedPath()
	if escaped == "" {
		return targetPath{path: "/"}, true // absolute-form without a path
	}
	normal, ok := uripath.Normalize(escaped)
	if !ok {
		return targetPath{}, false
	}
	tp := targetPath{path: normal}
	if strings.IndexByte(normal, '%') >= 0 {
		p, err := url.PathUnescape(normal)
		if err != nil {
			return targetPath{}, false
		}
		tp.path = p
	}
	if escapedPath(tp.path, "") != normal {
		tp.raw = normal
	}
	return tp, true
}

// cacheRequest applies d's root object, cache behaviour and forwarding rules to the viewer request
// r, whose path in normal form is tp: the request the cache serves (and sends to the origin when
// it must), and the resolved path. Its Out carries no context: a caller that may reach the origin
// gives it the viewer's.
func (e *Edge) cacheRequest(r *http.Request, tp targetPath, d *distribution, rid string) (*httpcache.Request, string) {
	path, rawPath := tp.path, tp.raw
	if path == "/" && d.rootObject != "" {
		// defaultRootObject: only the root itself; "/dir/" stays "/dir/" (CloudFront does the same).
		// In normal form too, so that a root object written as "../x" cannot leave the origin's
		// path prefix either.
		path, rawPath = uripath.RemoveDotSegments("/"+d.rootObject), ""
	}
	beh := d.behaviorFor(path)
	or := d.buildOriginRequest(r, path, rawPath, e.via, rid)
	out := &http.Request{
		Method: r.Method, URL: &or.url, Host: or.host, Header: or.header,
		Proto: r.Proto, ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		Body: r.Body, ContentLength: r.ContentLength, RemoteAddr: r.RemoteAddr,
	}
	if r.ContentLength == 0 || r.Body == nil {
		out.Body = http.NoBody
	}
	return &httpcache.Request{Out: out, Namespace: d.id, Key: or.key, Policy: beh.policy}, path
}

// serveErrorPage answers a request whose origin status status has a customErrorResponses page:
// the page is requested from the origin through the cache like any GET for its path (and so
// cached), and sent with the configured responseCode, or with the original status when none is
// configured. If the page itself cannot be had (not a 2xx), its own response goes out unchanged.
func (e *Edge) serveErrorPage(w *viewerWriter, r *http.Request, d *distribution, rid string, status int) httpcache.Result {
	page := d.errorPages[status]
	code := page.responseCode
	if code == 0 {
		code = status
	}
	method := http.MethodGet
	if r.Method == http.MethodHead {
		method = http.MethodHead
	}
	h := r.Header.Clone()
	// The viewer's validators and range were for the resource, not for the error page.
	for _, k := range []string{"If-None-Match", "If-Modified-Since", "If-Range", "Range", "If-Match", "If-Unmodified-Since"} {
		delete(h, k)
	}
	pr := &http.Request{
		Method: method, URL: &url.URL{Path: page.path}, Host: r.Host, Header: h,
		Proto: r.Proto, ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		RemoteAddr: r.RemoteAddr, RequestURI: page.path, Body: http.NoBody,
	}
	pr = pr.WithContext(r.Context())
	w.rewrite = code
	tp, ok := normalPath(pr.URL)
	if !ok {
		writeText(w, http.StatusInternalServerError, msgBadPage)
		return httpcache.Result{Status: httpcache.Error, StatusCode: http.StatusInternalServerError}
	}
	return e.serveDistribution(w, pr, tp, d, rid, true)
}

// viewerWriter is the edge's view of the response: it adds Via and the request id to every final
// response, can replace a 2xx status (error pages), records status and body size, and bounds each
// write to the viewer by the viewer write timeout (see Write).
type viewerWriter struct {
	http.ResponseWriter
	via, requestID string
	rewrite        int // when non-zero, a 2xx status is replaced by it
	// writeTimeout bounds each write to the viewer (0: none). fresh: the deadline in place is
	// the one the server set as the request began (the fast path's hits), good for the first
	// piece; later pieces get their own.
	writeTimeout time.Duration
	fresh        bool
	deadline     time.Time // the write deadline this writer last set
	rc           *http.ResponseController
	// body is the request body, read under the viewer read timeout: a response to a request
	// whose body failed (timed out, malformed) closes the connection (the rest of the body may
	// still come, and must never be read as a next request).
	body *viewerBody
	// closeAfter: the connection ends with this response (Connection: close). Only for HTTP/1: an
	// HTTP/2 stream whose body failed is reset on its own, and "Connection: close" would make the
	// HTTP/2 server wind down the whole connection.
	closeAfter, http1 bool
	// One-element values for Via (when the response has none) and the request id, so that
	// adding them allocates nothing; their capacity is 1, so a writer that appends copies.
	viaValue, ridValue [1]string

	status      int
	bytes       int64
	wroteHeader bool
}

func (w *viewerWriter) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if code >= 200 && !w.fresh {
		w.extendDeadline()
	}
	if code >= 200 {
		h := w.Header()
		if prior := h["Via"]; len(prior) > 0 {
			h["Via"] = append(prior[:len(prior):len(prior)], w.via)
		} else {
			w.viaValue[0] = w.via
			h["Via"] = w.viaValue[:]
		}
		w.ridValue[0] = w.requestID
		h[RequestIDHeader] = w.ridValue[:]
		if w.closeAfter || w.http1 && w.body != nil && w.body.failed() {
			h["Connection"] = []string{"close"}
		}
		if w.rewrite != 0 && code >= 200 && code <= 299 {
			code = w.rewrite
		}
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

// writePiece is the most one write to the viewer carries: a viewer must take this much within
// the write timeout (8.7 KB/s for the default 30 s), or be cut off.
const writePiece = 256 << 10

// Write sends p in pieces of at most writePiece, each with a write deadline at least half of
// writeTimeout ahead (see extendDeadline):
// a viewer that stops reading is cut off after the timeout, one that reads slowly is not, and a
// long body is never bounded as a whole.
func (w *viewerWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n := 0
	for len(p) > 0 {
		piece := p[:min(len(p), writePiece)]
		if w.fresh {
			w.fresh = false
		} else {
			w.extendDeadline()
		}
		m, err := w.ResponseWriter.Write(piece)
		n += m
		w.bytes += int64(m)
		if err != nil {
			return n, err
		}
		p = p[m:]
	}
	return n, nil
}

// extendDeadline sets the connection's (or HTTP/2 stream's) write deadline writeTimeout from now.
// It moves the deadline only once half of the timeout has passed since it last set it: each write
// still has at least half the timeout, and the writes of a large response that is taken quickly
// cost no timer update each.
func (w *viewerWriter) extendDeadline() {
	if w.writeTimeout <= 0 {
		return
	}
	now := time.Now()
	if w.deadline.Sub(now) >= w.writeTimeout/2 {
		return
	}
	w.deadline = now.Add(w.writeTimeout)
	_ = w.controller().SetWriteDeadline(w.deadline)
}

func (w *viewerWriter) controller() *http.ResponseController {
	if w.rc == nil {
		w.rc = http.NewResponseController(w.ResponseWriter)
	}
	return w.rc
}

// viewerBody bounds every read of a request body by the viewer read timeout (when there is one):
// a body that stops arriving is cut off instead of holding the request (and the origin connection
// its bytes feed) forever. It records how the body failed, so that the viewer is told (408 or
// 400) instead of being blamed on the origin. It is read by the origin transport's goroutine;
// deadlines are safe to set from there.
type viewerBody struct {
	io.ReadCloser
	rc      *http.ResponseController
	timeout time.Duration
	fail    atomic.Int32 // bodyOK, bodyTimedOut or bodyMalformed
}

const (
	bodyOK int32 = iota
	bodyTimedOut
	bodyMalformed
)

func (b *viewerBody) Read(p []byte) (int, error) {
	if b.timeout > 0 {
		_ = b.rc.SetReadDeadline(time.Now().Add(b.timeout))
	}
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == nil:
	case err == io.EOF:
		if b.timeout > 0 {
			// The body is complete: net/http's next read on the connection (its check for a
			// hang-up while the handler runs) must not inherit the deadline.
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	case errors.Is(err, os.ErrDeadlineExceeded):
		// The deadline stays: net/http's drain of the rest fails at once and closes the connection.
		b.fail.CompareAndSwap(bodyOK, bodyTimedOut)
	default:
		b.fail.CompareAndSwap(bodyOK, bodyMalformed)
	}
	return n, err
}

func (b *viewerBody) failed() bool { return b.fail.Load() != bodyOK }

// cause is the error an origin exchange that failed while sending this body is reported as:
// the viewer's fault, not the origin's.
func (b *viewerBody) cause() error {
	switch b.fail.Load() {
	case bodyTimedOut:
		return httpcache.ErrRequestTimeout
	case bodyMalformed:
		return httpcache.ErrRequestBody
	}
	return nil
}

func (w *viewerWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *viewerWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// errorInterceptor holds back the header section until the status is known. A status with a custom
// error page is swallowed, header and body (the cache still reads the origin's body, and stores
// it for errorCachingMinTTL); any other passes through.
type errorInterceptor struct {
	http.ResponseWriter
	pages       map[int]errorPage
	header      http.Header
	status      int
	wroteHeader bool
	intercepted bool
}

func (w *errorInterceptor) Header() http.Header { return w.header }

func (w *errorInterceptor) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	if _, ok := w.pages[code]; ok {
		w.status, w.wroteHeader, w.intercepted = code, true, true
		return
	}
	dst := w.ResponseWriter.Header()
	for k, v := range w.header {
		dst[k] = v
	}
	if code >= 200 {
		w.status, w.wroteHeader = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *errorInterceptor) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.intercepted {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

func (w *errorInterceptor) Flush() {
	if w.intercepted {
		return
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *errorInterceptor) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writeText writes a short response the edge generates itself. X-Cache says "Error" as CloudFront's
// does for its own refusals.
func writeText(w http.ResponseWriter, status int, msg string) {
	body := msg + "\n"
	h := w.Header()
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	h["Cache-Control"] = []string{"no-store"}
	h["X-Cache"] = []string{"Error from sailcdn"}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

var (
	_ http.Flusher = (*viewerWriter)(nil)
	_ http.Flusher = (*errorInterceptor)(nil)
)
