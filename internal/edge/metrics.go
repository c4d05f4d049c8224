package edge

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sailcdn/sailcdn/internal/fastpath"
	"github.com/sailcdn/sailcdn/internal/httpcache"
)

// edgeMetrics are the edge's Prometheus collectors. Per-distribution traffic counters belong to
// the meter; these describe the cache and the configuration.
type edgeMetrics struct {
	results      *prometheus.CounterVec
	generation   prometheus.Gauge
	reloadErrors prometheus.Counter
	perDist      sync.Map // distribution id → *distMetrics
}

// distMetrics are one distribution's cache-result counters, indexed by httpcache.CacheStatus.
type distMetrics struct {
	results [httpcache.Pass + 1]prometheus.Counter
}

func newEdgeMetrics(reg prometheus.Registerer, cache *httpcache.Cache, fast func() fastpath.Stats, conns func() ConnectionStats) (*edgeMetrics, error) {
	m := &edgeMetrics{
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "sailcdn_edge_cache_results_total",
			Help: "Requests served through the cache, per distribution and result (Hit, RefreshHit, Miss, Pass, Error).",
		}, []string{"distribution_id", "result"}),
		generation: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "sailcdn_edge_config_generation", Help: "Configuration generation the edge serves.",
		}),
		reloadErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "sailcdn_edge_config_reload_errors_total", Help: "Configuration reloads that failed.",
		}),
	}
	stat := func(f func(s httpcache.Stats) float64) func() float64 {
		return func() float64 { return f(cache.Stats()) }
	}
	collectors := []prometheus.Collector{
		m.results, m.generation, m.reloadErrors,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "sailcdn_cache_hit_ratio",
			Help: "(Hits + RefreshHits) / (Hits + RefreshHits + Misses) since start; passes and errors excluded. 0 before any lookup.",
		}, stat(func(s httpcache.Stats) float64 {
			hits := float64(s.Hits + s.RefreshHits)
			if total := hits + float64(s.Misses); total > 0 {
				return hits / total
			}
			return 0
		})),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sailcdn_cache_bytes", Help: "Weighted bytes stored in the cache."},
			stat(func(s httpcache.Stats) float64 { return float64(s.Bytes) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sailcdn_cache_entries", Help: "Resources stored in the cache."},
			stat(func(s httpcache.Stats) float64 { return float64(s.Entries) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sailcdn_cache_collapsed_total", Help: "Requests that waited for another request's origin fetch."},
			stat(func(s httpcache.Stats) float64 { return float64(s.Collapsed) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sailcdn_cache_inflight_bytes", Help: "Bytes held by origin fills in progress (bounded by the cache's in-flight budget)."},
			stat(func(s httpcache.Stats) float64 { return float64(s.InFlight) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sailcdn_edge_fastpath_requests_total",
			Help: "Requests answered by the HTTP/1.1 fast path (cache hits served without net/http)."},
			func() float64 { return float64(fast().Served) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sailcdn_edge_fastpath_handoffs_total",
			Help: "Connections the fast path handed to net/http (at their first request that was not a plain hit)."},
			func() float64 { return float64(fast().HandedOff) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "sailcdn_edge_viewer_connections", Help: "Viewer connections open."},
			func() float64 { return float64(conns().Open) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "sailcdn_edge_viewer_connections_refused_total",
			Help: "Viewer connections closed at once because the connection bound (total or per client) was reached."},
			func() float64 { return float64(conns().Refused) }),
	}
	for _, c := range collectors {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (m *edgeMetrics) dist(id string) *distMetrics {
	if m == nil {
		return nil
	}
	if v, ok := m.perDist.Load(id); ok {
		return v.(*distMetrics)
	}
	d := &distMetrics{}
	for s := httpcache.Miss; s <= httpcache.Pass; s++ {
		d.results[s] = m.results.WithLabelValues(id, s.String())
	}
	v, _ := m.perDist.LoadOrStore(id, d)
	return v.(*distMetrics)
}

// forget drops a deleted distribution's series, so /metrics does not grow with every distribution
// ever served.
func (m *edgeMetrics) forget(id string) {
	if m == nil {
		return
	}
	m.perDist.Delete(id)
	m.results.DeletePartialMatch(prometheus.Labels{"distribution_id": id})
}

func (d *distMetrics) result(s httpcache.CacheStatus) {
	if d == nil || int(s) >= len(d.results) || d.results[s] == nil {
		return
	}
	d.results[s].Inc()
}

func (m *edgeMetrics) loaded(gen int64) {
	if m != nil {
		m.generation.Set(float64(gen))
	}
}

func (m *edgeMetrics) reloadFailed() {
	if m != nil {
		m.reloadErrors.Inc()
	}
}
