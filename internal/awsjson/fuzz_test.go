package awsjson

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"
)

// FuzzServe throws arbitrary targets, content types and bodies at a Server: every response must be
// AWS-shaped (request id, JSON content type, __type matching X-Amzn-ErrorType), nothing may panic
// out of ServeHTTP, and a 200 is only possible for a well-formed call of an operation that succeeds.
// Seeds: testdata/fuzz/FuzzServe.
func FuzzServe(f *testing.F) {
	f.Add(prefix+".Echo", ContentType, []byte(`{"name":"x","count":1}`))
	s := &Server{
		TargetPrefix: prefix,
		Known:        []string{"Echo", "Nothing", "Fail", "Opaque", "Boom", "Later"},
		Logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
		MaxBody:      4096, // small, so the fuzzer also reaches the 413 path
		Handlers: map[string]Handler{
			"Echo": func(_ context.Context, decode func(any) error) (any, error) {
				var in echoInput
				if err := decode(&in); err != nil {
					return nil, err
				}
				return in, nil
			},
			"Nothing": func(context.Context, func(any) error) (any, error) { return nil, nil },
			"Fail":    func(context.Context, func(any) error) (any, error) { return nil, notFound{name: "x"} },
			"Opaque":  func(context.Context, func(any) error) (any, error) { return nil, errors.New("opaque") },
			"Boom":    func(context.Context, func(any) error) (any, error) { panic("boom") },
		},
	}
	f.Fuzz(func(t *testing.T, target, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)

		if _, err := uuid.Parse(rec.Header().Get("X-Amzn-RequestId")); err != nil {
			t.Fatalf("no request id: %q", rec.Header().Get("X-Amzn-RequestId"))
		}
		if ct := rec.Header().Get("Content-Type"); ct != ContentType {
			t.Fatalf("Content-Type %q", ct)
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("response %q is not a JSON object: %v", rec.Body.String(), err)
		}

		if rec.Code == http.StatusOK {
			if target != prefix+".Echo" && target != prefix+".Nothing" {
				t.Fatalf("200 for target %q", target)
			}
			if !plausibleContentType(contentType) {
				t.Fatalf("200 for Content-Type %q", contentType)
			}
			trimmed := bytes.TrimSpace(body)
			if len(trimmed) > 0 {
				if trimmed[0] != '{' || !json.Valid(trimmed) {
					t.Fatalf("200 for body %q", body)
				}
				var in echoInput
				if target == prefix+".Echo" && json.Unmarshal(trimmed, &in) != nil {
					t.Fatalf("200 for Echo with undecodable body %q", body)
				}
			}
			return
		}
		if rec.Code < 400 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
		typ, _ := out["__type"].(string)
		if typ == "" || typ != rec.Header().Get("X-Amzn-ErrorType") {
			t.Fatalf("__type %q vs header %q", typ, rec.Header().Get("X-Amzn-ErrorType"))
		}
		if code, _ := out["code"].(string); code == "" {
			t.Fatalf("no code in %s", rec.Body.String())
		}
		if _, ok := out["message"].(string); !ok {
			t.Fatalf("no message in %s", rec.Body.String())
		}
	})
}

// plausibleContentType restates the accepted Content-Types independently of the code under test.
func plausibleContentType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/x-amz-json-1.1" || mt == "application/x-amz-json-1.0" || mt == "application/json")
}
