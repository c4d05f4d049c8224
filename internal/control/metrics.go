package control

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
)

// GetDistributionMetricData answers from the per-minute usage the edge's meter writes
// (usage_minutes), which the meter flushes at least every 5 seconds. The rules, where the
// reference (§5.10) leaves them open:
//
//   - Samples: each minute with stored traffic is one sample; a minute without traffic has no
//     sample (as CloudWatch has no datapoint where nothing was published). For the byte and
//     request metrics a sample's value is the minute's count; for the error rates it is
//     100 × errors / requests of that minute, and minutes without requests have no rate sample.
//   - Periods: datapoints cover [T, T+period) with T a multiple of period since the Unix epoch;
//     a period with no sample has no datapoint. Minutes from startTime (rounded down to its
//     minute) up to but excluding endTime count. period must be a multiple of 60 (the samples are
//     minutes), like CloudWatch's for standard-resolution data; at most 1,440 datapoints may be
//     asked for, CloudWatch's limit for one GetMetricStatistics call.
//   - Statistics are over a period's samples: Sum, Minimum, Maximum, SampleCount, and Average =
//     Sum / SampleCount — for the error rates that is the mean of the per-minute rates, as
//     CloudWatch averages published samples; query with period 60 for exact per-minute rates.
//     Only the requested statistics are set; every datapoint has timestamp and unit.
//   - Units: the published unit (None for Requests and the byte metrics, Percent for the rates)
//     is answered; Count for Requests and Bytes for the byte metrics are accepted as the same
//     data. Any other unit gets no datapoints, as CloudWatch answers a unit the metric was not
//     published with.
//   - WafAllowedRequests and WafBlockedRequests: sailcdn stores WAF settings but filters nothing,
//     so they have no datapoints.
func (s *Service) GetDistributionMetricData(ctx context.Context, in *lightsail.GetDistributionMetricDataRequest) (*lightsail.GetDistributionMetricDataResult, error) {
	c, name, err := distributionTarget(ctx, in.DistributionName)
	if err != nil {
		return nil, err
	}
	q, err := parseMetricQuery(in)
	if err != nil {
		return nil, err
	}
	d, err := s.db.GetDistribution(ctx, c.AccountID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFoundDistribution(name)
	}
	if err != nil {
		return nil, err
	}
	out := &lightsail.GetDistributionMetricDataResult{MetricName: ptr(q.metric), MetricData: []lightsail.MetricDatapoint{}}
	if q.sample == nil || !q.unitOK {
		return out, nil
	}
	rows, err := s.db.QueryUsage(ctx, d.ID, q.from, q.to)
	if err != nil {
		return nil, err
	}
	out.MetricData = aggregateMetric(rows, q)
	return out, nil
}

// metricQuery is a validated GetDistributionMetricData request.
type metricQuery struct {
	metric     string
	from, to   int64 // unix seconds: minutes m with from <= m < to
	period     int64
	statistics []string
	unit       string
	unitOK     bool                                      // the unit is one the metric is answered in
	sample     func(u *store.UsageDelta) (float64, bool) // nil: a metric without data (WAF)
}

// maxDatapoints is CloudWatch's limit on datapoints per GetMetricStatistics call.
const maxDatapoints = 1440

// metricDefs maps each metric to its sample and the units it is answered in (the published unit
// first).
var metricDefs = map[string]struct {
	units  []string
	sample func(u *store.UsageDelta) (float64, bool)
}{
	"Requests":           {[]string{"None", "Count"}, func(u *store.UsageDelta) (float64, bool) { return float64(u.Requests), true }},
	"BytesDownloaded":    {[]string{"None", "Bytes"}, func(u *store.UsageDelta) (float64, bool) { return float64(u.BytesDownloaded), true }},
	"BytesUploaded":      {[]string{"None", "Bytes"}, func(u *store.UsageDelta) (float64, bool) { return float64(u.BytesUploaded), true }},
	"TotalErrorRate":     {[]string{"Percent"}, rate(func(u *store.UsageDelta) int64 { return u.Status4xx + u.Status5xx })},
	"Http4xxErrorRate":   {[]string{"Percent"}, rate(func(u *store.UsageDelta) int64 { return u.Status4xx })},
	"Http5xxErrorRate":   {[]string{"Percent"}, rate(func(u *store.UsageDelta) int64 { return u.Status5xx })},
	"WafAllowedRequests": {[]string{"None", "Count"}, nil},
	"WafBlockedRequests": {[]string{"None", "Count"}, nil},
}

func rate(errs func(u *store.UsageDelta) int64) func(u *store.UsageDelta) (float64, bool) {
	return func(u *store.UsageDelta) (float64, bool) {
		if u.Requests == 0 {
			return 0, false
		}
		return 100 * float64(errs(u)) / float64(u.Requests), true
	}
}

func parseMetricQuery(in *lightsail.GetDistributionMetricDataRequest) (*metricQuery, error) {
	metric := deref(in.MetricName)
	def, ok := metricDefs[metric]
	if !ok {
		return nil, invalid("InvalidMetricName", "metricName %q is not a distribution metric. Valid values: Requests, BytesDownloaded, BytesUploaded, TotalErrorRate, Http4xxErrorRate, Http5xxErrorRate, WafAllowedRequests, WafBlockedRequests.", metric)
	}
	if in.StartTime == nil || in.EndTime == nil {
		return nil, invalid("MissingParameter", "startTime and endTime are required.")
	}
	start, end := in.StartTime.Time, in.EndTime.Time
	if !end.After(start) {
		return nil, invalid("InvalidTimeRange", "endTime (%s) must be later than startTime (%s).",
			end.UTC().Format("2006-01-02T15:04:05Z"), start.UTC().Format("2006-01-02T15:04:05Z"))
	}
	period := deref(in.Period)
	if period < 60 || period > 86400 || period%60 != 0 {
		return nil, invalid("InvalidPeriod", "period %d is not valid: it must be a multiple of 60 between 60 and 86400 seconds.", period)
	}
	if len(in.Statistics) == 0 {
		return nil, invalid("MissingParameter", "statistics must name at least one of Minimum, Maximum, Sum, Average, SampleCount.")
	}
	for _, st := range in.Statistics {
		if !slices.Contains(lightsail.MetricStatisticValues, st) {
			return nil, invalid("InvalidStatistic", "statistic %q is not valid. Valid values: Minimum, Maximum, Sum, Average, SampleCount.", st)
		}
	}
	unit := deref(in.Unit)
	if unit == "" {
		return nil, invalid("MissingParameter", "unit is required (%s for %s).", def.units[0], metric)
	}
	q := &metricQuery{
		metric: metric, period: period, statistics: in.Statistics, unit: unit,
		unitOK: slices.Contains(def.units, unit), sample: def.sample,
		from: floorTo(start.Unix(), 60), to: end.Unix(),
	}
	if end.Nanosecond() > 0 {
		q.to++ // a minute starting before a fractional end second still starts before endTime
	}
	if n := (floorTo(q.to-1, period) - floorTo(q.from, period)) / period; n+1 > maxDatapoints {
		return nil, invalid("TooManyDatapoints", "The request asks for up to %d datapoints, more than the limit of %d. Use a longer period or a shorter time range.", n+1, maxDatapoints)
	}
	return q, nil
}

// floorTo rounds t down to a multiple of step (also for negative t).
func floorTo(t, step int64) int64 {
	r := t % step
	if r < 0 {
		r += step
	}
	return t - r
}

// aggregateMetric groups the minutes (ordered by minute) into epoch-aligned periods and computes
// the requested statistics per period.
func aggregateMetric(rows []store.UsageDelta, q *metricQuery) []lightsail.MetricDatapoint {
	out := []lightsail.MetricDatapoint{}
	type acc struct {
		sum, min, max float64
		n             int
	}
	var (
		cur    acc
		bucket int64
		open   bool
	)
	emit := func() {
		if !open || cur.n == 0 {
			return
		}
		dp := lightsail.MetricDatapoint{Timestamp: lightsail.NewTimestamp(time.Unix(bucket, 0)), Unit: ptr(q.unit)}
		for _, st := range q.statistics {
			switch st {
			case "Sum":
				dp.Sum = lightsail.NewDouble(cur.sum)
			case "Average":
				dp.Average = lightsail.NewDouble(cur.sum / float64(cur.n))
			case "Minimum":
				dp.Minimum = lightsail.NewDouble(cur.min)
			case "Maximum":
				dp.Maximum = lightsail.NewDouble(cur.max)
			case "SampleCount":
				dp.SampleCount = lightsail.NewDouble(float64(cur.n))
			}
		}
		out = append(out, dp)
	}
	for i := range rows {
		v, ok := q.sample(&rows[i])
		if !ok {
			continue
		}
		b := floorTo(rows[i].Minute, q.period)
		if !open || b != bucket {
			emit()
			cur, bucket, open = acc{min: math.Inf(1), max: math.Inf(-1)}, b, true
		}
		cur.sum += v
		cur.min = math.Min(cur.min, v)
		cur.max = math.Max(cur.max, v)
		cur.n++
	}
	emit()
	return out
}
