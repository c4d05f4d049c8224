package edge_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// httpsEnv is an env with an origin, the edge (both ports) and one distribution "site".
func httpsEnv(t *testing.T) (*sailtest.Env, *ls.Client, string) {
	t.Helper()
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprintf(w, "object %s", r.URL.Path)
	}))
	t.Cleanup(origin.Close)
	e := sailtest.New(t)
	e.AddOrigin("web-1", origin.URL, "Instance", "us-east-1")
	e.StartEdge()
	c := e.Client(sailtest.Alice, "us-east-1")
	out, err := c.CreateDistribution(context.Background(), &ls.CreateDistributionInput{
		DistributionName:     aws.String("site"),
		BundleId:             aws.String("small_1_0"),
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
		Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1},
	})
	if err != nil {
		t.Fatal(err)
	}
	host := aws.ToString(out.Distribution.DomainName)
	wait.Until(t, 2*time.Second, "distribution served over TLS", func() bool {
		_, err := handshake(e, e.TLSConfig(host))
		return err == nil
	})
	return e, c, host
}

// handshake dials the edge's TLS port with cfg and returns the connection state.
func handshake(e *sailtest.Env, cfg *tls.Config) (tls.ConnectionState, error) {
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", e.EdgeTLSAddr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	return c.ConnectionState(), nil
}

func get(t *testing.T, client *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestHTTPSOnTheDefaultDomain(t *testing.T) {
	e, _, host := httpsEnv(t)
	for _, h2 := range []bool{false, true} {
		client := e.TLSClient(e.TLSConfig(host), h2)
		path := fmt.Sprintf("/h2-%v.css", h2)
		for i, want := range []string{"Miss", "Hit"} {
			resp, body := get(t, client, "https://"+host+path)
			if resp.StatusCode != 200 || body != "object "+path || !strings.HasPrefix(resp.Header.Get("X-Cache"), want) {
				t.Fatalf("h2=%v request %d: %d %q %q", h2, i, resp.StatusCode, resp.Header.Get("X-Cache"), body)
			}
			if wantProto := map[bool]int{false: 1, true: 2}[h2]; resp.ProtoMajor != wantProto {
				t.Errorf("h2=%v: served over %s", h2, resp.Proto)
			}
			if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
				t.Errorf("h2=%v: TLS state %+v", h2, resp.TLS)
			}
		}
	}
	// The fast path serves HTTP/1.1 hits over TLS too.
	before := e.EdgeService.FastPathStats().Served
	client := e.TLSClient(e.TLSConfig(host), false)
	get(t, client, "https://"+host+"/h2-false.css")
	if e.EdgeService.FastPathStats().Served == before {
		t.Error("an HTTP/1.1 hit over TLS did not take the fast path")
	}
	// Plain HTTP keeps working on a distribution without a certificate.
	resp, err := sailtest.EdgeClient().Do(e.EdgeRequest("GET", host, "/plain.txt", ""))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("plain HTTP: %v %v", resp, err)
	}
	resp.Body.Close()
}

// A name no distribution serves, and a hello without a name, fail the handshake with the
// unrecognized_name alert (RFC 6066 §3).
func TestUnknownServerNameIsRefused(t *testing.T) {
	e, _, _ := httpsEnv(t)
	for _, name := range []string{"unknown.example.com", "dnotadistribution.cdn.localhost"} {
		_, err := handshake(e, e.TLSConfig(name))
		if err == nil || !strings.Contains(err.Error(), "unrecognized name") {
			t.Errorf("%s: %v, want the unrecognized_name alert", name, err)
		}
	}
	cfg := e.TLSConfig("")
	cfg.InsecureSkipVerify = true // no name to verify; the point is the server's answer
	if _, err := handshake(e, cfg); err == nil || !strings.Contains(err.Error(), "unrecognized name") {
		t.Errorf("no SNI: %v, want the unrecognized_name alert", err)
	}
}

func TestSecurityPolicies(t *testing.T) {
	e, c, host := httpsEnv(t)
	tls11 := e.TLSConfig(host)
	tls11.MinVersion, tls11.MaxVersion = tls.VersionTLS11, tls.VersionTLS11
	cbc256 := e.TLSConfig(host) // in TLSv1.2_2019, not in TLSv1.2_2021
	cbc256.MaxVersion, cbc256.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256}
	gcm := e.TLSConfig(host)
	gcm.MaxVersion, gcm.CipherSuites = tls.VersionTLS12, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}

	// The default, TLSv1.2_2021.
	if _, err := handshake(e, tls11); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.1 under TLSv1.2_2021: %v, want a protocol version alert", err)
	}
	if _, err := handshake(e, cbc256); err == nil {
		t.Error("ECDHE-ECDSA-AES128-SHA256 accepted under TLSv1.2_2021")
	}
	if st, err := handshake(e, gcm); err != nil || st.Version != tls.VersionTLS12 {
		t.Errorf("TLS 1.2 with AES-GCM: %v", err)
	}

	set := func(policy types.ViewerMinimumTlsProtocolVersionEnum) {
		t.Helper()
		if _, err := c.UpdateDistribution(context.Background(), &ls.UpdateDistributionInput{DistributionName: aws.String("site"), ViewerMinimumTlsProtocolVersion: policy}); err != nil {
			t.Fatal(err)
		}
	}
	set(types.ViewerMinimumTlsProtocolVersionEnumTLSv122019)
	wait.For(t, 2*time.Second, "TLSv1.2_2019 in force", func() error {
		_, err := handshake(e, cbc256)
		return err
	})
	if _, err := handshake(e, tls11); err == nil {
		t.Error("TLS 1.1 accepted under TLSv1.2_2019")
	}
	set(types.ViewerMinimumTlsProtocolVersionEnumTLSv112016)
	wait.For(t, 2*time.Second, "TLSv1.1_2016 in force", func() error {
		st, err := handshake(e, tls11)
		if err == nil && st.Version != tls.VersionTLS11 {
			return fmt.Errorf("negotiated %x", st.Version)
		}
		return err
	})
	// HTTP/1.1 over TLS 1.1 serves (HTTP/2 is not offered below TLS 1.2).
	resp, body := get(t, e.TLSClient(tls11, true), "https://"+host+"/old.txt")
	if resp.StatusCode != 200 || body != "object /old.txt" || resp.ProtoMajor != 1 {
		t.Fatalf("over TLS 1.1: %d %s %q", resp.StatusCode, resp.Proto, body)
	}
}

func TestSessionResumption(t *testing.T) {
	e, _, host := httpsEnv(t)
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		cfg := e.TLSConfig(host)
		cfg.MaxVersion = version
		cfg.ClientSessionCache = tls.NewLRUClientSessionCache(8)
		client := e.TLSClient(cfg, false)
		client.Transport.(*http.Transport).DisableKeepAlives = true
		var resumed []bool
		for range 2 {
			resp, _ := get(t, client, "https://"+host+"/r.txt")
			resumed = append(resumed, resp.TLS.DidResume)
		}
		if resumed[0] || !resumed[1] {
			t.Errorf("TLS %x: resumed %v, want [false true]", version, resumed)
		}
	}
}

// tlsViewer sends one raw HTTP/1.1 request per TLS connection and counts the HTTP bytes it wrote and
// read (the decrypted stream): what the meter must count.
func tlsGet(t *testing.T, e *sailtest.Env, host, path string) (status int, wrote, read int64) {
	t.Helper()
	c, err := tls.Dial("tcp", e.EdgeTLSAddr, e.TLSConfig(host))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	n, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, host)
	if err != nil {
		t.Fatal(err)
	}
	var nread int64
	resp, err := http.ReadResponse(bufio.NewReader(countingReader{c, &nread}), &http.Request{Method: http.MethodGet})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	// Read to the end: the connection closes after the response.
	if _, err := io.Copy(io.Discard, countingReader{c, &nread}); err != nil && !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	return resp.StatusCode, int64(n), nread
}

func TestMeteringOverTLSCountsHTTPBytes(t *testing.T) {
	e, c, host := httpsEnv(t)
	var down int64
	for _, p := range []string{"/m.txt", "/m.txt", "/n.txt"} { // a miss, a (fast-path) hit, a miss
		status, _, r := tlsGet(t, e, host, p)
		if status != 200 {
			t.Fatalf("GET %s: %d", p, status)
		}
		down += r
	}
	sum := func(metric types.DistributionMetricName) int64 {
		now := e.Clock.Now()
		return int64(sailtest.MetricSum(t, c, sailtest.MetricQuery{Distribution: "site", Metric: metric, Unit: types.MetricUnitNone,
			From: now.Add(-time.Hour), To: now.Add(time.Hour)}))
	}
	wait.Until(t, 6*time.Second, "TLS traffic metered as HTTP bytes", func() bool {
		return sum(types.DistributionMetricNameRequests) >= 3 && sum(types.DistributionMetricNameBytesDownloaded) >= down
	})
	// httpsEnv's own readiness handshakes carried no request; the three requests are all there is.
	// GETs upload nothing (BytesUploaded counts what POST and PUT send to the origin).
	if r, d, u := sum(types.DistributionMetricNameRequests), sum(types.DistributionMetricNameBytesDownloaded), sum(types.DistributionMetricNameBytesUploaded); r != 3 || d != down || u != 0 {
		t.Fatalf("metered %d requests, %d bytes down, %d uploaded; the viewer's HTTP bytes were 3, %d, and nothing was uploaded", r, d, u, down)
	}
}

// The certificate flow at the edge: an attached certificate serves its names (SNI picks it), plain
// HTTP for them is redirected, renewal swaps the served certificate in place, detaching stops it.
func TestCustomDomainCertificate(t *testing.T) {
	ctx := context.Background()
	e, c, host := httpsEnv(t)
	if _, err := c.CreateCertificate(ctx, &ls.CreateCertificateInput{CertificateName: aws.String("shop"),
		DomainName: aws.String("shop.example.com"), SubjectAlternativeNames: []string{"www.shop.example.com"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := handshake(e, e.TLSConfig("shop.example.com")); err == nil {
		t.Fatal("a custom name is served before any certificate is attached")
	}
	wait.For(t, 10*time.Second, "certificate issued", func() error {
		_, err := c.AttachCertificateToDistribution(ctx, &ls.AttachCertificateToDistributionInput{DistributionName: aws.String("site"), CertificateName: aws.String("shop")})
		return err
	})
	attached := time.Now()
	var first tls.ConnectionState
	wait.For(t, 2*time.Second, "custom name served", func() error {
		var err error
		first, err = handshake(e, e.TLSConfig("www.shop.example.com"))
		return err
	})
	t.Logf("custom name served %s after the attach", time.Since(attached))
	if leaf := first.PeerCertificates[0]; leaf.Subject.CommonName != "shop.example.com" || len(leaf.DNSNames) != 2 {
		t.Fatalf("served %v %v", leaf.Subject, leaf.DNSNames)
	}
	// SNI selection: the default name still gets the wildcard.
	if st, err := handshake(e, e.TLSConfig(host)); err != nil || st.PeerCertificates[0].DNSNames[0] != "*.cdn.localhost" {
		t.Fatalf("default name after attach: %v", err)
	}
	resp, body := get(t, e.TLSClient(e.TLSConfig("shop.example.com"), false), "https://shop.example.com/p.txt")
	if resp.StatusCode != 200 || body != "object /p.txt" {
		t.Fatalf("HTTPS on the custom name: %d %q", resp.StatusCode, body)
	}
	// Plain HTTP for a distribution with a certificate is redirected, to the TLS port.
	_, port, _ := net.SplitHostPort(e.EdgeTLSAddr)
	noFollow := sailtest.EdgeClient()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	for _, h := range []string{"shop.example.com", host} {
		r, err := noFollow.Do(e.EdgeRequest("GET", h, "/p.txt?q=1", ""))
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if want := "https://" + h + ":" + port + "/p.txt?q=1"; r.StatusCode != http.StatusMovedPermanently || r.Header.Get("Location") != want {
			t.Errorf("plain GET %s: %d %q, want 301 %s", h, r.StatusCode, r.Header.Get("Location"), want)
		}
	}
	r, err := noFollow.Do(e.EdgeRequest("POST", "shop.example.com", "/form", "a=1"))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusPermanentRedirect {
		t.Errorf("plain POST: %d, want 308", r.StatusCode)
	}

	// Renewal (two thirds of 90 days later) swaps the served certificate within a second of issuance.
	e.Clock.Set(e.Clock.Now().Add(61 * 24 * time.Hour))
	wait.Until(t, 10*time.Second, "renewed certificate served", func() bool {
		st, err := handshake(e, e.TLSConfig("shop.example.com"))
		return err == nil && st.PeerCertificates[0].SerialNumber.Cmp(first.PeerCertificates[0].SerialNumber) != 0
	})

	if _, err := c.DetachCertificateFromDistribution(ctx, &ls.DetachCertificateFromDistributionInput{DistributionName: aws.String("site")}); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, 2*time.Second, "custom name no longer served", func() bool {
		_, err := handshake(e, e.TLSConfig("shop.example.com"))
		return err != nil && strings.Contains(err.Error(), "unrecognized name")
	})
	r, err = noFollow.Do(e.EdgeRequest("GET", host, "/p.txt", ""))
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != 200 {
		t.Errorf("plain HTTP after detach: %d, want 200", r.StatusCode)
	}
}

// A request whose Host names another distribution than the handshake's server name is answered 421
// Misdirected Request, on the fast path, on net/http and over HTTP/2: the security policy is chosen
// at the handshake, so otherwise a viewer could reach a TLSv1.2-only distribution over TLS 1.1 by
// shaking hands with one that allows it (and front one site behind another's name).
func TestHostOfAnotherDistributionThanTheServerNameIs421(t *testing.T) {
	ctx := context.Background()
	e, c, lax := httpsEnv(t) // "site": moved to TLSv1.1_2016 below
	out, err := c.CreateDistribution(ctx, &ls.CreateDistributionInput{
		DistributionName:     aws.String("strict"),
		BundleId:             aws.String("small_1_0"),
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
		Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1},
	})
	if err != nil {
		t.Fatal(err)
	}
	strict := aws.ToString(out.Distribution.DomainName)
	if _, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("site"),
		ViewerMinimumTlsProtocolVersion: types.ViewerMinimumTlsProtocolVersionEnumTLSv112016}); err != nil {
		t.Fatal(err)
	}
	tls11 := func(name string) *tls.Config {
		cfg := e.TLSConfig(name)
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS11, tls.VersionTLS11
		return cfg
	}
	wait.For(t, 10*time.Second, "TLS 1.1 on site, not on strict", func() error {
		if _, err := handshake(e, tls11(lax)); err != nil {
			return err
		}
		if _, err := handshake(e, tls11(strict)); err == nil {
			return errors.New("strict accepts TLS 1.1")
		}
		return nil
	})
	// strict's object is stored (a hit the fast path could serve), through strict's own name.
	for range 2 {
		if resp, body := get(t, e.TLSClient(e.TLSConfig(strict), false), "https://"+strict+"/x.css"); resp.StatusCode != 200 {
			t.Fatalf("strict through its own name: %d %q", resp.StatusCode, body)
		}
	}
	fastBefore := e.EdgeService.FastPathStats().Served
	for _, tc := range []struct {
		name string
		cfg  *tls.Config
		h2   bool
	}{
		{"HTTP/1.1 over TLS 1.1", tls11(lax), false},
		{"HTTP/1.1 over TLS 1.3", e.TLSConfig(lax), false},
		{"HTTP/2", e.TLSConfig(lax), true},
	} {
		req, _ := http.NewRequest(http.MethodGet, "https://"+lax+"/x.css", nil)
		req.Host = strict
		resp, err := e.TLSClient(tc.cfg, tc.h2).Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMisdirectedRequest || strings.Contains(string(body), "object") {
			t.Errorf("%s: Host %s through server name %s: %d %q, want 421", tc.name, strict, lax, resp.StatusCode, body)
		}
	}
	if n := e.EdgeService.FastPathStats().Served - fastBefore; n != 0 {
		t.Errorf("the fast path answered %d misdirected requests", n)
	}
	// HTTP/2 connection reuse between default domain names (one wildcard certificate) of one account
	// under one security policy is served: what a browser does; another account's is not.
	if _, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("site"),
		ViewerMinimumTlsProtocolVersion: types.ViewerMinimumTlsProtocolVersionEnumTLSv122021}); err != nil {
		t.Fatal(err)
	}
	out, err = e.Client(sailtest.Bob, "us-east-1").CreateDistribution(ctx, &ls.CreateDistributionInput{
		DistributionName:     aws.String("bobs"),
		BundleId:             aws.String("small_1_0"),
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
		Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1},
	})
	if err != nil {
		t.Fatal(err)
	}
	bobs := aws.ToString(out.Distribution.DomainName)
	through := func(host string) int {
		req, _ := http.NewRequest(http.MethodGet, "https://"+lax+"/z.css", nil)
		req.Host = host
		resp, err := e.TLSClient(e.TLSConfig(lax), true).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	wait.Until(t, 10*time.Second, "site back on TLSv1.2_2021 and bobs served", func() bool {
		_, err := handshake(e, tls11(lax))
		_, errBob := handshake(e, e.TLSConfig(bobs))
		return err != nil && errBob == nil
	})
	if got := through(strict); got != 200 {
		t.Errorf("same account, same policy, default names: %d, want 200", got)
	}
	if got := through(bobs); got != http.StatusMisdirectedRequest {
		t.Errorf("another account's default name: %d, want 421", got)
	}

	// The server name's own distribution, with or without a port in Host, is served as before.
	for _, h := range []string{lax, lax + ":443", strings.ToUpper(lax)} {
		req, _ := http.NewRequest(http.MethodGet, "https://"+lax+"/y.css", nil)
		req.Host = h
		resp, err := e.TLSClient(e.TLSConfig(lax), false).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("Host %s through its own server name: %d", h, resp.StatusCode)
		}
	}
}
