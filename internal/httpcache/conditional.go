package httpcache

import (
	"net/http"
	"strings"
	"time"
)

// validators is what a viewer's conditional request is evaluated against.
type validators struct {
	status     int
	etag       string
	lastMod    time.Time
	hasLastMod bool
	date       time.Time
}

func (e *entry) validators() validators {
	return validators{status: e.status, etag: e.etag, lastMod: e.lastModTime, hasLastMod: e.hasLastMod, date: e.dateValue}
}

// hasViewerConditional reports whether the request carries a precondition this cache evaluates.
func hasViewerConditional(h http.Header) bool {
	_, inm := h["If-None-Match"]
	_, ims := h["If-Modified-Since"]
	return inm || ims
}

// hasOriginOnlyPrecondition reports preconditions the cache leaves to the origin: If-Match and
// If-Unmodified-Since guard state changes and a cached copy cannot prove the origin's current
// state (RFC 9111 §4.3.2: a cache must not evaluate preconditions meant for the origin).
func hasOriginOnlyPrecondition(h http.Header) bool {
	_, im := h["If-Match"]
	_, ius := h["If-Unmodified-Since"]
	return im || ius
}

// notModified evaluates a viewer's If-None-Match / If-Modified-Since against a response the cache
// holds (RFC 9111 §4.3.2, RFC 9110 §13.2.2): If-None-Match takes precedence and uses the weak
// comparison; If-Modified-Since compares with Last-Modified or, failing that, Date. Only GET and
// HEAD, and only a stored 200, can be answered with 304.
func notModified(method string, h http.Header, v validators, now time.Time) bool {
	if method != http.MethodGet && method != http.MethodHead || v.status != http.StatusOK {
		return false
	}
	if inm, ok := h["If-None-Match"]; ok {
		return etagListMatches(inm, v.etag)
	}
	ims := h["If-Modified-Since"]
	// RFC 9110 §13.1.3: ignore the field unless it is one valid HTTP-date.
	if len(ims) != 1 {
		return false
	}
	t, ok := parseHTTPDate(ims[0], now)
	if !ok {
		return false
	}
	last := v.date
	if v.hasLastMod {
		last = v.lastMod
	}
	return !last.After(t)
}

// etagListMatches reports whether any entity-tag in the If-None-Match lines matches etag under
// the weak comparison (RFC 9110 §8.8.3.2). "*" matches any current representation. Parsing is
// lenient about missing quotes and the case of the weakness flag: such tags are common in the
// wild and comparing their opaque parts cannot match the wrong representation.
func etagListMatches(lines []string, etag string) bool {
	if etag == "" {
		for _, l := range lines {
			if strings.TrimSpace(l) == "*" {
				return true
			}
		}
		return false
	}
	want := opaqueTag(etag)
	for _, line := range lines {
		for tag := range splitETags(line) {
			if tag == "*" || opaqueTag(tag) == want {
				return true
			}
		}
	}
	return false
}

// splitETags yields the members of an entity-tag list, splitting on commas outside quotes.
func splitETags(s string) func(func(string) bool) {
	return func(yield func(string) bool) {
		start, inQuote := 0, false
		for i := 0; i <= len(s); i++ {
			if i < len(s) {
				if s[i] == '"' {
					inQuote = !inQuote
				}
				if s[i] != ',' || inQuote {
					continue
				}
			}
			if t := strings.TrimSpace(s[start:i]); t != "" {
				if !yield(t) {
					return
				}
			}
			start = i + 1
		}
	}
}

// opaqueTag strips the weakness flag and the quotes of an entity-tag (RFC 9110 §8.8.3).
func opaqueTag(t string) string {
	t = strings.TrimSpace(t)
	if len(t) >= 2 && (t[0] == 'W' || t[0] == 'w') && t[1] == '/' {
		t = t[2:]
	}
	if len(t) >= 2 && t[0] == '"' && t[len(t)-1] == '"' {
		t = t[1 : len(t)-1]
	}
	return t
}

// isStrongETag reports whether a stored ETag value is a strong validator.
func isStrongETag(t string) bool {
	t = strings.TrimSpace(t)
	return t != "" && !(len(t) >= 2 && (t[0] == 'W' || t[0] == 'w') && t[1] == '/')
}

// notModifiedFields are the fields a 304 generated from a stored response carries: those RFC 9110
// §15.4.5 requires (Content-Location, Date, ETag, Vary, Cache-Control, Expires) plus
// Last-Modified, which guides cache updates when there is no ETag.
var notModifiedFields = []string{"Cache-Control", "Cdn-Cache-Control", "Content-Location", "Date", "Etag", "Expires", "Last-Modified", "Vary"}
