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
	"github.com/sailcdn/sailcdn/internal/meter/metertest"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// countingListener counts the bytes its accepted connections read and write (an origin's socket).
type countingListener struct {
	net.Listener
	read, written *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return metertest.Counting(c, l.read, l.written), nil
}

// socketCounts is what the viewer's and the origin's sockets saw so far.
type socketCounts struct{ viewerRead, viewerWrote, originRead int64 }

func (a socketCounts) sub(b socketCounts) socketCounts {
	return socketCounts{a.viewerRead - b.viewerRead, a.viewerWrote - b.viewerWrote, a.originRead - b.originRead}
}

// TestCostEstimateReconcilesWithEdgeTraffic drives real viewer traffic through the edge — GET,
// HEAD and OPTIONS (downloads, with cache misses that fetch from the origin), POST and PUT with
// bodies (uploads), DELETE and PATCH (neither) — and checks, against what the viewer's socket and
// the origin's socket saw:
//
//   - BytesDownloaded = the bytes the viewer's socket read for the GET, HEAD and OPTIONS requests;
//   - BytesUploaded = the bytes the origin's socket read for the POST and PUT requests;
//   - GetCostEstimate's DataTransferOut (the quota's figure) and its overage = every byte the
//     viewer's socket read plus every byte the origin's socket read, and the charge
//     floor(bytes × $0.09 / 10⁹) to the micro-dollar (the bundle's quota is zero, so every byte out
//     is overage).
//
// The phases run one after another and every exchange is complete (the origin reads each body
// before it answers; the viewer reads each answer whole) before the next starts, so the socket
// counters' differences between phases are each phase's bytes, on connections kept alive across
// phases.
func TestCostEstimateReconcilesWithEdgeTraffic(t *testing.T) {
	var originRead, originWrote atomic.Int64
	origin := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			t.Errorf("origin: reading the %s body: %v", r.Method, err)
		}
		if r.Method == http.MethodOptions {
			w.Header().Set("Allow", "GET, HEAD, OPTIONS, PUT, PATCH, POST, DELETE")
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			w.Header().Set("Cache-Control", "max-age=600")
		}
		_, _ = io.WriteString(w, strings.Repeat("x", 1000+137*len(r.URL.Path)+int(got)%97))
	}))
	origin.Listener = countingListener{Listener: origin.Listener, read: &originRead, written: &originWrote}
	origin.Start()
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
			return metertest.Counting(conn, &read, &written), nil
		},
	}}
	counts := func() socketCounts { return socketCounts{read.Load(), written.Load(), originRead.Load()} }
	requests := 0
	do := func(method, path string, body string) {
		t.Helper()
		req := e.EdgeRequest(method, host, path, body)
		resp, err := viewer.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s %s: status %d", method, path, resp.StatusCode)
		}
		requests++
	}
	begin := counts()
	for i := 0; i < 40; i++ {
		do([]string{http.MethodGet, http.MethodGet, http.MethodHead, http.MethodOptions}[i%4], fmt.Sprintf("/object/%d", i%7), "")
	}
	afterDownloads := counts()
	for i := 0; i < 12; i++ {
		do([]string{http.MethodPost, http.MethodPut}[i%2], fmt.Sprintf("/upload/%d", i), strings.Repeat("u", 5000+731*i))
	}
	afterUploads := counts()
	for i := 0; i < 6; i++ {
		do([]string{http.MethodDelete, http.MethodPatch}[i%2], fmt.Sprintf("/other/%d", i), strings.Repeat("p", 300*i))
	}
	viewer.CloseIdleConnections()
	all := counts().sub(begin)
	downloads, uploads := afterDownloads.sub(begin), afterUploads.sub(afterDownloads)
	if downloads.originRead == 0 || uploads.originRead < 12*5000 || all.originRead == downloads.originRead+uploads.originRead {
		t.Fatalf("the phases did not reach the origin as planned: %+v %+v %+v", downloads, uploads, all)
	}
	transferOut := all.viewerRead + all.originRead

	// The meter flushes at least every 2 s; wait until the API sees every byte.
	start, end := e.Clock.Now().Add(-time.Hour).Truncate(time.Hour), e.Clock.Now().Add(time.Hour).Truncate(time.Hour)
	sum := func(metric types.DistributionMetricName) int64 {
		m, err := c.GetDistributionMetricData(ctx, &ls.GetDistributionMetricDataInput{DistributionName: aws.String("metered"),
			MetricName: metric, StartTime: aws.Time(start), EndTime: aws.Time(end),
			Period: aws.Int32(3600), Unit: types.MetricUnitNone, Statistics: []types.MetricStatistic{types.MetricStatisticSum}})
		if err != nil {
			t.Fatal(err)
		}
		var total float64
		for _, dp := range m.MetricData {
			total += aws.ToFloat64(dp.Sum)
		}
		return int64(total)
	}
	wait.For(t, 10*time.Second, "every exchange metered", func() error {
		if got := sum(types.DistributionMetricNameRequests); got != int64(requests) {
			return fmt.Errorf("Requests %d, the viewer sent %d", got, requests)
		}
		if got := sum(types.DistributionMetricNameBytesDownloaded); got != downloads.viewerRead {
			return fmt.Errorf("BytesDownloaded %d, the viewer's socket read %d bytes answering GET, HEAD and OPTIONS", got, downloads.viewerRead)
		}
		if got := sum(types.DistributionMetricNameBytesUploaded); got != uploads.originRead {
			return fmt.Errorf("BytesUploaded %d, the origin's socket read %d bytes for POST and PUT", got, uploads.originRead)
		}
		return nil
	})

	est, err := c.GetCostEstimate(ctx, &ls.GetCostEstimateInput{ResourceName: aws.String("metered"), StartTime: aws.Time(start), EndTime: aws.Time(end)})
	if err != nil {
		t.Fatal(err)
	}
	var transferGB, overageGB, overageCost float64
	for _, ce := range est.ResourcesBudgetEstimate[0].CostEstimates {
		for _, r := range ce.ResultsByTime {
			switch aws.ToString(ce.UsageType) {
			case "DataTransferOut":
				transferGB += aws.ToFloat64(r.Unit)
			case "DataTransferOutOverage":
				overageGB += aws.ToFloat64(r.Unit)
				overageCost += aws.ToFloat64(r.UsageCost)
			}
		}
	}
	if got := int64(math.Round(transferGB * 1e9)); got != transferOut {
		t.Errorf("GetCostEstimate counts %d bytes of transfer out, the sockets saw %d (viewer read %d + origin read %d)", got, transferOut, all.viewerRead, all.originRead)
	}
	if got := int64(math.Round(overageGB * 1e9)); got != transferOut {
		t.Errorf("GetCostEstimate charges %d bytes of overage, the sockets saw %d bytes out (viewer read %d + origin read %d)", got, transferOut, all.viewerRead, all.originRead)
	}
	wantMicros := transferOut * 90_000 / 1_000_000_000
	if got := int64(math.Round(overageCost * 1e6)); got != wantMicros {
		t.Errorf("overage cost %d micro-dollars, want floor(%d × 90000 / 1e9) = %d", got, transferOut, wantMicros)
	}
	t.Logf("viewer read %d bytes (wrote %d), origin read %d (BytesDownloaded %d, BytesUploaded %d); metered and charged exactly %d bytes: %d µ$",
		all.viewerRead, all.viewerWrote, all.originRead, downloads.viewerRead, uploads.originRead, transferOut, wantMicros)
}
