package sigv4

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
)

// Exception names AWS uses for authentication failures on JSON services. They are the wire strings
// (body "__type" and header X-Amzn-ErrorType), so SDKs surface them as these error codes.
// Source: AWS "Common Errors" (e.g. https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/CommonErrors.html)
// and the messages real endpoints return for the same faults.
const (
	TypeMissingAuthenticationToken = "MissingAuthenticationTokenException"
	TypeIncompleteSignature        = "IncompleteSignatureException"
	TypeUnrecognizedClient         = "UnrecognizedClientException"
	TypeInvalidSignature           = "InvalidSignatureException"
)

// Error is a SigV4 verification failure. Its method set matches awsjson.APIError, so the API server
// writes it to the wire as-is without sigv4 importing awsjson.
//
// Messages never contain the signature, the secret or the full Authorization header: clients and
// proxies log error messages.
type Error struct {
	Type    string // exception name, one of the Type* constants
	Status  int    // HTTP status
	Message string // human-readable, AWS wording where AWS's wording is known
}

// ErrorType returns the exception name.
func (e *Error) ErrorType() string { return e.Type }

// HTTPStatus returns the HTTP status the error is sent with.
func (e *Error) HTTPStatus() int { return e.Status }

// ErrorMessage returns the message for the body's "message" member.
func (e *Error) ErrorMessage() string { return e.Message }

// Error returns "Type: Message".
func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Interface guard: the method set of awsjson.APIError, restated so that sigv4 need not import it.
var _ interface {
	error
	ErrorType() string
	HTTPStatus() int
	ErrorMessage() string
} = (*Error)(nil)

func missingToken() *Error {
	return &Error{Type: TypeMissingAuthenticationToken, Status: http.StatusForbidden, Message: "Missing Authentication Token"}
}

func incomplete(format string, args ...any) *Error {
	return &Error{Type: TypeIncompleteSignature, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

func invalidSignature(format string, args ...any) *Error {
	return &Error{Type: TypeInvalidSignature, Status: http.StatusForbidden, Message: fmt.Sprintf(format, args...)}
}

func unrecognizedClient() *Error {
	return &Error{Type: TypeUnrecognizedClient, Status: http.StatusForbidden, Message: "The security token included in the request is invalid."}
}

func signatureMismatch() *Error {
	return invalidSignature("The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
}

// fingerprint identifies an Authorization value in a message without revealing it: AWS quotes a
// malformed header as base64(SHA-256(header)) for the same reason.
func fingerprint(s string) string {
	sum := sha256.Sum256([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// quoteShort echoes client input in a message, truncated so that a hostile value cannot bloat responses.
func quoteShort(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}
