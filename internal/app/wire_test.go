package app_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/sailtest"
)

// TestWireErrors checks, on the raw wire, what every SDK depends on: the status, the __type and the
// X-Amzn-ErrorType header agree, and every response carries a request id.
func TestWireErrors(t *testing.T) {
	e := sailtest.New(t)
	alice := sailtest.Alice
	wrong := auth.Key{AccessKeyID: alice.AccessKeyID, Secret: "not-her-secret"}
	stranger := auth.Key{AccessKeyID: "AKIASTRANGER", Secret: "x"}
	cases := []struct {
		name   string
		key    *auth.Key
		region string
		op     string
		body   string
		status int
		typ    string
		code   string
	}{
		{"unsigned", nil, "", "GetRegions", `{}`, 403, "MissingAuthenticationTokenException", ""},
		{"wrong secret", &wrong, "us-east-1", "GetRegions", `{}`, 403, "InvalidSignatureException", ""},
		{"unknown key", &stranger, "us-east-1", "GetRegions", `{}`, 403, "UnrecognizedClientException", ""},
		{"unknown operation", &alice, "us-east-1", "LaunchRockets", `{}`, 400, "UnknownOperationException", ""},
		{"malformed json", &alice, "us-east-1", "GetDistributions", `{"distributionName":`, 400, "SerializationException", ""},
		{"wrong member type", &alice, "us-east-1", "GetDistributions", `{"distributionName": 7}`, 400, "SerializationException", ""},
		{"missing required member", &alice, "us-east-1", "GetOperation", `{}`, 400, "InvalidInputException", "ValidationError"},
		{"semantically required member", &alice, "us-east-1", "DeleteDistribution", `{}`, 400, "InvalidInputException", "MissingParameter"},
		{"enum", &alice, "us-east-1", "SetIpAddressType", `{"resourceType":"Distribution","resourceName":"x1","ipAddressType":"ipv5"}`, 400, "InvalidInputException", "ValidationError"},
		{"not found", &alice, "us-east-1", "DeleteDistribution", `{"distributionName":"ghost"}`, 404, "NotFoundException", "DoesNotExist"},
		{"region gate", &alice, "ap-south-1", "GetDistributionBundles", `{}`, 400, "InvalidInputException", "UnsupportedOperation"},
		{"unserved operation", &alice, "us-east-1", "GetInstances", `{}`, 501, "NotImplementedException", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Call(tc.key, tc.region, tc.op, []byte(tc.body))
			if r.Status != tc.status {
				t.Errorf("status %d, want %d (%s)", r.Status, tc.status, r.Body)
			}
			m := r.JSON(t)
			if m["__type"] != tc.typ || r.Header.Get("X-Amzn-ErrorType") != tc.typ {
				t.Errorf("__type %v, header %q, want %s", m["__type"], r.Header.Get("X-Amzn-ErrorType"), tc.typ)
			}
			if msg, _ := m["message"].(string); msg == "" {
				t.Errorf("no message: %s", r.Body)
			}
			if tc.code != "" && m["code"] != tc.code {
				t.Errorf("code %v, want %s", m["code"], tc.code)
			}
			if r.Header.Get("X-Amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId")
			}
		})
	}
}

func TestOversizeBodyIs413AndNotRead(t *testing.T) {
	e := sailtest.New(t)
	body := []byte(`{"distributionName":"` + strings.Repeat("a", 2<<20) + `"}`)
	r := e.Call(&sailtest.Alice, "us-east-1", "GetDistributions", body)
	if r.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", r.Status)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil || m["__type"] == nil || r.Header.Get("X-Amzn-RequestId") == "" {
		t.Fatalf("not AWS-shaped: %s", r.Body)
	}
}

func TestSuccessWireShape(t *testing.T) {
	e := sailtest.New(t)
	e.AddOrigin("web-1", "http://127.0.0.1:9/", "Instance", "us-east-1")
	r := e.Call(&sailtest.Alice, "us-east-1", "CreateDistribution", []byte(`{"distributionName":"wire","bundleId":"small_1_0",
		"origin":{"name":"web-1","regionName":"us-east-1"},"defaultCacheBehavior":{"behavior":"cache"}}`))
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/x-amz-json-1.1" || r.Header.Get("X-Amzn-RequestId") == "" {
		t.Fatalf("%d %v %s", r.Status, r.Header, r.Body)
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	var m map[string]map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	// Timestamps are epoch-second numbers: an ISO string would break the Go and JS SDKs.
	created, ok := m["distribution"]["createdAt"].(json.Number)
	if !ok {
		t.Fatalf("createdAt is %T, want a number", m["distribution"]["createdAt"])
	}
	if f, _ := created.Float64(); time.Unix(int64(f), 0).Year() != 2026 {
		t.Errorf("createdAt %s is not the server clock's 2026", created)
	}
	if _, ok := m["operation"]["statusChangedAt"].(json.Number); !ok {
		t.Errorf("operation.statusChangedAt is %T", m["operation"]["statusChangedAt"])
	}
	if hdr := m["distribution"]["cacheBehaviorSettings"].(map[string]any)["forwardedHeaders"].(map[string]any); hdr["option"] != "default" {
		t.Errorf("forwardedHeaders = %v", hdr)
	}
	if alt, ok := m["distribution"]["alternativeDomainNames"].([]any); !ok || len(alt) != 0 {
		t.Errorf("alternativeDomainNames = %v, want []", m["distribution"]["alternativeDomainNames"])
	}
}
