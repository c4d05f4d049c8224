package sigv4

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

func cachedKeys(v *Verifier) int {
	v.keys.mu.Lock()
	defer v.keys.mu.Unlock()
	return len(v.keys.keys)
}

// signedFor is a GetDistributions request signed at testNow for region with secret.
func signedFor(t *testing.T, secret, region string) *http.Request {
	t.Helper()
	body := []byte(getDistributionsBody)
	req := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:4580/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", testTarget)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: secret},
		req, PayloadHash(body), testService, region, testNow); err != nil {
		t.Fatal(err)
	}
	return req
}

// TestSigningKeyCacheHoldsOnlyVerifiedKeys: an access key id is no secret (it travels in every
// request), so whoever knows one must not be able to fill the server's memory with derived keys by
// sending forged signatures: each a new credential scope, and the region of a scope as long as a
// header allows (1 MiB by default). A key is cached only once a signature made with it verified, and
// only for a scope of a sensible size.
func TestSigningKeyCacheHoldsOnlyVerifiedKeys(t *testing.T) {
	v := testVerifier()
	for i := range 50 {
		region := "forged-" + strings.Repeat("x", 10_000) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		if _, err := v.Verify(signedFor(t, "not the secret", region), []byte(getDistributionsBody)); err == nil {
			t.Fatal("a signature made with the wrong secret verified")
		}
	}
	if n := cachedKeys(v); n != 0 {
		t.Fatalf("%d derived keys cached for forged signatures", n)
	}

	if _, err := v.Verify(signedFor(t, testSecret, "us-east-1"), []byte(getDistributionsBody)); err != nil {
		t.Fatal(err)
	}
	if n := cachedKeys(v); n != 1 {
		t.Fatalf("%d derived keys cached after one verified request; want 1", n)
	}
	// Verified, but the scope is longer than any real one: verified without being cached.
	long := strings.Repeat("r", 4096)
	if _, err := v.Verify(signedFor(t, testSecret, long), []byte(getDistributionsBody)); err != nil {
		t.Fatal(err)
	}
	if n := cachedKeys(v); n != 1 {
		t.Fatalf("%d derived keys cached; a %d-byte region was cached", n, len(long))
	}
}
