package fastpath

import (
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Limits of what the fast path parses. Anything larger goes to net/http, whose own limits
// (http.Server.MaxHeaderBytes) then apply.
const (
	// maxHead bounds the request line and header section the fast path buffers.
	maxHead = 8 << 10
	// maxFields bounds the header fields of one request.
	maxFields = 64
)

// verdict is what parsing made of the bytes at the start of a buffer.
type verdict uint8

const (
	needMore verdict = iota // no complete head yet, and nothing seen so far rules the fast path out
	unfit                   // not for the fast path: hand the bytes to net/http
	fit                     // a complete head the fast path serves
)

// head is a request head the fast path accepted. Every string is a substring of one string made
// from the buffer, so a head costs one allocation whatever its field count.
type head struct {
	method string // GET or HEAD
	target string // origin-form: starts with "/"
	host   string // the single Host field's value
	close  bool   // Connection: close
	fields []field
	n      int // bytes of the head, final CRLF included
}

type field struct{ name, value string } // name in canonical form; Host not included

// parse examines a buffer that starts at a request's first byte. It is deliberately narrower than
// RFC 9112: it accepts only what it can frame with certainty, and answers unfit for everything
// else, so that net/http's parser (and its 400s) decides every case the fast path does not:
//
//   - request line: exactly "GET" or "HEAD", one space, an origin-form target of visible ASCII
//     (0x21–0x7E), one space, "HTTP/1.1", CRLF;
//   - fields: a token name, a colon, a value of visible ASCII, spaces and tabs, CRLF; no
//     obs-fold, no bare LF or CR, no other control byte, no byte above 0x7E;
//   - exactly one Host field, made of letters, digits and ".-:[]_";
//   - no field that announces a body or a protocol change (Content-Length, Transfer-Encoding,
//     Expect, Upgrade, HTTP2-Settings), so the head is the whole request and nothing can be
//     smuggled behind it;
//   - Connection, when present, lists only "close" and "keep-alive".
//
// FuzzParseAgreesWithNetHTTP holds it to that: whatever it accepts, http.ReadRequest reads the
// same way.
func parse(b []byte, h *head) verdict {
	end, v := headEnd(b, 0)
	if v != fit {
		return v
	}
	return parseHead(b[:end], h)
}

// headEnd finds the end of the head at the start of b, scanning from offset from (bytes before
// it were scanned by an earlier call on a shorter b; resuming three bytes early is enough to
// see a CRLF CRLF or a CR that straddles the two reads). v is fit when end is known.
func headEnd(b []byte, from int) (end int, v verdict) {
	for i := max(from-3, 0); i < len(b); i++ {
		switch b[i] {
		case '\n':
			// Bare LF line endings are legal for net/http's reader but not here; waiting for
			// a CRLF CRLF that never comes would stall the viewer.
			if i == 0 || b[i-1] != '\r' {
				return 0, unfit
			}
			if i >= 3 && b[i-2] == '\n' && b[i-3] == '\r' {
				if i+1 > maxHead {
					return 0, unfit
				}
				return i + 1, fit
			}
		case '\r':
			if i+1 < len(b) && b[i+1] != '\n' {
				return 0, unfit
			}
		}
	}
	if len(b) >= maxHead {
		return 0, unfit
	}
	return 0, needMore
}

// parseHead parses a complete head (b ends with its CRLF CRLF); see parse.
func parseHead(b []byte, h *head) verdict {
	end := len(b)
	s := string(b[:end])
	*h = head{fields: h.fields[:0], n: end}

	line, rest, _ := strings.Cut(s, "\r\n")
	method, line, ok := strings.Cut(line, " ")
	if !ok || method != http.MethodGet && method != http.MethodHead {
		return unfit
	}
	target, proto, ok := strings.Cut(line, " ")
	if !ok || proto != "HTTP/1.1" || target == "" || target[0] != '/' {
		return unfit
	}
	for i := 0; i < len(target); i++ {
		if c := target[i]; c < 0x21 || c > 0x7e {
			return unfit
		}
	}
	h.method, h.target = method, target

	haveHost := false
	for {
		line, rest, _ = strings.Cut(rest, "\r\n")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !httpguts.ValidHeaderFieldName(name) || len(h.fields) == maxFields {
			return unfit
		}
		value = strings.Trim(value, " \t")
		for i := 0; i < len(value); i++ {
			if c := value[i]; (c < 0x20 || c > 0x7e) && c != '\t' {
				return unfit
			}
		}
		name = canonicalName(name)
		switch name {
		case "Host":
			if haveHost || !isPlainHost(value) {
				return unfit
			}
			haveHost, h.host = true, value
			continue
		case "Content-Length", "Transfer-Encoding", "Expect", "Upgrade", "Http2-Settings":
			return unfit
		case "Connection":
			for tok := range strings.SplitSeq(value, ",") {
				switch tok = strings.Trim(tok, " \t"); {
				case strings.EqualFold(tok, "close"):
					h.close = true
				case strings.EqualFold(tok, "keep-alive"):
				default:
					return unfit
				}
			}
		}
		h.fields = append(h.fields, field{name: name, value: value})
	}
	if !haveHost {
		return unfit
	}
	return fit
}

// isPlainHost accepts the host names and address literals viewers send, in a character set
// narrower than net/http's check (httpguts.ValidHostHeader), so both always agree it is valid.
func isPlainHost(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(".-:[]_", c) >= 0) {
			return false
		}
	}
	return true
}

// commonNames interns the canonical form of the field names viewers send most, so that a
// lower-case name costs no allocation.
var commonNames = func() map[string]string {
	m := make(map[string]string)
	for _, n := range []string{
		"Accept", "Accept-Encoding", "Accept-Language", "Cache-Control", "Connection", "Cookie", "Host",
		"If-Modified-Since", "If-None-Match", "If-Range", "Pragma", "Range", "Referer", "User-Agent",
		"X-Forwarded-For", "Via", "Authorization", "Origin", "Sec-Fetch-Mode", "Sec-Fetch-Site",
		"Sec-Fetch-Dest", "Upgrade-Insecure-Requests", "Dnt", "Te",
	} {
		m[n] = n
		m[strings.ToLower(n)] = n
	}
	return m
}()

func canonicalName(name string) string {
	if c, ok := commonNames[name]; ok {
		return c
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}

// pathSafe marks the bytes that url.ParseRequestURI leaves alone in a path: the target's path is
// then its own decoded and escaped form (RawPath empty).
var pathSafe = func() (t [256]bool) {
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
		t[c-'a'+'A'] = true
	}
	for _, c := range "-._~/$&+,:;=@" {
		t[c] = true
	}
	return t
}()

// parseTarget splits an origin-form target as url.ParseRequestURI does (net/http's choice), with
// no work beyond one allocation for the common case of a plain path and query; anything else is
// left to url.ParseRequestURI itself.
func parseTarget(target string) (*url.URL, bool) {
	path, query, hasQuery := strings.Cut(target, "?")
	plain := !strings.Contains(query, "#") && !(hasQuery && query == "")
	for i := 0; plain && i < len(path); i++ {
		plain = pathSafe[path[i]]
	}
	if plain {
		return &url.URL{Path: path, RawQuery: query}, true
	}
	u, err := url.ParseRequestURI(target)
	return u, err == nil
}

// request builds the *http.Request net/http would have built for h (see
// FuzzParseAgreesWithNetHTTP), on the template that carries the connection's context.
func (h *head) request(tmpl *http.Request, remoteAddr string) (*http.Request, bool) {
	u, ok := parseTarget(h.target)
	if !ok {
		return nil, false
	}
	hdr := make(http.Header, len(h.fields)+1)
	// One backing array for every value: a field that repeats appends beyond its capacity and
	// so gets its own copy.
	values := make([]string, len(h.fields))
	for i, f := range h.fields {
		values[i] = f.value
		if prior, ok := hdr[f.name]; ok {
			hdr[f.name] = append(prior, f.value)
		} else {
			hdr[f.name] = values[i : i+1 : i+1]
		}
	}
	// RFC 9111 §5.4, as net/http's reader does it: Pragma: no-cache without Cache-Control counts
	// as Cache-Control: no-cache.
	if p := hdr["Pragma"]; len(p) > 0 && p[0] == "no-cache" {
		if _, ok := hdr["Cache-Control"]; !ok {
			hdr["Cache-Control"] = []string{"no-cache"}
		}
	}
	r := new(http.Request)
	*r = *tmpl
	r.Method = h.method
	r.URL = u
	r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	r.Header = hdr
	r.Body = http.NoBody
	r.Host = h.host
	r.RemoteAddr = remoteAddr
	r.RequestURI = h.target
	r.Close = h.close
	return r, true
}
