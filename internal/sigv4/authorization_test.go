package sigv4

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseAuthorization(t *testing.T) {
	const sig = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
	want := &Authorization{
		Algorithm:     Algorithm,
		AccessKeyID:   "AKIDEXAMPLE",
		Scope:         Scope{Date: "20150830", Region: "us-east-1", Service: "service", Terminator: "aws4_request"},
		SignedHeaders: []string{"host", "x-amz-date"},
		Signature:     sig,
	}
	cases := []struct {
		name   string
		header string
	}{
		{"SDK form", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig},
		{"no spaces after commas", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date,Signature=" + sig},
		{"extra spaces everywhere", "  AWS4-HMAC-SHA256    Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request ,  SignedHeaders=host;x-amz-date ,Signature=" + sig + "  "},
		{"tab after algorithm", "AWS4-HMAC-SHA256\tCredential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig},
		{"other order", "AWS4-HMAC-SHA256 Signature=" + sig + ", SignedHeaders=host;x-amz-date, Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"},
		{"unknown component ignored", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, Foo=bar, SignedHeaders=host;x-amz-date, Signature=" + sig},
		{"trailing comma", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + sig + ","},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAuthorization(tc.header)
			if err != nil {
				t.Fatalf("ParseAuthorization: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
			if s := got.String(); s != cases[0].header {
				t.Errorf("String() = %q, want the SDK form %q", s, cases[0].header)
			}
		})
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	const cred = "Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
	cases := []struct {
		name, header, wantMessage string
	}{
		{"empty", "", "Unsupported AWS 'algorithm': ''."},
		{"SigV2", "AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", "Unsupported AWS 'algorithm': 'AWS'."},
		{"algorithm only", "AWS4-HMAC-SHA256",
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter."},
		{"missing SignedHeaders", "AWS4-HMAC-SHA256 " + cred + ", Signature=00", "Authorization header requires 'SignedHeaders' parameter."},
		{"empty Signature value", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=", "Authorization header requires 'Signature' parameter."},
		{"four credential elements", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service, SignedHeaders=host, Signature=00",
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/us-east-1/service'."},
		{"duplicate Credential", "AWS4-HMAC-SHA256 " + cred + ", " + cred + ", SignedHeaders=host, Signature=00",
			"Authorization header has more than one 'Credential' parameter."},
		{"empty signed header name", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, Signature=00",
			"SignedHeaders contains an invalid header name ''."},
		{"signed header name with a space", "AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;x amz, Signature=00",
			"SignedHeaders contains an invalid header name 'x amz'."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAuthorization(tc.header)
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("err = %v (%T), want *Error", err, err)
			}
			if e.Type != TypeIncompleteSignature || e.Status != 400 || e.Message != tc.wantMessage {
				t.Errorf("got %s %d %q\nwant %s 400 %q", e.Type, e.Status, e.Message, TypeIncompleteSignature, tc.wantMessage)
			}
		})
	}
}

// A component without "=" is reported by fingerprint, never echoed: the header carries the signature.
func TestParseAuthorizationDoesNotEchoHeader(t *testing.T) {
	header := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host, secretish"
	_, err := ParseAuthorization(header)
	e, ok := err.(*Error)
	if !ok || e.Type != TypeIncompleteSignature {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(e.Message, "secretish") || strings.Contains(e.Message, "AKIDEXAMPLE") {
		t.Errorf("message echoes the header: %q", e.Message)
	}
	if !strings.Contains(e.Message, fingerprint(strings.TrimSpace(header))) {
		t.Errorf("message %q lacks the header's fingerprint", e.Message)
	}
}
