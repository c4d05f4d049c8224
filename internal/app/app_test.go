package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
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
		c.Keys = []auth.Key{sailtest.Alice, ops}
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

// /metrics names every tenant's distributions and traffic: admins only.
func TestMetricsAreAdminOnly(t *testing.T) {
	e := productionEnv(t)
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

// The admin endpoints are routed by method and path like the API: a known path asked with another
// method is a 405 naming the allowed methods, an unknown path a 404, both AWS-shaped.
func TestAdminRoutes(t *testing.T) {
	e := sailtest.New(t)
	cases := []struct {
		method, path string
		status       int
		typ, allow   string
	}{
		{http.MethodPut, "/_sailcdn/clock", 405, "UnknownOperationException", "GET, HEAD, POST"},
		{http.MethodDelete, "/_sailcdn/origins", 405, "UnknownOperationException", "GET, HEAD, POST"},
		{http.MethodPost, "/_sailcdn/usage", 405, "UnknownOperationException", "GET, HEAD"},
		{http.MethodPost, "/healthz", 405, "UnknownOperationException", "GET, HEAD"},
		{http.MethodDelete, "/readyz", 405, "UnknownOperationException", "GET, HEAD"},
		{http.MethodPost, "/metrics", 405, "UnknownOperationException", "GET, HEAD"},
		{http.MethodGet, "/_sailcdn/nope", 404, "NotFoundException", ""},
		{http.MethodPost, "/_sailcdn/", 404, "NotFoundException", ""},
		{http.MethodHead, "/_sailcdn/clock", 200, "", ""},
		{http.MethodHead, "/readyz", 200, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := adminRequest(t, e, tc.method, tc.path, nil, nil)
			if r.Status != tc.status || r.Header.Get("Allow") != tc.allow {
				t.Fatalf("%d Allow %q, want %d Allow %q: %s", r.Status, r.Header.Get("Allow"), tc.status, tc.allow, r.Body)
			}
			if tc.typ == "" {
				return
			}
			if m := r.JSON(t); m["__type"] != tc.typ || r.Header.Get("X-Amzn-ErrorType") != tc.typ || m["message"] == "" {
				t.Errorf("body %s, X-Amzn-ErrorType %q", r.Body, r.Header.Get("X-Amzn-ErrorType"))
			}
		})
	}
	big := map[string]string{"name": strings.Repeat("n", 70<<10), "url": "http://h"}
	if r := adminRequest(t, e, http.MethodPost, "/_sailcdn/origins", big, nil); r.Status != http.StatusRequestEntityTooLarge || r.JSON(t)["__type"] != "RequestEntityTooLargeException" {
		t.Errorf("oversize body: %d %s", r.Status, r.Body)
	}
}

// Outside --dev, health stays open to load balancers (which do not sign) while everything else of
// the admin endpoints, including which paths exist, is for admins.
func TestHealthIsOpenAndRoutesAreNotRevealed(t *testing.T) {
	e := productionEnv(t)
	if r := adminRequest(t, e, http.MethodGet, "/readyz", nil, nil); r.Status != http.StatusOK {
		t.Errorf("unsigned /readyz: %d %s", r.Status, r.Body)
	}
	if r := adminRequest(t, e, http.MethodGet, "/healthz", nil, nil); r.Status != http.StatusOK {
		t.Errorf("unsigned /healthz: %d %s", r.Status, r.Body)
	}
	if r := adminRequest(t, e, http.MethodPost, "/healthz", nil, nil); r.Status != http.StatusMethodNotAllowed {
		t.Errorf("unsigned POST /healthz: %d %s", r.Status, r.Body)
	}
	for _, path := range []string{"/_sailcdn/nope", "/_sailcdn/clock"} {
		if r := adminRequest(t, e, http.MethodPut, path, nil, nil); r.Status != http.StatusForbidden {
			t.Errorf("unsigned PUT %s: %d %s", path, r.Status, r.Body)
		}
	}
	if r := adminRequest(t, e, http.MethodPut, "/_sailcdn/nope", nil, &ops); r.Status != http.StatusNotFound {
		t.Errorf("admin PUT of an unknown path: %d %s", r.Status, r.Body)
	}
	if r := adminRequest(t, e, http.MethodPut, "/_sailcdn/clock", nil, &ops); r.Status != http.StatusMethodNotAllowed {
		t.Errorf("admin PUT /_sailcdn/clock: %d %s", r.Status, r.Body)
	}
}
