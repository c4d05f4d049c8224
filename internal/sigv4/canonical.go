package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// The canonical request, step by step, as in
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-canonical-request
//
//	Method \n CanonicalURI \n CanonicalQueryString \n CanonicalHeaders \n SignedHeaders \n HashedPayload
//
// (CanonicalHeaders ends in its own "\n", so a blank line precedes SignedHeaders.)

// PayloadHash is the lower-case hex SHA-256 of the body. Verify always hashes the body itself
// rather than trusting X-Amz-Content-Sha256, so the signature covers the bytes actually received.
func PayloadHash(body []byte) string {
	h := hexSHA256(body)
	return string(h[:])
}

// hexSHA256 is the lower-case hex SHA-256 of b, without allocating.
func hexSHA256(b []byte) (out [64]byte) {
	sum := sha256.Sum256(b)
	hex.Encode(out[:], sum[:])
	return out
}

// CanonicalRequest builds the canonical request for header-signed r over exactly the headers the
// client listed in SignedHeaders.
func CanonicalRequest(r *http.Request, signedHeaders []string, payloadHash string) string {
	return string(appendCanonicalRequest(nil, r, signedHeaders, payloadHash, false))
}

// appendCanonicalRequest appends the canonical request to b, optionally without X-Amz-Signature in
// the query: a presigned URL carries its own signature, which cannot be part of what it signs.
func appendCanonicalRequest(b []byte, r *http.Request, signedHeaders []string, payloadHash string, presigned bool) []byte {
	b = append(b, r.Method...)
	b = append(b, '\n')
	b = append(b, CanonicalURI(r.URL)...)
	b = append(b, '\n')
	if r.URL.RawQuery != "" {
		b = append(b, canonicalQuery(r.URL.RawQuery, presigned)...)
	}
	b = append(b, '\n')
	b = appendCanonicalHeaders(b, r, signedHeaders)
	b = append(b, '\n')
	for i, h := range signedHeaders {
		if i > 0 {
			b = append(b, ';')
		}
		b = append(b, h...)
	}
	b = append(b, '\n')
	return append(b, payloadHash...)
}

// CanonicalURI is the path as sent, URI-encoded once more. Every service except S3 signs the
// already-escaped path escaped a second time ("each path segment must be URI-encoded twice"), and
// does not normalise it; the AWS SDK signers do the same, so "/" stays "/" and "%2F" becomes "%252F".
func CanonicalURI(u *url.URL) string {
	// EscapedPath returns the wire form (RawPath) whenever it is a valid encoding of Path, which is
	// the string the client signed.
	path := u.EscapedPath()
	if path == "" || path == "/" { // every JSON API call: no need to encode anything
		return "/"
	}
	return uriEncode(path, false)
}

// CanonicalQuery sorts the query parameters by encoded name, then encoded value, and re-encodes
// both with RFC 3986 unreserved characters only (space as %20, never "+").
func CanonicalQuery(rawQuery string) string { return canonicalQuery(rawQuery, false) }

func canonicalQuery(rawQuery string, dropSignature bool) string {
	type param struct{ key, value string }
	var params []param
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if dropSignature && k == "X-Amz-Signature" {
			continue
		}
		params = append(params, param{uriEncode(k, true), uriEncode(v, true)})
	}
	slices.SortFunc(params, func(a, b param) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// queryUnescape decodes one query component. A component that is not valid percent-encoding is
// kept verbatim: the client cannot have signed its decoded form, so the signature will not match,
// which is the right outcome without a separate error path.
func queryUnescape(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}

// CanonicalHeaders renders "name:value\n" for each signed header, in the client's order. Values are
// trimmed and inner runs of spaces collapsed to one; repeated headers are joined with ",".
//
// "host" comes from r.Host: Go's server moves the Host header there. "content-length" falls back to
// r.ContentLength because the Go SDK signs it when the body is non-empty. A listed header the request
// does not carry canonicalises to an empty value, which then fails the signature comparison: the
// client signed something we did not receive.
func CanonicalHeaders(r *http.Request, signedHeaders []string) string {
	return string(appendCanonicalHeaders(nil, r, signedHeaders))
}

func appendCanonicalHeaders(b []byte, r *http.Request, signedHeaders []string) []byte {
	for _, name := range signedHeaders {
		b = append(b, name...)
		b = append(b, ':')
		switch values := r.Header[canonicalKey(name)]; {
		case strings.EqualFold(name, "host"):
			b = append(b, collapseSpaces(r.Host)...)
		case len(values) == 0 && strings.EqualFold(name, "content-length") && r.ContentLength >= 0:
			b = strconv.AppendInt(b, r.ContentLength, 10)
		default:
			for i, v := range values {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, collapseSpaces(v)...)
			}
		}
		b = append(b, '\n')
	}
	return b
}

// signedHeaderKeys are the canonical forms of the header names SDKs sign: looking them up here
// instead of canonicalising each name spares an allocation per header and request.
var signedHeaderKeys = map[string]string{
	"content-type": "Content-Type", "content-length": "Content-Length", "host": "Host",
	"x-amz-date": "X-Amz-Date", "x-amz-target": "X-Amz-Target", "x-amz-security-token": "X-Amz-Security-Token",
	"x-amz-content-sha256": "X-Amz-Content-Sha256", "x-amz-user-agent": "X-Amz-User-Agent",
	"amz-sdk-invocation-id": "Amz-Sdk-Invocation-Id", "amz-sdk-request": "Amz-Sdk-Request",
	"user-agent": "User-Agent", "accept-encoding": "Accept-Encoding",
}

// canonicalKey is the key net/http files header name under.
func canonicalKey(name string) string {
	if k, ok := signedHeaderKeys[name]; ok {
		return k
	}
	return http.CanonicalHeaderKey(name)
}

// collapseSpaces trims spaces and tabs at both ends and turns each inner run of spaces into one
// space. Only spaces are collapsed inside the value: that is what the SigV4 spec ("convert sequential
// spaces to a single space") and the Go SDK do.
func collapseSpaces(v string) string {
	v = strings.Trim(v, " \t")
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	prevSpace := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ' ' && prevSpace {
			continue
		}
		prevSpace = c == ' '
		b.WriteByte(c)
	}
	return b.String()
}

// uriEncode percent-encodes every byte except RFC 3986 unreserved characters (A-Z a-z 0-9 - . _ ~),
// with upper-case hex, and keeps "/" when encodeSlash is false (paths).
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0x0F])
		}
	}
	return b.String()
}
