package control_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// countingConn counts the bytes a viewer reads from and writes to its socket.
type countingConn struct {
	net.Conn
	read, written *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

func (c countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// TestCostEstimateReconcilesWithEdgeTraffic drives real viewer traffic through the edge and checks
// that what the meter stored, what GetDistributionMetricData reports and what GetCostEstimate charges
// are exactly the bytes the viewer's socket received. The bundle has a zero quota, so every byte out
// is overage and the charge is floor(bytes × $0.09 / 10⁹) to the micro-dollar.
func TestCostEstimateReconcilesWithEdgeTraffic(t *testing.T) {
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		size := 1000 + 137*len(r.URL.Path)
		w.Header().Set("Cache-Control", "max-age=600")
		_, _ = io.WriteString(w, strings.Repeat("x", size))
	}))
	defer origin.Close()
	e := sailtest.New(t, func(c *sailtest.Config) {
		c.Control.Catalog = billing.Catalog{OveragePerGB: 90_000, Bundles: []billing.Bundle{
			{ID: "zero_1_0", Name: "Zero", Price: 1_000_000, TransferPerMonthGB: 0, IsActive: true},
		}}
	})
	e.AddOrigin("web", origin.URL, "Instance", "us-east-1")
	c := e.Client(sailtest.Alice, "us-east-1")
	out, err := c.CreateDistribution(ctx, &ls.CreateDistributionInput{DistributionName: aws.String("metered"), BundleId: aws.String("zero_1_0"),
		Origin: &types.InputOrigin{Name: aws.String("web"), RegionName: types.RegionNameUsEast1}, DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting}})
	if err != nil {
		t.Fatal(err)
	}
	host := aws.ToString(out.Distribution.DomainName)
	ed := e.StartEdge()
	if err := ed.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}

	var read, written atomic.Int64
	viewer := &http.Client{Transport: &http.Transport{
		DisableCompression: true,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return countingConn{Conn: conn, read: &read, written: &written}, nil
		},
	}}
	const requests = 40
	for i := 0; i < requests; i++ {
		req := e.EdgeRequest(http.MethodGet, host, fmt.Sprintf("/object/%d", i%7), "")
		resp, err := viewer.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	viewer.CloseIdleConnections()
	bytesOut := read.Load()

	// The meter flushes at least every 2 s; wait until the API sees every byte.
	start, end := e.Clock.Now().Add(-time.Hour).Truncate(time.Hour), e.Clock.Now().Add(time.Hour).Truncate(time.Hour)
	wait.For(t, 10*time.Second, "every byte the viewer read in BytesDownloaded", func() error {
		m, err := c.GetDistributionMetricData(ctx, &ls.GetDistributionMetricDataInput{DistributionName: aws.String("metered"),
			MetricName: types.DistributionMetricNameBytesDownloaded, StartTime: aws.Time(start), EndTime: aws.Time(end),
			Period: aws.Int32(3600), Unit: types.MetricUnitNone, Statistics: []types.MetricStatistic{types.MetricStatisticSum}})
		if err != nil {
			t.Fatal(err)
		}
		var metered float64
		for _, dp := range m.MetricData {
			metered += aws.ToFloat64(dp.Sum)
		}
		if int64(metered) != bytesOut {
			return fmt.Errorf("BytesDownloaded %v, the viewer's socket read %d bytes", metered, bytesOut)
		}
		return nil
	})

	est, err := c.GetCostEstimate(ctx, &ls.GetCostEstimateInput{ResourceName: aws.String("metered"), StartTime: aws.Time(start), EndTime: aws.Time(end)})
	if err != nil {
		t.Fatal(err)
	}
	var overageGB, overageCost float64
	for _, ce := range est.ResourcesBudgetEstimate[0].CostEstimates {
		for _, r := range ce.ResultsByTime {
			if r.PricingUnit == types.PricingUnitGb {
				overageGB += aws.ToFloat64(r.Unit)
				overageCost += aws.ToFloat64(r.UsageCost)
			}
		}
	}
	if got := int64(math.Round(overageGB * 1e9)); got != bytesOut {
		t.Errorf("GetCostEstimate charges %d bytes of overage, the viewer received %d", got, bytesOut)
	}
	wantMicros := bytesOut * 90_000 / 1_000_000_000
	if got := int64(math.Round(overageCost * 1e6)); got != wantMicros {
		t.Errorf("overage cost %d micro-dollars, want floor(%d × 90000 / 1e9) = %d", got, bytesOut, wantMicros)
	}
	t.Logf("viewer read %d bytes (wrote %d); metered and charged exactly that: %d µ$", bytesOut, written.Load(), wantMicros)
}
