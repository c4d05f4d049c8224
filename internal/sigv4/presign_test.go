package sigv4

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// presign returns a URL (and headers to send) presigned by the SDK signer at testNow.
func presign(t *testing.T, srvURL, rawQuery string, at time.Time) (string, http.Header) {
	t.Helper()
	u := srvURL + "/"
	if rawQuery != "" {
		u += "?" + rawQuery
	}
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", testTarget) // hoisted into the query by the presigner
	signed, headers, err := v4.NewSigner().PresignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, req, PayloadHash(nil), testService, "us-west-2", at)
	if err != nil {
		t.Fatal(err)
	}
	return signed, headers
}

func TestVerifyPresigned(t *testing.T) {
	srv := verifyServer(t, testVerifier())
	cases := []struct {
		name        string
		query       string // before presigning
		at          time.Time
		edit        func(url string, h http.Header) string
		wantType    string
		wantMessage string // checked when non-empty
	}{
		{name: "valid", query: "X-Amz-Expires=300&a=1", at: testNow},
		{name: "signed 4 minutes ago, expires after 5", query: "X-Amz-Expires=300", at: testNow.Add(-4 * time.Minute)},
		{
			name: "expired", query: "X-Amz-Expires=300", at: testNow.Add(-6 * time.Minute),
			wantType: TypeInvalidSignature, wantMessage: "Request has expired: it was valid until 20260314T150826Z and it is now 20260314T150926Z.",
		},
		{
			name: "signed in the future", query: "X-Amz-Expires=3600", at: testNow.Add(20 * time.Minute),
			wantType:    TypeInvalidSignature,
			wantMessage: "Signature not yet current: 20260314T152926Z is still later than 20260314T152426Z (20260314T150926Z + 15 min.)",
		},
		{
			name: "no X-Amz-Expires", at: testNow, wantType: TypeIncompleteSignature,
			wantMessage: "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters, each exactly once.",
		},
		{
			name: "X-Amz-Expires over seven days", query: "X-Amz-Expires=604801", at: testNow, wantType: TypeIncompleteSignature,
			wantMessage: "X-Amz-Expires must be a whole number of seconds from 1 to 604800, got '604801'.",
		},
		{
			name: "tampered parameter", query: "X-Amz-Expires=300&a=1", at: testNow,
			edit:     func(u string, _ http.Header) string { return strings.Replace(u, "a=1", "a=2", 1) },
			wantType: TypeInvalidSignature,
		},
		{
			name: "lengthened expiry", query: "X-Amz-Expires=300", at: testNow,
			edit: func(u string, _ http.Header) string {
				return strings.Replace(u, "X-Amz-Expires=300", "X-Amz-Expires=3000", 1)
			},
			wantType: TypeInvalidSignature,
		},
		{
			// A presigned URL whose signature does not cover an X-Amz-Target header cannot be
			// replayed as another operation: unsigned x-amz-* headers are refused.
			name: "X-Amz-Target header not signed", query: "X-Amz-Expires=300", at: testNow,
			edit: func(u string, h http.Header) string {
				h.Set("X-Amz-Target", "Lightsail_20161128.DeleteDistribution")
				return u
			},
			wantType:    TypeInvalidSignature,
			wantMessage: "'x-amz-target' must be a 'SignedHeader' in the AWS Authorization.",
		},
		{
			name: "Authorization header as well", query: "X-Amz-Expires=300", at: testNow,
			edit: func(u string, h http.Header) string {
				h.Set("Authorization", "AWS4-HMAC-SHA256 Credential=x/y/z/w/v, SignedHeaders=host, Signature=00")
				return u
			},
			wantType:    TypeIncompleteSignature,
			wantMessage: "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, h := presign(t, srv.URL, tc.query, tc.at)
			if tc.edit != nil {
				u = tc.edit(u, h)
			}
			req, err := http.NewRequest(http.MethodGet, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range h {
				if !strings.EqualFold(k, "host") {
					req.Header[k] = vs
				}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got outcome
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got.Type != tc.wantType || (tc.wantMessage != "" && got.Message != tc.wantMessage) {
				t.Errorf("got %s %q, want %s %q", got.Type, got.Message, tc.wantType, tc.wantMessage)
			}
			if tc.wantType == "" && (got.KeyID != testKeyID || got.Region != "us-west-2") {
				t.Errorf("credential = %+v", got)
			}
		})
	}
}
