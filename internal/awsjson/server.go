// Package awsjson serves the AWS JSON 1.1 protocol: POST / with X-Amz-Target naming the operation
// and a JSON body. It owns the framing (routing, body limit, decode, encode, request ids) and the one
// error writer; it knows nothing of the service behind the handlers.
//
// Protocol reference: https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html
package awsjson

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// DefaultMaxBody bounds request bodies when Server.MaxBody is 0. Lightsail inputs are small (the
// largest, CreateDistribution with many cache behaviours, is a few KiB).
const DefaultMaxBody int64 = 1 << 20

// Handler runs one operation. decode unmarshals the request body into v (returns a
// SerializationException APIError on bad JSON). The returned value is JSON-encoded with status 200.
type Handler func(ctx context.Context, decode func(v any) error) (any, error)

// Server routes AWS JSON requests to Handlers. The zero value of each optional field is a sensible
// default. A Server must not be modified while serving.
type Server struct {
	// TargetPrefix is the X-Amz-Target prefix before the ".", e.g. "Lightsail_20161128".
	TargetPrefix string
	// Handlers are the implemented operations by name.
	Handlers map[string]Handler
	// Known lists every operation of the service model. A known operation without a handler is
	// answered 501 NotImplementedException; one unknown to both is 400 UnknownOperationException.
	Known []string
	// Authenticate runs before routing, on every request that passed the method, path and body
	// checks; its error (an APIError such as *sigv4.Error) is written as-is. The context it returns
	// is passed to the handler. nil = no authentication.
	Authenticate func(r *http.Request, body []byte) (context.Context, error)
	// MaxBody bounds the request body in bytes; larger is 413. 0 = DefaultMaxBody (1 MiB).
	MaxBody int64
	// Internal turns an error that is not an APIError into the service's 500. The cause is logged
	// once, here; it never reaches the client. nil = InternalFailure().
	Internal func(err error) APIError
	// Logger receives the one log line per internal error. nil = slog.Default().
	Logger *slog.Logger
	// ServiceName names the service in the 501 message ("sailcdn does not implement the
	// Lightsail operation X"). Optional.
	ServiceName string
}

// ServeHTTP serves one AWS JSON request. Steps, each ending the request on failure:
// request id → method and path → body limit → Authenticate → X-Amz-Target → Content-Type →
// body is one JSON object → handler → 200 with the JSON result.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := uuid.NewString()
	w.Header().Set("X-Amzn-RequestId", id)
	ctx := withRequestID(r.Context(), id)
	r = r.WithContext(ctx)

	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		s.writeError(ctx, w, &Error{Type: TypeUnknownOperation, Status: http.StatusMethodNotAllowed,
			Message: "AWS JSON operations are invoked with POST /, not " + truncate(r.Method) + "."})
		return
	}
	if p := r.URL.Path; p != "/" && p != "" {
		s.writeError(ctx, w, &Error{Type: TypeUnknownOperation, Status: http.StatusNotFound,
			Message: "No AWS JSON endpoint at " + truncate(p) + "; operations are invoked with POST /."})
		return
	}

	body, err := s.readBody(w, r)
	if err != nil {
		s.writeError(ctx, w, err)
		return
	}

	if s.Authenticate != nil {
		authCtx, err := s.Authenticate(r, body)
		if err != nil {
			s.writeError(ctx, w, err)
			return
		}
		if authCtx != nil {
			ctx = authCtx
		}
		if RequestID(ctx) != id { // an Authenticate that built a fresh context must not lose the id
			ctx = withRequestID(ctx, id)
		}
	}

	op, h, err := s.route(r.Header.Get("X-Amz-Target"))
	if err != nil {
		s.writeError(ctx, w, err)
		return
	}
	ctx = withOperation(ctx, op)
	if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
		s.writeError(ctx, w, err)
		return
	}
	body, err = normalizeBody(body)
	if err != nil {
		s.writeError(ctx, w, err)
		return
	}

	out, err := runHandler(ctx, h, decoder(body))
	if err != nil {
		s.writeError(ctx, w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// readBody reads at most MaxBody bytes. A declared Content-Length over the limit is refused before
// reading anything, and a chunked body stops being read one byte past the limit; either way the
// connection is closed rather than drained, so an oversized upload costs us nothing more.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := s.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	if r.ContentLength > limit {
		w.Header().Set("Connection", "close")
		return nil, RequestTooLargeError(limit)
	}
	if r.ContentLength >= 0 {
		// The usual case: a declared length within the limit, read into a buffer of exactly that
		// size (net/http stops the body at the declared length).
		body := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			return nil, SerializationError("Could not read the request body.")
		}
		return body, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			w.Header().Set("Connection", "close")
			return nil, RequestTooLargeError(limit)
		}
		// The client went away or sent a broken chunked body; the answer is unlikely to be read.
		return nil, SerializationError("Could not read the request body.")
	}
	return body, nil
}

// route resolves X-Amz-Target ("<TargetPrefix>.<Op>") to a handler.
func (s *Server) route(target string) (string, Handler, error) {
	op, ok := strings.CutPrefix(target, s.TargetPrefix+".")
	if target == "" {
		return "", nil, UnknownOperationError("Missing X-Amz-Target header; expected %s.<Operation>.", s.TargetPrefix)
	}
	if !ok || op == "" {
		return "", nil, UnknownOperationError("Unknown X-Amz-Target %q; expected %s.<Operation>.", truncate(target), s.TargetPrefix)
	}
	if h, ok := s.Handlers[op]; ok && h != nil {
		return op, h, nil
	}
	if slices.Contains(s.Known, op) {
		return "", nil, NotImplementedError(s.ServiceName, op)
	}
	return "", nil, UnknownOperationError("Unknown operation %q.", truncate(op))
}
