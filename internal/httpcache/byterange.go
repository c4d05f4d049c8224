package httpcache

import (
	"net/http"
	"strings"
	"time"
)

type rangeOutcome uint8

const (
	rangeIgnore        rangeOutcome = iota // serve the whole representation with 200
	rangePartial                           // serve one range with 206
	rangeUnsatisfiable                     // 416
)

// parseByteRange interprets a Range field against a representation of size bytes (RFC 9110
// §14.1.2, §14.2). Only a single byte range is served; a syntactically invalid field, another
// unit, or several ranges make the cache ignore Range and send the full 200, which RFC 9110
// §14.2 permits ("a server MAY ignore the Range header field").
func parseByteRange(lines []string, size int64) (start, length int64, out rangeOutcome) {
	if len(lines) != 1 {
		return 0, 0, rangeIgnore
	}
	s := strings.TrimSpace(lines[0])
	if len(s) < 6 || !strings.EqualFold(s[:6], "bytes=") {
		return 0, 0, rangeIgnore
	}
	spec := strings.TrimSpace(s[6:])
	if spec == "" || strings.Contains(spec, ",") {
		return 0, 0, rangeIgnore
	}
	first, last, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, 0, rangeIgnore
	}
	first, last = strings.TrimSpace(first), strings.TrimSpace(last)
	if first == "" {
		// suffix-range: the last N bytes
		n, ok := parseRangeInt(last)
		if !ok {
			return 0, 0, rangeIgnore
		}
		if n == 0 || size == 0 {
			return 0, 0, rangeUnsatisfiable
		}
		n = min(n, size)
		return size - n, n, rangePartial
	}
	f, ok := parseRangeInt(first)
	if !ok {
		return 0, 0, rangeIgnore
	}
	l := size - 1
	if last != "" {
		if l, ok = parseRangeInt(last); !ok || l < f {
			return 0, 0, rangeIgnore
		}
	}
	if f >= size {
		return 0, 0, rangeUnsatisfiable
	}
	l = min(l, size-1)
	return f, l - f + 1, rangePartial
}

// parseRangeInt parses 1*DIGIT, refusing values that would overflow int64.
func parseRangeInt(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int64(s[i]-'0')
	}
	return n, true
}

// ifRangeAllows evaluates If-Range (RFC 9110 §13.1.5): the range applies only when the validator
// names the stored representation, by strong entity-tag comparison or an exactly equal
// Last-Modified date.
func ifRangeAllows(h http.Header, e *entry, now time.Time) bool {
	lines, ok := h["If-Range"]
	if !ok {
		return true
	}
	if len(lines) != 1 {
		return false
	}
	v := strings.TrimSpace(lines[0])
	if strings.HasPrefix(v, "\"") || strings.HasPrefix(v, "W/") {
		return isStrongETag(v) && isStrongETag(e.etag) && opaqueTag(v) == opaqueTag(e.etag)
	}
	t, ok := parseHTTPDate(v, now)
	return ok && e.hasLastMod && t.Equal(e.lastModTime)
}
