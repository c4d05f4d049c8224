package sailtest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/sailcdn/sailcdn/internal/auth"
)

// Response is a raw HTTP answer of the API.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a generic map.
func (r *Response) JSON(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// Call sends one Lightsail operation as raw JSON, signed by the real SigV4 signer for key in region
// (nil key: unsigned). It is for what the SDK will not send: missing required members, bad types,
// oversize bodies, unknown operations.
func (e *Env) Call(key *auth.Key, region, op string, body []byte) *Response {
	e.T.Helper()
	req, err := http.NewRequest(http.MethodPost, e.API.URL+"/", bytes.NewReader(body))
	if err != nil {
		e.T.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if op != "" {
		req.Header.Set("X-Amz-Target", "Lightsail_20161128."+op)
	}
	if key != nil {
		Sign(e.T, req, body, *key, region, time.Now())
	}
	return Do(e.T, req)
}

// Sign signs req with aws-sdk-go-v2's SigV4 signer, the oracle our verifier must agree with.
func Sign(t testing.TB, req *http.Request, body []byte, key auth.Key, region string, at time.Time) {
	t.Helper()
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.Secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), "lightsail", region, at); err != nil {
		t.Fatal(err)
	}
}

// Do sends req and reads the whole answer.
func Do(t testing.TB, req *http.Request) *Response {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}
