package httpcache

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"
)

// Defaults for Config fields left zero.
const (
	DefaultMaxBytes        = 256 << 20
	DefaultMaxBufferedBody = 8 << 20
	DefaultMaxInFlight     = 64 << 20
)

// Config configures a Cache. The zero value is usable.
type Config struct {
	// MaxBytes is the byte budget for stored responses (header fields, body and a fixed
	// per-entry overhead). Least valuable entries are evicted beyond it (otter's W-TinyLFU).
	// Default 256 MiB.
	MaxBytes int64
	// MaxBufferedBody is the largest body the cache buffers in memory, and so the largest it
	// stores: the most one origin fetch holds. Larger bodies are streamed to the viewer as they
	// arrive from the origin and are not stored. Default 8 MiB.
	MaxBufferedBody int64
	// MaxInFlight bounds the bytes all fills in progress hold together (bodies being read for
	// storage and for the viewers that follow them, see fill.go). A fill that would exceed it
	// gives up storing its body. Default 64 MiB.
	MaxInFlight int64
	// Now is the clock for every age and freshness computation. nil means time.Now. It should
	// agree with the origins' clocks (their Date fields): an offset clock makes apparent_age
	// (RFC 9111 §4.2.3) large and every response arrive stale.
	Now func() time.Time
	// Logger receives origin failures and store decisions at debug level. nil discards.
	Logger *slog.Logger
}

// Policy is the per-request caching policy, from the Lightsail distribution's
// cacheBehaviorSettings. The zero Policy is a pure RFC 9111 shared cache for GET and HEAD.
type Policy struct {
	// DefaultTTL is the freshness given to a response whose origin sends no explicit freshness
	// (no s-maxage, max-age or Expires) and whose status code allows heuristic freshness
	// (RFC 9110 §15.1) or which is marked public: it replaces the Last-Modified 10% heuristic,
	// as CloudFront's default TTL does. 0 keeps the RFC 9111 §4.2.2 heuristic.
	DefaultTTL time.Duration
	// MinTTL raises every stored response's freshness to at least this. When above zero it also
	// overrides the origin's no-cache, no-store and private (CloudFront semantics: "CloudFront
	// caches content for at least the minimum TTL even if the Cache-Control: no-cache, no-store,
	// or private directives are present"). It never overrides a request's Authorization
	// (RFC 9111 §3.5), a request's no-store, or Vary: *, and never applies to an error response
	// (status >= 400), which keeps exactly the freshness it states or ErrorTTL: a minimum TTL is
	// for content, not for stretching a failure. With MinTTL 0 the cache is pure RFC 9111.
	MinTTL time.Duration
	// MaxTTL caps every stored response's freshness. 0 means no cap.
	MaxTTL time.Duration
	// ErrorTTL is the freshness of an error response (status >= 400) that states none of its own,
	// replacing DefaultTTL for errors: CloudFront caches errors for 10 s by default rather than
	// for its default TTL. It applies to the statuses a cache may store heuristically or that
	// CloudFront always caches (404, 405, 410, 500, 501, 502, 503, 504) and to errors marked
	// public; any other error without explicit freshness (403, 599…) is not stored. 0 leaves
	// errors to the rules above.
	ErrorTTL time.Duration
	// ErrorTTLs forces the freshness of the listed error statuses, whatever the origin said
	// (Lightsail's customErrorResponses errorCachingMinTTL): the response is stored for that long
	// even under no-cache, no-store or private. MaxTTL still caps it.
	//
	// Neither ErrorTTL nor ErrorTTLs ever stores an error that blames the request (400, 408, 411,
	// 413, 414, 417, 429, 431): see blamesTheRequest.
	ErrorTTLs map[int]time.Duration
	// CachedMethods lists the methods whose responses are cached, e.g. {"GET","HEAD"} (HEAD is
	// answered from the stored GET response) or {"GET","HEAD","OPTIONS"} (OPTIONS responses are
	// stored under their own method; RFC 9110 §9.3.7 makes them uncacheable by default, so
	// listing OPTIONS is the operator's explicit opt-in). nil means GET and HEAD.
	CachedMethods []string
	// Bypass passes every request to the origin and stores nothing (behaviour "dont-cache").
	// Unsafe methods still invalidate stored responses for their target (RFC 9111 §4.4).
	Bypass bool
}

// cachesMethod reports whether the policy caches responses to method m.
func (p *Policy) cachesMethod(m string) bool {
	if p.CachedMethods == nil {
		return m == http.MethodGet || m == http.MethodHead
	}
	return slices.ContainsFunc(p.CachedMethods, func(s string) bool { return strings.EqualFold(s, m) })
}

// storageMethod returns the method under which a request's response is stored and looked up:
// GET for GET and HEAD (a HEAD is answered from the GET response, RFC 9110 §9.3.2), OPTIONS for
// OPTIONS, and ok=false when the policy does not cache the method.
func (p *Policy) storageMethod(m string) (string, bool) {
	switch m {
	case http.MethodGet:
		return http.MethodGet, p.cachesMethod(m)
	case http.MethodHead:
		return http.MethodGet, p.cachesMethod(http.MethodHead) && p.cachesMethod(http.MethodGet)
	case http.MethodOptions:
		return http.MethodOptions, p.cachesMethod(m)
	}
	return "", false
}

// Request is one viewer request as the edge hands it to the cache.
type Request struct {
	// Out is the request as it will be sent to the origin: the edge has already chosen the
	// origin URL and filtered headers, cookies and query strings. Its context is the viewer's.
	// The viewer's Cache-Control, If-None-Match, If-Modified-Since, If-Range and Range must be
	// left in Out: the cache answers them itself and decides which of them reach the origin.
	// Serve does not modify Out; it clones it when the origin request must differ.
	Out *http.Request
	// Namespace is the unit Purge removes, the distribution id.
	Namespace string
	// Key is the edge's primary cache key (host, path, forwarded query, headers and cookies),
	// independent of the method: the cache adds the method and the Vary secondary key.
	Key    string
	Policy Policy
}

// Fetcher performs one exchange with the origin. It must return the response with its body
// unread and uncompressed as sent (an http.Transport with DisableCompression, or one given an
// Accept-Encoding, leaves it so), and must bound the exchange with its own timeouts: a shared fill
// runs on a context that no viewer can cancel.
type Fetcher func(ctx context.Context, req *http.Request) (*http.Response, error)

// CacheStatus says how a response was produced.
type CacheStatus uint8

const (
	// Miss: the response came from the origin (a fill, or a revalidation that returned a new
	// response).
	Miss CacheStatus = iota + 1
	// Hit: served from storage without contacting the origin, or stale on origin failure.
	Hit
	// RefreshHit: a stored response was revalidated with the origin (304) and served.
	RefreshHit
	// Error: the cache generated an error (origin unreachable: 502/504, only-if-cached: 504),
	// or a fill forwarded an origin error status (>= 400), as CloudFront reports it.
	Error
	// Pass: the request bypassed the cache (dont-cache behaviour, unsafe or uncached method,
	// Range or precondition the cache leaves to the origin). Reported to viewers as Miss.
	Pass
)

var statusNames = [...]string{Miss: "Miss", Hit: "Hit", RefreshHit: "RefreshHit", Error: "Error", Pass: "Pass"}

func (s CacheStatus) String() string {
	if int(s) < len(statusNames) && statusNames[s] != "" {
		return statusNames[s]
	}
	return "Unknown"
}

// X-Cache values, shared by every response (a downstream writer that appends to a header slice
// gets a copy because cap == len).
var xCacheValues = [...][]string{
	Miss:       {"Miss from sailcdn"},
	Hit:        {"Hit from sailcdn"},
	RefreshHit: {"RefreshHit from sailcdn"},
	Error:      {"Error from sailcdn"},
	Pass:       {"Miss from sailcdn"},
}

// Result describes what Serve did.
type Result struct {
	Status     CacheStatus
	StatusCode int  // status code written to the viewer (0 if the viewer left before any)
	Stored     bool // this request stored or freshened a response
	// Aborted: the viewer's response was cut short after its header section went out (the
	// origin failed mid-body). The caller must abort the viewer's connection rather than end
	// the response normally — in an http.Handler, panic(http.ErrAbortHandler), as
	// httputil.ReverseProxy does — because a chunked response ended cleanly would look complete.
	Aborted bool
}

// Errors Serve returns (wrapped) after it has written an error response.
var (
	// ErrOrigin: the origin could not be reached or the exchange failed.
	ErrOrigin = errors.New("httpcache: origin exchange failed")
	// ErrViewerGone: the viewer's context ended while it waited for a shared fill.
	ErrViewerGone = errors.New("httpcache: viewer went away")
	// ErrRequestTimeout: a Fetcher returns an error wrapping it when the exchange failed because
	// the viewer's request body stopped arriving; Serve then answers 408 rather than blaming the
	// origin.
	ErrRequestTimeout = errors.New("httpcache: the viewer's request body timed out")
	// ErrRequestBody: likewise for a request body that could not be read as framed (a malformed
	// chunk); Serve answers 400.
	ErrRequestBody = errors.New("httpcache: the viewer's request body is malformed")
)

// Stats are counters for /metrics.
type Stats struct {
	Bytes       int64 // weighted bytes currently stored
	Entries     int64 // stored resources (a resource holds the variants of one URI)
	Hits        int64
	Misses      int64
	RefreshHits int64
	Errors      int64
	Passes      int64
	Collapsed   int64 // requests that waited for another request's origin fetch instead of their own
	InFlight    int64 // bytes held now by fills in progress (bounded by Config.MaxInFlight)
}

// Cache is an RFC 9111 shared cache. It is safe for concurrent use.
type Cache struct {
	maxBytes    int64
	maxBuffered int64
	maxInFlight int64
	inflight    atomic.Int64 // bytes held by fills in progress
	now         func() time.Time
	log         *slog.Logger

	store *otter.Cache[resourceKey, *resource]

	// gens maps a namespace to its purge generation; copy-on-write so that lookups read it
	// without locking. gensMu serialises writers.
	gens   atomic.Pointer[map[string]uint64]
	gensMu sync.Mutex

	flightsMu sync.Mutex // guards flights
	flights   map[flightKey]*flight

	background sync.WaitGroup // stale-while-revalidate revalidations and fills

	hits, misses, refreshHits, errors, passes, collapsed atomic.Int64
}

// New returns a Cache.
func New(cfg Config) *Cache {
	c := &Cache{
		maxBytes:    cfg.MaxBytes,
		maxBuffered: cfg.MaxBufferedBody,
		maxInFlight: cfg.MaxInFlight,
		now:         cfg.Now,
		log:         cfg.Logger,
		flights:     make(map[flightKey]*flight),
	}
	if c.maxBytes <= 0 {
		c.maxBytes = DefaultMaxBytes
	}
	if c.maxBuffered <= 0 {
		c.maxBuffered = DefaultMaxBufferedBody
	}
	if c.maxInFlight <= 0 {
		c.maxInFlight = DefaultMaxInFlight
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	empty := map[string]uint64{}
	c.gens.Store(&empty)
	c.store = otter.Must(&otter.Options[resourceKey, *resource]{
		MaximumWeight: uint64(c.maxBytes),
		Weigher:       func(_ resourceKey, r *resource) uint32 { return r.weight },
	})
	return c
}

// Purge removes everything stored for namespace (ResetDistributionCache). The namespace's
// generation moves first, so from the moment Purge is called no lookup sees an older response
// and a fill that started earlier cannot store one; the old entries are then deleted.
func (c *Cache) Purge(namespace string) {
	c.gensMu.Lock()
	next := maps.Clone(*c.gens.Load())
	next[namespace]++
	gen := next[namespace]
	c.gens.Store(&next)
	c.gensMu.Unlock()
	for k := range c.store.Keys() {
		if k.ns == namespace && k.gen < gen {
			c.store.Invalidate(k)
		}
	}
}

func (c *Cache) generation(namespace string) uint64 {
	return (*c.gens.Load())[namespace]
}

// Stats returns current counters.
func (c *Cache) Stats() Stats {
	return Stats{
		Bytes:       int64(c.store.WeightedSize()),
		Entries:     int64(c.store.EstimatedSize()),
		Hits:        c.hits.Load(),
		Misses:      c.misses.Load(),
		RefreshHits: c.refreshHits.Load(),
		Errors:      c.errors.Load(),
		Passes:      c.passes.Load(),
		Collapsed:   c.collapsed.Load(),
		InFlight:    c.inflight.Load(),
	}
}

func (c *Cache) count(s CacheStatus) {
	switch s {
	case Hit:
		c.hits.Add(1)
	case Miss:
		c.misses.Add(1)
	case RefreshHit:
		c.refreshHits.Add(1)
	case Error:
		c.errors.Add(1)
	case Pass:
		c.passes.Add(1)
	}
}
