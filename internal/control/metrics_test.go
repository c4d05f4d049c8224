package control_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/store"
)

// TestGetDistributionMetricData checks the statistics over stored per-minute usage through the
// real SDK client, on every store backend.
func TestGetDistributionMetricData(t *testing.T) {
	for _, b := range sailtest.Backends() {
		t.Run(b.Name, func(t *testing.T) { testMetricStatistics(t, b) })
	}
}

// metricPoint is a datapoint with its statistics rendered for comparison ("-" when absent).
type metricPoint struct {
	at                              string // HH:MM
	sum, avg, min, max, count, unit string
}

func renderPoints(dps []types.MetricDatapoint) []metricPoint {
	f := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmt.Sprintf("%.4g", *p)
	}
	out := []metricPoint{}
	for _, dp := range dps {
		out = append(out, metricPoint{
			at: aws.ToTime(dp.Timestamp).UTC().Format("15:04"), sum: f(dp.Sum), avg: f(dp.Average),
			min: f(dp.Minimum), max: f(dp.Maximum), count: f(dp.SampleCount), unit: string(dp.Unit),
		})
	}
	return out
}

func testMetricStatistics(t *testing.T, b sailtest.Backend) {
	ctx := context.Background()
	e := sailtest.New(t, sailtest.WithBackend(b))
	e.AddOrigin("web-1", "http://127.0.0.1:9/", "Instance", "us-east-1")
	c := e.Client(sailtest.Alice, "us-east-1")
	if _, err := c.CreateDistribution(ctx, &ls.CreateDistributionInput{
		DistributionName:     aws.String("metered"),
		BundleId:             aws.String("small_1_0"),
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
		Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1},
	}); err != nil {
		t.Fatal(err)
	}
	d, err := e.Store.GetDistribution(ctx, sailtest.Alice.AccountID, "metered")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	minute := func(k int) int64 { return base.Add(time.Duration(k) * time.Minute).Unix() }
	err = e.Store.AddUsage(ctx, []store.UsageDelta{
		// BytesDownloaded and BytesUploaded are the metrics' parts of BytesToViewers and
		// BytesToOrigin (the rest went to other methods).
		{DistributionID: d.ID, Minute: minute(0), Requests: 10, BytesToViewers: 1100, BytesDownloaded: 1000, BytesToOrigin: 150, BytesUploaded: 100, Status4xx: 1},
		{DistributionID: d.ID, Minute: minute(1), Requests: 30, BytesToViewers: 3000, BytesDownloaded: 3000, BytesToOrigin: 300, BytesUploaded: 300, Status5xx: 3},
		{DistributionID: d.ID, Minute: minute(3), Requests: 20, BytesToViewers: 900, BytesDownloaded: 500, BytesToOrigin: 80, BytesUploaded: 50, Status4xx: 2, Status5xx: 2},
		// Bytes of a long download attributed in a minute in which no request ended.
		{DistributionID: d.ID, Minute: minute(5), BytesToViewers: 777, BytesDownloaded: 777},
		// Outside every query window below.
		{DistributionID: d.ID, Minute: minute(60 * 24), Requests: 99},
		// 20 and 70 days before the server clock: CloudWatch rounds such start times to 5 minutes
		// and to the hour.
		{DistributionID: d.ID, Minute: minute(-20*24*60 + 3), Requests: 3},
		{DistributionID: d.ID, Minute: minute(-20*24*60 + 7), Requests: 7},
		{DistributionID: d.ID, Minute: minute(-70*24*60 + 10), Requests: 10},
	})
	if err != nil {
		t.Fatal(err)
	}
	all := []types.MetricStatistic{types.MetricStatisticSum, types.MetricStatisticAverage, types.MetricStatisticMinimum, types.MetricStatisticMaximum, types.MetricStatisticSampleCount}
	cases := []struct {
		name       string
		metric     types.DistributionMetricName
		unit       types.MetricUnit
		period     int32
		start, end time.Time
		stats      []types.MetricStatistic
		want       []metricPoint
	}{
		{
			name: "requests per minute", metric: types.DistributionMetricNameRequests, unit: types.MetricUnitNone, period: 60,
			start: base, end: base.Add(6 * time.Minute), stats: []types.MetricStatistic{types.MetricStatisticSum, types.MetricStatisticSampleCount},
			want: []metricPoint{
				{"12:00", "10", "-", "-", "-", "1", "None"},
				{"12:01", "30", "-", "-", "-", "1", "None"},
				{"12:03", "20", "-", "-", "-", "1", "None"},
				{"12:05", "0", "-", "-", "-", "1", "None"},
			},
		},
		{
			name: "five-minute periods, every statistic", metric: types.DistributionMetricNameRequests, unit: types.MetricUnitNone, period: 300,
			start: base, end: base.Add(time.Hour), stats: all,
			want: []metricPoint{
				{"12:00", "60", "20", "10", "30", "3", "None"},
				{"12:05", "0", "0", "0", "0", "1", "None"},
			},
		},
		{
			name: "bytes downloaded, hourly", metric: types.DistributionMetricNameBytesDownloaded, unit: types.MetricUnitNone, period: 3600,
			start: base, end: base.Add(time.Hour), stats: []types.MetricStatistic{types.MetricStatisticSum},
			want: []metricPoint{{"12:00", "5277", "-", "-", "-", "-", "None"}},
		},
		{
			name: "bytes uploaded, periods aligned to a start rounded down to its minute", metric: types.DistributionMetricNameBytesUploaded, unit: types.MetricUnitNone, period: 600,
			start: base.Add(90 * time.Second), end: base.Add(4 * time.Minute), stats: []types.MetricStatistic{types.MetricStatisticSum, types.MetricStatisticMaximum},
			want: []metricPoint{{"12:01", "350", "-", "-", "300", "-", "None"}},
		},
		{
			name: "two-minute periods from an odd minute", metric: types.DistributionMetricNameRequests, unit: types.MetricUnitNone, period: 120,
			start: base.Add(time.Minute), end: base.Add(6 * time.Minute), stats: []types.MetricStatistic{types.MetricStatisticSum},
			want: []metricPoint{{"12:01", "30", "-", "-", "-", "-", "None"}, {"12:03", "20", "-", "-", "-", "-", "None"}, {"12:05", "0", "-", "-", "-", "-", "None"}},
		},
		{
			name: "a start 20 days ago is rounded down to 5 minutes", metric: types.DistributionMetricNameRequests, unit: types.MetricUnitNone, period: 300,
			start: base.Add(-20*24*time.Hour + 4*time.Minute), end: base.Add(-20*24*time.Hour + 10*time.Minute), stats: []types.MetricStatistic{types.MetricStatisticSum},
			want: []metricPoint{{"12:00", "3", "-", "-", "-", "-", "None"}, {"12:05", "7", "-", "-", "-", "-", "None"}},
		},
		{
			name: "a start 20 days ago with a period not a multiple of 5 minutes has no data", metric: types.DistributionMetricNameRequests, unit: types.MetricUnitNone, period: 60,
			start: base.Add(-20 * 24 * time.Hour), end: base.Add(-20*24*time.Hour + 10*time.Minute), stats: all, want: []metricPoint{},
		},
		{
			name: "a start 70 days ago is rounded down to the hour", metric: types.DistributionMetricNameRequests, unit: types.MetricUnitNone, period: 3600,
			start: base.Add(-70*24*time.Hour + 30*time.Minute), end: base.Add(-70*24*time.Hour + 2*time.Hour), stats: []types.MetricStatistic{types.MetricStatisticSum},
			want: []metricPoint{{"12:00", "10", "-", "-", "-", "-", "None"}},
		},
		{
			name: "a start 70 days ago with a period not a multiple of an hour has no data", metric: types.DistributionMetricNameRequests, unit: types.MetricUnitNone, period: 300,
			start: base.Add(-70 * 24 * time.Hour), end: base.Add(-70*24*time.Hour + 2*time.Hour), stats: all, want: []metricPoint{},
		},
		{
			name: "5xx rate: mean of per-minute rates, minutes without requests skipped", metric: types.DistributionMetricNameHttp5xxErrorRate, unit: types.MetricUnitPercent, period: 600,
			start: base, end: base.Add(10 * time.Minute), stats: all,
			want: []metricPoint{{"12:00", "20", "6.667", "0", "10", "3", "Percent"}},
		},
		{
			name: "total error rate per minute", metric: types.DistributionMetricNameTotalErrorRate, unit: types.MetricUnitPercent, period: 60,
			start: base, end: base.Add(10 * time.Minute), stats: []types.MetricStatistic{types.MetricStatisticAverage},
			want: []metricPoint{
				{"12:00", "-", "10", "-", "-", "-", "Percent"},
				{"12:01", "-", "10", "-", "-", "-", "Percent"},
				{"12:03", "-", "20", "-", "-", "-", "Percent"},
			},
		},
		{
			name: "4xx rate", metric: types.DistributionMetricNameHttp4xxErrorRate, unit: types.MetricUnitPercent, period: 120,
			start: base, end: base.Add(10 * time.Minute), stats: []types.MetricStatistic{types.MetricStatisticMaximum},
			want: []metricPoint{{"12:00", "-", "-", "-", "10", "-", "Percent"}, {"12:02", "-", "-", "-", "10", "-", "Percent"}},
		},
		{
			name: "a unit the metric is not published in has no data", metric: types.DistributionMetricNameRequests, unit: types.MetricUnitPercent, period: 60,
			start: base, end: base.Add(time.Hour), stats: all, want: []metricPoint{},
		},
		{
			name: "Count is not Requests' published unit", metric: types.DistributionMetricNameRequests, unit: types.MetricUnitCount, period: 60,
			start: base, end: base.Add(time.Hour), stats: all, want: []metricPoint{},
		},
		{
			name: "Bytes is not BytesDownloaded's published unit", metric: types.DistributionMetricNameBytesDownloaded, unit: types.MetricUnitBytes, period: 3600,
			start: base, end: base.Add(time.Hour), stats: all, want: []metricPoint{},
		},
		{
			name: "WAF metrics have no data", metric: types.DistributionMetricNameWafBlockedRequests, unit: types.MetricUnitNone, period: 60,
			start: base, end: base.Add(time.Hour), stats: all, want: []metricPoint{},
		},
		{
			name: "an empty window", metric: types.DistributionMetricNameRequests, unit: types.MetricUnitNone, period: 60,
			start: base.Add(-time.Hour), end: base, stats: all, want: []metricPoint{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := c.GetDistributionMetricData(ctx, &ls.GetDistributionMetricDataInput{
				DistributionName: aws.String("metered"), MetricName: tc.metric, Unit: tc.unit, Period: aws.Int32(tc.period),
				StartTime: aws.Time(tc.start), EndTime: aws.Time(tc.end), Statistics: tc.stats,
			})
			if err != nil {
				t.Fatal(err)
			}
			if out.MetricName != tc.metric {
				t.Errorf("metricName %q", out.MetricName)
			}
			got := renderPoints(out.MetricData)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("datapoints\n got %v\nwant %v", got, tc.want)
			}
		})
	}

	errorCases := []struct {
		name    string
		mod     func(in *ls.GetDistributionMetricDataInput)
		invalid bool // InvalidInputException; otherwise NotFoundException
	}{
		{"end before start", func(in *ls.GetDistributionMetricDataInput) { in.EndTime = aws.Time(base.Add(-time.Minute)) }, true},
		{"end equals start", func(in *ls.GetDistributionMetricDataInput) { in.EndTime = aws.Time(base) }, true},
		{"period not a multiple of 60", func(in *ls.GetDistributionMetricDataInput) { in.Period = aws.Int32(90) }, true},
		{"too many datapoints", func(in *ls.GetDistributionMetricDataInput) { in.EndTime = aws.Time(base.Add(48 * time.Hour)) }, true},
		{"no statistics", func(in *ls.GetDistributionMetricDataInput) { in.Statistics = []types.MetricStatistic{} }, true},
		{"unknown distribution", func(in *ls.GetDistributionMetricDataInput) { in.DistributionName = aws.String("nope") }, false},
	}
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			in := &ls.GetDistributionMetricDataInput{
				DistributionName: aws.String("metered"), MetricName: types.DistributionMetricNameRequests, Unit: types.MetricUnitNone,
				Period: aws.Int32(60), StartTime: aws.Time(base), EndTime: aws.Time(base.Add(time.Hour)), Statistics: all,
			}
			tc.mod(in)
			_, err := c.GetDistributionMetricData(ctx, in)
			var ie *types.InvalidInputException
			var nf *types.NotFoundException
			if tc.invalid && !errors.As(err, &ie) || !tc.invalid && !errors.As(err, &nf) {
				t.Fatalf("got %v (%T)", err, err)
			}
		})
	}
}
