package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// edgeGet sends one viewer request for host to the edge at addr.
// noRedirects answers a redirect to HTTPS with the redirect itself.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func edgeGet(addr, host, path string) (int, string, error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	resp, err := noRedirects.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// waitEdge polls until the edge at addr answers host with want, and returns how long that took.
func waitEdge(t *testing.T, addr, host string, want int) time.Duration {
	t.Helper()
	return wait.For(t, 5*time.Second, fmt.Sprintf("edge %s to answer %s with %d", addr, host, want), func() error {
		status, _, err := edgeGet(addr, host, "/")
		if err != nil {
			return err
		}
		if status != want {
			return fmt.Errorf("answers %d", status)
		}
		return nil
	})
}

// TestScaleOutOnPostgres runs two sailcdn processes on one PostgreSQL database, as operators scale out:
// a distribution created through one is served by the other's edge within a second, the
// once-per-cycle bundle rule holds across processes (exactly one of concurrent changes wins), a change
// made through one process reaches the other's edge, and both edges meter into the same rows.
func TestScaleOutOnPostgres(t *testing.T) {
	dsn := os.Getenv(sailtest.PostgresDSNEnv)
	if dsn == "" || testing.Short() {
		t.Skip("needs " + sailtest.PostgresDSNEnv + " (scripts/test.sh starts a private PostgreSQL)")
	}
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = io.WriteString(w, "hello from the origin")
	}))
	defer origin.Close()
	db := sailtest.PostgresSchema(t, dsn)
	// Both processes seal and open private keys with the same key-encryption key, as operators must.
	kek := filepath.Join(t.TempDir(), "kek")
	a := startServerProcess(t, "--database-url", db, "--key-encryption-key", kek, "--origin", "web="+origin.URL)
	b := startServerProcess(t, "--database-url", db, "--key-encryption-key", kek, "--origin", "web="+origin.URL)
	ca, cb := crashClient(a.endpoint), crashClient(b.endpoint)
	ctx := context.Background()

	out, err := ca.CreateDistribution(ctx, createInput("shared"))
	if err != nil {
		t.Fatal(err)
	}
	host := aws.ToString(out.Distribution.DomainName)
	if took := waitEdge(t, b.edge, host, http.StatusOK); took > time.Second+200*time.Millisecond {
		t.Errorf("process B's edge served the new distribution after %s, want within 1 s", took)
	}
	if got, err := cb.GetDistributions(ctx, &lightsail.GetDistributionsInput{DistributionName: aws.String("shared")}); err != nil || len(got.Distributions) != 1 {
		t.Fatalf("process B does not see the distribution: %v", err)
	}

	// HTTPS across processes: one CA for the database, and a certificate attached through B is served
	// by A's edge within a second of the attach.
	rootA, rootB := getBody(t, a.endpoint+"/_sailcdn/ca.pem"), getBody(t, b.endpoint+"/_sailcdn/ca.pem")
	if rootA != rootB || !strings.HasPrefix(rootA, "-----BEGIN CERTIFICATE-----") {
		t.Fatalf("the two processes publish different roots:\n%s\n%s", rootA, rootB)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(rootA))
	if _, err := ca.CreateCertificate(ctx, &lightsail.CreateCertificateInput{CertificateName: aws.String("shared-cert"), DomainName: aws.String("shared.example.com")}); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 15*time.Second, "certificate issued and attached through process B", func() error {
		_, err := cb.AttachCertificateToDistribution(ctx, &lightsail.AttachCertificateToDistributionInput{DistributionName: aws.String("shared"), CertificateName: aws.String("shared-cert")})
		return err
	})
	attached := time.Now()
	for _, s := range []*crashServer{a, b} {
		wait.For(t, 2*time.Second, "HTTPS for the custom name on "+s.tls, func() error {
			conn, err := tls.Dial("tcp", s.tls, &tls.Config{RootCAs: pool, ServerName: "shared.example.com"})
			if err != nil {
				return err
			}
			return conn.Close()
		})
	}
	if took := time.Since(attached); took > time.Second+500*time.Millisecond {
		t.Errorf("both edges served the attached certificate after %s, want within about 1 s", took)
	}
	// Plain HTTP is redirected while the certificate is attached; detached, it is served again.
	waitEdge(t, a.edge, host, http.StatusMovedPermanently)
	if _, err := ca.DetachCertificateFromDistribution(ctx, &lightsail.DetachCertificateFromDistributionInput{DistributionName: aws.String("shared")}); err != nil {
		t.Fatal(err)
	}
	waitEdge(t, a.edge, host, http.StatusOK)
	waitEdge(t, b.edge, host, http.StatusOK)

	// Concurrent bundle changes through both processes: one distinct winner.
	var wg sync.WaitGroup
	var mu sync.Mutex
	winners := map[string]int{}
	refused := 0
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			client, bundle := ca, "medium_1_0"
			if i%2 == 1 {
				client, bundle = cb, "large_1_0"
			}
			_, err := client.UpdateDistributionBundle(ctx, &lightsail.UpdateDistributionBundleInput{DistributionName: aws.String("shared"), BundleId: aws.String(bundle)})
			mu.Lock()
			defer mu.Unlock()
			var ie *types.InvalidInputException
			switch {
			case err == nil:
				winners[bundle]++
			case errors.As(err, &ie) && aws.ToString(ie.Code) == "BundleUpdateNotAllowed":
				refused++
			default:
				t.Errorf("bundle change: %v", err)
			}
		}(i)
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("bundle changes that won across processes: %v (refused %d)", winners, refused)
	}

	// A change through B reaches A's edge.
	if _, err := cb.UpdateDistribution(ctx, &lightsail.UpdateDistributionInput{DistributionName: aws.String("shared"), IsEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	if took := waitEdge(t, a.edge, host, http.StatusForbidden); took > time.Second+200*time.Millisecond {
		t.Errorf("process A's edge applied the disable after %s, want within 1 s", took)
	}
	if _, err := ca.UpdateDistribution(ctx, &lightsail.UpdateDistributionInput{DistributionName: aws.String("shared"), IsEnabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	waitEdge(t, a.edge, host, http.StatusOK)
	waitEdge(t, b.edge, host, http.StatusOK)

	// A clock move through A reaches B within a second or two.
	postClock(t, a.endpoint, "2030-06-01T00:00:00Z")
	wait.Until(t, 3*time.Second, "process B's clock to follow A's move", func() bool { return getClock(t, b.endpoint).Year() == 2030 })
	postClock(t, a.endpoint, time.Now().UTC().Format(time.RFC3339))
	wait.Until(t, 3*time.Second, "process B's clock to follow A's move back", func() bool { return getClock(t, b.endpoint).Year() != 2030 })

	// Both edges meter into the same store: requests through A and B add up in A's API.
	before := requestsSum(t, ca)
	for i := 0; i < 5; i++ {
		for _, addr := range []string{a.edge, b.edge} {
			if status, _, err := edgeGet(addr, host, fmt.Sprintf("/page-%d", i)); err != nil || status != http.StatusOK {
				t.Fatalf("edge %s: %d %v", addr, status, err)
			}
		}
	}
	wait.For(t, 8*time.Second, "both edges' requests metered", func() error {
		if got := requestsSum(t, ca); got < before+10 {
			return fmt.Errorf("requests metered: %v, want %v", got, before+10)
		}
		return nil
	})
}

func requestsSum(t *testing.T, c *lightsail.Client) float64 {
	t.Helper()
	now := time.Now()
	return sailtest.MetricSum(t, c, sailtest.MetricQuery{Distribution: "shared", Metric: types.DistributionMetricNameRequests,
		Unit: types.MetricUnitNone, From: now.Add(-time.Hour), To: now.Add(2 * time.Hour)})
}

func postClock(t *testing.T, endpoint, now string) {
	t.Helper()
	resp, err := http.Post(endpoint+"/_sailcdn/clock", "application/json", strings.NewReader(`{"now":"`+now+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST clock: %s", resp.Status)
	}
}

func getClock(t *testing.T, endpoint string) time.Time {
	t.Helper()
	resp, err := http.Get(endpoint + "/_sailcdn/clock")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Now time.Time }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Now
}

// The server clock survives a restart: billing cycles a developer moved to stay moved.
func TestServerClockSurvivesRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	s := startCrashServer(t, dir)
	postClock(t, s.endpoint, "2031-03-01T00:00:00Z")
	if err := s.kill(); err == nil {
		t.Fatal("server exited cleanly before the kill")
	}
	s = startCrashServer(t, dir)
	if got := getClock(t, s.endpoint); got.Year() != 2031 || got.Month() != time.March {
		t.Fatalf("clock after restart = %v, want 2031-03-01", got)
	}
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(sailtest.Do(t, req).Body)
}
