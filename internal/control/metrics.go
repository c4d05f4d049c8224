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
// (usage_minutes), which the meter flushes at least every 5 seconds.
//
// What each metric counts, beside the model's text (aws-sdk-go-v2 lightsail v1.71.1,
// GetDistributionMetricDataInput.MetricName):
//
//   - Requests — "The total number of viewer requests received by your Lightsail distribution,
//     for all HTTP methods, and for both HTTP and HTTPS requests": every viewer request the edge
//     answered, whatever its method or status.
//   - BytesDownloaded — "The number of bytes downloaded by viewers for GET, HEAD, and OPTIONS
//     requests": the bytes the edge wrote to viewers' sockets (status line, headers, body) in
//     answer to GET, HEAD and OPTIONS requests. Answers to other methods are data transfer out
//     too (they count toward the quota) but not in this metric.
//   - BytesUploaded — "The number of bytes uploaded to your origin by your Lightsail
//     distribution, using POST and PUT requests": the bytes the edge wrote to the origin's socket
//     (request line, headers, body; for an HTTPS origin the TLS records, handshake included) for
//     viewers' POST and PUT requests. Fetches for other methods (a cache miss's GET) are data
//     transfer out to the origin and count toward the quota, but not in this metric.
//   - TotalErrorRate, Http4xxErrorRate, Http5xxErrorRate — "The percentage of all viewer requests
//     for which the response's HTTP status code was 4xx or 5xx" (4xx, 5xx): 100 × such answers /
//     requests.
//   - WafAllowedRequests, WafBlockedRequests: sailcdn stores WAF settings but filters nothing, so
//     they have no datapoints.
//
// How they are aggregated (CloudWatch's GetMetricStatistics semantics, whose statistics and
// units the model reuses; reference §5.10 leaves the rest open):
//
//   - Samples: each minute with stored traffic is one sample; a minute without traffic has no
//     sample (as CloudWatch has no datapoint where nothing was published). For the byte and
//     request metrics a sample's value is the minute's count; for the error rates it is
//     100 × errors / requests of that minute, and minutes without requests have no rate sample.
//   - Periods are aligned to startTime, as CloudWatch aligns them: startTime is rounded down to
//     the minute when it is less than 15 days ago, to a 5-minute clock interval when 15 to 63 days
//     ago, to the hour when older (the server clock decides "ago"); datapoints then cover
//     [start + k·period, start + (k+1)·period), each timestamped with its start, and minutes
//     before endTime (exclusive) count. A period with no sample has no datapoint. period must be
//     a multiple of 60 (the samples are minutes), like CloudWatch's for standard-resolution data;
//     for a startTime more than 15 (63) days ago a period that is not a multiple of 300 (3600)
//     gets no datapoints, as CloudWatch answers. At most 1,440 datapoints may be asked for,
//     CloudWatch's limit for one GetMetricStatistics call.
//   - Statistics are over a period's samples: Sum, Minimum, Maximum, SampleCount, and Average =
//     Sum / SampleCount — for the error rates that is the mean of the per-minute rates, as
//     CloudWatch averages published samples; query with period 60 for exact per-minute rates.
//     Only the requested statistics are set; every datapoint has timestamp and unit.
//   - Units: only the published unit (None for Requests, the byte metrics and the WAF metrics,
//     Percent for the rates) has data; any other unit — Count or Bytes included — gets no
//     datapoints, as CloudWatch answers a unit the metric was not published with.
func (s *Service) GetDistributionMetricData(ctx context.Context, in *lightsail.GetDistributionMetricDataRequest) (*lightsail.GetDistributionMetricDataResult, error) {
	c, name, err := distributionTarget(ctx, in.DistributionName)
	if err != nil {
		return nil, err
	}
	q, err := parseMetricQuery(in, s.clock.Now())
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
	if q.sample == nil || !q.unitOK || !q.periodOK {
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
	unitOK     bool                                      // the unit is the metric's published one
	periodOK   bool                                      // period is one CloudWatch answers for a start this old
	sample     func(u *store.UsageDelta) (float64, bool) // nil: a metric without data (WAF)
}

// maxDatapoints is CloudWatch's limit on datapoints per GetMetricStatistics call.
const maxDatapoints = 1440

// metricDefs maps each metric to its sample and its published unit (the model's text).
var metricDefs = map[string]struct {
	unit   string
	sample func(u *store.UsageDelta) (float64, bool)
}{
	"Requests":           {"None", func(u *store.UsageDelta) (float64, bool) { return float64(u.Requests), true }},
	"BytesDownloaded":    {"None", func(u *store.UsageDelta) (float64, bool) { return float64(u.BytesDownloaded), true }},
	"BytesUploaded":      {"None", func(u *store.UsageDelta) (float64, bool) { return float64(u.BytesUploaded), true }},
	"TotalErrorRate":     {"Percent", rate(func(u *store.UsageDelta) int64 { return u.Status4xx + u.Status5xx })},
	"Http4xxErrorRate":   {"Percent", rate(func(u *store.UsageDelta) int64 { return u.Status4xx })},
	"Http5xxErrorRate":   {"Percent", rate(func(u *store.UsageDelta) int64 { return u.Status5xx })},
	"WafAllowedRequests": {"None", nil},
	"WafBlockedRequests": {"None", nil},
}

func rate(errs func(u *store.UsageDelta) int64) func(u *store.UsageDelta) (float64, bool) {
	return func(u *store.UsageDelta) (float64, bool) {
		if u.Requests == 0 {
			return 0, false
		}
		return 100 * float64(errs(u)) / float64(u.Requests), true
	}
}

// startRounding is CloudWatch's rounding of a GetMetricStatistics startTime by its age (API
// reference, GetMetricStatistics, StartTime): to the minute under 15 days, to 5 minutes under 63
// days, to the hour beyond. A period for such a start must be a multiple of the same step or
// CloudWatch returns no datapoints (same page, Period).
func startRounding(start, now time.Time) int64 {
	switch age := now.Sub(start); {
	case age > 63*24*time.Hour:
		return 3600
	case age > 15*24*time.Hour:
		return 300
	default:
		return 60
	}
}

func parseMetricQuery(in *lightsail.GetDistributionMetricDataRequest, now time.Time) (*metricQuery, error) {
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
		return nil, invalid("MissingParameter", "unit is required (%s for %s).", def.unit, metric)
	}
	step := startRounding(start, now)
	q := &metricQuery{
		metric: metric, period: period, statistics: in.Statistics, unit: unit,
		unitOK: unit == def.unit, periodOK: period%step == 0, sample: def.sample,
		from: floorTo(start.Unix(), step), to: end.Unix(),
	}
	if end.Nanosecond() > 0 {
		q.to++ // a minute starting before a fractional end second still starts before endTime
	}
	if n := (q.to - q.from + period - 1) / period; n > maxDatapoints {
		return nil, invalid("TooManyDatapoints", "The request asks for up to %d datapoints, more than the limit of %d. Use a longer period or a shorter time range.", n, maxDatapoints)
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

// aggregateMetric groups the minutes (ordered by minute) into periods aligned to the query's
// (rounded) start and computes the requested statistics per period.
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
		b := q.from + floorTo(rows[i].Minute-q.from, q.period)
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
