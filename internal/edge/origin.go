package edge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/sailcdn/sailcdn/internal/httpcache"
)

const (
	// defaultOriginTimeout is Lightsail's default responseTimeout (30 s) for rows stored without one.
	defaultOriginTimeout = 30 * time.Second
	// defaultErrorTTL is how long an error response without explicit freshness is cached: CloudFront's
	// default error caching minimum TTL (10 s), which is also the model's default errorCachingMinTTL.
	defaultErrorTTL = 10 * time.Second
	// connectTimeout bounds TCP connection setup to an origin (CloudFront's default connection timeout).
	connectTimeout = 10 * time.Second
)

// Errors of an origin exchange. httpcache answers a failed exchange with 504 when the error is a
// context.DeadlineExceeded (or a net.Error timeout) and with 502 otherwise, so the timeout wraps
// context.DeadlineExceeded and everything else does not.
var (
	errOriginTimeout     = fmt.Errorf("origin timed out: %w", context.DeadlineExceeded)
	errOriginUnreachable = errors.New("origin unreachable")
)

// NewTransport returns the http.Transport the edge uses for every origin when Config.Transport is
// nil: one pool for all distributions, with bounds that keep a busy origin from exhausting file
// descriptors while keeping enough idle connections for keep-alive to matter. It never asks for
// compression (httpcache needs bodies as sent) and never uses a proxy from the environment.
func NewTransport() *http.Transport {
	return &http.Transport{
		DialContext:            (&net.Dialer{Timeout: connectTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:           512,
		MaxIdleConnsPerHost:    64,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    connectTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		DisableCompression:     true,
	}
}

// fetcher returns the httpcache.Fetcher for d: one exchange with d's origin — or with the edge's
// parent (tier.go), which fetches from the origin in turn — bounded by responseTimeout as
// CloudFront's origin response timeout is: the time to the first byte of the response, and then the
// time between two reads of its body.
func (e *Edge) fetcher(d *distribution) httpcache.Fetcher {
	return func(ctx context.Context, req *http.Request) (*http.Response, error) {
		if d.origin.base == nil {
			return nil, fmt.Errorf("%w: %s", errOriginUnreachable, d.origin.missing)
		}
		if e.tier.parent != nil {
			resp, err := e.exchange(ctx, e.tier.toParent(ctx, req, d), d.origin.timeout+parentTimeoutMargin)
			if err == nil || !parentUnreachable(err) || req.ContentLength != 0 || ctx.Err() != nil {
				if err == nil {
					e.parentDown.Store(false)
					d.forward.filterSetCookie(resp.Header)
				}
				return resp, err
			}
			if !e.parentDown.Swap(true) {
				e.log.Warn("edge: the parent edge cannot be reached; fetching misses from the origins until it can", "parent", e.tier.parent.String(), "err", err)
			}
		}
		// The meter counts what this exchange writes to its origin connection for d (and as uploaded
		// for POST and PUT). What goes to a parent above is not: the parent meters its own origin
		// fetch (tier.go, "Metering").
		resp, err := e.exchange(e.meter.OriginContext(ctx, d.id, req.Method), req, d.origin.timeout)
		if err != nil {
			return nil, err
		}
		d.forward.filterSetCookie(resp.Header)
		return resp, nil
	}
}

// exchange sends req and watches the answer: the first byte within timeout (each piece of a request
// body sent restarting it), then each read of the body within timeout.
func (e *Edge) exchange(parent context.Context, req *http.Request, timeout time.Duration) (*http.Response, error) {
	ctx, cancel := context.WithCancel(parent)
	wd := &watchdog{cancel: cancel, timeout: timeout}
	wd.timer = time.AfterFunc(wd.timeout, wd.fire)
	out := req.WithContext(ctx)
	viewer, _ := req.Body.(*viewerBody)
	if req.Body != nil && req.Body != http.NoBody {
		// An upload in progress is not the origin's silence: each read of it restarts the
		// watchdog, so a slow viewer's large upload is not cut at responseTimeout, while an
		// origin that stops taking the body still is.
		out.Body = &progressBody{ReadCloser: req.Body, wd: wd}
	}
	resp, err := e.transport.RoundTrip(out)
	wd.timer.Stop()
	if err != nil {
		cancel()
		if viewer != nil && viewer.cause() != nil {
			return nil, fmt.Errorf("%w: %w", viewer.cause(), err)
		}
		if wd.fired.Load() {
			return nil, fmt.Errorf("%w after %s: %s", errOriginTimeout, wd.timeout, req.URL.Redacted())
		}
		if parent.Err() != nil {
			return nil, err // the caller's context ended: nobody waits for an answer
		}
		return nil, fmt.Errorf("%w: %w", errOriginUnreachable, err)
	}
	resp.Body = &watchedBody{ReadCloser: resp.Body, wd: wd}
	return resp, nil
}

// watchdog cancels an exchange whose origin stays silent for longer than the timeout.
type watchdog struct {
	timer   *time.Timer
	timeout time.Duration
	cancel  context.CancelFunc
	fired   atomic.Bool
}

func (w *watchdog) fire() {
	w.fired.Store(true)
	w.cancel()
}

// progressBody restarts the watchdog at every read of the request body being sent.
type progressBody struct {
	io.ReadCloser
	wd *watchdog
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 && !b.wd.fired.Load() {
		b.wd.timer.Reset(b.wd.timeout)
	}
	return n, err
}

// watchedBody runs the watchdog while a read waits for the origin, and only then: the time the
// cache spends delivering to a slow viewer between reads is not the origin's.
type watchedBody struct {
	io.ReadCloser
	wd *watchdog
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.wd.timer.Reset(b.wd.timeout)
	n, err := b.ReadCloser.Read(p)
	b.wd.timer.Stop()
	if err != nil && err != io.EOF && b.wd.fired.Load() {
		err = fmt.Errorf("%w while reading the body", errOriginTimeout)
	}
	return n, err
}

func (b *watchedBody) Close() error {
	b.wd.timer.Stop()
	err := b.ReadCloser.Close()
	b.wd.cancel()
	return err
}
