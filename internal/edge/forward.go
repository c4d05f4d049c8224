package edge

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"

	"github.com/sailcdn/sailcdn/internal/hopbyhop"
	"github.com/sailcdn/sailcdn/internal/lightsail"
)

// Forwarding: what of the viewer's request reaches the origin. Exactly what is forwarded forms the
// cache key, so two requests that differ only in something not forwarded share one cache entry,
// and two that differ in something forwarded never do.
//
// Query strings (forwardedQueryStrings):
//   - option false: none is forwarded; "/q?a=1" and "/q?a=2" are one object.
//   - option true, empty allow-list: the whole query string is forwarded verbatim, parameters in
//     the viewer's order, and the key uses it verbatim: "?a=1&b=2" and "?b=2&a=1" are two objects
//     (CloudFront likewise advises listing parameters in a consistent order).
//   - option true with an allow-list: only the listed parameters (names compared case-sensitively
//     after percent-decoding), in the viewer's order, each name=value pair as the viewer wrote it.
//
// Cookies (forwardedCookies):
//   - none: no Cookie field reaches the origin; Set-Cookie is removed from origin responses, so a
//     shared object never hands one viewer's cookie to another.
//   - allow-list: only cookies whose names match the list ('*' and '?' wildcards allowed, as in
//     CloudFront's legacy cookie whitelist); Set-Cookie fields for other names are removed.
//   - all: every cookie. In both forwarding cases the cookies are sorted by name (CloudFront
//     "sorts the cookies in natural order by cookie name before forwarding") and that sorted list
//     is the key.
//
// Headers (forwardedHeaders):
//   - default and none (the same in sailcdn): none of the viewer's fields is forwarded, except
//     those HTTP needs to keep its meaning:
//     - Cache-Control, If-None-Match, If-Modified-Since, If-Range and Range are handed to the
//     cache, which answers them from storage itself and forwards them only when it passes the
//     request through (dont-cache, uncached methods, a Range miss);
//     - If-Match and If-Unmodified-Since (preconditions only the origin can judge; the cache
//     passes such requests through);
//     - for requests with a body: Content-Type, Content-Encoding, Content-Language, Content-MD5
//     (Content-Length and Transfer-Encoding are framing and follow the body);
//     - Authorization, except on GET and HEAD (CloudFront removes it there, forwards it on
//     DELETE, PATCH, POST and PUT, and on OPTIONS unless OPTIONS responses are cached).
//     The origin sees the origin's host name as Host and "sailcdn" as User-Agent.
//   - allow-list: additionally the listed fields; the key includes each listed field's values.
//     Listing Host makes the origin see the viewer's Host (and keys by it); listing User-Agent
//     or Accept-Encoding forwards the viewer's.
//   - all: every end-to-end field of the viewer; the behaviour then bypasses the cache (see
//     compile), which is what a key over all fields amounts to.
//
// Always added: X-Forwarded-For and Via, each rebuilt from the viewer's (its last 8 well-formed
// members, so their length is bounded) with the viewer's address or the edge's own Via appended,
// and X-Sailcdn-Request-Id. Hop-by-hop fields (RFC 9110 §7.6.1, package hopbyhop) never cross, and
// the fields the viewer's Connection names are removed before any rule above looks at the
// request: one rule, what is forwarded is keyed, whatever a viewer lists.

type headerOption uint8

const (
	forwardNone headerOption = iota
	forwardList
	forwardAll
)

type forwarding struct {
	queryAll  bool     // forward the whole query string
	queryList []string // forward only these parameters (when queryAll is false)

	cookies     headerOption
	cookieNames []string // allow-list patterns

	headers     headerOption
	headerNames []string // canonical names, sorted
	forwardHost bool     // Host is in the allow-list
}

func compileForwarding(s *lightsail.CacheSettings) forwarding {
	var f forwarding
	if q := s.ForwardedQueryStrings; q != nil && deref(q.Option) {
		if len(q.QueryStringsAllowList) == 0 {
			f.queryAll = true
		} else {
			f.queryList = slices.Clone(q.QueryStringsAllowList)
		}
	}
	if c := s.ForwardedCookies; c != nil {
		switch deref(c.Option) {
		case "all":
			f.cookies = forwardAll
		case "allow-list":
			f.cookies, f.cookieNames = forwardList, slices.Clone(c.CookiesAllowList)
		}
	}
	if h := s.ForwardedHeaders; h != nil {
		switch deref(h.Option) {
		case "all":
			f.headers = forwardAll
		case "allow-list":
			f.headers = forwardList
			for _, name := range h.HeadersAllowList {
				name = http.CanonicalHeaderKey(strings.TrimSpace(name))
				switch {
				case name == "Host":
					f.forwardHost = true
				case name == "Cookie" || name == "" || hopbyhop.Is(name):
					// Cookies follow forwardedCookies; hop-by-hop fields never cross.
					continue
				}
				if !slices.Contains(f.headerNames, name) {
					f.headerNames = append(f.headerNames, name)
				}
			}
			slices.Sort(f.headerNames)
		}
	}
	return f
}

// withoutConnectionListed returns h without the fields its Connection field names. It returns h
// itself when none of them is present ("Connection: keep-alive" alone costs nothing).
func withoutConnectionListed(h http.Header) http.Header {
	listed := hopbyhop.Listed(h)
	if !slices.ContainsFunc(listed, func(k string) bool { _, ok := h[k]; return ok && !hopbyhop.Is(k) }) {
		return h
	}
	out := make(http.Header, len(h))
	for k, v := range h {
		if !slices.Contains(listed, k) {
			out[k] = v
		}
	}
	return out
}

// cacheHandled are the viewer fields the cache itself needs and answers (httpcache.Request.Out).
var cacheHandled = []string{"Cache-Control", "If-None-Match", "If-Modified-Since", "If-Range", "Range"}

// originOnly are preconditions only the origin can evaluate.
var originOnly = []string{"If-Match", "If-Unmodified-Since"}

// bodyFields describe a request body.
var bodyFields = []string{"Content-Type", "Content-Encoding", "Content-Language", "Content-Md5"}

// originRequest is what buildOriginRequest produces.
type originRequest struct {
	url    url.URL
	host   string // Host field for the origin ("" = the URL's host)
	header http.Header
	key    string
}

// buildOriginRequest applies the distribution's forwarding rules to the viewer request r whose
// (possibly rewritten) path is path, and computes the cache key.
func (d *distribution) buildOriginRequest(r *http.Request, path, rawPath string, edgeVia, requestID string) originRequest {
	f := &d.forward
	out := originRequest{header: make(http.Header, 8)}
	if d.origin.base != nil {
		out.url = *d.origin.base
	}
	baseEscaped := out.url.EscapedPath()
	out.url.Path += path
	if rawPath != "" {
		out.url.RawPath = baseEscaped + rawPath
	}
	query := d.forwardedQuery(r.URL.RawQuery)
	out.url.RawQuery = query

	var key strings.Builder
	key.Grow(64)
	key.WriteString(escapedPath(path, rawPath))
	if query != "" {
		key.WriteByte('?')
		key.WriteString(query)
	}

	h := out.header
	// The fields the viewer's Connection names are hop-by-hop: removed before anything else looks
	// at the request (RFC 9110 §7.6.1), so that what is forwarded and what is keyed are decided on
	// the same fields.
	vh := withoutConnectionListed(r.Header)
	if f.headers == forwardAll {
		for k, vs := range vh {
			if !hopbyhop.Is(k) && k != "Cookie" && k != "X-Forwarded-For" && k != "Via" {
				h[k] = vs
			}
		}
		out.host = r.Host
	} else {
		for _, k := range cacheHandled {
			if v, ok := vh[k]; ok {
				h[k] = v
			}
		}
		for _, k := range originOnly {
			if v, ok := vh[k]; ok {
				h[k] = v
			}
		}
		if r.ContentLength != 0 {
			for _, k := range bodyFields {
				if v, ok := vh[k]; ok {
					h[k] = v
				}
			}
		}
		if v, ok := vh["Authorization"]; ok && d.forwardsAuthorization(r.Method) {
			h["Authorization"] = v
		}
		h["User-Agent"] = []string{"sailcdn"}
		key.WriteString("\nh:")
		if f.headers == forwardList {
			for _, k := range f.headerNames {
				v, ok := vh[k]
				if !ok {
					continue
				}
				h[k] = v
				key.WriteString(k)
				key.WriteByte('=')
				key.WriteString(strings.Join(v, ","))
				key.WriteByte('\n')
			}
			if f.forwardHost {
				out.host = r.Host
				key.WriteString("Host=")
				key.WriteString(strings.ToLower(r.Host))
			}
		}
	}
	if cookie := d.forwardedCookies(vh); cookie != "" {
		h["Cookie"] = []string{cookie}
		key.WriteString("\nc:")
		key.WriteString(cookie)
	}

	clientIP := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		clientIP = host
	}
	h["X-Forwarded-For"] = []string{forwardedFor(vh["X-Forwarded-For"], clientIP)}
	via := edgeVia
	if r.ProtoMajor == 2 {
		via = "2.0" + strings.TrimPrefix(edgeVia, "1.1")
	} else if r.ProtoMajor == 1 && r.ProtoMinor == 0 {
		via = "1.0" + strings.TrimPrefix(edgeVia, "1.1")
	}
	h["Via"] = []string{viaChain(vh["Via"], via)}
	h[RequestIDHeader] = []string{requestID}
	out.key = key.String()
	return out
}

// maxForwardedHops bounds the viewer's X-Forwarded-For and Via members the edge passes on: the
// closest hops (the list's end) are kept. With their per-member bounds this keeps each field under
// about 400 (X-Forwarded-For) and 1 100 (Via) bytes, so a viewer cannot make the origin refuse the
// edge's request ("431 Request Header Fields Too Large") with fields the cache key does not hold.
const maxForwardedHops = 8

// maxViaMember bounds one Via member ("1.1 proxy.example (comment)").
const maxViaMember = 128

// forwardedFor rebuilds X-Forwarded-For from the viewer's lines: the members that are IP addresses
// (anything else is dropped as junk), the last maxForwardedHops of them, then the viewer's own
// address as the edge saw it.
func forwardedFor(prior []string, clientIP string) string {
	return lastHops(prior, clientIP, func(m string) bool {
		_, err := netip.ParseAddr(m)
		return err == nil
	})
}

// viaChain rebuilds Via (RFC 9110 §7.6.3) from the viewer's lines: the members made only of
// visible ASCII and spaces and at most maxViaMember bytes long, the last maxForwardedHops of them,
// then the edge's own.
func viaChain(prior []string, own string) string {
	return lastHops(prior, own, func(m string) bool { return len(m) <= maxViaMember && visibleASCII(m) })
}

// lastHops joins the last maxForwardedHops members of the list field lines prior that are well
// formed, then own.
func lastHops(prior []string, own string, wellFormed func(string) bool) string {
	if len(prior) == 0 {
		return own
	}
	var hops []string
	for _, line := range prior {
		for m := range strings.SplitSeq(line, ",") {
			if m = strings.TrimSpace(m); m != "" && wellFormed(m) {
				hops = append(hops, m)
			}
		}
	}
	if len(hops) > maxForwardedHops {
		hops = hops[len(hops)-maxForwardedHops:]
	}
	return strings.Join(append(hops, own), ", ")
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

// forwardsAuthorization follows CloudFront: Authorization is removed from GET and HEAD requests,
// and from OPTIONS requests when OPTIONS responses are cached ("HTTP request headers and CloudFront
// behavior").
func (d *distribution) forwardsAuthorization(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead:
		return d.forward.headers == forwardList && slices.Contains(d.forward.headerNames, "Authorization")
	case http.MethodOptions:
		return !slices.Contains(d.def.policy.CachedMethods, http.MethodOptions) ||
			d.forward.headers == forwardList && slices.Contains(d.forward.headerNames, "Authorization")
	}
	return true
}

func escapedPath(path, rawPath string) string {
	if rawPath != "" {
		return rawPath
	}
	return (&url.URL{Path: path}).EscapedPath()
}

// forwardedQuery filters a raw query string by the query-string rules.
func (d *distribution) forwardedQuery(raw string) string {
	f := &d.forward
	switch {
	case raw == "":
		return ""
	case f.queryAll:
		return raw
	case len(f.queryList) == 0:
		return ""
	}
	var b strings.Builder
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		name, _, _ := strings.Cut(pair, "=")
		if un, err := url.QueryUnescape(name); err == nil {
			name = un
		}
		if !slices.Contains(f.queryList, name) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(pair)
	}
	return b.String()
}

// forwardedCookies returns the Cookie field for the origin: the forwarded cookies of the viewer's
// header h, sorted by name.
func (d *distribution) forwardedCookies(h http.Header) string {
	f := &d.forward
	if f.cookies == forwardNone || len(h["Cookie"]) == 0 {
		return ""
	}
	cookies := (&http.Request{Header: h}).Cookies()
	if f.cookies == forwardList {
		cookies = slices.DeleteFunc(cookies, func(c *http.Cookie) bool { return !f.cookieAllowed(c.Name) })
	}
	if len(cookies) == 0 {
		return ""
	}
	slices.SortStableFunc(cookies, func(a, b *http.Cookie) int { return strings.Compare(a.Name, b.Name) })
	var b strings.Builder
	for i, c := range cookies {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.Name)
		b.WriteByte('=')
		b.WriteString(c.Value)
	}
	return b.String()
}

func (f *forwarding) cookieAllowed(name string) bool {
	for _, p := range f.cookieNames {
		if matchPattern(p, name) {
			return true
		}
	}
	return false
}

// filterSetCookie removes from an origin response the Set-Cookie fields of cookies the behaviour
// does not forward (all of them for option none).
func (f *forwarding) filterSetCookie(h http.Header) {
	sc, ok := h["Set-Cookie"]
	if !ok || f.cookies == forwardAll {
		return
	}
	if f.cookies == forwardNone {
		delete(h, "Set-Cookie")
		return
	}
	kept := slices.DeleteFunc(slices.Clone(sc), func(line string) bool {
		name, _, _ := strings.Cut(line, "=")
		return !f.cookieAllowed(strings.TrimSpace(name))
	})
	if len(kept) == 0 {
		delete(h, "Set-Cookie")
	} else {
		h["Set-Cookie"] = kept
	}
}
