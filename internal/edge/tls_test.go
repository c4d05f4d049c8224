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
	var up, down int64
	for _, p := range []string{"/m.txt", "/m.txt", "/n.txt"} { // a miss, a (fast-path) hit, a miss
		status, w, r := tlsGet(t, e, host, p)
		if status != 200 {
			t.Fatalf("GET %s: %d", p, status)
		}
		up, down = up+w, down+r
	}
	sum := func(metric types.DistributionMetricName) int64 {
		now := e.Clock.Now()
		out, err := c.GetDistributionMetricData(context.Background(), &ls.GetDistributionMetricDataInput{
			DistributionName: aws.String("site"), MetricName: metric, Unit: types.MetricUnitNone, Period: aws.Int32(3600),
			StartTime: aws.Time(now.Add(-time.Hour)), EndTime: aws.Time(now.Add(time.Hour)),
			Statistics: []types.MetricStatistic{types.MetricStatisticSum},
		})
		if err != nil {
			t.Fatal(err)
		}
		total := 0.0
		for _, dp := range out.MetricData {
			total += aws.ToFloat64(dp.Sum)
		}
		return int64(total)
	}
	wait.Until(t, 6*time.Second, "TLS traffic metered as HTTP bytes", func() bool {
		return sum(types.DistributionMetricNameRequests) >= 3 &&
			sum(types.DistributionMetricNameBytesDownloaded) >= down && sum(types.DistributionMetricNameBytesUploaded) >= up
	})
	// httpsEnv's own readiness handshakes carried no request; the three requests are all there is.
	if r, d, u := sum(types.DistributionMetricNameRequests), sum(types.DistributionMetricNameBytesDownloaded), sum(types.DistributionMetricNameBytesUploaded); r != 3 || d != down || u != up {
		t.Fatalf("metered %d requests, %d bytes down, %d up; the viewer's HTTP bytes were 3, %d, %d", r, d, u, down, up)
	}
}
