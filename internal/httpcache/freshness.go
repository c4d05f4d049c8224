package httpcache

import (
	"net/http"
	"time"
)

// heuristicCap bounds the Last-Modified heuristic (RFC 9111 §4.2.2 leaves the upper limit to
// the cache): a file untouched for ten years is not thereby fresh for a year.
const heuristicCap = 7 * 24 * time.Hour

// heuristicallyCacheable lists the status codes RFC 9110 §15.1 defines as heuristically
// cacheable: such responses may be stored without explicit freshness.
func heuristicallyCacheable(status int) bool {
	switch status {
	case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

// understoodStatus reports whether this cache implements the semantics of status, which decides
// must-understand (RFC 9111 §5.2.2.3): the codes RFC 9110 §15 defines plus a few widely used
// registered ones (429, 431, 451, 511).
func understoodStatus(status int) bool {
	switch {
	case status >= 200 && status <= 206,
		status >= 300 && status <= 305, status == 307, status == 308,
		status >= 400 && status <= 417, status == 421, status == 422, status == 426,
		status == 429, status == 431, status == 451,
		status >= 500 && status <= 505, status == 511:
		return true
	}
	return false
}

// respInfo is what the cache concludes from one origin response's status and header section,
// before its body has been read: whether it may be stored and how long it stays fresh.
type respInfo struct {
	status       int
	header       http.Header // hop-by-hop fields removed; what is forwarded downstream
	cc           directives  // effective directives: CDN-Cache-Control when valid, else Cache-Control
	storable     bool
	overridden   bool // Policy.MinTTL > 0 overrode no-cache/no-store/private (CloudFront semantics)
	explicit     bool // the origin gave explicit freshness (s-maxage, max-age or Expires)
	lifetime     time.Duration
	dateValue    time.Time
	correctedAge time.Duration // corrected_initial_age, RFC 9111 §4.2.3
	requestTime  time.Time
	responseTime time.Time
	vary         []string // canonical names listed in Vary
	varyStar     bool
}

// analyzeInput gathers what analyze needs; it is a struct because most fields are of one type.
type analyzeInput struct {
	policy       Policy
	reqHeader    http.Header // the request as sent to the origin
	reqCC        directives
	status       int
	header       http.Header // sanitized response header
	requestTime  time.Time
	responseTime time.Time
}

// analyze applies RFC 9111 §3 (storing) and §4.2 (freshness) to a response.
func analyze(in analyzeInput) respInfo {
	h := in.header
	info := respInfo{
		status:       in.status,
		header:       h,
		requestTime:  in.requestTime,
		responseTime: in.responseTime,
	}
	// RFC 9213: a valid CDN-Cache-Control is the cache's Cache-Control; the general field is
	// then ignored by this (CDN) cache but still forwarded for downstream caches.
	if cdn, ok := parseCDNCacheControl(h["Cdn-Cache-Control"]); ok {
		info.cc = cdn
	} else {
		info.cc = parseCacheControl(h["Cache-Control"])
	}
	cc := &info.cc

	// RFC 9111 §4.2.3 age calculation; date_value falls back to the receipt time when Date is
	// absent or invalid (RFC 9110 §6.6.1).
	info.dateValue = in.responseTime
	if d, ok := firstDate(h["Date"], in.responseTime); ok {
		info.dateValue = d
	}
	apparentAge := max(0, in.responseTime.Sub(info.dateValue))
	responseDelay := max(0, in.responseTime.Sub(in.requestTime))
	correctedAgeValue := parseAge(h["Age"]) + responseDelay
	info.correctedAge = max(apparentAge, correctedAgeValue)

	info.vary, info.varyStar = parseVary(h["Vary"])

	lifetime, explicit, heuristicOK := freshnessLifetime(in.policy, in.status, h, cc, info.dateValue, in.responseTime)
	p := in.policy
	// MinTTL raises and overrides for content only: an error keeps exactly the freshness it
	// states (or ErrorTTL), so that minimumTTL never turns a passing failure into a long one.
	minTTL := p.MinTTL
	if in.status >= 400 {
		minTTL = 0
	}
	info.overridden = minTTL > 0
	if ttl, forced := p.ErrorTTLs[in.status]; forced {
		// The operator's error caching time for this status overrides what the origin said.
		lifetime, explicit, info.overridden = ttl, true, true
	}
	info.explicit = explicit

	info.storable = storable(storableInput{
		status: in.status, reqCC: &in.reqCC, cc: cc, reqHeader: in.reqHeader,
		explicit: explicit, heuristicOK: heuristicOK, overridden: info.overridden, varyStar: info.varyStar,
	})
	// Policy clamp (Lightsail cacheBehaviorSettings, CloudFront semantics): origin freshness is
	// raised to MinTTL and capped at MaxTTL; MaxTTL 0 means no cap.
	if p.MaxTTL > 0 && lifetime > p.MaxTTL {
		lifetime = p.MaxTTL
	}
	if lifetime < minTTL {
		lifetime = minTTL
	}
	info.lifetime = lifetime
	if info.overridden {
		// CloudFront: with a minimum TTL above zero the edge caches at least that long even when
		// the origin says no-cache, no-store or private.
		cc.noCache = false
	}
	// A response that is stale on arrival and offers no way to validate it is useless to store
	// (RFC 9111 §3 permits storing it, but nothing could ever reuse it).
	if info.storable && lifetime <= 0 && h.Get("Etag") == "" && h.Get("Last-Modified") == "" {
		info.storable = false
	}
	return info
}

// freshnessLifetime implements RFC 9111 §4.2.1: s-maxage (a shared cache), then max-age, then
// Expires minus Date; otherwise a heuristic (§4.2.2) when the status code or "public" allows one.
// The heuristic is Policy.DefaultTTL when set (the operator's choice, as CloudFront uses its
// default TTL when the origin sends no freshness), else 10% of the time since Last-Modified.
func freshnessLifetime(p Policy, status int, h http.Header, cc *directives, dateValue, now time.Time) (lifetime time.Duration, explicit, heuristicOK bool) {
	switch {
	case cc.sMaxAge != absent:
		return seconds(cc.sMaxAge), true, false
	case cc.maxAge != absent:
		return seconds(cc.maxAge), true, false
	}
	if exp, present := h["Expires"]; present {
		// RFC 9111 §5.3: an invalid Expires (including "0") means already expired; two lines
		// are treated the same way (§4.2.1 allows considering such a response stale).
		if len(exp) != 1 {
			return 0, true, false
		}
		t, ok := parseHTTPDate(exp[0], now)
		if !ok {
			return 0, true, false
		}
		return max(0, t.Sub(dateValue)), true, false
	}
	if status >= 400 && p.ErrorTTL > 0 {
		if errorCachedByDefault(status) || cc.public {
			return p.ErrorTTL, false, true
		}
		return 0, false, false
	}
	if !heuristicallyCacheable(status) && !cc.public {
		return 0, false, false
	}
	if p.DefaultTTL > 0 {
		return p.DefaultTTL, false, true
	}
	if lm, ok := firstDate(h["Last-Modified"], now); ok && lm.Before(dateValue) {
		return min(dateValue.Sub(lm)/10, heuristicCap), false, true
	}
	return 0, false, true
}

// errorCachedByDefault reports whether an error response without freshness of its own is kept for
// Policy.ErrorTTL: when RFC 9110 §15.1 lets a cache store it heuristically (404, 405, 410, 501) or
// CloudFront always caches it (404, 414, 500–504: Developer Guide, "HTTP 4xx and 5xx status codes
// that CloudFront always caches"), except 414, which blames the request. Any other error — 403,
// 409, 599… — is stored only with explicit freshness or public (CloudFront caches 400, 403, 405,
// 412 and 415 only when the origin sends max-age or s-maxage).
func errorCachedByDefault(status int) bool {
	switch status {
	case 404, 405, 410, 500, 501, 502, 503, 504:
		return true
	}
	return false
}

// blamesTheRequest reports whether an error status describes the request or the client that sent
// it rather than the resource: 400, 408, 411, 413, 414, 417, 429 and 431. Such a response is never
// stored, whatever its freshness or the policy: the cache key does not hold everything the origin
// judged (a field that is forwarded but not keyed, the client's address, its rate), so storing it
// would let one viewer's bad request answer every other viewer's good one (issue 9: a viewer whose
// oversized X-Forwarded-For drew a 400 had that 400 served to everyone).
func blamesTheRequest(status int) bool {
	switch status {
	case http.StatusBadRequest, http.StatusRequestTimeout, http.StatusLengthRequired,
		http.StatusRequestEntityTooLarge, http.StatusRequestURITooLong, http.StatusExpectationFailed,
		http.StatusTooManyRequests, http.StatusRequestHeaderFieldsTooLarge:
		return true
	}
	return false
}

type storableInput struct {
	status      int
	reqCC, cc   *directives
	reqHeader   http.Header
	explicit    bool
	heuristicOK bool
	overridden  bool
	varyStar    bool
}

// storable implements RFC 9111 §3 for a shared cache (the method was checked by the caller).
func storable(in storableInput) bool {
	cc := in.cc
	switch {
	case in.status < 200, in.status == 206, in.status == 304:
		// Interim responses are never stored (§3: "final"); partial content and 304 are not
		// complete representations and this cache does not combine partial responses (§3.3).
		return false
	case blamesTheRequest(in.status):
		return false
	case in.reqCC.noStore:
		return false
	case in.varyStar:
		// "Vary: *" can never be matched by a later request (§4.1), so storing it only
		// displaces useful entries.
		return false
	case cc.mustUnderstand && !understoodStatus(in.status):
		return false
	case cc.noStore && !cc.mustUnderstand && !in.overridden:
		// must-understand with an understood status lets the cache ignore no-store (§5.2.2.3).
		return false
	case cc.private && !in.overridden:
		return false
	}
	// §3.5: a shared cache must not reuse a response to a request with Authorization unless
	// the response explicitly allows it. Not even the MinTTL override relaxes this, so one
	// user's authorised response never reaches another user.
	if _, auth := in.reqHeader["Authorization"]; auth && !cc.public && !cc.mustRevalidate && cc.sMaxAge == absent {
		return false
	}
	return in.explicit || in.heuristicOK || cc.public
}

// parseAge reads the Age field (RFC 9111 §5.1): the first field line, and of that the first list
// member, must be a non-negative integer; anything else is ignored. Parameters after ';' are
// tolerated. Values saturate at 2^31 seconds.
func parseAge(lines []string) time.Duration {
	if len(lines) == 0 {
		return 0
	}
	s := lines[0]
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	start := i
	var n int64
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		if n < maxDelta {
			n = n*10 + int64(s[i]-'0')
		}
	}
	if i == start {
		return 0
	}
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && s[i] != ',' && s[i] != ';' {
		return 0
	}
	return seconds(min(n, maxDelta))
}

// firstDate parses the first line of a date-valued field.
func firstDate(lines []string, now time.Time) (time.Time, bool) {
	if len(lines) == 0 {
		return time.Time{}, false
	}
	return parseHTTPDate(lines[0], now)
}

func seconds(n int64) time.Duration { return time.Duration(n) * time.Second }
