package admin

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/sailcdn/sailcdn/internal/awsjson"
	"github.com/sailcdn/sailcdn/internal/lightsail"
)

// The operator endpoints' errors, one constructor per kind. Exception names and statuses come from
// lightsail's error table and awsjson's protocol errors, so an admin failure reads like an API one.

// badBody is a request body that is not the JSON object the endpoint takes (400 SerializationException).
func badBody(want string, err error) error {
	return awsjson.SerializationError("body must be %s: %v", want, err)
}

// invalidInput is a well-formed request with a value the endpoint refuses (400 InvalidInputException).
func invalidInput(format string, args ...any) error {
	return lightsail.Errorf(lightsail.InvalidInput, "", format, args...)
}

// noEndpoint is a path no route serves (404 NotFoundException).
func noEndpoint(path string) error {
	return lightsail.Errorf(lightsail.NotFound, "", "no admin endpoint %s", path)
}

// methodNotAllowedError is a known path asked with another method: 405 UnknownOperationException, as
// the API answers a method other than POST, with the allowed methods in Allow.
type methodNotAllowedError struct {
	err   *awsjson.Error
	allow []string
}

func (e *methodNotAllowedError) Error() string { return e.err.Error() }
func (e *methodNotAllowedError) Unwrap() error { return e.err }

func methodNotAllowed(allow []string) error {
	slices.Sort(allow)
	allow = slices.Compact(allow)
	return &methodNotAllowedError{
		err: &awsjson.Error{Type: awsjson.TypeUnknownOperation, Status: http.StatusMethodNotAllowed,
			Message: "use " + orList(allow)},
		allow: allow,
	}
}

// orList writes ["GET", "HEAD", "POST"] as "GET, HEAD or POST".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// accessDenied refuses a caller who is not an admin (403 AccessDeniedException), saying why.
func accessDenied(reason error) error {
	return lightsail.Errorf(lightsail.AccessDenied, "", "%s", reason.Error())
}

// failure is the server's own failure: the caller reads message, the log (writeError) gets cause.
type failure struct {
	message string
	cause   error
}

func (f *failure) Error() string { return f.message + ": " + f.cause.Error() }
func (f *failure) Unwrap() error { return f.cause }

// serverFailed reports that the endpoint could not do what (500 ServiceException).
func serverFailed(what string, cause error) error {
	return &failure{message: "could not " + what, cause: cause}
}

// internalFailure is the 500 written for an error that is not AWS-shaped; a failure's message is kept,
// anything else says only that something went wrong.
func internalFailure(err error) awsjson.APIError {
	msg := "An internal error occurred. Try again later."
	var f *failure
	if errors.As(err, &f) {
		msg = f.message
	}
	return lightsail.Errorf(lightsail.ServiceFailure, "InternalError", "%s", msg)
}
