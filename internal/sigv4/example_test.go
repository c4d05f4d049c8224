package sigv4_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sailcdn/sailcdn/internal/sigv4"
)

// A Verifier checks a request an AWS SDK signed. Here the SDK's own signer signs it; in the server
// the request arrives over HTTP and its body has been read already.
func ExampleVerifier() {
	signedAt := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	verifier := &sigv4.Verifier{
		Service: "lightsail",
		Lookup: func(accessKeyID string) (secret, accountID string, ok bool) {
			if accessKeyID == "AKIDEXAMPLE" {
				return "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "123456789012", true
			}
			return "", "", false
		},
		Now: func() time.Time { return signedAt.Add(time.Minute) }, // production: leave nil (wall clock)
	}

	body := []byte(`{}`)
	req := httptest.NewRequest(http.MethodPost, "https://lightsail.us-east-1.amazonaws.com/", strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "Lightsail_20161128.GetDistributionBundles")
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	_ = v4.NewSigner().SignHTTP(context.Background(), creds, req, sigv4.PayloadHash(body), "lightsail", "us-east-1", signedAt)

	cred, err := verifier.Verify(req, body)
	fmt.Println(cred.AccessKeyID, cred.AccountID, cred.Region, err)

	// A different body under the same signature is refused with AWS's error.
	_, err = verifier.Verify(req, []byte(`{"includeInactive":true}`))
	var sigErr *sigv4.Error
	if errors.As(err, &sigErr) {
		fmt.Println(sigErr.HTTPStatus(), sigErr.ErrorType())
	}
	// Output:
	// AKIDEXAMPLE 123456789012 us-east-1 <nil>
	// 403 InvalidSignatureException
}
