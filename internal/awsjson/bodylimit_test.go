package awsjson

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// endlessBody is a request body that never ends and fails the test if the server reads more than
// allowed of it.
type endlessBody struct {
	t       *testing.T
	allowed int64
	read    int64
}

func (b *endlessBody) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	b.read += int64(len(p))
	if b.read > b.allowed {
		b.t.Errorf("server read %d bytes of the body, allowed %d", b.read, b.allowed)
		return 0, http.ErrBodyReadAfterClose
	}
	return len(p), nil
}

func (b *endlessBody) Close() error { return nil }

func TestBodyLimit(t *testing.T) {
	const slack = 64 << 10 // a reader may be asked for a buffer's worth beyond the limit, no more
	cases := []struct {
		name          string
		maxBody       int64
		contentLength int64 // declared; -1 = chunked (unknown)
		allowedRead   int64
		wantLimit     int64
	}{
		{name: "chunked body over the default 1 MiB stops at the limit", contentLength: -1, allowedRead: DefaultMaxBody + slack, wantLimit: DefaultMaxBody},
		{name: "declared length over the limit is refused unread", contentLength: DefaultMaxBody + 1, allowedRead: 0, wantLimit: DefaultMaxBody},
		{name: "custom limit", maxBody: 100, contentLength: -1, allowedRead: 100 + slack, wantLimit: 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var handled bool
			s := &Server{
				TargetPrefix: prefix,
				MaxBody:      tc.maxBody,
				Handlers: map[string]Handler{"Echo": func(_ context.Context, _ func(any) error) (any, error) {
					handled = true
					return nil, nil
				}},
			}
			body := &endlessBody{t: t, allowed: tc.allowedRead}
			req := httptest.NewRequest(http.MethodPost, "/", nil)
			req.Body, req.ContentLength = body, tc.contentLength
			req.Header.Set("X-Amz-Target", prefix+".Echo")
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)

			r := response{status: rec.Code, header: rec.Result().Header, body: rec.Body.String()}
			got := requireAWSShape(t, r)
			want := RequestTooLargeError(tc.wantLimit)
			if r.status != http.StatusRequestEntityTooLarge || got["__type"] != want.Type || got["message"] != want.Message {
				t.Errorf("got %d %v, want 413 %s %q", r.status, got, want.Type, want.Message)
			}
			if r.header.Get("Connection") != "close" {
				t.Errorf("Connection = %q, want close: the rest of the body is not drained", r.header.Get("Connection"))
			}
			if handled {
				t.Error("handler ran for an oversized body")
			}
		})
	}
}

func TestBodyLimitOverHTTP(t *testing.T) {
	const limit = 1024
	f := newFixture(t, func(s *Server) { s.MaxBody = limit })
	exact := `{"name":"` + strings.Repeat("a", limit-len(`{"name":""}`)) + `"}`
	cases := []struct {
		name       string
		body       string
		wantStatus int
	}{
		{"exactly the limit", exact, http.StatusOK},
		{"one byte over", exact + " ", http.StatusRequestEntityTooLarge},
		{"far over", strings.Repeat(" ", 8*limit), http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, call{target: prefix + ".Echo", contentType: ContentType, body: tc.body})
			body := requireAWSShape(t, r)
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d (%v), want %d", r.status, body, tc.wantStatus)
			}
			if tc.wantStatus == http.StatusOK {
				var out echoInput
				if err := json.Unmarshal([]byte(r.body), &out); err != nil || len(out.Name) != limit-len(`{"name":""}`) {
					t.Errorf("echo = %d chars, %v", len(out.Name), err)
				}
			} else if body["__type"] != TypeRequestEntityTooLarge {
				t.Errorf("__type = %q", body["__type"])
			}
		})
	}
}
