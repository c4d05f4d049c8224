package acme_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"
	"github.com/miekg/dns"

	"github.com/sailcdn/sailcdn/internal/acme"
	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/ca"
	"github.com/sailcdn/sailcdn/internal/control"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
	"github.com/sailcdn/sailcdn/internal/store"
)

const zone = "acme.sailcdn.test"

// pebble is Let's Encrypt's test CA, run by the test from the module's own tool (go.mod: tool
// github.com/letsencrypt/pebble/v2/cmd/pebble), on loopback only, its DNS pointed at resolver.
type pebble struct {
	directory string
	mgmt      string
	client    *http.Client // trusts pebble's HTTPS certificate
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func startPebble(t *testing.T, resolver string) *pebble {
	t.Helper()
	bin, err := exec.Command("go", "tool", "-n", "pebble").Output()
	if err != nil {
		t.Fatalf("build pebble (go tool -n pebble): %v", err)
	}
	dir := t.TempDir()
	// Pebble's HTTPS listener certificate: self-signed for 127.0.0.1, trusted by the test's client.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pebble test listener"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
	certPath, keyPath := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)

	listen, mgmt := fmt.Sprintf("127.0.0.1:%d", freePort(t)), fmt.Sprintf("127.0.0.1:%d", freePort(t))
	conf := map[string]any{"pebble": map[string]any{
		"listenAddress": listen, "managementListenAddress": mgmt,
		"certificate": certPath, "privateKey": keyPath,
		// Ports pebble's validator would use for http-01/tls-alpn-01: unused (DNS-01 only), loopback.
		"httpPort": freePort(t), "tlsPort": freePort(t),
		"keyAlgorithm": "ecdsa", "externalAccountBindingRequired": false,
		// Clients are told to poll again after 1 s rather than pebble's default 3–5 s.
		"retryAfter": map[string]any{"authz": 1, "order": 1},
		"profiles":   map[string]any{"default": map[string]any{"description": "90 days", "validityPeriod": 90 * 24 * 3600}},
	}}
	confPath := filepath.Join(dir, "pebble.json")
	b, _ := json.Marshal(conf)
	_ = os.WriteFile(confPath, b, 0o600)

	cmd := exec.Command(strings.TrimSpace(string(bin)), "-config", confPath, "-dnsserver", resolver)
	// No artificial validation delay, no deliberately rejected nonces: fast and deterministic.
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("pebble output:\n%s", out.String())
		}
	})
	pool := x509.NewCertPool()
	pool.AddCert(mustParse(t, der))
	p := &pebble{directory: "https://" + listen + "/dir", mgmt: "https://" + mgmt,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}}
	wait.For(t, 20*time.Second, "pebble serving its directory", func() error {
		resp, err := p.client.Get(p.directory)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})
	return p
}

func mustParse(t *testing.T, der []byte) *x509.Certificate {
	t.Helper()
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// root fetches the root pebble issues under (it makes a new one at every start).
func (p *pebble) root(t *testing.T) *x509.CertPool {
	t.Helper()
	resp, err := p.client.Get(p.mgmt + "/roots/0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("pebble root: %s", b)
	}
	return pool
}

func TestResponderAnswersFromTheStore(t *testing.T) {
	db, err := store.Open(context.Background(), sailtest.Backends()[0].Config(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := acme.StartResponder(db, zone, "127.0.0.1:0", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	if err := db.PutACMEChallenge(ctx, "abc."+zone+".", "token-value", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	ask := func(name string, qtype uint16, network string) *dns.Msg {
		q := new(dns.Msg)
		q.SetQuestion(name, qtype)
		c := &dns.Client{Net: network}
		addr := r.UDPAddr.String()
		if network == "tcp" {
			addr = r.TCPAddr.String()
		}
		in, _, err := c.Exchange(q, addr)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	for _, network := range []string{"udp", "tcp"} {
		in := ask("ABC."+zone+".", dns.TypeTXT, network)
		if len(in.Answer) != 1 || in.Answer[0].(*dns.TXT).Txt[0] != "token-value" || !in.Authoritative {
			t.Errorf("%s TXT: %v", network, in)
		}
	}
	if in := ask("other."+zone+".", dns.TypeTXT, "udp"); len(in.Answer) != 0 || in.Rcode != dns.RcodeSuccess || len(in.Ns) != 1 {
		t.Errorf("unknown label: %v", in)
	}
	if in := ask("example.com.", dns.TypeTXT, "udp"); in.Rcode != dns.RcodeRefused {
		t.Errorf("outside the zone: rcode %d, want REFUSED", in.Rcode)
	}
	if err := db.DeleteACMEChallenge(ctx, "abc."+zone+".", "token-value"); err != nil {
		t.Fatal(err)
	}
	if in := ask("abc."+zone+".", dns.TypeTXT, "udp"); len(in.Answer) != 0 {
		t.Errorf("after delete: %v", in)
	}
}

// ACME issuance end to end: the Lightsail certificate flow with pebble as the CA. The user's CNAMEs
// (_acme-challenge.<name> → <label>.<zone>) are in the test's resolver, which delegates the zone to
// sailcdn's responder, exactly as public DNS would; the issued certificate is served at the edge.
func TestACMEIssuanceWithPebble(t *testing.T) {
	if testing.Short() {
		t.Skip("runs pebble")
	}
	ctx := context.Background()
	resolver := sailtest.StartDNS(t)
	p := startPebble(t, resolver.Addr)

	var responder *acme.Responder
	e := sailtest.New(t,
		sailtest.WithIssuer(func(db *store.DB, sealer *ca.Sealer) (ca.Issuer, error) {
			r, err := acme.StartResponder(db, zone, "127.0.0.1:0", nil)
			if err != nil {
				return nil, err
			}
			responder = r
			t.Cleanup(func() { r.Close() })
			return acme.NewIssuer(acme.Config{Store: db, Sealer: sealer, Directory: p.directory, Email: "ops@example.test",
				Zone: zone, HTTPClient: p.client, Resolver: resolver.Addr})
		}),
		sailtest.WithCertificates(func(c *app.CertificatesConfig) {
			c.Validation, c.Resolver, c.ACMEZone = control.ValidationDNS, resolver.Addr, zone
		}))
	resolver.Delegate(zone, responder.UDPAddr.String())
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello over ACME") }))
	defer origin.Close()
	e.AddOrigin("web-1", origin.URL, "Instance", "us-east-1")
	e.StartEdge()
	c := e.Client(sailtest.Alice, "us-east-1")

	out, err := c.CreateCertificate(ctx, &ls.CreateCertificateInput{CertificateName: aws.String("shop"),
		DomainName: aws.String("shop.example.test"), SubjectAlternativeNames: []string{"www.shop.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Certificate.CertificateDetail.DomainValidationRecords {
		name, value := aws.ToString(r.ResourceRecord.Name), aws.ToString(r.ResourceRecord.Value)
		if name != "_acme-challenge."+aws.ToString(r.DomainName)+"." || !strings.HasSuffix(value, "."+zone+".") {
			t.Fatalf("validation record %s → %s", name, value)
		}
		resolver.SetCNAME(name, value) // what the user does at their DNS provider
	}
	get := func() *types.Certificate {
		g, err := c.GetCertificates(ctx, &ls.GetCertificatesInput{CertificateName: aws.String("shop")})
		if err != nil {
			t.Fatal(err)
		}
		return g.Certificates[0].CertificateDetail
	}
	var cert *types.Certificate
	start := time.Now()
	wait.Until(t, 60*time.Second, "ISSUED by pebble", func() bool {
		cert = get()
		if cert.Status == types.CertificateStatusFailed {
			t.Fatalf("issuance FAILED: %s", aws.ToString(cert.RequestFailureReason))
		}
		return cert.Status == types.CertificateStatusIssued
	})
	t.Logf("issued by %q %s after the records were created", aws.ToString(cert.IssuerCA), time.Since(start))
	if !strings.HasPrefix(aws.ToString(cert.IssuerCA), "Pebble") || aws.ToString(cert.KeyAlgorithm) != "EC-prime256v1" {
		t.Errorf("issuerCA %q keyAlgorithm %q", aws.ToString(cert.IssuerCA), aws.ToString(cert.KeyAlgorithm))
	}

	// Served at the edge and trusted through pebble's root.
	if _, err := c.CreateDistribution(ctx, &ls.CreateDistributionInput{DistributionName: aws.String("shop-site"), BundleId: aws.String("small_1_0"),
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting}, CertificateName: aws.String("shop"),
		Origin: &types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1}}); err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{RootCAs: p.root(t), ServerName: "www.shop.example.test"}
	var served *x509.Certificate
	wait.For(t, 10*time.Second, "ACME certificate served", func() error {
		conn, err := tls.Dial("tcp", e.EdgeTLSAddr, cfg)
		if err != nil {
			return err
		}
		defer conn.Close()
		served = conn.ConnectionState().PeerCertificates[0]
		return nil
	})
	resp, err := e.TLSClient(cfg, true).Get("https://www.shop.example.test/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "hello over ACME" {
		t.Fatalf("body %q", body)
	}

	// Renewal at two thirds of the lifetime goes through pebble again and is swapped in.
	e.Clock.Set(e.Clock.Now().Add(61 * 24 * time.Hour))
	wait.Until(t, 60*time.Second, "renewed through ACME", func() bool {
		d := get()
		return d.RenewalSummary != nil && d.RenewalSummary.RenewalStatus == types.RenewalStatusSuccess
	})
	wait.Until(t, 10*time.Second, "renewed certificate served", func() bool {
		conn, err := tls.Dial("tcp", e.EdgeTLSAddr, cfg)
		if err != nil {
			return false
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.Cmp(served.SerialNumber) != 0
	})
}
