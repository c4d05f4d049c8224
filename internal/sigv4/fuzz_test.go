package sigv4

import (
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Seeds live in testdata/fuzz/<FuzzName>/: SDK-shaped headers, a validly signed request (so the
// fuzzer starts from inputs that reach the signature comparison) and known-bad shapes.

func FuzzParseAuthorization(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
	f.Fuzz(func(t *testing.T, header string) {
		a, err := ParseAuthorization(header)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Type != TypeIncompleteSignature || e.Status != http.StatusBadRequest || e.Message == "" {
				t.Fatalf("parse error %#v is not an IncompleteSignatureException", err)
			}
			return
		}
		// Whatever parsed must re-serialise to a header that parses to the same thing, and that
		// serialisation must be a fixed point.
		s := a.String()
		b, err := ParseAuthorization(s)
		if err != nil {
			t.Fatalf("re-parse of %q: %v", s, err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("round trip changed the header:\n%#v\n%#v", a, b)
		}
		if b.String() != s {
			t.Fatalf("String is not stable: %q then %q", s, b.String())
		}
		if a.Algorithm != Algorithm || len(a.SignedHeaders) == 0 || a.Signature == "" {
			t.Fatalf("accepted an incomplete header: %#v", a)
		}
	})
}

func FuzzVerify(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260314/us-east-1/lightsail/aws4_request, SignedHeaders=host;x-amz-date, Signature=00",
		"20260314T150926Z", "lightsail.us-east-1.amazonaws.com", "", "", []byte(`{}`))
	knownTypes := map[string]int{
		TypeMissingAuthenticationToken: http.StatusForbidden,
		TypeIncompleteSignature:        http.StatusBadRequest,
		TypeUnrecognizedClient:         http.StatusForbidden,
		TypeInvalidSignature:           http.StatusForbidden,
	}
	v := testVerifier()
	f.Fuzz(func(t *testing.T, authorization, amzDate, host, rawQuery, contentSHA string, body []byte) {
		r := &http.Request{
			Method: http.MethodPost,
			URL:    &url.URL{Path: "/", RawQuery: rawQuery},
			Host:   host,
			Header: http.Header{},
		}
		for name, value := range map[string]string{"Authorization": authorization, "X-Amz-Date": amzDate, "X-Amz-Content-Sha256": contentSHA} {
			if value != "" {
				r.Header[name] = []string{value}
			}
		}
		cred, err := v.Verify(r, body)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not *sigv4.Error", err)
			}
			if want, ok := knownTypes[e.Type]; !ok || e.Status != want || e.Message == "" {
				t.Fatalf("unexpected error shape %#v", e)
			}
			if strings.Contains(e.Message, testSecret) {
				t.Fatalf("message leaks the secret: %q", e.Message)
			}
			return
		}
		if cred.AccessKeyID != testKeyID || cred.AccountID != testAccount || cred.Service != testService || cred.Region == "" {
			t.Fatalf("accepted with credential %#v", cred)
		}
	})
}

// TestFuzzVerifySeedsStillVerify keeps the committed "valid_*" seeds valid: if testNow or the test
// key changed, the fuzzer would silently stop reaching the success path.
func TestFuzzVerifySeedsStillVerify(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzVerify", "valid_*"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no valid seeds: %v", err)
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			raw, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			var args []string
			for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n")[1:] {
				lit := line[strings.IndexByte(line, '(')+1 : len(line)-1]
				s, err := strconv.Unquote(lit)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				args = append(args, s)
			}
			r := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/", RawQuery: args[3]}, Host: args[2], Header: http.Header{}}
			r.Header.Set("Authorization", args[0])
			r.Header.Set("X-Amz-Date", args[1])
			if args[4] != "" {
				r.Header.Set("X-Amz-Content-Sha256", args[4])
			}
			if _, err := testVerifier().Verify(r, []byte(args[5])); err != nil {
				t.Fatalf("seed no longer verifies: %v", err)
			}
		})
	}
}
