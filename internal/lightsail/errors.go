package lightsail

import (
	"fmt"
	"net/http"
)

// ErrorType is a Lightsail exception name exactly as it appears on the wire (body "__type" and the
// X-Amzn-ErrorType header).
type ErrorType string

// The modeled Lightsail exceptions, plus sailcdn's own NotImplementedException for operations of the model
// it does not serve.
const (
	InvalidInput           ErrorType = "InvalidInputException"
	OperationFailure       ErrorType = "OperationFailureException"
	NotFound               ErrorType = "NotFoundException"
	AccessDenied           ErrorType = "AccessDeniedException"
	Unauthenticated        ErrorType = "UnauthenticatedException"
	AccountSetupInProgress ErrorType = "AccountSetupInProgressException"
	RegionSetupInProgress  ErrorType = "RegionSetupInProgressException"
	ServiceFailure         ErrorType = "ServiceException"
	NotImplemented         ErrorType = "NotImplementedException"
)

// errorTable is the one place an exception gets its HTTP status: the httpError traits of the model
// (aws-sdk-go-v2 lightsail schemas.go), reference §1.1.
var errorTable = map[ErrorType]struct {
	status int
	docs   string
}{
	InvalidInput:           {http.StatusBadRequest, "https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_InvalidInputException.html"},
	OperationFailure:       {http.StatusBadRequest, "https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_OperationFailureException.html"},
	NotFound:               {http.StatusNotFound, "https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_NotFoundException.html"},
	AccessDenied:           {http.StatusForbidden, "https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_AccessDeniedException.html"},
	Unauthenticated:        {http.StatusUnauthorized, "https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_UnauthenticatedException.html"},
	AccountSetupInProgress: {428, "https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_AccountSetupInProgressException.html"},
	RegionSetupInProgress:  {428, "https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_RegionSetupInProgressException.html"},
	ServiceFailure:         {http.StatusInternalServerError, "https://docs.aws.amazon.com/lightsail/2016-11-28/api-reference/API_ServiceException.html"},
	NotImplemented:         {http.StatusNotImplemented, "https://github.com/sailcdn/sailcdn/blob/main/docs/decisions.md"},
}

// Error is a Lightsail exception. Code is Lightsail's own reason string (the "code" member, e.g.
// "UnsupportedOperation", "DoesNotExist"); Type decides the status and what SDKs raise.
type Error struct {
	Type    ErrorType
	Code    string
	Message string
	Tip     string
}

// Errorf builds an Error of type t with reason code and a formatted message.
func Errorf(t ErrorType, code, format string, args ...any) *Error {
	return &Error{Type: t, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithTip returns e with a hint for the caller.
func (e *Error) WithTip(tip string) *Error {
	e.Tip = tip
	return e
}

func (e *Error) Error() string        { return string(e.Type) + ": " + e.Message }
func (e *Error) ErrorType() string    { return string(e.Type) }
func (e *Error) ErrorMessage() string { return e.Message }
func (e *Error) ErrorTip() string     { return e.Tip }
func (e *Error) ErrorDocs() string    { return errorTable[e.Type].docs }

// ErrorCode is the "code" member; when no reason was given it repeats the type, so a client that reads
// "code" (the JS SDK's fallback) never sees a different exception than one that reads "__type".
func (e *Error) ErrorCode() string {
	if e.Code == "" {
		return string(e.Type)
	}
	return e.Code
}

// HTTPStatus is the status the model assigns to the exception; unknown types are server faults.
func (e *Error) HTTPStatus() int {
	if row, ok := errorTable[e.Type]; ok {
		return row.status
	}
	return http.StatusInternalServerError
}
