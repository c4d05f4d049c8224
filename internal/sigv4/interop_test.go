package sigv4

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestInteropWithOtherClients signs with the clients people actually use against Lightsail, where
// they are installed: boto3 (botocore), the AWS CLI and curl --aws-sigv4. Each signs a different
// header set; all must verify against the wall clock. Skipped per client when it is not installed.
func TestInteropWithOtherClients(t *testing.T) {
	if testing.Short() {
		t.Skip("runs external programs")
	}
	var (
		mu   sync.Mutex
		seen []string // "signed headers -> outcome" per request
	)
	v := &Verifier{Service: testService, Lookup: testLookup}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		signed := ""
		if a, err := ParseAuthorization(r.Header.Get("Authorization")); err == nil {
			signed = strings.Join(a.SignedHeaders, ";")
		}
		_, err := v.Verify(r, body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		outcome := "ok"
		if err != nil {
			e := err.(*Error)
			outcome = e.Type + ": " + e.Message
			w.Header().Set("X-Amzn-ErrorType", e.Type)
			w.WriteHeader(e.Status)
			_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Type, "message": e.Message})
		} else {
			_, _ = io.WriteString(w, `{"distributions":[]}`)
		}
		mu.Lock()
		seen = append(seen, signed+" -> "+outcome)
		mu.Unlock()
	}))
	defer srv.Close()

	env := append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+testKeyID,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_MAX_ATTEMPTS=1",
		"AWS_RETRY_MODE=standard",
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
	)
	const boto3Script = `
import sys, boto3, botocore.exceptions
c = boto3.client("lightsail", endpoint_url=sys.argv[1], region_name="us-east-1")
try:
    c.get_distributions(distributionName="my-cdn")
    print("ok")
except botocore.exceptions.ClientError as e:
    print(e.response["Error"]["Code"])
`
	cases := []struct {
		name       string
		program    string
		args       []string
		secret     string
		wantOutput string // trimmed stdout
		wantSigned string // substring of the SignedHeaders the client sent
	}{
		{
			name: "boto3", program: "python3", args: []string{"-c", boto3Script, srv.URL}, secret: testSecret,
			wantOutput: "ok", wantSigned: "content-type;host;x-amz-date;x-amz-target",
		},
		{
			name: "boto3 with the wrong secret", program: "python3", args: []string{"-c", boto3Script, srv.URL}, secret: "wrong",
			wantOutput: TypeInvalidSignature,
		},
		{
			name: "AWS CLI", program: "aws", args: []string{"lightsail", "get-distributions", "--endpoint-url", srv.URL, "--output", "json"},
			secret: testSecret, wantOutput: `{
    "distributions": []
}`, wantSigned: "host;x-amz-date",
		},
		{
			name: "curl --aws-sigv4", program: "curl",
			args: []string{"-sS", "--aws-sigv4", "aws:amz:us-east-1:lightsail", "--user", testKeyID + ":" + testSecret,
				"-H", "Content-Type: application/x-amz-json-1.1", "-H", "X-Amz-Target: " + testTarget,
				"--data", `{"distributionName":"my-cdn"}`, srv.URL + "/"},
			secret: testSecret, wantOutput: `{"distributions":[]}`, wantSigned: "host;x-amz-date",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := exec.LookPath(tc.program); err != nil {
				t.Skipf("%s not installed", tc.program)
			}
			if tc.program == "python3" && exec.Command("python3", "-c", "import boto3").Run() != nil {
				t.Skip("boto3 not installed")
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, tc.program, tc.args...)
			cmd.Env = append(env, "AWS_SECRET_ACCESS_KEY="+tc.secret)
			out, err := cmd.Output()
			mu.Lock()
			last := ""
			if len(seen) > 0 {
				last = seen[len(seen)-1]
			}
			mu.Unlock()
			if err != nil && tc.wantOutput != TypeInvalidSignature {
				var stderr string
				if ee, ok := err.(*exec.ExitError); ok {
					stderr = string(ee.Stderr)
				}
				t.Fatalf("%s: %v\n%s\nserver saw: %s", tc.program, err, stderr, last)
			}
			if got := strings.TrimSpace(string(out)); got != tc.wantOutput {
				t.Errorf("output %q, want %q (server saw: %s)", got, tc.wantOutput, last)
			}
			t.Logf("server saw: %s", last)
			if !strings.Contains(last, tc.wantSigned) {
				t.Errorf("server saw %q, want signed headers containing %q", last, tc.wantSigned)
			}
		})
	}
}
