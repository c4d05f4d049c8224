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
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// CanonicalRequest builds the canonical request for header-signed r over exactly the headers the
// client listed in SignedHeaders.
func CanonicalRequest(r *http.Request, signedHeaders []string, payloadHash string) string {
	return canonicalRequest(r, signedHeaders, payloadHash, false)
}

// canonicalRequest optionally drops X-Amz-Signature from the query: a presigned URL carries its own
// signature, which cannot be part of what it signs.
func canonicalRequest(r *http.Request, signedHeaders []string, payloadHash string, presigned bool) string {
	query := r.URL.RawQuery
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(CanonicalURI(r.URL))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(query, presigned))
	b.WriteByte('\n')
	b.WriteString(CanonicalHeaders(r, signedHeaders))
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// CanonicalURI is the path as sent, URI-encoded once more. Every service except S3 signs the
// already-escaped path escaped a second time ("each path segment must be URI-encoded twice"), and
// does not normalise it; the AWS SDK signers do the same, so "/" stays "/" and "%2F" becomes "%252F".
func CanonicalURI(u *url.URL) string {
	// EscapedPath returns the wire form (RawPath) whenever it is a valid encoding of Path, which is
	// the string the client signed.
	path := u.EscapedPath()
	if path == "" {
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
	var b strings.Builder
	for _, name := range signedHeaders {
		lower := strings.ToLower(name)
		b.WriteString(name)
		b.WriteByte(':')
		switch values := r.Header.Values(name); {
		case lower == "host":
			b.WriteString(collapseSpaces(r.Host))
		case lower == "content-length" && len(values) == 0 && r.ContentLength >= 0:
			b.WriteString(strconv.FormatInt(r.ContentLength, 10))
		default:
			for i, v := range values {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(collapseSpaces(v))
			}
		}
		b.WriteByte('\n')
	}
	return b.String()
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
