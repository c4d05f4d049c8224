package sigv4

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/smithy-go"
)

// TestRealLightsailClient sends what the real Go SDK Lightsail client sends (its full middleware
// stack: user agent, invocation id, retry header, content-length, session token) signed with the
// wall clock, and checks that a verifier with Now unset accepts it and that failures reach the SDK
// as the typed error codes.
func TestRealLightsailClient(t *testing.T) {
	v := &Verifier{Service: testService, Lookup: testLookup}
	var lastRegion atomic.Value // written by the server goroutine, read by the test
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		cred, err := v.Verify(r, body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if err != nil {
			e := err.(*Error)
			w.Header().Set("X-Amzn-ErrorType", e.ErrorType())
			w.WriteHeader(e.HTTPStatus())
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.ErrorType(), "message": e.ErrorMessage()})
			return
		}
		lastRegion.Store(cred.Region)
		_, _ = io.WriteString(w, `{"distributions":[]}`)
	}))
	defer srv.Close()

	cases := []struct {
		name     string
		keyID    string
		secret   string
		token    string
		region   string
		wantCode string
	}{
		{name: "valid", keyID: testKeyID, secret: testSecret, region: "us-east-1"},
		{name: "valid with session token", keyID: testKeyID, secret: testSecret, token: "IQoJb3JpZ2luX2VjEXAMPLE", region: "us-east-1"},
		{name: "valid in another region", keyID: testKeyID, secret: testSecret, region: "ap-south-1"},
		{name: "wrong secret", keyID: testKeyID, secret: "wrong", region: "us-east-1", wantCode: TypeInvalidSignature},
		{name: "unknown key", keyID: "AKIDNOBODY", secret: testSecret, region: "us-east-1", wantCode: TypeUnrecognizedClient},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			client := lightsail.New(lightsail.Options{
				Region:           tc.region,
				BaseEndpoint:     aws.String(srv.URL),
				Credentials:      credentials.NewStaticCredentialsProvider(tc.keyID, tc.secret, tc.token),
				RetryMaxAttempts: 1,
			})
			_, err := client.GetDistributions(context.Background(), &lightsail.GetDistributionsInput{DistributionName: aws.String("my-cdn")})
			if tc.wantCode == "" {
				if err != nil {
					t.Fatalf("GetDistributions: %v", err)
				}
				if got := lastRegion.Load(); got != tc.region {
					t.Errorf("verified region = %v, want %q", got, tc.region)
				}
				return
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tc.wantCode {
				t.Fatalf("err = %v, want API error %s", err, tc.wantCode)
			}
		})
	}
}
