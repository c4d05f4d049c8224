package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/edge"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/store"
)

func TestUsageCommandPrintsServerFigures(t *testing.T) {
	e := sailtest.New(t)
	e.AddOrigin("web-1", "http://127.0.0.1:9/", "Instance", "us-east-1")
	c := e.Client(sailtest.Alice, "us-east-1")
	ctx := context.Background()
	if _, err := c.CreateDistribution(ctx, &ls.CreateDistributionInput{DistributionName: aws.String("site"), BundleId: aws.String("small_1_0"),
		Origin: &types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1}, DefaultCacheBehavior: &types.CacheBehavior{Behavior: "cache"}}); err != nil {
		t.Fatal(err)
	}
	d, err := e.Store.GetDistribution(ctx, sailtest.Alice.AccountID, "site")
	if err != nil {
		t.Fatal(err)
	}
	minute := time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC).Unix()
	if err := e.Store.AddUsage(ctx, []store.UsageDelta{{DistributionID: d.ID, Minute: minute, Requests: 3,
		BytesToViewers: 40_000_000_000, BytesDownloaded: 40_000_000_000, BytesToOrigin: 500_000_000}}); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(time.Date(2026, 4, 12, 0, 0, 0, 0, time.UTC))
	var out bytes.Buffer
	addr := strings.TrimPrefix(e.API.URL, "http://")
	if err := usageCmd([]string{"--api-addr", addr}, &out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"111111111111", "site", "2026-04", "small_1_0", "40.500 GB", "50.000 GB", "81.00%", "0.000 GB"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	if err := usageCmd([]string{"--api-addr", addr, "--account", "222222222222"}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "site") {
		t.Errorf("account filter ignored:\n%s", out.String())
	}
}

func TestServeRefusesUnsafeStarts(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"dev on a public address", []string{"--dev", "--api-addr", "0.0.0.0:4580"}, "loopback"},
		{"no credentials", []string{"--api-addr", "127.0.0.1:0"}, "no credentials"},
		{"bad origin", []string{"--dev", "--origin", "nourl"}, "NAME=URL"},
		{"shared database without a key-encryption key", []string{"--credentials", "testdata/credentials", "--database-url", "postgres://127.0.0.1:1/x"}, "--key-encryption-key"},
		{"unknown validation", []string{"--dev", "--cert-validation", "email"}, "--cert-validation"},
		{"unknown issuer", []string{"--dev", "--cert-issuer", "self"}, "--cert-issuer"},
		{"acme without a directory", []string{"--dev", "--api-addr", "127.0.0.1:0", "--edge-addr", "127.0.0.1:0", "--edge-tls-addr", "127.0.0.1:0", "--cert-issuer", "acme"}, "--acme-directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := serve(append(tc.args, "--data", t.TempDir()))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("serve(%v) = %v, want an error mentioning %q", tc.args, err, tc.want)
			}
		})
	}
}

func TestEnvironmentSetsFlags(t *testing.T) {
	t.Setenv("SAILCDN_PAGE_SIZE", "7")
	t.Setenv("SAILCDN_DEV", "true")
	c, _, err := parseServe([]string{"--page-size", "9"})
	if err != nil {
		t.Fatal(err)
	}
	if !c.Dev || c.Control.PageSize != 9 {
		t.Fatalf("dev %v pageSize %d: env must apply and flags must win", c.Dev, c.Control.PageSize)
	}
	t.Setenv("SAILCDN_MAX_DISTRIBUTIONS", "many")
	if _, _, err := parseServe(nil); err == nil || !strings.Contains(err.Error(), "SAILCDN_MAX_DISTRIBUTIONS") {
		t.Fatalf("bad env value: %v", err)
	}
}

// The viewer bounds reach the edge's configuration; unset, they are the edge's defaults.
func TestViewerLimitFlags(t *testing.T) {
	c, _, err := parseServe([]string{"--viewer-write-timeout", "5s", "--viewer-max-conns-per-client", "10", "--cache-in-flight", "8MiB"})
	if err != nil {
		t.Fatal(err)
	}
	want := edge.DefaultViewerLimits
	want.WriteTimeout, want.MaxConnsPerClient, want.MaxConns = 5*time.Second, 10, 0
	if c.Edge.Viewers != want || c.Edge.CacheInFlight != 8<<20 {
		t.Fatalf("viewers %+v, in flight %d; want %+v, 8 MiB", c.Edge.Viewers, c.Edge.CacheInFlight, want)
	}
}
