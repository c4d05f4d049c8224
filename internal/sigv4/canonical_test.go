package sigv4

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// AWS's published SigV4 test-suite vectors (aws-sig-v4-test-suite: get-vanilla and
// get-vanilla-query-order-key-case): credentials AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY,
// scope 20150830/us-east-1/service, X-Amz-Date 20150830T123600Z.
func TestPublishedVectors(t *testing.T) {
	cases := []struct {
		name, target, wantSignature string
	}{
		{"get-vanilla", "/", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query-order-key-case", "/?Param2=value2&Param1=value1", "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
	}
	signedAt := time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)
	v := &Verifier{Service: "service", Lookup: testLookup, Now: func() time.Time { return signedAt }}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://example.amazonaws.com"+tc.target, nil)
			r.Header.Set("X-Amz-Date", "20150830T123600Z")
			scope := Scope{Date: "20150830", Region: "us-east-1", Service: "service", Terminator: "aws4_request"}
			sts := StringToSign(signedAt, scope, CanonicalRequest(r, []string{"host", "x-amz-date"}, PayloadHash(nil)))
			if got := Signature(SigningKey(testSecret, scope), sts); got != tc.wantSignature {
				t.Fatalf("signature = %s, want %s", got, tc.wantSignature)
			}
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature="+tc.wantSignature)
			if _, err := v.Verify(r, nil); err != nil {
				t.Fatalf("Verify: %v", err)
			}
		})
	}
}

func TestCanonicalQuery(t *testing.T) {
	cases := []struct{ name, raw, want string }{
		{"empty", "", ""},
		{"sorted by key then value", "b=2&a=2&a=1", "a=1&a=2&b=2"},
		{"upper case sorts before lower case", "a=1&B=2", "B=2&a=1"},
		{"space as %20, plus sign from the wire means space", "q=a+b&r=a%20b", "q=a%20b&r=a%20b"},
		{"literal plus stays encoded", "q=%2B", "q=%2B"},
		{"unreserved characters unescaped", "q=%7E%2D%2E%5F", "q=~-._"},
		{"reserved characters escaped upper-case", "q=/:@", "q=%2F%3A%40"},
		{"key without value", "flag&x=1", "flag=&x=1"},
		{"empty pairs skipped", "&&a=1&", "a=1"},
		{"invalid escape kept verbatim, then encoded", "q=%zz", "q=%25zz"},
		{"utf-8 bytes encoded", "q=%C3%A9", "q=%C3%A9"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := CanonicalQuery(tc.raw); got != tc.want {
				t.Errorf("CanonicalQuery(%q) = %q, want %q", tc.raw, got, tc.want)
			}
		})
	}
}

func TestCanonicalQueryDropsSignatureOnlyWhenPresigned(t *testing.T) {
	raw := "X-Amz-Signature=abc&a=1"
	if got := canonicalQuery(raw, true); got != "a=1" {
		t.Errorf("presigned: %q", got)
	}
	if got := canonicalQuery(raw, false); got != "X-Amz-Signature=abc&a=1" {
		t.Errorf("header-signed: %q", got)
	}
}

func TestCanonicalURI(t *testing.T) {
	cases := []struct{ name, target, want string }{
		{"root", "/", "/"},
		{"plain", "/a/b", "/a/b"},
		{"escaped space is escaped again", "/a%20b", "/a%2520b"},
		{"escaped slash is escaped again", "/a%2Fb", "/a%252Fb"},
		{"unreserved left alone", "/a-b_c.d~e", "/a-b_c.d~e"},
		{"not normalised", "/a/../b/./c", "/a/../b/./c"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := url.ParseRequestURI(tc.target)
			if err != nil {
				t.Fatal(err)
			}
			if got := CanonicalURI(u); got != tc.want {
				t.Errorf("CanonicalURI(%q) = %q, want %q", tc.target, got, tc.want)
			}
		})
	}
	if got := CanonicalURI(&url.URL{}); got != "/" {
		t.Errorf("empty path = %q, want /", got)
	}
}

func TestCanonicalHeaders(t *testing.T) {
	r := httptest.NewRequest(http.MethodPost, "http://example.com/", nil)
	r.Host = "api.example.com:8443"
	r.Header.Add("X-Multi", "  one ")
	r.Header.Add("X-Multi", "two   three")
	r.Header.Set("X-Tabs", "\ta  b\t")
	r.ContentLength = 42
	cases := []struct {
		name   string
		signed []string
		want   string
	}{
		{"host from r.Host", []string{"host"}, "host:api.example.com:8443\n"},
		{"repeated values joined, spaces collapsed", []string{"x-multi"}, "x-multi:one,two three\n"},
		{"ends trimmed of tabs too", []string{"x-tabs"}, "x-tabs:a b\n"},
		{"content-length from the request when not a header", []string{"content-length"}, "content-length:42\n"},
		{"absent header is empty", []string{"x-absent"}, "x-absent:\n"},
		{"client order kept", []string{"x-tabs", "host"}, "x-tabs:a b\nhost:api.example.com:8443\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := CanonicalHeaders(r, tc.signed); got != tc.want {
				t.Errorf("CanonicalHeaders(%v) = %q, want %q", tc.signed, got, tc.want)
			}
		})
	}
}

func TestRequestTime(t *testing.T) {
	want := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	cases := []struct {
		name     string
		header   http.Header
		want     time.Time
		wantType string
	}{
		{"X-Amz-Date", hdr("X-Amz-Date", "20260314T150926Z"), want, ""},
		{"X-Amz-Date wins over Date", hdr("X-Amz-Date", "20260314T150926Z", "Date", "Mon, 02 Jan 2006 15:04:05 GMT"), want, ""},
		{"Date header (RFC 1123)", hdr("Date", "Sat, 14 Mar 2026 15:09:26 GMT"), want, ""},
		{"neither", hdr(), time.Time{}, TypeIncompleteSignature},
		{"X-Amz-Date extended format", hdr("X-Amz-Date", "2026-03-14T15:09:26Z"), time.Time{}, TypeIncompleteSignature},
		{"Date garbage", hdr("Date", "yesterday"), time.Time{}, TypeIncompleteSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", nil)
			r.Header = tc.header
			got, err := RequestTime(r)
			if tc.wantType != "" {
				e, ok := err.(*Error)
				if !ok || e.Type != tc.wantType || e.Status != http.StatusBadRequest {
					t.Fatalf("err = %v, want %s 400", err, tc.wantType)
				}
				return
			}
			if err != nil || !got.Equal(tc.want) {
				t.Errorf("RequestTime = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}
