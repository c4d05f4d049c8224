package sigv4

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// BenchmarkVerify verifies the request boto3 sends for GetDistributions (signed headers
// content-type;host;x-amz-date;x-amz-target), as the API does for every call.
func BenchmarkVerify(b *testing.B) {
	body := []byte(getDistributionsBody)
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4580/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", testTarget)
	req.Header.Set("User-Agent", "Boto3/1.43.11 md/Botocore#1.43.11")
	req.ContentLength = 0 // boto3 does not sign Content-Length
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		req, PayloadHash(body), testService, "us-east-1", testNow); err != nil {
		b.Fatal(err)
	}
	req.ContentLength = int64(len(body))
	v := testVerifier()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(req, body); err != nil {
			b.Fatal(err)
		}
	}
}
