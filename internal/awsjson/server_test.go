package awsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
)

const prefix = "Test_20200101"

type echoInput struct {
	Name     string   `json:"name"`
	Count    int      `json:"count"`
	Tags     []string `json:"tags"`
	Settings *struct {
		DefaultTTL int64 `json:"defaultTTL"`
	} `json:"cacheBehaviorSettings"`
}

// notFound is a service error in the Lightsail shape: its own code, docs and tip.
type notFound struct{ name string }

func (e notFound) Error() string        { return "NotFoundException: " + e.ErrorMessage() }
func (e notFound) ErrorType() string    { return "NotFoundException" }
func (e notFound) HTTPStatus() int      { return http.StatusNotFound }
func (e notFound) ErrorMessage() string { return "Requested resource not found: " + e.name }
func (e notFound) ErrorCode() string    { return "DoesNotExist" }
func (e notFound) ErrorDocs() string    { return "https://lightsail.aws.amazon.com/ls/docs" }
func (e notFound) ErrorTip() string     { return "Check the distribution name." }

// logBuffer collects the server's log lines; handlers run on server goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// records returns each JSON log line decoded.
func (l *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(l.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

type ctxProbe struct{}

// fixture is a Server with a handler per behaviour under test, served over real HTTP.
type fixture struct {
	srv     *Server
	http    *httptest.Server
	logs    *logBuffer
	mu      sync.Mutex
	handled []string // operations whose handler ran
	seenIDs []string // RequestID(ctx) as handlers saw it
	seenCtx []any    // ctx.Value(ctxProbe{}) as handlers saw it
}

func newFixture(t *testing.T, configure func(*Server)) *fixture {
	t.Helper()
	f := &fixture{logs: &logBuffer{}}
	record := func(ctx context.Context, op string) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.handled = append(f.handled, op)
		f.seenIDs = append(f.seenIDs, RequestID(ctx))
		f.seenCtx = append(f.seenCtx, ctx.Value(ctxProbe{}))
	}
	f.srv = &Server{
		TargetPrefix: prefix,
		ServiceName:  "Test",
		Known:        []string{"Echo", "Nothing", "Fail", "FailWrapped", "Opaque", "Boom", "Later"},
		Logger:       slog.New(slog.NewJSONHandler(f.logs, nil)),
		Handlers: map[string]Handler{
			"Echo": func(ctx context.Context, decode func(any) error) (any, error) {
				record(ctx, "Echo")
				var in echoInput
				if err := decode(&in); err != nil {
					return nil, err
				}
				return in, nil
			},
			"Nothing": func(ctx context.Context, decode func(any) error) (any, error) {
				record(ctx, "Nothing")
				return nil, nil
			},
			"Fail": func(ctx context.Context, decode func(any) error) (any, error) {
				record(ctx, "Fail")
				return nil, notFound{name: "my-cdn"}
			},
			"FailWrapped": func(ctx context.Context, decode func(any) error) (any, error) {
				record(ctx, "FailWrapped")
				return nil, fmt.Errorf("control: get distribution: %w", notFound{name: "my-cdn"})
			},
			"Opaque": func(ctx context.Context, decode func(any) error) (any, error) {
				record(ctx, "Opaque")
				return nil, errors.New("store: database is locked (secret detail)")
			},
			"Boom": func(ctx context.Context, decode func(any) error) (any, error) {
				record(ctx, "Boom")
				var m map[string]int
				m["x"] = 1 // nil map write: a real bug, recovered by the server
				return m, nil
			},
		},
	}
	if configure != nil {
		configure(f.srv)
	}
	f.http = httptest.NewServer(f.srv)
	t.Cleanup(f.http.Close)
	return f
}

func (f *fixture) handledOps() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.handled...)
}

type call struct {
	method, path, target, contentType string
	body                              string
	header                            http.Header
}

type response struct {
	status int
	header http.Header
	body   string
}

func (f *fixture) do(t *testing.T, c call) response {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	if c.path == "" {
		c.path = "/"
	}
	req, err := http.NewRequest(c.method, f.http.URL+c.path, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	if c.target != "" {
		req.Header.Set("X-Amz-Target", c.target)
	}
	if c.contentType != "" {
		req.Header.Set("Content-Type", c.contentType)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// requireAWSShape checks what every response must carry and returns the decoded error body (nil for
// a success).
func requireAWSShape(t *testing.T, r response) map[string]string {
	t.Helper()
	id := r.header.Get("X-Amzn-RequestId")
	if _, err := uuid.Parse(id); err != nil {
		t.Errorf("x-amzn-RequestId = %q, want a UUID", id)
	}
	if ct := r.header.Get("Content-Type"); ct != ContentType {
		t.Errorf("Content-Type = %q, want %q", ct, ContentType)
	}
	if r.status == http.StatusOK {
		if r.header.Get("X-Amzn-ErrorType") != "" {
			t.Errorf("success carries X-Amzn-ErrorType %q", r.header.Get("X-Amzn-ErrorType"))
		}
		return nil
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(r.body), &body); err != nil {
		t.Fatalf("error body %q is not a JSON object of strings: %v", r.body, err)
	}
	if body["__type"] == "" || body["__type"] != r.header.Get("X-Amzn-ErrorType") {
		t.Errorf("__type %q vs X-Amzn-ErrorType %q", body["__type"], r.header.Get("X-Amzn-ErrorType"))
	}
	if _, ok := body["message"]; !ok {
		t.Errorf("error body %q has no message", r.body)
	}
	if body["code"] == "" {
		t.Errorf("error body %q has no code", r.body)
	}
	return body
}

func TestServeSuccess(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name     string
		call     call
		wantBody string
	}{
		{
			name:     "decoded input echoed as JSON",
			call:     call{target: prefix + ".Echo", contentType: ContentType, body: `{"name":"my-cdn","count":3,"tags":["a"],"cacheBehaviorSettings":{"defaultTTL":86400}}`},
			wantBody: `{"name":"my-cdn","count":3,"tags":["a"],"cacheBehaviorSettings":{"defaultTTL":86400}}`,
		},
		{
			name:     "empty body is {}",
			call:     call{target: prefix + ".Echo", contentType: ContentType},
			wantBody: `{"name":"","count":0,"tags":null,"cacheBehaviorSettings":null}`,
		},
		{
			name:     "whitespace-only body is {}",
			call:     call{target: prefix + ".Echo", contentType: ContentType, body: " \n\t "},
			wantBody: `{"name":"","count":0,"tags":null,"cacheBehaviorSettings":null}`,
		},
		{
			name:     "unknown members are ignored (newer SDKs send newer members)",
			call:     call{target: prefix + ".Echo", contentType: ContentType, body: `{"name":"x","futureMember":{"a":[1,2]}}`},
			wantBody: `{"name":"x","count":0,"tags":null,"cacheBehaviorSettings":null}`,
		},
		{
			name:     "nil result is {}",
			call:     call{target: prefix + ".Nothing", contentType: ContentType, body: `{}`},
			wantBody: `{}`,
		},
		{
			name:     "AWS JSON 1.0 content type accepted",
			call:     call{target: prefix + ".Nothing", contentType: "application/x-amz-json-1.0", body: `{}`},
			wantBody: `{}`,
		},
		{
			name:     "application/json with charset accepted",
			call:     call{target: prefix + ".Nothing", contentType: "application/json; charset=utf-8", body: `{}`},
			wantBody: `{}`,
		},
		{
			name:     "missing Content-Type accepted",
			call:     call{target: prefix + ".Nothing", body: `{}`},
			wantBody: `{}`,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, tc.call)
			if r.status != http.StatusOK {
				t.Fatalf("status = %d, body %s", r.status, r.body)
			}
			requireAWSShape(t, r)
			if r.body != tc.wantBody {
				t.Errorf("body = %s, want %s", r.body, tc.wantBody)
			}
		})
	}
}

func TestServeProtocolErrors(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name        string
		call        call
		wantStatus  int
		wantType    string
		wantMessage string
	}{
		{
			name:       "GET",
			call:       call{method: http.MethodGet, target: prefix + ".Echo"},
			wantStatus: http.StatusMethodNotAllowed, wantType: TypeUnknownOperation,
			wantMessage: "AWS JSON operations are invoked with POST /, not GET.",
		},
		{
			name:       "path other than /",
			call:       call{path: "/2016-11-28/distributions", target: prefix + ".Echo", contentType: ContentType},
			wantStatus: http.StatusNotFound, wantType: TypeUnknownOperation,
			wantMessage: "No AWS JSON endpoint at /2016-11-28/distributions; operations are invoked with POST /.",
		},
		{
			name:       "no X-Amz-Target",
			call:       call{contentType: ContentType, body: `{}`},
			wantStatus: http.StatusBadRequest, wantType: TypeUnknownOperation,
			wantMessage: "Missing X-Amz-Target header; expected Test_20200101.<Operation>.",
		},
		{
			name:       "other target prefix",
			call:       call{target: "DynamoDB_20120810.Echo", contentType: ContentType, body: `{}`},
			wantStatus: http.StatusBadRequest, wantType: TypeUnknownOperation,
			wantMessage: `Unknown X-Amz-Target "DynamoDB_20120810.Echo"; expected Test_20200101.<Operation>.`,
		},
		{
			name:       "prefix without operation",
			call:       call{target: prefix + ".", contentType: ContentType, body: `{}`},
			wantStatus: http.StatusBadRequest, wantType: TypeUnknownOperation,
			wantMessage: `Unknown X-Amz-Target "Test_20200101."; expected Test_20200101.<Operation>.`,
		},
		{
			name:       "unknown operation",
			call:       call{target: prefix + ".Nope", contentType: ContentType, body: `{}`},
			wantStatus: http.StatusBadRequest, wantType: TypeUnknownOperation,
			wantMessage: `Unknown operation "Nope".`,
		},
		{
			name:       "operation name is case-sensitive",
			call:       call{target: prefix + ".echo", contentType: ContentType, body: `{}`},
			wantStatus: http.StatusBadRequest, wantType: TypeUnknownOperation,
			wantMessage: `Unknown operation "echo".`,
		},
		{
			name:       "known but not implemented",
			call:       call{target: prefix + ".Later", contentType: ContentType, body: `{}`},
			wantStatus: http.StatusNotImplemented, wantType: TypeNotImplemented,
			wantMessage: "sailcdn does not implement the Test operation Later",
		},
		{
			name:       "form-encoded content type",
			call:       call{target: prefix + ".Echo", contentType: "application/x-www-form-urlencoded", body: `Action=Echo`},
			wantStatus: http.StatusBadRequest, wantType: TypeSerialization,
			wantMessage: `Content-Type "application/x-www-form-urlencoded" is not supported; send application/x-amz-json-1.1.`,
		},
		{
			name:       "malformed JSON says where",
			call:       call{target: prefix + ".Echo", contentType: ContentType, body: `{"name": "x",}`},
			wantStatus: http.StatusBadRequest, wantType: TypeSerialization,
			wantMessage: "Malformed JSON at byte offset 14: invalid character '}' looking for beginning of object key string.",
		},
		{
			name:       "truncated JSON",
			call:       call{target: prefix + ".Echo", contentType: ContentType, body: `{"name": "x"`},
			wantStatus: http.StatusBadRequest, wantType: TypeSerialization,
			wantMessage: "Malformed JSON at byte offset 12: unexpected end of JSON input.",
		},
		{
			name:       "trailing data after the object",
			call:       call{target: prefix + ".Echo", contentType: ContentType, body: `{} {}`},
			wantStatus: http.StatusBadRequest, wantType: TypeSerialization,
			wantMessage: "Malformed JSON at byte offset 4: invalid character '{' after top-level value.",
		},
		{
			name:       "top-level array",
			call:       call{target: prefix + ".Echo", contentType: ContentType, body: `[{"name":"x"}]`},
			wantStatus: http.StatusBadRequest, wantType: TypeSerialization,
			wantMessage: "Request body must be a JSON object.",
		},
		{
			name:       "top-level null",
			call:       call{target: prefix + ".Nothing", contentType: ContentType, body: `null`},
			wantStatus: http.StatusBadRequest, wantType: TypeSerialization,
			wantMessage: "Request body must be a JSON object.",
		},
		{
			name:       "wrong member type names the member",
			call:       call{target: prefix + ".Echo", contentType: ContentType, body: `{"name": 42}`},
			wantStatus: http.StatusBadRequest, wantType: TypeSerialization,
			wantMessage: "Member 'name': cannot read JSON number as a string (byte offset 11).",
		},
		{
			name:       "wrong nested member type names the path",
			call:       call{target: prefix + ".Echo", contentType: ContentType, body: `{"cacheBehaviorSettings": {"defaultTTL": "1d"}}`},
			wantStatus: http.StatusBadRequest, wantType: TypeSerialization,
			wantMessage: "Member 'cacheBehaviorSettings.defaultTTL': cannot read JSON string as an integer (byte offset 45).",
		},
		{
			name:       "list where a structure belongs",
			call:       call{target: prefix + ".Echo", contentType: ContentType, body: `{"cacheBehaviorSettings": []}`},
			wantStatus: http.StatusBadRequest, wantType: TypeSerialization,
			wantMessage: "Member 'cacheBehaviorSettings': cannot read JSON array as a structure (byte offset 27).",
		},
		{
			name:       "number overflow",
			call:       call{target: prefix + ".Echo", contentType: ContentType, body: `{"count": 1e400}`},
			wantStatus: http.StatusBadRequest, wantType: TypeSerialization,
			wantMessage: "Member 'count': cannot read JSON number 1e400 as an integer (byte offset 15).",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.handledOps())
			r := f.do(t, tc.call)
			body := requireAWSShape(t, r)
			if r.status != tc.wantStatus || body["__type"] != tc.wantType || body["message"] != tc.wantMessage {
				t.Errorf("got %d %s %q\nwant %d %s %q", r.status, body["__type"], body["message"], tc.wantStatus, tc.wantType, tc.wantMessage)
			}
			if body["code"] != tc.wantType {
				t.Errorf("code = %q, want it equal to __type %q", body["code"], tc.wantType)
			}
			if tc.call.method == http.MethodGet && r.header.Get("Allow") != http.MethodPost {
				t.Errorf("Allow = %q, want POST", r.header.Get("Allow"))
			}
			// Errors found before the handler (everything here but member type errors, which the
			// handler's own decode reports) must not run it.
			ran := len(f.handledOps()) - before
			if decodeInHandler := strings.HasPrefix(tc.wantMessage, "Member "); ran != 0 && !decodeInHandler {
				t.Errorf("handler ran %d times for a request rejected before routing", ran)
			}
		})
	}
	if logs := f.logs.records(t); len(logs) != 0 {
		t.Errorf("client errors were logged: %v", logs)
	}
}

func TestServeHandlerErrors(t *testing.T) {
	cases := []struct {
		name       string
		op         string
		configure  func(*Server)
		wantStatus int
		wantBody   string
		wantLogged string // substring of the logged error; "" = nothing logged
	}{
		{
			name: "service error with code, docs and tip", op: "Fail", wantStatus: http.StatusNotFound,
			wantBody: `{"__type":"NotFoundException","code":"DoesNotExist","docs":"https://lightsail.aws.amazon.com/ls/docs","message":"Requested resource not found: my-cdn","tip":"Check the distribution name."}`,
		},
		{
			name: "wrapped service error is found", op: "FailWrapped", wantStatus: http.StatusNotFound,
			wantBody: `{"__type":"NotFoundException","code":"DoesNotExist","docs":"https://lightsail.aws.amazon.com/ls/docs","message":"Requested resource not found: my-cdn","tip":"Check the distribution name."}`,
		},
		{
			name: "unknown error is a 500 that hides the cause", op: "Opaque", wantStatus: http.StatusInternalServerError,
			wantBody:   `{"__type":"InternalFailure","code":"InternalFailure","message":"The request processing has failed because of an unknown error, exception or failure."}`,
			wantLogged: "store: database is locked (secret detail)",
		},
		{
			name: "panic is a 500 like any unknown error", op: "Boom", wantStatus: http.StatusInternalServerError,
			wantBody:   `{"__type":"InternalFailure","code":"InternalFailure","message":"The request processing has failed because of an unknown error, exception or failure."}`,
			wantLogged: "panic: assignment to entry in nil map",
		},
		{
			name: "Internal maps unknown errors to the service's own 500", op: "Opaque",
			configure: func(s *Server) {
				s.Internal = func(error) APIError {
					return &Error{Type: "ServiceException", Status: 500, Message: "An internal error occurred.", Code: "InternalError"}
				}
			},
			wantStatus: http.StatusInternalServerError,
			wantBody:   `{"__type":"ServiceException","code":"InternalError","message":"An internal error occurred."}`,
			wantLogged: "store: database is locked",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.configure)
			r := f.do(t, call{target: prefix + "." + tc.op, contentType: ContentType, body: `{}`})
			requireAWSShape(t, r)
			if r.status != tc.wantStatus || r.body != tc.wantBody {
				t.Errorf("got %d %s\nwant %d %s", r.status, r.body, tc.wantStatus, tc.wantBody)
			}
			logs := f.logs.records(t)
			if tc.wantLogged == "" {
				if len(logs) != 0 {
					t.Errorf("logged %v", logs)
				}
				return
			}
			if len(logs) != 1 {
				t.Fatalf("logged %d lines, want exactly 1: %v", len(logs), logs)
			}
			rec := logs[0]
			if rec["level"] != "ERROR" || !strings.Contains(fmt.Sprint(rec["error"]), tc.wantLogged) ||
				rec["requestId"] != r.header.Get("X-Amzn-RequestId") || rec["operation"] != tc.op {
				t.Errorf("log record %v: want ERROR with error ~%q, requestId %s, operation %s",
					rec, tc.wantLogged, r.header.Get("X-Amzn-RequestId"), tc.op)
			}
		})
	}
}

func TestServePanicLogsStack(t *testing.T) {
	f := newFixture(t, nil)
	f.do(t, call{target: prefix + ".Boom", contentType: ContentType})
	logs := f.logs.records(t)
	if len(logs) != 1 || !strings.Contains(fmt.Sprint(logs[0]["stack"]), "awsjson") {
		t.Errorf("panic log lacks a stack: %v", logs)
	}
}

func TestServeRequestIDOnEveryResponse(t *testing.T) {
	f := newFixture(t, nil)
	calls := []call{
		{target: prefix + ".Echo", body: `{}`},
		{target: prefix + ".Fail"},
		{target: prefix + ".Opaque"},
		{target: prefix + ".Boom"},
		{target: prefix + ".Later"},
		{target: "nope"},
		{method: http.MethodPut},
		{path: "/x"},
		{target: prefix + ".Echo", body: `[`},
	}
	seen := map[string]bool{}
	for _, c := range calls {
		r := f.do(t, c)
		id := r.header.Get("X-Amzn-RequestId")
		if _, err := uuid.Parse(id); err != nil {
			t.Errorf("%+v: request id %q", c, id)
		}
		if seen[id] {
			t.Errorf("request id %s reused", id)
		}
		seen[id] = true
	}
	// The handler sees the same id in its context as the client in the header.
	r := f.do(t, call{target: prefix + ".Nothing"})
	f.mu.Lock()
	last := f.seenIDs[len(f.seenIDs)-1]
	f.mu.Unlock()
	if last != r.header.Get("X-Amzn-RequestId") {
		t.Errorf("handler saw request id %q, header says %q", last, r.header.Get("X-Amzn-RequestId"))
	}
}

func TestServeAuthenticate(t *testing.T) {
	denied := &Error{Type: "UnrecognizedClientException", Status: http.StatusForbidden, Message: "The security token included in the request is invalid."}
	cases := []struct {
		name       string
		auth       func(r *http.Request, body []byte) (context.Context, error)
		call       call
		wantStatus int
		wantBody   string // exact for errors
		wantRan    bool
		wantProbe  any // ctx.Value(ctxProbe{}) in the handler
	}{
		{
			name: "rejection written as-is, even for an unknown operation (auth before routing)",
			auth: func(*http.Request, []byte) (context.Context, error) { return nil, denied },
			call: call{target: "Garbage", body: `not json`}, wantStatus: http.StatusForbidden,
			wantBody: `{"__type":"UnrecognizedClientException","code":"UnrecognizedClientException","message":"The security token included in the request is invalid."}`,
		},
		{
			name: "rejection for a real operation does not run it",
			auth: func(*http.Request, []byte) (context.Context, error) { return nil, denied },
			call: call{target: prefix + ".Echo", body: `{}`}, wantStatus: http.StatusForbidden,
			wantBody: `{"__type":"UnrecognizedClientException","code":"UnrecognizedClientException","message":"The security token included in the request is invalid."}`,
		},
		{
			name: "non-API error from Authenticate is a 500",
			auth: func(*http.Request, []byte) (context.Context, error) { return nil, errors.New("key store down") },
			call: call{target: prefix + ".Echo", body: `{}`}, wantStatus: http.StatusInternalServerError,
			wantBody: `{"__type":"InternalFailure","code":"InternalFailure","message":"The request processing has failed because of an unknown error, exception or failure."}`,
		},
		{
			name: "Authenticate sees the body and its context reaches the handler",
			auth: func(r *http.Request, body []byte) (context.Context, error) {
				if string(body) != `{"name":"signed"}` {
					return nil, &Error{Type: "InvalidSignatureException", Status: 403, Message: "body " + string(body)}
				}
				return context.WithValue(r.Context(), ctxProbe{}, "account-1"), nil
			},
			call: call{target: prefix + ".Echo", body: `{"name":"signed"}`}, wantStatus: http.StatusOK,
			wantRan: true, wantProbe: "account-1",
		},
		{
			name: "a fresh context from Authenticate keeps the request id",
			auth: func(r *http.Request, body []byte) (context.Context, error) {
				return context.WithValue(context.Background(), ctxProbe{}, "fresh"), nil
			},
			call: call{target: prefix + ".Nothing"}, wantStatus: http.StatusOK, wantRan: true, wantProbe: "fresh",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(s *Server) { s.Authenticate = tc.auth })
			r := f.do(t, tc.call)
			requireAWSShape(t, r)
			if r.status != tc.wantStatus || (tc.wantBody != "" && r.body != tc.wantBody) {
				t.Errorf("got %d %s\nwant %d %s", r.status, r.body, tc.wantStatus, tc.wantBody)
			}
			ran := len(f.handledOps()) > 0
			if ran != tc.wantRan {
				t.Fatalf("handler ran = %v, want %v", ran, tc.wantRan)
			}
			if ran {
				f.mu.Lock()
				probe, id := f.seenCtx[0], f.seenIDs[0]
				f.mu.Unlock()
				if probe != tc.wantProbe || id != r.header.Get("X-Amzn-RequestId") {
					t.Errorf("handler ctx: probe %v id %q, want %v %q", probe, id, tc.wantProbe, r.header.Get("X-Amzn-RequestId"))
				}
			}
		})
	}
}

func TestErrorStatusOutsideErrorRangeBecomes500(t *testing.T) {
	f := newFixture(t, func(s *Server) {
		s.Handlers["Echo"] = func(context.Context, func(any) error) (any, error) {
			return nil, &Error{Type: "Weird", Status: http.StatusOK, Message: "claims success"}
		}
	})
	r := f.do(t, call{target: prefix + ".Echo"})
	body := requireAWSShape(t, r)
	if r.status != http.StatusInternalServerError || body["__type"] != "Weird" {
		t.Errorf("got %d %v", r.status, body)
	}
}

func TestDecodeMisuseIsInternal(t *testing.T) {
	f := newFixture(t, func(s *Server) {
		s.Handlers["Echo"] = func(_ context.Context, decode func(any) error) (any, error) {
			var in echoInput
			return nil, decode(in) // not a pointer: a server bug, not the client's
		}
	})
	r := f.do(t, call{target: prefix + ".Echo", body: `{}`})
	requireAWSShape(t, r)
	if r.status != http.StatusInternalServerError {
		t.Errorf("status = %d, want 500", r.status)
	}
	if logs := f.logs.records(t); len(logs) != 1 {
		t.Errorf("logged %d lines, want 1", len(logs))
	}
}

func TestErrorConstructors(t *testing.T) {
	cases := []struct {
		name                string
		err                 *Error
		wantType, wantMsg   string
		wantStatus          int
		wantCode, wantError string
	}{
		{"serialization", SerializationError("bad %s", "x"), TypeSerialization, "bad x", 400, TypeSerialization, "SerializationException: bad x"},
		{"unknown operation", UnknownOperationError("no %d", 1), TypeUnknownOperation, "no 1", 400, TypeUnknownOperation, "UnknownOperationException: no 1"},
		{"not implemented, no service name", NotImplementedError("", "Op"), TypeNotImplemented, "sailcdn does not implement the operation Op", 501, TypeNotImplemented, "NotImplementedException: sailcdn does not implement the operation Op"},
		{"too large", RequestTooLargeError(10), TypeRequestEntityTooLarge, "Request body must be at most 10 bytes.", 413, TypeRequestEntityTooLarge, "RequestEntityTooLargeException: Request body must be at most 10 bytes."},
		{"internal", InternalFailure(), TypeInternalFailure, "The request processing has failed because of an unknown error, exception or failure.", 500, TypeInternalFailure, "InternalFailure: The request processing has failed because of an unknown error, exception or failure."},
		{"explicit code", &Error{Type: "T", Status: 400, Message: "m", Code: "C", Docs: "d", Tip: "t"}, "T", "m", 400, "C", "T: m"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.err
			if e.ErrorType() != tc.wantType || e.ErrorMessage() != tc.wantMsg || e.HTTPStatus() != tc.wantStatus ||
				e.ErrorCode() != tc.wantCode || e.Error() != tc.wantError {
				t.Errorf("got %q %q %d %q %q", e.ErrorType(), e.ErrorMessage(), e.HTTPStatus(), e.ErrorCode(), e.Error())
			}
		})
	}
}

func TestTypedNilErrorIsInternal(t *testing.T) {
	f := newFixture(t, func(s *Server) {
		s.Handlers["Echo"] = func(context.Context, func(any) error) (any, error) {
			var e *Error // the classic Go mistake: a nil *Error returned as a non-nil error
			return nil, e
		}
	})
	r := f.do(t, call{target: prefix + ".Echo"})
	body := requireAWSShape(t, r)
	if r.status != http.StatusInternalServerError || body["__type"] != TypeInternalFailure {
		t.Errorf("got %d %v, want 500 InternalFailure", r.status, body)
	}
	if logs := f.logs.records(t); len(logs) != 1 || !strings.Contains(fmt.Sprint(logs[0]["error"]), "*awsjson.Error") {
		t.Errorf("logs = %v, want one line naming the typed nil", logs)
	}
}
