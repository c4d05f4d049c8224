package sigv4

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The tests sign with aws-sdk-go-v2's own signer (the oracle) and verify with ours, over real HTTP
// so that the request Verify sees is the one Go's server builds from the wire (Host moved to r.Host,
// Content-Length as sent, header casing canonicalised).

const (
	testKeyID   = "AKIDEXAMPLE"
	testSecret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testAccount = "123456789012"
	testService = "lightsail"
	testTarget  = "Lightsail_20161128.GetDistributions"
)

// testNow is the verifier's wall clock in the table tests; requests are signed at it unless a case
// says otherwise.
var testNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func testLookup(id string) (secret, account string, ok bool) {
	if id == testKeyID {
		return testSecret, testAccount, true
	}
	return "", "", false
}

func testVerifier() *Verifier {
	return &Verifier{Service: testService, Lookup: testLookup, Now: func() time.Time { return testNow }}
}

// outcome is what the test server reports about one Verify call.
type outcome struct {
	Type, Message     string
	Status            int
	KeyID, Region     string
	Service, Account  string
	SignedHeadersSeen string // Authorization's SignedHeaders as received, to prove the header set
}

// verifyServer runs Verify on every request and reports the outcome as JSON.
func verifyServer(t *testing.T, v *Verifier) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("read body: %v", err)
		}
		var out outcome
		if a, err := ParseAuthorization(r.Header.Get("Authorization")); err == nil {
			out.SignedHeadersSeen = strings.Join(a.SignedHeaders, ";")
		}
		cred, err := v.Verify(r, body)
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Errorf("Verify returned %T, want *sigv4.Error", err)
				return
			}
			out.Type, out.Status, out.Message = se.ErrorType(), se.HTTPStatus(), se.ErrorMessage()
		} else {
			out.KeyID, out.Region, out.Service, out.Account = cred.AccessKeyID, cred.Region, cred.Service, cred.AccountID
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// signing describes how a case signs its request with the SDK signer.
type signing struct {
	keyID, secret, token string
	service, region      string
	at                   time.Time
	signedBody           string // body whose hash is signed; defaults to the sent body
	payloadHash          string // overrides the hash given to the signer (e.g. UNSIGNED-PAYLOAD)
	// boto3 signs only host;x-amz-date;x-amz-target;content-type (no content-length): sign a clone
	// without a known length and copy the signature onto the real request.
	withoutContentLength bool
}

type request struct {
	method, path, rawQuery string
	body                   string
	header                 http.Header // set before signing: these are signed
	unsigned               http.Header // added after signing
	sign                   *signing    // nil = do not sign
	tamper                 func(r *http.Request)
}

func (c request) do(t *testing.T, srvURL string) outcome {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	path := c.path
	if path == "" {
		path = "/"
	}
	u := srvURL + path
	if c.rawQuery != "" {
		u += "?" + c.rawQuery
	}
	req, err := http.NewRequest(method, u, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range c.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.sign != nil {
		sdkSign(t, req, c.body, *c.sign)
	}
	for k, vs := range c.unsigned {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if c.tamper != nil {
		c.tamper(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out outcome
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("decode outcome: %v", err)
	}
	return out
}

// sdkSign signs req in place with aws-sdk-go-v2's SigV4 signer.
func sdkSign(t *testing.T, req *http.Request, sentBody string, s signing) {
	t.Helper()
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&s.keyID, testKeyID)
	def(&s.secret, testSecret)
	def(&s.service, testService)
	def(&s.region, "us-east-1")
	if s.at.IsZero() {
		s.at = testNow
	}
	body := sentBody
	if s.signedBody != "" {
		body = s.signedBody
	}
	hash := PayloadHash([]byte(body))
	if s.payloadHash != "" {
		hash = s.payloadHash
	}
	creds := aws.Credentials{AccessKeyID: s.keyID, SecretAccessKey: s.secret, SessionToken: s.token}
	target := req
	if s.withoutContentLength {
		target = req.Clone(context.Background())
		target.ContentLength = 0
	}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, target, hash, s.service, s.region, s.at); err != nil {
		t.Fatal(err)
	}
	if target != req {
		for _, h := range []string{"Authorization", "X-Amz-Date", "X-Amz-Security-Token"} {
			if v := target.Header.Values(h); len(v) > 0 {
				req.Header[h] = v
			}
		}
	}
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

const getDistributionsBody = `{"distributionName":"my-cdn"}`

// Header sets the real SDKs send to a JSON 1.1 service. The Go SDK signs every header it sends except
// User-Agent and a few others, boto3 signs a fixed set, the JS SDK adds x-amz-content-sha256 and
// x-amz-user-agent.
var (
	goSDKHeaders = hdr(
		"Content-Type", "application/x-amz-json-1.1",
		"X-Amz-Target", testTarget,
		"Amz-Sdk-Invocation-Id", "3b1c5d2e-8f7a-4e5b-9c1d-2a3b4c5d6e7f",
		"Amz-Sdk-Request", "attempt=1; max=3",
		"User-Agent", "aws-sdk-go-v2/1.41.0 os/linux lang/go#1.26 md/GOOS#linux api/lightsail#1.71.1",
	)
	boto3Headers = hdr(
		"X-Amz-Target", testTarget,
		"Content-Type", "application/x-amz-json-1.1",
	)
	boto3Unsigned = hdr(
		"User-Agent", "Boto3/1.40.0 md/Botocore#1.40.0 ua/2.1 os/linux#6.8 md/arch#x86_64 lang/python#3.12.3",
		"Amz-Sdk-Invocation-Id", "a1b2c3d4-0000-4000-8000-000000000001",
		"Amz-Sdk-Request", "attempt=1",
		"Accept-Encoding", "identity",
	)
	jsSDKHeaders = hdr(
		"Content-Type", "application/x-amz-json-1.1",
		"X-Amz-Target", testTarget,
		"X-Amz-Content-Sha256", PayloadHash([]byte(getDistributionsBody)),
		"X-Amz-User-Agent", "aws-sdk-js/3.700.0",
		"Amz-Sdk-Invocation-Id", "c0ffee00-1111-4222-8333-444455556666",
		"Amz-Sdk-Request", "attempt=1; max=3",
	)
)

func TestVerifyAcceptsSDKSignedRequests(t *testing.T) {
	srv := verifyServer(t, testVerifier())
	cases := []struct {
		name        string
		req         request
		wantSigned  string // SignedHeaders the client sent; "" = do not check
		wantRegion  string
		wantService string
	}{
		{
			name:       "Go SDK header set incl. content-length",
			req:        request{body: getDistributionsBody, header: goSDKHeaders, sign: &signing{}},
			wantSigned: "amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-target",
			wantRegion: "us-east-1",
		},
		{
			name: "boto3 header set, unsigned headers added after signing",
			req: request{body: getDistributionsBody, header: boto3Headers, unsigned: boto3Unsigned,
				sign: &signing{withoutContentLength: true}},
			wantSigned: "content-type;host;x-amz-date;x-amz-target",
			wantRegion: "us-east-1",
		},
		{
			name:       "JS SDK header set with x-amz-content-sha256 and x-amz-user-agent",
			req:        request{body: getDistributionsBody, header: jsSDKHeaders, sign: &signing{}},
			wantSigned: "amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-target;x-amz-user-agent",
			wantRegion: "us-east-1",
		},
		{
			name:       "session token header is signed and accepted",
			req:        request{body: getDistributionsBody, header: goSDKHeaders, sign: &signing{token: "FQoGZXIvYXdzEXAMPLETOKEN"}},
			wantSigned: "amz-sdk-invocation-id;amz-sdk-request;content-length;content-type;host;x-amz-date;x-amz-security-token;x-amz-target",
			wantRegion: "us-east-1",
		},
		{
			name:       "empty body (no-argument operation)",
			req:        request{body: "", header: goSDKHeaders, sign: &signing{}},
			wantSigned: "amz-sdk-invocation-id;amz-sdk-request;content-type;host;x-amz-date;x-amz-target",
			wantRegion: "us-east-1",
		},
		{
			name:       "other region is returned for the caller to gate",
			req:        request{body: getDistributionsBody, header: boto3Headers, sign: &signing{region: "eu-west-2"}},
			wantRegion: "eu-west-2",
		},
		{
			name: "query string: repeated keys, reserved characters, empty value",
			req: request{rawQuery: "b=2&a=1&a=0&sp=a%20b&plus=%2B&tilde=~&slash=%2F&empty=&utf8=%C3%A9",
				body: getDistributionsBody, header: boto3Headers, sign: &signing{}},
			wantRegion: "us-east-1",
		},
		{
			name: "query string sent in another order than the signer's canonical one",
			req: request{rawQuery: "Zeta=1&alpha=2&Alpha=3", body: getDistributionsBody, header: boto3Headers, sign: &signing{},
				tamper: func(r *http.Request) { r.URL.RawQuery = "alpha=2&Zeta=1&Alpha=3" }},
			wantRegion: "us-east-1",
		},
		{
			name:       "escaped path is double-encoded like the SDK does for non-S3 services",
			req:        request{path: "/a%20b/c~d/%2F", body: getDistributionsBody, header: boto3Headers, sign: &signing{}},
			wantRegion: "us-east-1",
		},
		{
			name: "repeated header values and inner spaces",
			req: request{body: getDistributionsBody, sign: &signing{},
				header: hdr("X-Amz-Target", testTarget, "X-Custom", "a", "X-Custom", "  b    c  ", "X-Other", "x  y")},
			wantRegion: "us-east-1",
		},
		{
			name:       "signed 14 minutes ago is inside the window",
			req:        request{body: getDistributionsBody, header: boto3Headers, sign: &signing{at: testNow.Add(-14 * time.Minute)}},
			wantRegion: "us-east-1",
		},
		{
			name:       "signed 14 minutes ahead is inside the window",
			req:        request{body: getDistributionsBody, header: boto3Headers, sign: &signing{at: testNow.Add(14 * time.Minute)}},
			wantRegion: "us-east-1",
		},
		{
			name:       "GET with no body",
			req:        request{method: http.MethodGet, header: hdr("X-Amz-Target", testTarget), sign: &signing{}},
			wantRegion: "us-east-1",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.req.do(t, srv.URL)
			if got.Type != "" {
				t.Fatalf("Verify failed: %s %d %q", got.Type, got.Status, got.Message)
			}
			if got.KeyID != testKeyID || got.Account != testAccount || got.Service != testService || got.Region != tc.wantRegion {
				t.Errorf("credential = %+v, want key %s account %s service %s region %s", got, testKeyID, testAccount, testService, tc.wantRegion)
			}
			if tc.wantSigned != "" && got.SignedHeadersSeen != tc.wantSigned {
				t.Errorf("client signed %q, want header set %q", got.SignedHeadersSeen, tc.wantSigned)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	srv := verifyServer(t, testVerifier())
	const (
		mismatch = "The request signature we calculated does not match the signature you provided. " +
			"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	)
	cases := []struct {
		name        string
		req         request
		wantType    string
		wantStatus  int
		wantMessage string // exact unless wantPrefix
		wantPrefix  bool
	}{
		{
			name:     "no Authorization header",
			req:      request{body: getDistributionsBody, header: boto3Headers},
			wantType: TypeMissingAuthenticationToken, wantStatus: 403, wantMessage: "Missing Authentication Token",
		},
		{
			name:     "tampered body",
			req:      request{body: `{"distributionName":"other"}`, header: boto3Headers, sign: &signing{signedBody: getDistributionsBody, withoutContentLength: true}},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: mismatch,
		},
		{
			name: "tampered signed header",
			req: request{body: getDistributionsBody, header: boto3Headers, sign: &signing{},
				tamper: func(r *http.Request) { r.Header.Set("X-Amz-Target", "Lightsail_20161128.DeleteDistribution") }},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: mismatch,
		},
		{
			name: "signed header removed in transit",
			req: request{body: getDistributionsBody, header: goSDKHeaders, sign: &signing{},
				tamper: func(r *http.Request) { r.Header.Del("Amz-Sdk-Request") }},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: mismatch,
		},
		{
			name: "tampered query string",
			req: request{rawQuery: "a=1", body: getDistributionsBody, header: boto3Headers, sign: &signing{},
				tamper: func(r *http.Request) { r.URL.RawQuery = "a=2" }},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: mismatch,
		},
		{
			name: "tampered method",
			req: request{body: getDistributionsBody, header: boto3Headers, sign: &signing{},
				tamper: func(r *http.Request) { r.Method = http.MethodPut }},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: mismatch,
		},
		{
			name:     "wrong secret",
			req:      request{body: getDistributionsBody, header: goSDKHeaders, sign: &signing{secret: "not-the-secret"}},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: mismatch,
		},
		{
			name:     "unknown access key",
			req:      request{body: getDistributionsBody, header: goSDKHeaders, sign: &signing{keyID: "AKIDUNKNOWN"}},
			wantType: TypeUnrecognizedClient, wantStatus: 403, wantMessage: "The security token included in the request is invalid.",
		},
		{
			name:     "signed 16 minutes ago",
			req:      request{body: getDistributionsBody, header: boto3Headers, sign: &signing{at: testNow.Add(-16 * time.Minute)}},
			wantType: TypeInvalidSignature, wantStatus: 403,
			wantMessage: "Signature expired: 20260314T145326Z is now earlier than 20260314T145426Z (20260314T150926Z - 15 min.)",
		},
		{
			name:     "signed 16 minutes in the future",
			req:      request{body: getDistributionsBody, header: boto3Headers, sign: &signing{at: testNow.Add(16 * time.Minute)}},
			wantType: TypeInvalidSignature, wantStatus: 403,
			wantMessage: "Signature not yet current: 20260314T152526Z is still later than 20260314T152426Z (20260314T150926Z + 15 min.)",
		},
		{
			name:     "credential scoped to another service",
			req:      request{body: getDistributionsBody, header: boto3Headers, sign: &signing{service: "ec2"}},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: "Credential should be scoped to correct service: 'lightsail'.",
		},
		{
			name: "host missing from SignedHeaders",
			req: request{body: getDistributionsBody, header: boto3Headers, sign: &signing{withoutContentLength: true},
				tamper: func(r *http.Request) {
					r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
				}},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
		},
		{
			// The operation is part of what is signed: otherwise a captured GetDistributions could be
			// replayed as DeleteDistribution under the same signature.
			name: "X-Amz-Target not signed",
			req: request{body: getDistributionsBody, header: hdr("Content-Type", "application/x-amz-json-1.1"), sign: &signing{},
				unsigned: hdr("X-Amz-Target", "Lightsail_20161128.DeleteDistribution")},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: "'x-amz-target' must be a 'SignedHeader' in the AWS Authorization.",
		},
		{
			name:     "another x-amz-* header not signed",
			req:      request{body: getDistributionsBody, header: boto3Headers, sign: &signing{}, unsigned: hdr("X-Amz-Security-Token", "FwoG")},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: "'x-amz-security-token' must be a 'SignedHeader' in the AWS Authorization.",
		},
		{
			name: "x-amz-content-sha256 does not describe the body",
			req: request{body: getDistributionsBody, sign: &signing{payloadHash: "UNSIGNED-PAYLOAD"},
				header: hdr("X-Amz-Target", testTarget, "X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD")},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: "The provided 'x-amz-content-sha256' header does not match what was computed.",
		},
		{
			name: "x-amz-content-sha256 of the signed body, another body sent",
			req: request{body: `{"distributionName":"evil"}`, sign: &signing{signedBody: getDistributionsBody},
				header: hdr("X-Amz-Target", testTarget, "X-Amz-Content-Sha256", PayloadHash([]byte(getDistributionsBody)))},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: "The provided 'x-amz-content-sha256' header does not match what was computed.",
		},
		{
			name: "scope date differs from X-Amz-Date",
			req: request{body: getDistributionsBody, header: boto3Headers, sign: &signing{},
				tamper: func(r *http.Request) {
					r.Header.Set("X-Amz-Date", testNow.Add(10*time.Minute).Add(9*time.Hour).Format(TimeFormat))
				}},
			wantType: TypeInvalidSignature, wantStatus: 403,
			wantMessage: "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20260314' != '20260315', from '20260315T001926Z'.",
		},
		{
			name: "scope terminator is not aws4_request",
			req: request{body: getDistributionsBody, header: boto3Headers, sign: &signing{},
				tamper: func(r *http.Request) {
					r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/aws4_request", "/aws5_request", 1))
				}},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.",
		},
		{
			name:     "empty region in scope",
			req:      request{body: getDistributionsBody, header: boto3Headers, tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260314//lightsail/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", true)},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: "Credential should be scoped to a valid region.",
		},
		{
			name:     "Authorization without Signature",
			req:      request{body: getDistributionsBody, header: boto3Headers, tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260314/us-east-1/lightsail/aws4_request, SignedHeaders=host;x-amz-date", true)},
			wantType: TypeIncompleteSignature, wantStatus: 400, wantMessage: "Authorization header requires 'Signature' parameter.",
		},
		{
			name:     "not a SigV4 Authorization header",
			req:      request{body: getDistributionsBody, header: boto3Headers, tamper: setAuth("Bearer abc.def.ghi", true)},
			wantType: TypeIncompleteSignature, wantStatus: 400, wantMessage: "Unsupported AWS 'algorithm': 'Bearer'.",
		},
		{
			name:     "no X-Amz-Date and no Date",
			req:      request{body: getDistributionsBody, header: boto3Headers, tamper: setAuth("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260314/us-east-1/lightsail/aws4_request, SignedHeaders=host, Signature=00", false)},
			wantType: TypeIncompleteSignature, wantStatus: 400, wantMessage: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
		},
		{
			name: "X-Amz-Date not in ISO-8601 basic format",
			req: request{body: getDistributionsBody, header: boto3Headers, sign: &signing{},
				tamper: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-03-14T15:09:26Z") }},
			wantType: TypeIncompleteSignature, wantStatus: 400,
			wantMessage: "Date must be in ISO-8601 'basic format'. Got '2026-03-14T15:09:26Z'. See http://en.wikipedia.org/wiki/ISO_8601",
		},
		{
			name: "signature is not hex",
			req: request{body: getDistributionsBody, header: boto3Headers, sign: &signing{},
				tamper: func(r *http.Request) {
					a, _ := ParseAuthorization(r.Header.Get("Authorization"))
					a.Signature = "zz" + a.Signature[2:]
					r.Header.Set("Authorization", a.String())
				}},
			wantType: TypeInvalidSignature, wantStatus: 403, wantMessage: mismatch,
		},
		{
			name: "two Authorization headers",
			req: request{body: getDistributionsBody, header: boto3Headers, sign: &signing{},
				tamper: func(r *http.Request) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }},
			wantType: TypeIncompleteSignature, wantStatus: 400, wantMessage: "Request has more than one Authorization header.",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.req.do(t, srv.URL)
			if got.Type != tc.wantType || got.Status != tc.wantStatus || got.Message != tc.wantMessage {
				t.Errorf("got %s %d %q\nwant %s %d %q", got.Type, got.Status, got.Message, tc.wantType, tc.wantStatus, tc.wantMessage)
			}
			if got.KeyID != "" {
				t.Errorf("rejected request still produced a credential: %+v", got)
			}
		})
	}
}

// setAuth replaces the Authorization header; withDate also sends an X-Amz-Date for testNow.
func setAuth(v string, withDate bool) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Set("Authorization", v)
		if withDate {
			r.Header.Set("X-Amz-Date", testNow.Format(TimeFormat))
		}
	}
}

func TestVerifyUsesWallClockByDefault(t *testing.T) {
	v := &Verifier{Service: testService, Lookup: testLookup} // Now nil = time.Now
	srv := verifyServer(t, v)
	cases := []struct {
		name     string
		at       time.Time
		wantType string
	}{
		{"signed now", time.Now(), ""},
		{"signed an hour ago", time.Now().Add(-time.Hour), TypeInvalidSignature},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := request{body: "{}", header: boto3Headers, sign: &signing{at: tc.at}}.do(t, srv.URL)
			if got.Type != tc.wantType {
				t.Errorf("type = %q (%s), want %q", got.Type, got.Message, tc.wantType)
			}
		})
	}
}

func TestVerifyMaxSkew(t *testing.T) {
	v := testVerifier()
	v.MaxSkew = 5 * time.Minute
	srv := verifyServer(t, v)
	got := request{body: "{}", header: boto3Headers, sign: &signing{at: testNow.Add(-6 * time.Minute)}}.do(t, srv.URL)
	want := "Signature expired: 20260314T150326Z is now earlier than 20260314T150426Z (20260314T150926Z - 5 min.)"
	if got.Type != TypeInvalidSignature || got.Message != want {
		t.Errorf("got %s %q, want %s %q", got.Type, got.Message, TypeInvalidSignature, want)
	}
}

func TestVerifyNilLookupRejectsEveryKey(t *testing.T) {
	srv := verifyServer(t, &Verifier{Service: testService, Now: func() time.Time { return testNow }})
	got := request{body: "{}", header: boto3Headers, sign: &signing{}}.do(t, srv.URL)
	if got.Type != TypeUnrecognizedClient {
		t.Errorf("type = %q, want %q", got.Type, TypeUnrecognizedClient)
	}
}

func TestErrorMethods(t *testing.T) {
	e := &Error{Type: TypeInvalidSignature, Status: 403, Message: "nope"}
	if e.ErrorType() != TypeInvalidSignature || e.HTTPStatus() != 403 || e.ErrorMessage() != "nope" ||
		e.Error() != "InvalidSignatureException: nope" {
		t.Errorf("methods = %q %d %q %q", e.ErrorType(), e.HTTPStatus(), e.ErrorMessage(), e.Error())
	}
}

// TestVerifyDirectRequest covers callers that verify an *http.Request they did not receive over the
// wire (the presign path and the fuzz target build requests by hand).
func TestVerifyDirectRequest(t *testing.T) {
	body := []byte(getDistributionsBody)
	req := httptest.NewRequest(http.MethodPost, "http://lightsail.us-east-1.amazonaws.com/", bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", testTarget)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
		req, PayloadHash(body), testService, "us-east-1", testNow); err != nil {
		t.Fatal(err)
	}
	cred, err := testVerifier().Verify(req, body)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if *cred != (Credential{AccessKeyID: testKeyID, Region: "us-east-1", Service: testService, AccountID: testAccount}) {
		t.Errorf("credential = %+v", cred)
	}
}
