package httpcache

import (
	"net/http"
	"strings"
)

// maxDelta is the value a delta-seconds that overflows is taken to be: RFC 9111 §1.2.2 says a
// cache MUST consider a delta-seconds it cannot represent (or whose arithmetic overflows) to be
// 2147483648 (2^31), which keeps every later addition inside int64 nanoseconds.
const maxDelta = 1 << 31

// absent marks a delta-seconds directive that was not present.
const absent = -1

// directives are the Cache-Control directives this cache acts on (RFC 9111 §5.2), parsed from
// either a request or a response. Delta values are seconds, absent (-1) when the directive was
// not given. A directive with an invalid argument (max-age=-1, max-age='3') counts as present
// with value 0: RFC 9111 §4.2.1 lets a cache consider such a response stale, which is the safe
// reading.
type directives struct {
	maxAge, sMaxAge      int64
	maxStale, minFresh   int64
	staleWhileRevalidate int64
	staleIfError         int64
	maxStaleAny          bool // max-stale without a value: any staleness is acceptable
	noCache, noStore     bool
	private, public      bool
	mustRevalidate       bool
	proxyRevalidate      bool
	mustUnderstand       bool
	onlyIfCached         bool
	noCacheFields        []string // qualified no-cache="a, b": canonical field names
	privateFields        []string // qualified private="a": canonical field names
}

func newDirectives() directives {
	return directives{
		maxAge: absent, sMaxAge: absent, maxStale: absent, minFresh: absent,
		staleWhileRevalidate: absent, staleIfError: absent,
	}
}

// parseCacheControl parses every Cache-Control field line in values (RFC 9111 §5.2:
// #cache-directive, token [ "=" ( token / quoted-string ) ], names case-insensitive). When a
// directive repeats, the first occurrence wins (RFC 9111 §4.2.1 allows "first occurrence").
// A malformed directive (for example "max-age =3600", which puts whitespace where the grammar
// allows none) is skipped up to the next comma: ignoring it is what RFC 9111 §5.2 asks of
// unrecognised input. It never allocates for unqualified directives.
func parseCacheControl(values []string) directives {
	d := newDirectives()
	seen := uint32(0)
	for _, line := range values {
		parseCacheControlLine(line, &d, &seen)
	}
	return d
}

// Bits of the seen mask, so that the first occurrence of a directive wins.
const (
	seenMaxAge uint32 = 1 << iota
	seenSMaxAge
	seenMaxStale
	seenMinFresh
	seenSWR
	seenSIE
)

func parseCacheControlLine(s string, d *directives, seen *uint32) {
	i := 0
	for i < len(s) {
		// Skip OWS and empty list elements (RFC 9110 §5.6.1 lets recipients ignore them).
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == ',') {
			i++
		}
		if i >= len(s) {
			return
		}
		start := i
		for i < len(s) && isTokenChar(s[i]) {
			i++
		}
		name := s[start:i]
		var value string
		hasValue, quoted, ok := false, false, len(name) > 0
		if ok && i < len(s) && s[i] == '=' {
			i++
			hasValue = true
			if i < len(s) && s[i] == '"' {
				var end int
				value, end, ok = readQuotedString(s, i)
				quoted = true
				i = end
			} else {
				vs := i
				for i < len(s) && isTokenChar(s[i]) {
					i++
				}
				value = s[vs:i]
				ok = len(value) > 0
			}
		}
		// After the directive only OWS then a comma (or the end) may follow.
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i < len(s) && s[i] != ',' {
			ok = false
		}
		if !ok {
			// Malformed: skip to the next comma that is not inside a quoted string.
			i = skipToComma(s, i)
			continue
		}
		applyDirective(d, seen, name, value, hasValue, quoted)
	}
}

// setQualifiable applies no-cache or private (RFC 9111 §5.2.2.4, §5.2.2.7): the qualified form
// ("no-cache=\"Set-Cookie\"") only restricts the listed fields; the unqualified form applies to the
// whole response (no-cache: no reuse without validation; private: not stored). Once unqualified,
// the directive stays so whatever else the field lists.
func setQualifiable(whole *bool, fields *[]string, value string, qualified bool) {
	if qualified {
		if !*whole {
			*fields = appendFieldNames(*fields, value)
		}
		return
	}
	*whole, *fields = true, nil
}

// skipToComma returns the index of the next comma at or after i that is outside a quoted string.
func skipToComma(s string, i int) int {
	inQuote := false
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			return i
		}
	}
	return i
}

func applyDirective(d *directives, seen *uint32, name, value string, hasValue, quoted bool) {
	switch {
	case strings.EqualFold(name, "max-age"):
		setDelta(&d.maxAge, seen, seenMaxAge, value, hasValue)
	case strings.EqualFold(name, "s-maxage"):
		setDelta(&d.sMaxAge, seen, seenSMaxAge, value, hasValue)
	case strings.EqualFold(name, "max-stale"):
		if *seen&seenMaxStale != 0 {
			return
		}
		*seen |= seenMaxStale
		if !hasValue {
			d.maxStaleAny = true
			return
		}
		d.maxStale = parseDelta(value)
	case strings.EqualFold(name, "min-fresh"):
		setDelta(&d.minFresh, seen, seenMinFresh, value, hasValue)
	case strings.EqualFold(name, "stale-while-revalidate"):
		setDelta(&d.staleWhileRevalidate, seen, seenSWR, value, hasValue)
	case strings.EqualFold(name, "stale-if-error"):
		setDelta(&d.staleIfError, seen, seenSIE, value, hasValue)
	case strings.EqualFold(name, "no-cache"):
		setQualifiable(&d.noCache, &d.noCacheFields, value, hasValue && quoted)
	case strings.EqualFold(name, "private"):
		setQualifiable(&d.private, &d.privateFields, value, hasValue && quoted)
	case strings.EqualFold(name, "no-store"):
		d.noStore = true
	case strings.EqualFold(name, "public"):
		d.public = true
	case strings.EqualFold(name, "must-revalidate"):
		d.mustRevalidate = true
	case strings.EqualFold(name, "proxy-revalidate"):
		d.proxyRevalidate = true
	case strings.EqualFold(name, "must-understand"):
		d.mustUnderstand = true
	case strings.EqualFold(name, "only-if-cached"):
		d.onlyIfCached = true
	}
}

func setDelta(dst *int64, seen *uint32, bit uint32, value string, hasValue bool) {
	if *seen&bit != 0 {
		return
	}
	*seen |= bit
	if !hasValue {
		*dst = 0 // "max-age" with no argument is invalid: treat as stale (RFC 9111 §4.2.1)
		return
	}
	*dst = parseDelta(value)
}

// parseDelta reads delta-seconds (RFC 9111 §1.2.2). Leading digits are used and trailing junk is
// tolerated ("3600.5" → 3600, as most caches do); a value that does not start with a digit
// (negative, single-quoted, alphabetic) yields 0 so that the response is treated as stale.
// Overflow saturates at 2^31.
func parseDelta(s string) int64 {
	var n int64
	i := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n < maxDelta {
			n = n*10 + int64(s[i]-'0')
		}
	}
	if i == 0 {
		return 0
	}
	return min(n, maxDelta)
}

// appendFieldNames splits the #field-name list of a qualified directive into canonical names.
func appendFieldNames(dst []string, list string) []string {
	for part := range strings.SplitSeq(list, ",") {
		part = strings.TrimSpace(part)
		if part != "" {
			dst = append(dst, http.CanonicalHeaderKey(part))
		}
	}
	return dst
}

// readQuotedString reads an RFC 9110 §5.6.4 quoted-string starting at s[i] == '"'. It returns
// the unescaped content and the index just past the closing quote.
func readQuotedString(s string, i int) (string, int, bool) {
	i++ // opening quote
	start := i
	escaped := false
	for j := i; j < len(s); j++ {
		switch s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			if !escaped {
				return s[start:j], j + 1, true
			}
			var b strings.Builder
			for k := start; k < j; k++ {
				if s[k] == '\\' && k+1 < j {
					k++
				}
				b.WriteByte(s[k])
			}
			return b.String(), j + 1, true
		}
	}
	return "", len(s), false
}

// isTokenChar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTokenChar(c byte) bool {
	return c < 0x80 && tokenTable[c]
}

var tokenTable = func() (t [128]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// parseCDNCacheControl parses the CDN-Cache-Control targeted field (RFC 9213). Its syntax is a
// Structured Field Dictionary (RFC 8941 §3.2); if the field does not parse the whole field is
// ignored (RFC 9213 §2.1), reported by ok=false. Directives whose value has the wrong type (a
// string where an integer is expected) are ignored one by one.
func parseCDNCacheControl(values []string) (d directives, ok bool) {
	d = newDirectives()
	if len(values) == 0 {
		return d, false
	}
	members, ok := parseSFDictionary(strings.Join(values, ","))
	if !ok {
		return d, false
	}
	seen := uint32(0)
	for _, m := range members {
		switch m.kind {
		case sfInteger:
			if m.integer < 0 {
				continue
			}
			applyDirective(&d, &seen, m.key, itoa(min(m.integer, maxDelta)), true, false)
		case sfBoolean:
			if m.boolean {
				applyDirective(&d, &seen, m.key, "", false, false)
			}
		case sfString:
			// Only the field-list forms of no-cache/private take strings.
			if m.key == "no-cache" || m.key == "private" {
				applyDirective(&d, &seen, m.key, m.str, true, true)
			}
		}
	}
	return d, true
}

// itoa formats a non-negative int64 without fmt (used off the hot path only).
func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			break
		}
	}
	return string(b[i:])
}
