package sailtest

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"
)

// MetricQuery names one distribution metric over whole hours.
type MetricQuery struct {
	Distribution string
	Metric       types.DistributionMetricName
	Unit         types.MetricUnit // the metric's published unit: None for Requests, Bytes for the byte counts
	From, To     time.Time        // truncated to the hour
}

// MetricSum reads q through the real client, as a user would, and sums the hourly Sum datapoints.
func MetricSum(t testing.TB, c *lightsail.Client, q MetricQuery) float64 {
	t.Helper()
	out, err := c.GetDistributionMetricData(context.Background(), &lightsail.GetDistributionMetricDataInput{
		DistributionName: aws.String(q.Distribution), MetricName: q.Metric, Unit: q.Unit,
		StartTime: aws.Time(q.From.Truncate(time.Hour)), EndTime: aws.Time(q.To.Truncate(time.Hour)),
		Period: aws.Int32(3600), Statistics: []types.MetricStatistic{types.MetricStatisticSum},
	})
	if err != nil {
		t.Fatalf("GetDistributionMetricData %s %s: %v", q.Distribution, q.Metric, err)
	}
	sum := 0.0
	for _, dp := range out.MetricData {
		sum += aws.ToFloat64(dp.Sum)
	}
	return sum
}
