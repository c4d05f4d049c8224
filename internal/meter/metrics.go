package meter

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// promMetrics are the Prometheus views of the counters. They count as traffic happens, not when
// it is flushed, so they may run up to one flush interval ahead of the stored usage.
type promMetrics struct {
	requests, down, up, toOrigin, errors       *prometheus.CounterVec
	unattribDown, unattribUp, unattribToOrigin prometheus.Counter
	flushes, flushFailures                     prometheus.Counter
	carried                                    prometheus.Gauge

	perDist sync.Map // distribution id → *distCounters: saves the label lookup per increment
}

type distCounters struct {
	requests, down, up, toOrigin, e4xx, e5xx prometheus.Counter
}

func newPromMetrics(reg prometheus.Registerer) (*promMetrics, error) {
	label := []string{"distribution_id"}
	p := &promMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sailcdn_edge_requests_total", Help: "Viewer requests served, per distribution.",
		}, label),
		down: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sailcdn_edge_bytes_downloaded_total", Help: "Bytes sent to viewers (status line, headers, body), per distribution.",
		}, label),
		up: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sailcdn_edge_bytes_uploaded_total", Help: "Bytes received from viewers (request line, headers, body), per distribution.",
		}, label),
		toOrigin: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sailcdn_edge_bytes_to_origin_total", Help: "Bytes sent to origins (request line, headers, body; TLS handshakes), per distribution.",
		}, label),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sailcdn_edge_error_responses_total", Help: "Responses with a 4xx or 5xx status, per distribution and class.",
		}, []string{"distribution_id", "class"}),
		unattribDown: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sailcdn_edge_unattributed_bytes_downloaded_total", Help: "Bytes sent on connections but to no distribution (unknown hosts, malformed requests, HTTP/2 framing).",
		}),
		unattribUp: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sailcdn_edge_unattributed_bytes_uploaded_total", Help: "Bytes received on connections but for no distribution (unknown hosts, malformed requests, HTTP/2 framing).",
		}),
		unattribToOrigin: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sailcdn_edge_unattributed_bytes_to_origin_total", Help: "Bytes sent on origin connections no exchange held, counted when they close: a handshake of a connection closed unused, connections to a parent edge.",
		}),
		flushes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sailcdn_meter_flushes_total", Help: "Successful usage flushes to the store.",
		}),
		flushFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sailcdn_meter_flush_failures_total", Help: "Usage flushes that failed; their usage is retried.",
		}),
		carried: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sailcdn_meter_carried_rows", Help: "Usage rows kept in memory after a failed flush.",
		}),
	}
	for _, c := range []prometheus.Collector{p.requests, p.down, p.up, p.toOrigin, p.errors, p.unattribDown, p.unattribUp, p.unattribToOrigin, p.flushes, p.flushFailures, p.carried} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (p *promMetrics) dist(id string) *distCounters {
	if v, ok := p.perDist.Load(id); ok {
		return v.(*distCounters)
	}
	d := &distCounters{
		requests: p.requests.WithLabelValues(id),
		down:     p.down.WithLabelValues(id),
		up:       p.up.WithLabelValues(id),
		toOrigin: p.toOrigin.WithLabelValues(id),
		e4xx:     p.errors.WithLabelValues(id, "4xx"),
		e5xx:     p.errors.WithLabelValues(id, "5xx"),
	}
	v, _ := p.perDist.LoadOrStore(id, d)
	return v.(*distCounters)
}

func (p *promMetrics) add(id string, d delta) {
	if p == nil {
		return
	}
	c := p.dist(id)
	if d.requests != 0 {
		c.requests.Add(float64(d.requests))
	}
	if d.down != 0 {
		c.down.Add(float64(d.down))
	}
	if d.up != 0 {
		c.up.Add(float64(d.up))
	}
	if d.toOrigin != 0 {
		c.toOrigin.Add(float64(d.toOrigin))
	}
	if d.s4xx != 0 {
		c.e4xx.Add(float64(d.s4xx))
	}
	if d.s5xx != 0 {
		c.e5xx.Add(float64(d.s5xx))
	}
}

// forget drops a distribution's series (its usage rows are unaffected).
func (p *promMetrics) forget(id string) {
	if p == nil {
		return
	}
	p.perDist.Delete(id)
	p.requests.DeleteLabelValues(id)
	p.down.DeleteLabelValues(id)
	p.up.DeleteLabelValues(id)
	p.toOrigin.DeleteLabelValues(id)
	p.errors.DeletePartialMatch(prometheus.Labels{"distribution_id": id})
}

func (p *promMetrics) unattributed(up, down int64) {
	if p == nil {
		return
	}
	if up > 0 {
		p.unattribUp.Add(float64(up))
	}
	if down > 0 {
		p.unattribDown.Add(float64(down))
	}
}

func (p *promMetrics) unattributedToOrigin(n int64) {
	if p == nil {
		return
	}
	p.unattribToOrigin.Add(float64(n))
}

func (p *promMetrics) flushed() {
	if p == nil {
		return
	}
	p.flushes.Inc()
	p.carried.Set(0)
}

func (p *promMetrics) flushFailed(rows int) {
	if p == nil {
		return
	}
	p.flushFailures.Inc()
	p.carried.Set(float64(rows))
}
