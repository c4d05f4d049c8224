package httpcache

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sailcdn/sailcdn/internal/hopbyhop"
)

// entry is one stored response (one variant). It is immutable once built: a 304 that freshens
// it produces a new entry, so readers never need a lock.
type entry struct {
	method string // storage method: GET (also serves HEAD) or OPTIONS
	key    string // the edge's primary key

	// Secondary key (RFC 9111 §4.1): the Vary'd request headers and their normalised values.
	varyNames       []string
	varyValues      []string
	contentLanguage string // for Accept-Language selection

	status int
	header http.Header   // stored header section: hop-by-hop and Age removed, Date present
	fields []headerField // header as a slice, copied to the viewer on every hit
	body   []byte

	etag         string // stored ETag field value, verbatim ("" when none)
	lastModified string // stored Last-Modified field value, verbatim
	lastModTime  time.Time
	hasLastMod   bool
	dateValue    time.Time

	requestTime, responseTime time.Time
	correctedAge              time.Duration // corrected_initial_age (RFC 9111 §4.2.3)
	lifetime                  time.Duration // freshness lifetime after the policy clamp

	noCache        bool          // unqualified no-cache: validate before every reuse
	mustRevalidate bool          // must-revalidate, proxy-revalidate or s-maxage: never serve stale
	swr, sie       time.Duration // stale-while-revalidate / stale-if-error windows; -1 when absent

	size int64 // bytes charged against Config.MaxBytes
}

type headerField struct {
	key    string
	values []string
}

// entryOverhead approximates the per-entry memory beyond header and body bytes (struct, slices,
// map buckets), so that many tiny entries still count against the budget.
const entryOverhead = 512

// sanitizeHeader returns a copy of h without hop-by-hop fields (package hopbyhop), including
// those that the Connection field names. Value slices are clipped so that a later append by a downstream writer
// can never write into memory shared with a stored entry.
func sanitizeHeader(h http.Header) http.Header {
	listed := hopbyhop.Listed(h)
	out := make(http.Header, len(h))
	for k, v := range h {
		if hopbyhop.Is(k) || slices.Contains(listed, k) {
			continue
		}
		out[k] = slices.Clip(slices.Clone(v))
	}
	return out
}

// bodyAllowed reports whether a response with this status carries content (RFC 9110 §6.4.1).
func bodyAllowed(status int) bool {
	return status >= 200 && status != 204 && status != 304
}

// unsharedFields are response fields addressed to one viewer, never stored in the shared cache.
var unsharedFields = []string{"Set-Cookie", "Set-Cookie2"}

// entryInput is what newEntry needs besides the analysed response.
type entryInput struct {
	method    string
	key       string
	reqHeader http.Header
	info      *respInfo
	body      []byte
}

// newEntry builds the stored form of a response whose body has been read completely.
func newEntry(in entryInput) *entry {
	info := in.info
	h := make(http.Header, len(info.header)+1)
	for k, v := range info.header {
		h[k] = v
	}
	// The cache computes Age itself on every reuse (RFC 9111 §5.1); the origin's value lives on
	// in correctedAge.
	delete(h, "Age")
	// One viewer's cookie is never replayed to another: the viewer whose request filled the entry got
	// the origin's Set-Cookie; the shared copy does not keep it (RFC 6265 §8 and RFC 9111 §7 warn of
	// exactly this; CDNs that cache responses with Set-Cookie strip it or do not cache).
	for _, f := range unsharedFields {
		delete(h, f)
	}
	// RFC 9111 §5.2.2.4 / §5.2.2.7: fields named by qualified no-cache or private are not stored.
	for _, f := range info.cc.noCacheFields {
		delete(h, f)
	}
	for _, f := range info.cc.privateFields {
		delete(h, f)
	}
	// RFC 9110 §6.6.1: a cache that receives a response without Date records the receipt time.
	if _, ok := h["Date"]; !ok {
		h["Date"] = []string{info.responseTime.UTC().Format(http.TimeFormat)}
	}
	if bodyAllowed(info.status) {
		// The stored body is exactly what was read, so its length is authoritative.
		h["Content-Length"] = []string{strconv.Itoa(len(in.body))}
	} else {
		delete(h, "Content-Length")
	}

	e := &entry{
		method:       in.method,
		key:          in.key,
		varyNames:    info.vary,
		varyValues:   secondaryKey(info.vary, in.reqHeader),
		status:       info.status,
		header:       h,
		body:         in.body,
		dateValue:    info.dateValue,
		requestTime:  info.requestTime,
		responseTime: info.responseTime,
		correctedAge: info.correctedAge,
		lifetime:     info.lifetime,
		noCache:      info.cc.noCache,
		// RFC 9111 §5.2.2.10: s-maxage also carries proxy-revalidate semantics for a shared cache.
		mustRevalidate: info.cc.mustRevalidate || info.cc.proxyRevalidate || info.cc.sMaxAge != absent,
		swr:            durationOrAbsent(info.cc.staleWhileRevalidate),
		sie:            durationOrAbsent(info.cc.staleIfError),
	}
	if v := h["Etag"]; len(v) > 0 {
		e.etag = v[0]
	}
	if v := h["Last-Modified"]; len(v) > 0 {
		e.lastModified = v[0]
		e.lastModTime, e.hasLastMod = parseHTTPDate(v[0], info.responseTime)
	}
	if v := h["Content-Language"]; len(v) == 1 && !strings.Contains(v[0], ",") {
		e.contentLanguage = strings.TrimSpace(v[0])
	}
	e.fields = make([]headerField, 0, len(h))
	size := int64(entryOverhead + len(in.key) + len(in.body))
	for k, v := range h {
		e.fields = append(e.fields, headerField{key: k, values: v})
		size += int64(len(k)) + 32
		for _, s := range v {
			size += int64(len(s)) + 16
		}
	}
	for _, v := range e.varyValues {
		size += int64(len(v)) + 16
	}
	e.size = size
	return e
}

func durationOrAbsent(n int64) time.Duration {
	if n == absent {
		return -1
	}
	return seconds(n)
}

// currentAge is RFC 9111 §4.2.3's current_age at now.
func (e *entry) currentAge(now time.Time) time.Duration {
	resident := max(0, now.Sub(e.responseTime))
	return e.correctedAge + resident
}

// mergeNotModified builds the header section of a stored response freshened by a 304 (RFC 9111
// §3.2 and §4.3.4): every field in the 304 replaces the stored one, except Content-Length (the
// 304 describes no content) and the hop-by-hop fields sanitizeHeader already removed. A 304
// without Date gets the time it was received, so the freshened entry's age restarts from the
// validation rather than from the original response (RFC 9110 §6.6.1).
func mergeNotModified(stored, notModified http.Header, received time.Time) http.Header {
	out := make(http.Header, len(stored)+len(notModified))
	for k, v := range stored {
		out[k] = v
	}
	for k, v := range notModified {
		if k == "Content-Length" || slices.Contains(unsharedFields, k) {
			continue
		}
		out[k] = v
	}
	if _, ok := notModified["Date"]; !ok {
		out["Date"] = []string{received.UTC().Format(http.TimeFormat)}
	}
	return out
}
