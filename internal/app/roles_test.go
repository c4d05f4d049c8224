package app_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/admin"
	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/ca"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
	"github.com/sailcdn/sailcdn/internal/store"
)

// get sends GET url and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// readiness reads GET /readyz at base.
func readiness(t *testing.T, base string) (int, admin.Readiness) {
	t.Helper()
	status, body := get(t, base+"/readyz")
	var r admin.Readiness
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/readyz body is not JSON: %v\n%s", err, body)
	}
	return status, r
}

// checkNames lists the names of r's checks, and fails t unless each passed.
func passedChecks(t *testing.T, r admin.Readiness) string {
	t.Helper()
	var names []string
	for _, c := range r.Checks {
		names = append(names, c.Name)
		if c.Status != admin.StatusOK || c.Detail == "" {
			t.Errorf("check %s: %s %q", c.Name, c.Status, c.Detail)
		}
	}
	return strings.Join(names, ",")
}

// refused reports whether nothing listens at addr.
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return false
	}
	return errors.Is(err, syscall.ECONNREFUSED)
}

// withPorts gives the node fixed free ports, so that a test can check which of them it opened.
func withPorts(t *testing.T) sailtest.Option {
	addrs := sailtest.FreeAddrs(t, 3)
	return func(c *sailtest.Config) {
		c.API.Addr, c.Edge.Addr, c.Admin.Addr = addrs[0], addrs[1], addrs[2]
	}
}

func TestRoleAllServesAPIAndViewersAndNoAdminPort(t *testing.T) {
	e := sailtest.New(t, withPorts(t))
	if e.API == nil || e.Edge == nil || e.Admin != nil || e.Node.Control == nil || e.Node.Edge == nil {
		t.Fatalf("role all: api %v, edge %v, admin %v", e.API, e.Edge, e.Admin)
	}
	if !refused(e.Config.Admin.Addr) {
		t.Errorf("role all opened the admin port %s; it answers health and metrics on the API port", e.Config.Admin.Addr)
	}
	if status, body := get(t, e.API.URL+"/healthz"); status != http.StatusOK || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Errorf("/healthz: %d %s", status, body)
	}
	status, r := readiness(t, e.API.URL)
	if status != http.StatusOK || r.Status != "ok" || r.Role != "all" {
		t.Errorf("/readyz: %d %+v", status, r)
	}
	if got := passedChecks(t, r); got != "node,store,edge,config" {
		t.Errorf("checks %s, want node,store,edge,config", got)
	}
}

func TestRoleAPIServesNoViewers(t *testing.T) {
	e := sailtest.New(t, withPorts(t), func(c *sailtest.Config) { c.Role = app.RoleAPI })
	if e.API == nil || e.Edge != nil || e.Admin != nil || e.Node.Edge != nil {
		t.Fatalf("role api: api %v, edge %v, admin %v, edge service %v", e.API, e.Edge, e.Admin, e.Node.Edge)
	}
	for _, addr := range []string{e.Config.Edge.Addr, e.Config.Admin.Addr} {
		if !refused(addr) {
			t.Errorf("role api opened %s", addr)
		}
	}
	if _, err := e.Client(sailtest.Alice, "us-east-1").GetDistributionBundles(context.Background(), &ls.GetDistributionBundlesInput{}); err != nil {
		t.Errorf("API: %v", err)
	}
	status, r := readiness(t, e.API.URL)
	if status != http.StatusOK || r.Role != "api" {
		t.Errorf("/readyz: %d %+v", status, r)
	}
	if got := passedChecks(t, r); got != "node,store" {
		t.Errorf("checks %s, want node,store (an API node has no edge)", got)
	}
	// Metrics of the process, none of an edge (no meter, no cache).
	status, body := get(t, e.API.URL+"/metrics")
	if status != http.StatusOK || !strings.Contains(body, "go_goroutines") || strings.Contains(body, "sailcdn_edge_") {
		t.Errorf("/metrics of an API node: %d\n%s", status, body)
	}
}

// An API node and an edge node on one store, as a fleet runs them: the edge node opens no API port,
// serves viewers what the API node configured, answers health and metrics on its admin port, and its
// shutdown flushes its meter before its store closes.
func TestRoleEdgeServesViewersAndAdminPortOnly(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "from the origin")
	}))
	defer origin.Close()
	apiNode := sailtest.New(t, func(c *sailtest.Config) { c.Role = app.RoleAPI })
	apiNode.AddOrigin("web-1", origin.URL, "Instance", "us-east-1")
	cfg := apiNode.Config
	cfg.Role = app.RoleEdge
	addrs := sailtest.FreeAddrs(t, 3)
	cfg.API.Addr, cfg.Edge.Addr, cfg.Admin.Addr = addrs[0], addrs[1], addrs[2]
	edgeNode := sailtest.Launch(t, cfg)
	if edgeNode.API != nil || edgeNode.Edge == nil || edgeNode.Admin == nil || edgeNode.Node.Control != nil {
		t.Fatalf("role edge: api %v, edge %v, admin %v", edgeNode.API, edgeNode.Edge, edgeNode.Admin)
	}
	if !refused(cfg.API.Addr) {
		t.Errorf("role edge opened the API port %s", cfg.API.Addr)
	}

	// The admin port: health open, metrics for admins (open in --dev on loopback), nothing else.
	admin := edgeNode.Admin.URL
	if status, body := get(t, admin+"/healthz"); status != http.StatusOK || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Errorf("/healthz: %d %s", status, body)
	}
	status, r := readiness(t, admin)
	if status != http.StatusOK || r.Role != "edge" {
		t.Errorf("/readyz: %d %+v", status, r)
	}
	if got := passedChecks(t, r); got != "node,store,edge,config" {
		t.Errorf("checks %s, want node,store,edge,config", got)
	}
	if status, body := get(t, admin+"/metrics"); status != http.StatusOK || !strings.Contains(body, "sailcdn_edge_fastpath_requests_total") {
		t.Errorf("/metrics: %d\n%s", status, body)
	}
	for _, path := range []string{"/_sailcdn/clock", "/", "/console/"} {
		if status, body := get(t, admin+path); status != http.StatusNotFound || !strings.Contains(body, `"__type":"NotFoundException"`) {
			t.Errorf("admin port %s: %d %s", path, status, body)
		}
	}

	// Viewers: a distribution created through the API node is served by the edge node.
	c := apiNode.Client(sailtest.Alice, "us-east-1")
	ctx := context.Background()
	out, err := c.CreateDistribution(ctx, &ls.CreateDistributionInput{
		DistributionName: aws.String("fleet"), BundleId: aws.String("small_1_0"),
		Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1},
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
	})
	if err != nil {
		t.Fatal(err)
	}
	host := aws.ToString(out.Distribution.DomainName)
	const requests = 3
	served := 0
	wait.For(t, 5*time.Second, "the edge node to serve the new distribution", func() error {
		for served < requests {
			resp, err := sailtest.EdgeClient().Do(edgeNode.EdgeRequest(http.MethodGet, host, fmt.Sprintf("/p%d", served), ""))
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("edge answers %s", resp.Status)
			}
			served++
		}
		return nil
	})

	// Shutting the edge node down flushes its meter before its store closes: the API node sees every
	// request at once, without waiting for a periodic flush.
	if err := edgeNode.Node.Shutdown(ctx); err != nil {
		t.Fatalf("edge node shutdown: %v", err)
	}
	now := apiNode.Clock.Now()
	sum := sailtest.MetricSum(t, c, sailtest.MetricQuery{Distribution: "fleet", Metric: types.DistributionMetricNameRequests,
		Unit: types.MetricUnitNone, From: now.Add(-time.Hour), To: now.Add(time.Hour)})
	if sum != requests {
		t.Errorf("requests metered by the edge node: %v, want %d", sum, requests)
	}
}

// An edge node serves viewers and holds the keys of the certificates it serves, but never the CA's:
// edges face the internet, and whoever takes the root key can mint a certificate for any name that
// viewers who trust sailcdn's root will accept. Issuing (the CA, the default certificate and its
// renewal) is the API nodes' job; an edge started first on a new store serves HTTPS for the default
// domain names as soon as an API node has issued their certificate.
func TestRoleEdgeHoldsNoCAKey(t *testing.T) {
	apiCfg := sailtest.New(t, func(c *sailtest.Config) { c.Role = app.RoleAPI }).Config
	apiCfg.Store = store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "sailcdn.db")} // no CA in it yet
	edgeCfg := apiCfg
	edgeCfg.Role = app.RoleEdge
	addrs := sailtest.FreeAddrs(t, 4)
	edgeCfg.API.Addr, edgeCfg.Edge.Addr, edgeCfg.Admin.Addr, edgeCfg.Edge.TLSAddr = addrs[0], addrs[1], addrs[2], addrs[3]
	edgeNode := sailtest.Launch(t, edgeCfg)
	if edgeNode.Node.Certificates.Authority != nil {
		t.Fatal("an edge node opened the CA, and so holds its private key")
	}
	if _, err := ca.RootPEMFromStore(context.Background(), edgeNode.Node.Store); err == nil {
		t.Fatal("an edge node created the CA")
	}

	apiCfg.API.Addr = sailtest.FreeAddrs(t, 1)[0]
	apiNode := sailtest.Launch(t, apiCfg)
	apiNode.AddOrigin("web-1", "http://127.0.0.1:1", "Instance", "us-east-1")
	out, err := apiNode.Client(sailtest.Alice, "us-east-1").CreateDistribution(context.Background(), &ls.CreateDistributionInput{
		DistributionName: aws.String("site"), BundleId: aws.String("small_1_0"),
		Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1},
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
	})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(apiNode.CA.Root())
	name := aws.ToString(out.Distribution.DomainName)
	wait.For(t, 10*time.Second, "the edge node to serve the default certificate the API node issued", func() error {
		conn, err := tls.Dial("tcp", edgeNode.EdgeTLSAddr, &tls.Config{RootCAs: pool, ServerName: name})
		if err != nil {
			return err
		}
		return conn.Close()
	})
}
