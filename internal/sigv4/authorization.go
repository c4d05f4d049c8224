package sigv4

import (
	"strings"
)

// Algorithm is the only signing algorithm SigV4 JSON services accept.
const Algorithm = "AWS4-HMAC-SHA256"

// scopeTerminator ends every SigV4 credential scope.
const scopeTerminator = "aws4_request"

// Scope is the credential scope: the part of the Credential after the access key id.
// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html#create-string-to-sign
type Scope struct {
	Date       string // YYYYMMDD
	Region     string
	Service    string
	Terminator string // "aws4_request" when well formed
}

// String returns "date/region/service/terminator", the form used in the string to sign.
func (s Scope) String() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + s.Terminator
}

// Authorization is a parsed SigV4 Authorization header (or the equivalent presigned query parameters).
type Authorization struct {
	Algorithm     string
	AccessKeyID   string
	Scope         Scope
	SignedHeaders []string // as the client listed them, in its order
	Signature     string   // hex as sent; compared in constant time by Verify
}

// String re-serialises the header in the form the AWS SDKs emit. ParseAuthorization(a.String())
// yields a again for every a that ParseAuthorization returned.
func (a *Authorization) String() string {
	return a.Algorithm + " Credential=" + a.AccessKeyID + "/" + a.Scope.String() +
		", SignedHeaders=" + strings.Join(a.SignedHeaders, ";") +
		", Signature=" + a.Signature
}

// ParseAuthorization parses
//
//	AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/region/service/aws4_request, SignedHeaders=a;b;c, Signature=hex
//
// It tolerates what real clients vary on: any run of spaces or tabs after the algorithm, components
// separated by "," with or without spaces, and components in any order. Unknown components are
// ignored. The error is an IncompleteSignatureException naming what is missing or malformed.
func ParseAuthorization(header string) (*Authorization, error) {
	header = strings.Trim(header, " \t")
	alg, rest, _ := strings.Cut(header, " ")
	if i := strings.IndexByte(alg, '\t'); i >= 0 { // "AWS4-HMAC-SHA256\tCredential=..."
		alg, rest = alg[:i], alg[i+1:]+" "+rest
	}
	if alg != Algorithm {
		return nil, incomplete("Unsupported AWS 'algorithm': '%s'.", quoteShort(alg))
	}

	// The three components, each at most once.
	var credential, signedHeaders, signature string
	var seen [3]bool
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		key, value, ok := strings.Cut(part, "=")
		if !ok {
			return nil, incomplete("Invalid key=value pair (missing equal-sign) in Authorization header "+
				"(hashed with SHA-256 and encoded with Base64): '%s'.", fingerprint(header))
		}
		key = strings.Trim(key, " \t")
		var i int
		var dst *string
		switch key {
		case "Credential":
			i, dst = 0, &credential
		case "SignedHeaders":
			i, dst = 1, &signedHeaders
		case "Signature":
			i, dst = 2, &signature
		default:
			continue // AWS ignores components it does not know; so do we
		}
		if seen[i] {
			// Two Credentials in one header are ambiguous; refusing beats guessing which one a
			// proxy or the client meant.
			return nil, incomplete("Authorization header has more than one '%s' parameter.", key)
		}
		seen[i] = true
		*dst = strings.Trim(value, " \t")
	}

	// AWS lists every missing component, one sentence each, in this order.
	if credential == "" || signature == "" || signedHeaders == "" {
		var missing strings.Builder
		for _, c := range []struct{ key, value string }{{"Credential", credential}, {"Signature", signature}, {"SignedHeaders", signedHeaders}} {
			if c.value == "" {
				missing.WriteString("Authorization header requires '" + c.key + "' parameter. ")
			}
		}
		return nil, incomplete("%s", strings.TrimSuffix(missing.String(), " "))
	}

	a := &Authorization{Algorithm: alg, Signature: signature}
	if err := a.setCredential(credential); err != nil {
		return nil, err
	}
	if err := a.setSignedHeaders(signedHeaders); err != nil {
		return nil, err
	}
	return a, nil
}

// setCredential splits "AKID/date/region/service/terminator".
func (a *Authorization) setCredential(cred string) error {
	var parts [5]string
	rest := cred
	for i := range parts {
		var ok bool
		if i == len(parts)-1 {
			parts[i], ok = rest, !strings.Contains(rest, "/")
		} else {
			parts[i], rest, ok = strings.Cut(rest, "/")
		}
		if !ok {
			return incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'.", quoteShort(cred))
		}
	}
	a.AccessKeyID = parts[0]
	a.Scope = Scope{Date: parts[1], Region: parts[2], Service: parts[3], Terminator: parts[4]}
	return nil
}

// setSignedHeaders splits "a;b;c". Names must be HTTP tokens (RFC 9110 §5.1): anything else could
// not have been a header the client sent, and would make the canonical request ambiguous.
func (a *Authorization) setSignedHeaders(list string) error {
	a.SignedHeaders = make([]string, 0, strings.Count(list, ";")+1)
	for name := range strings.SplitSeq(list, ";") {
		if !isToken(name) {
			return incomplete("SignedHeaders contains an invalid header name '%s'.", quoteShort(name))
		}
		a.SignedHeaders = append(a.SignedHeaders, name)
	}
	return nil
}

// isToken reports whether s is a non-empty RFC 9110 §5.6.2 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
