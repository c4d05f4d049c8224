package edge_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
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

	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// viewer sends raw HTTP/1.1 requests to the edge, one connection each, and counts the bytes it
// wrote and read: the oracle for the metered usage.
type viewer struct {
	t           *testing.T
	addr        string
	wrote, read int64
}

func (v *viewer) get(host, path string) (status int, xcache string, body string) {
	v.t.Helper()
	c, err := net.Dial("tcp", v.addr)
	if err != nil {
		v.t.Fatal(err)
	}
	defer c.Close()
	req := fmt.Sprintf("GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: e2e\r\n\r\n", path, host)
	n, err := io.WriteString(c, req)
	v.wrote += int64(n)
	if err != nil {
		v.t.Fatal(err)
	}
	var nread int64
	resp, err := http.ReadResponse(bufio.NewReader(countingReader{c, &nread}), &http.Request{Method: http.MethodGet})
	if err != nil {
		v.t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatal(err)
	}
	v.read += nread
	return resp.StatusCode, resp.Header.Get("X-Cache"), string(b)
}

type countingReader struct {
	r io.Reader
	n *int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}

// The whole path through the real aws-sdk-go-v2 client: create a distribution, serve it, reset its
// cache, read its metered traffic back with GetDistributionMetricData, disable and delete it.
func TestEndToEndThroughTheSDK(t *testing.T) {
	ctx := context.Background()
	var hits atomic.Int64
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Cache-Control", "max-age=600")
		fmt.Fprintf(w, "object %s", r.URL.Path)
	}))
	defer origin.Close()

	e := sailtest.New(t)
	e.AddOrigin("web-1", origin.URL, "Instance", "us-east-1")
	e.StartEdge()
	c := e.Client(sailtest.Alice, "us-east-1")
	created, err := c.CreateDistribution(ctx, &ls.CreateDistributionInput{
		DistributionName:     aws.String("e2e"),
		BundleId:             aws.String("small_1_0"),
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
		Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1},
		DefaultRootObject:    aws.String("index.html"),
	})
	if err != nil {
		t.Fatal(err)
	}
	host := aws.ToString(created.Distribution.DomainName)
	v := &viewer{t: t, addr: e.Edge.Addr}
	// metered accumulates the requests the distribution served and the bytes the viewer received
	// for them: the expected usage. (Requests answered "unknown host" before the edge loaded the
	// new distribution are nobody's traffic.)
	var metered struct{ requests, down int64 }
	get := func(path string) (int, string, string) {
		t.Helper()
		down := v.read
		status, x, body := v.get(host, path)
		if status != http.StatusNotFound {
			metered.requests++
			metered.down += v.read - down
		}
		return status, x, body
	}

	// The new distribution is served within a second.
	start := time.Now()
	wait.Until(t, time.Second, "new distribution served", func() bool {
		status, _, body := get("/")
		return status == http.StatusOK && body == "object /index.html"
	})
	t.Logf("served %s after creation", time.Since(start))

	want := func(path, wantX string) {
		t.Helper()
		status, x, body := get(path)
		if status != 200 || !strings.HasPrefix(x, wantX) || body != "object "+path {
			t.Fatalf("GET %s: %d %q %q, want 200 %s", path, status, x, body, wantX)
		}
	}
	want("/a.css", "Miss")
	want("/a.css", "Hit")
	want("/b.js", "Miss")
	if hits.Load() != 3 { // index.html, a.css, b.js
		t.Fatalf("origin hits %d, want 3", hits.Load())
	}

	// ResetDistributionCache empties the cache within a second.
	if _, err := c.ResetDistributionCache(ctx, &ls.ResetDistributionCacheInput{DistributionName: aws.String("e2e")}); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, time.Second, "cache reset applied", func() bool {
		_, x, _ := get("/b.js")
		return strings.HasPrefix(x, "Miss")
	})

	// Metered traffic is visible through the API within 5 s (the meter flushes every 2 s), byte
	// for byte what the viewer's sockets received for the GETs; nothing was uploaded (BytesUploaded
	// counts POST and PUT requests' bytes to the origin).
	sum := func(metric types.DistributionMetricName) int64 {
		now := e.Clock.Now()
		out, err := c.GetDistributionMetricData(ctx, &ls.GetDistributionMetricDataInput{
			DistributionName: aws.String("e2e"), MetricName: metric, Unit: types.MetricUnitNone, Period: aws.Int32(3600),
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
	start = time.Now()
	wait.Until(t, 5*time.Second, "usage visible through GetDistributionMetricData", func() bool {
		return sum(types.DistributionMetricNameRequests) == metered.requests &&
			sum(types.DistributionMetricNameBytesDownloaded) == metered.down &&
			sum(types.DistributionMetricNameBytesUploaded) == 0
	})
	t.Logf("usage of %d requests (%d bytes down) visible after %s", metered.requests, metered.down, time.Since(start))

	// Disabling and deleting take effect within a second.
	if _, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("e2e"), IsEnabled: aws.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, time.Second, "disable applied", func() bool {
		status, _, _ := get("/a.css")
		return status == http.StatusForbidden
	})
	if _, err := c.DeleteDistribution(ctx, &ls.DeleteDistributionInput{DistributionName: aws.String("e2e")}); err != nil {
		t.Fatal(err)
	}
	wait.Until(t, time.Second, "delete applied", func() bool {
		status, _, body := get("/a.css")
		return status == http.StatusNotFound && strings.Contains(body, "deleted")
	})
}
