package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/auth"
	"github.com/sailcdn/sailcdn/internal/sailtest"
)

func adminRequest(t *testing.T, e *sailtest.Env, method, path string, body any, key *auth.Key) *sailtest.Response {
	t.Helper()
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	req, err := http.NewRequest(method, e.API.URL+path, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if key != nil {
		sailtest.Sign(t, req, raw, *key, "us-east-1", time.Now())
	}
	return sailtest.Do(t, req)
}

func TestAdminClockMovesBillingTimeNotSigV4(t *testing.T) {
	e := sailtest.New(t)
	r := adminRequest(t, e, http.MethodPost, "/_sailcdn/clock", map[string]string{"now": "2031-01-01T00:00:00Z"}, nil)
	// The clock keeps running from the instant it was set to.
	if now, _ := time.Parse(time.RFC3339Nano, r.JSON(t)["now"].(string)); r.Status != 200 || now.Sub(time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)) > time.Second {
		t.Fatalf("set clock: %d %s", r.Status, r.Body)
	}
	if got := e.Clock.Now(); got.Year() != 2031 {
		t.Fatalf("server clock = %v", got)
	}
	// Clients keep signing with real time, five years "before" the server clock: still accepted.
	c := e.Client(sailtest.Alice, "us-east-1")
	if _, err := c.GetDistributionBundles(context.Background(), &ls.GetDistributionBundlesInput{}); err != nil {
		t.Fatalf("SigV4 checked against the moved clock: %v", err)
	}
	r = adminRequest(t, e, http.MethodGet, "/_sailcdn/clock", nil, nil)
	var got struct{ Now string }
	if err := json.Unmarshal(r.Body, &got); err != nil || got.Now[:4] != "2031" {
		t.Fatalf("GET clock: %s", r.Body)
	}
	for _, bad := range []any{map[string]string{"now": "tomorrow"}, "not an object"} {
		if r := adminRequest(t, e, http.MethodPost, "/_sailcdn/clock", bad, nil); r.Status != 400 {
			t.Errorf("bad clock body %v: status %d", bad, r.Status)
		}
	}
}

func TestAdminOrigins(t *testing.T) {
	e := sailtest.New(t)
	r := adminRequest(t, e, http.MethodPost, "/_sailcdn/origins", map[string]string{"name": "lb-1", "url": "http://127.0.0.1:7000", "resourceType": "LoadBalancer", "regionName": "eu-west-2"}, nil)
	if r.Status != 200 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	for _, bad := range []map[string]string{
		{"name": "x", "url": "ftp://nope"},
		{"name": "x", "url": "http://h", "resourceType": "Disk"},
		{"url": "http://h"},
	} {
		if r := adminRequest(t, e, http.MethodPost, "/_sailcdn/origins", bad, nil); r.Status != 400 || r.JSON(t)["__type"] != "InvalidInputException" {
			t.Errorf("%v: %d %s", bad, r.Status, r.Body)
		}
	}
	r = adminRequest(t, e, http.MethodGet, "/_sailcdn/origins", nil, nil)
	var list struct{ Origins []map[string]string }
	if err := json.Unmarshal(r.Body, &list); err != nil || len(list.Origins) != 1 || list.Origins[0]["resourceType"] != "LoadBalancer" {
		t.Fatalf("list: %s", r.Body)
	}
	// The registered origin is usable at once, with its type.
	out, err := e.Client(sailtest.Alice, "us-east-1").CreateDistribution(context.Background(), &ls.CreateDistributionInput{
		DistributionName: aws.String("via-lb"), BundleId: aws.String("small_1_0"),
		Origin:               &types.InputOrigin{Name: aws.String("lb-1"), RegionName: "eu-west-2"},
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: "cache"},
	})
	if err != nil || out.Distribution.Origin.ResourceType != "LoadBalancer" {
		t.Fatalf("create on registered origin: %v", err)
	}
}

// ops is an admin key (sailcdn_admin = true) of productionEnv.
var ops = auth.Key{Profile: "ops", AccessKeyID: "AKIAOPS", Secret: "ops-secret", AccountID: "333333333333", Admin: true}

// productionEnv runs sailcdn as without --dev: Alice's key and the admin key ops, no developer key.
func productionEnv(t *testing.T) *sailtest.Env {
	return sailtest.New(t, func(c *sailtest.Config) {
		c.Dev = false
		keys, err := auth.NewKeyring(sailtest.Alice, ops)
		if err != nil {
			t.Fatal(err)
		}
		c.Keyring = keys
	})
}

func TestAdminNeedsAnAdminKeyOutsideDevMode(t *testing.T) {
	e := productionEnv(t)
	if r := adminRequest(t, e, http.MethodGet, "/_sailcdn/clock", nil, nil); r.Status != 403 {
		t.Fatalf("unsigned: %d", r.Status)
	}
	if r := adminRequest(t, e, http.MethodGet, "/_sailcdn/clock", nil, &sailtest.Alice); r.Status != 403 || r.JSON(t)["__type"] != "AccessDeniedException" {
		t.Fatalf("non-admin key: %d %s", r.Status, r.Body)
	}
	if r := adminRequest(t, e, http.MethodPost, "/_sailcdn/clock", map[string]string{"now": "2027-01-01T00:00:00Z"}, &ops); r.Status != 200 {
		t.Fatalf("admin key: %d %s", r.Status, r.Body)
	}
	// The dev key does not exist outside --dev.
	if _, err := e.Client(sailtest.Dev, "us-east-1").GetRegions(context.Background(), &ls.GetRegionsInput{}); err == nil {
		t.Fatal("dev key accepted outside dev mode")
	}
}

func TestAdminEndpointsResistBrowserAttacksInDevMode(t *testing.T) {
	e := sailtest.New(t)
	// A page on another site posting to the developer's loopback server (no CORS preflight needed).
	req, _ := http.NewRequest(http.MethodPost, e.API.URL+"/_sailcdn/origins", bytes.NewReader([]byte(`{"name":"x","url":"http://evil.test"}`)))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.test")
	if r := sailtest.Do(t, req); r.Status != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d %s", r.Status, r.Body)
	}
	// DNS rebinding: the request reaches loopback but names the attacker's host.
	req, _ = http.NewRequest(http.MethodGet, e.API.URL+"/_sailcdn/clock", nil)
	req.Host = "rebind.evil.test"
	if r := sailtest.Do(t, req); r.Status != http.StatusForbidden {
		t.Fatalf("rebinding Host: %d %s", r.Status, r.Body)
	}
	req, _ = http.NewRequest(http.MethodGet, e.API.URL+"/_sailcdn/clock", nil)
	req.Host = "localhost:4580"
	if r := sailtest.Do(t, req); r.Status != http.StatusOK {
		t.Fatalf("localhost Host: %d %s", r.Status, r.Body)
	}
}

func TestRequireAdminGuardsMetrics(t *testing.T) {
	e := productionEnv(t)
	e.App.Handle("/metrics", e.App.RequireAdmin(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("sailcdn_edge_requests_total 1\n"))
	})))
	if r := adminRequest(t, e, http.MethodGet, "/metrics", nil, nil); r.Status != http.StatusForbidden {
		t.Fatalf("unsigned /metrics: %d", r.Status)
	}
	if r := adminRequest(t, e, http.MethodGet, "/metrics", nil, &sailtest.Alice); r.Status != http.StatusForbidden {
		t.Fatalf("tenant key on /metrics: %d", r.Status)
	}
	if r := adminRequest(t, e, http.MethodGet, "/metrics", nil, &ops); r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte("requests_total")) {
		t.Fatalf("admin /metrics: %d %s", r.Status, r.Body)
	}
}
