package awsjson

import (
	"fmt"
	"net/http"
)

// APIError is anything the one error writer can put on the wire.
type APIError interface {
	error
	ErrorType() string // exception name: body "__type" and header X-Amzn-ErrorType
	HTTPStatus() int
	ErrorMessage() string
}

// ErrorDetail is optionally implemented by service errors that carry Lightsail's extra members.
type ErrorDetail interface {
	ErrorCode() string
	ErrorDocs() string
	ErrorTip() string
}

// Exception names of the protocol errors this package writes itself.
const (
	// TypeSerialization: the body is not a JSON object of the operation's input shape, or the
	// Content-Type is not JSON. The name every AWS JSON service uses for undecodable input.
	TypeSerialization = "SerializationException"
	// TypeUnknownOperation: no such operation (X-Amz-Target missing or unknown), or not an AWS JSON
	// request at all (wrong method or path).
	TypeUnknownOperation = "UnknownOperationException"
	// TypeNotImplemented: an operation of the service model that this server does not implement.
	TypeNotImplemented = "NotImplementedException"
	// TypeRequestEntityTooLarge: the body exceeds Server.MaxBody.
	TypeRequestEntityTooLarge = "RequestEntityTooLargeException"
	// TypeInternalFailure: the default 500 (AWS Common Errors: InternalFailure).
	TypeInternalFailure = "InternalFailure"
)

// Error is a protocol-level APIError (and ErrorDetail). Services usually bring their own error
// types; this one serves the framing itself and callers that need a quick AWS-shaped error.
type Error struct {
	Type    string // exception name
	Status  int    // HTTP status
	Message string
	Code    string // body "code"; empty means Type, so __type and code never disagree
	Docs    string // body "docs", omitted when empty
	Tip     string // body "tip", omitted when empty
}

var (
	_ APIError    = (*Error)(nil)
	_ ErrorDetail = (*Error)(nil)
)

// Error returns "Type: Message".
func (e *Error) Error() string { return e.Type + ": " + e.Message }

// ErrorType returns the exception name.
func (e *Error) ErrorType() string { return e.Type }

// HTTPStatus returns the status the error is written with.
func (e *Error) HTTPStatus() int { return e.Status }

// ErrorMessage returns the body's "message".
func (e *Error) ErrorMessage() string { return e.Message }

// ErrorCode returns Code, or Type when Code is empty.
func (e *Error) ErrorCode() string {
	if e.Code != "" {
		return e.Code
	}
	return e.Type
}

// ErrorDocs returns Docs.
func (e *Error) ErrorDocs() string { return e.Docs }

// ErrorTip returns Tip.
func (e *Error) ErrorTip() string { return e.Tip }

// SerializationError is a 400 SerializationException.
func SerializationError(format string, args ...any) *Error {
	return &Error{Type: TypeSerialization, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// UnknownOperationError is a 400 UnknownOperationException.
func UnknownOperationError(format string, args ...any) *Error {
	return &Error{Type: TypeUnknownOperation, Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// NotImplementedError is the 501 for an operation the model knows and this server does not
// implement: a client must never mistake it for success, and 501 tells it retrying will not help.
func NotImplementedError(service, op string) *Error {
	what := "the operation"
	if service != "" {
		what = "the " + service + " operation"
	}
	return &Error{Type: TypeNotImplemented, Status: http.StatusNotImplemented,
		Message: fmt.Sprintf("sailcdn does not implement %s %s", what, op)}
}

// RequestTooLargeError is the 413 for a body over limit bytes.
func RequestTooLargeError(limit int64) *Error {
	return &Error{Type: TypeRequestEntityTooLarge, Status: http.StatusRequestEntityTooLarge,
		Message: fmt.Sprintf("Request body must be at most %d bytes.", limit)}
}

// InternalFailure is the default 500; its message reveals nothing about the cause (which is logged).
func InternalFailure() *Error {
	return &Error{Type: TypeInternalFailure, Status: http.StatusInternalServerError,
		Message: "The request processing has failed because of an unknown error, exception or failure."}
}
