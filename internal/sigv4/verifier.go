// Package sigv4 verifies AWS Signature Version 4 on incoming requests, as the AWS JSON services do:
// parse the Authorization header (or presigned query), read the signing time, rebuild the canonical
// request over the headers the client signed, derive the key, and compare in constant time.
// Failures are *Error values carrying AWS's own exception names, statuses and messages.
package sigv4

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// DefaultMaxSkew is how far a request's signing time may be from the server's clock. AWS allows 15
// minutes ("Signature expired: ... (now - 15 min.)").
const DefaultMaxSkew = 15 * time.Minute

// Credential is who signed a verified request.
type Credential struct {
	AccessKeyID string
	Region      string // region of the credential scope, as the client signed it; callers gate on it
	Service     string
	AccountID   string // from Verifier.Lookup
}

// Verifier checks SigV4 signatures for one service. The zero value of each optional field is a
// sensible default; Service and Lookup are required.
type Verifier struct {
	// Service is the signing name every credential scope must carry, e.g. "lightsail".
	Service string
	// Lookup returns the secret access key and account for an access key id; ok=false means unknown
	// (UnrecognizedClientException). nil treats every key as unknown.
	Lookup func(accessKeyID string) (secret, accountID string, ok bool)
	// Now is the wall clock. It must be the real time even when the service runs on a moved clock:
	// clients sign with their real time, so the skew check compares against it. nil = time.Now.
	Now func() time.Time
	// MaxSkew bounds |signing time - Now()|. 0 = DefaultMaxSkew (15 min).
	MaxSkew time.Duration

	keys signingKeys // derived keys; a Verifier must not be copied after first use
}

// Verify authenticates r, whose body has already been read into body. The error is always a *Error.
//
// Checks run cheapest and least revealing first: the shape of the authorization, the signing time
// and scope, then the access key, then the payload hash and the signature.
func (v *Verifier) Verify(r *http.Request, body []byte) (*Credential, error) {
	req, err := readRequestAuth(r)
	if err != nil {
		return nil, err
	}
	a := req.auth
	if err := v.checkScope(a.Scope, req.signed); err != nil {
		return nil, err
	}
	if err := v.checkTime(req); err != nil {
		return nil, err
	}
	if !signsHost(a.SignedHeaders) {
		// Without host a signature could be replayed against another endpoint sharing the key.
		return nil, invalidSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if name := unsignedAmzHeader(r.Header, a.SignedHeaders); name != "" {
		// X-Amz-Target names the operation: a signature that does not cover it could be replayed as
		// any other operation (a GetDistributions as DeleteDistribution). AWS requires every x-amz-*
		// header a request carries to be signed; the message is the one its endpoints give for a
		// required header missing from SignedHeaders (as for Host above).
		return nil, invalidSignature("'%s' must be a 'SignedHeader' in the AWS Authorization.", name)
	}

	secret, accountID, ok := v.lookup(a.AccessKeyID)
	if !ok {
		return nil, unrecognizedClient()
	}

	sum := hexSHA256(body)
	payloadHash := string(sum[:])
	// Only the JS SDK sends X-Amz-Content-Sha256 to JSON services. When present it must describe the
	// body we received: otherwise a client could sign one body and send another under the same
	// header. The hash is always computed here, so "UNSIGNED-PAYLOAD" is refused too.
	if declared := r.Header["X-Amz-Content-Sha256"]; len(declared) > 0 {
		if len(declared) != 1 || !strings.EqualFold(strings.TrimSpace(declared[0]), payloadHash) {
			return nil, invalidSignature("The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
	}

	// One buffer for the canonical request and then the string to sign: a JSON API call's fit in it.
	buf := make([]byte, 0, 1024)
	canonical := appendCanonicalRequest(buf, r, a.SignedHeaders, payloadHash, req.presigned)
	toSign := appendStringToSign(canonical[len(canonical):], req.signed, a.Scope, canonical)
	key, cached := v.keys.get(secret, a.Scope)
	if !signatureMatches(hmacSHA256Bytes(key, toSign), a.Signature) {
		return nil, signatureMismatch()
	}
	if !cached {
		v.keys.put(secret, a.Scope, key)
	}
	return &Credential{AccessKeyID: a.AccessKeyID, Region: a.Scope.Region, Service: a.Scope.Service, AccountID: accountID}, nil
}

// requestAuth is what the request claims about its signature, from either mechanism.
type requestAuth struct {
	auth      *Authorization
	signed    time.Time     // signing time
	presigned bool          // authenticated by query parameters
	expires   time.Duration // presigned only: X-Amz-Expires
}

// readRequestAuth picks the mechanism (Authorization header or presigned query) and parses it.
func readRequestAuth(r *http.Request) (*requestAuth, error) {
	headers := r.Header["Authorization"]
	presigned := r.URL.RawQuery != "" && r.URL.Query().Has("X-Amz-Algorithm")
	switch {
	case len(headers) > 0 && presigned:
		return nil, incomplete("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case len(headers) > 1:
		return nil, incomplete("Request has more than one Authorization header.")
	case len(headers) == 1:
		a, err := ParseAuthorization(headers[0])
		if err != nil {
			return nil, err
		}
		t, err := RequestTime(r)
		if err != nil {
			return nil, err
		}
		return &requestAuth{auth: a, signed: t}, nil
	case presigned:
		p, err := ParsePresigned(r.URL.Query())
		if err != nil {
			return nil, err
		}
		return &requestAuth{auth: &p.Authorization, signed: p.Time, presigned: true, expires: p.Expires}, nil
	default:
		return nil, missingToken()
	}
}

// checkScope compares the credential scope with the service and the signing time, with AWS's messages.
func (v *Verifier) checkScope(s Scope, signed time.Time) error {
	if s.Terminator != scopeTerminator {
		return invalidSignature("Credential should be scoped with a valid terminator: '%s', not '%s'.", scopeTerminator, quoteShort(s.Terminator))
	}
	var day [8]byte
	if string(signed.UTC().AppendFormat(day[:0], DateFormat)) != s.Date {
		day := signed.UTC().Format(DateFormat)
		return invalidSignature("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			quoteShort(s.Date), day, signed.UTC().Format(TimeFormat))
	}
	if s.Region == "" {
		return invalidSignature("Credential should be scoped to a valid region.")
	}
	if s.Service != v.Service {
		return invalidSignature("Credential should be scoped to correct service: '%s'.", v.Service)
	}
	return nil
}

// checkTime applies the skew window; a presigned request is also bounded by its own X-Amz-Expires.
func (v *Verifier) checkTime(req *requestAuth) error {
	now := v.now()
	if !req.presigned {
		return checkSkew(req.signed, now, v.maxSkew())
	}
	if latest := now.Add(v.maxSkew()); req.signed.After(latest) {
		return checkSkew(req.signed, now, v.maxSkew())
	}
	if end := req.signed.Add(req.expires); now.After(end) {
		return invalidSignature("Request has expired: it was valid until %s and it is now %s.",
			end.UTC().Format(TimeFormat), now.UTC().Format(TimeFormat))
	}
	return nil
}

// unsignedAmzHeader returns the lower-case name of an x-amz-* header of h that signed does not list,
// or "". (x-amzn-* fields, such as the trace id SDKs deliberately leave unsigned, are not x-amz-*.)
func unsignedAmzHeader(h http.Header, signed []string) string {
	first := "" // the first in lexical order, so that the message does not depend on map order
	for name := range h {
		if len(name) < len("x-amz-") || !strings.EqualFold(name[:len("x-amz-")], "x-amz-") {
			continue
		}
		if !slices.ContainsFunc(signed, func(s string) bool { return strings.EqualFold(s, name) }) {
			if lower := strings.ToLower(name); first == "" || lower < first {
				first = lower
			}
		}
	}
	return first
}

func signsHost(signed []string) bool {
	for _, h := range signed {
		if strings.EqualFold(h, "host") {
			return true
		}
	}
	return false
}

func (v *Verifier) lookup(accessKeyID string) (secret, accountID string, ok bool) {
	if v.Lookup == nil || accessKeyID == "" {
		return "", "", false
	}
	return v.Lookup(accessKeyID)
}

func (v *Verifier) now() time.Time {
	if v.Now != nil {
		return v.Now()
	}
	return time.Now()
}

func (v *Verifier) maxSkew() time.Duration {
	if v.MaxSkew > 0 {
		return v.MaxSkew
	}
	return DefaultMaxSkew
}
