package awsjson

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"runtime/debug"
	"strconv"
)

// ContentType is the media type of every response.
const ContentType = "application/x-amz-json-1.1"

// panicError carries a recovered handler panic to the error writer, which logs it with its stack.
type panicError struct {
	value any
	stack []byte
}

func (p *panicError) Error() string { return fmt.Sprintf("panic: %v", p.value) }

// runHandler runs h and encodes its result, turning a panic in either into an error: one bad request must
// not take the connection (or, unrecovered, the process) down, and it gets the same 500 and single
// log line as any other unknown error.
func runHandler(ctx context.Context, h Handler, decode func(any) error) (body []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler { // the sentinel net/http uses to abort on purpose
				panic(p)
			}
			body, err = nil, &panicError{value: p, stack: debug.Stack()}
		}
	}()
	out, err := h(ctx, decode)
	if err != nil {
		return nil, err
	}
	if out == nil {
		return []byte("{}"), nil
	}
	if a, ok := out.(Appendable); ok {
		body = a.AppendJSON(make([]byte, 0, 1024))
	} else {
		body, err = json.Marshal(out)
	}
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", out, err)
	}
	if string(body) == "null" { // a typed nil pointer: the protocol's empty output is {}
		return []byte("{}"), nil
	}
	return body, nil
}

// contentTypeValue is shared by every response's header map; net/http only reads it.
var contentTypeValue = []string{ContentType}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = contentTypeValue
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body) // a write error means the client is gone; nothing left to tell it
}

// errorBody is the AWS JSON error document. "__type" is what SDKs read (after the X-Amzn-ErrorType
// header); "code" is always present, and equals "__type" unless a service error carries its own
// reason code (Lightsail's code/docs/tip members).
type errorBody struct {
	Type    string `json:"__type"`
	Code    string `json:"code"`
	Docs    string `json:"docs,omitempty"`
	Message string `json:"message"`
	Tip     string `json:"tip,omitempty"`
}

// writeError is THE error writer: every failure of every request leaves through here. An APIError
// (found with errors.As, so wrapping is fine) is written as it describes itself; anything else is
// logged once with the request id and replaced by Internal's 500.
func (s *Server) writeError(ctx context.Context, w http.ResponseWriter, err error) {
	var apiErr APIError
	if !errors.As(err, &apiErr) || isNilPointer(apiErr) {
		// A typed nil (a nil *T returned as error) would panic in its methods: it is a server bug,
		// so it is treated like any other unknown error.
		apiErr = s.internal(ctx, err)
	}
	WriteError(w, apiErr)
}

// WriteError writes apiErr as an AWS JSON error response: the status it names (a status outside
// 400–599 becomes 500, so a failure can never read as a result), X-Amzn-ErrorType, and the body
// {"__type","code","docs","message","tip"}. Server uses it for every failure; other handlers on
// the same port (admin endpoints) use it so that all of sailcdn's errors look alike.
func WriteError(w http.ResponseWriter, apiErr APIError) {
	status := apiErr.HTTPStatus()
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	b := errorBody{Type: apiErr.ErrorType(), Code: apiErr.ErrorType(), Message: apiErr.ErrorMessage()}
	if detail, ok := apiErr.(ErrorDetail); ok {
		if c := detail.ErrorCode(); c != "" {
			b.Code = c
		}
		b.Docs, b.Tip = detail.ErrorDocs(), detail.ErrorTip()
	}
	body, mErr := json.Marshal(b)
	if mErr != nil { // strings only: cannot happen, but never write a half response
		body = []byte(`{"__type":"InternalFailure","code":"InternalFailure","message":""}`)
	}
	w.Header().Set("X-Amzn-ErrorType", b.Type)
	writeJSON(w, status, body)
}

// internal logs an unknown error (the only place that does) and returns the service's 500 for it.
func (s *Server) internal(ctx context.Context, err error) APIError {
	attrs := []any{
		slog.String("requestId", RequestID(ctx)),
		slog.String("operation", Operation(ctx)),
		slog.String("error", describe(err)),
	}
	var p *panicError
	if errors.As(err, &p) {
		attrs = append(attrs, slog.String("stack", string(p.stack)))
	}
	s.logger().ErrorContext(ctx, "awsjson: internal error", attrs...)
	if s.Internal != nil {
		if apiErr := s.Internal(err); apiErr != nil {
			return apiErr
		}
	}
	return InternalFailure()
}

// describe is err.Error() that survives a typed nil (or otherwise broken) error: the error path
// must not itself panic.
func describe(err error) (s string) {
	defer func() {
		if recover() != nil {
			s = fmt.Sprintf("%T whose Error method panicked (typed nil?)", err)
		}
	}()
	return err.Error()
}

func isNilPointer(v any) bool {
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}
