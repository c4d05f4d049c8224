package usage

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Thresholds at which an operator hears about a distribution's quota, in basis points.
var Thresholds = []int64{8000, 10000}

// Watcher periodically recomputes every live distribution's usage against its quota, exports it as the
// gauge sailcdn_distribution_quota_used_ratio, and logs one event each time a distribution crosses a
// threshold upwards within a cycle (a new cycle starts below every threshold again). Each process
// runs its own watcher: in a scale-out every process logs the crossing once.
type Watcher struct {
	DB       *store.DB
	Catalog  billing.Catalog
	Clock    clock.Clock
	Logger   *slog.Logger
	Interval time.Duration // default 10s

	once  sync.Once
	gauge *prometheus.GaugeVec
	mu    sync.Mutex       // guards level
	level map[string]level // distribution id → highest threshold crossed, and in which cycle
}

type level struct {
	cycle     string
	threshold int64
}

// Register adds the watcher's gauge to reg.
func (w *Watcher) Register(reg prometheus.Registerer) error {
	w.init()
	return reg.Register(w.gauge)
}

func (w *Watcher) init() {
	w.once.Do(func() {
		w.gauge = prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "sailcdn_distribution_quota_used_ratio",
			Help: "Data transfer out in the current billing cycle divided by the bundle's monthly quota (1 = 100 %).",
		}, []string{"account", "distribution", "bundle"})
		w.level = map[string]level{}
		if w.Logger == nil {
			w.Logger = slog.Default()
		}
		if w.Interval <= 0 {
			w.Interval = 10 * time.Second
		}
	})
}

// Gauge is the exported gauge (for tests and custom registries).
func (w *Watcher) Gauge() *prometheus.GaugeVec {
	w.init()
	return w.gauge
}

// Run checks every Interval until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	w.init()
	t := time.NewTicker(w.Interval)
	defer t.Stop()
	for {
		if err := w.Check(ctx); err != nil && ctx.Err() == nil {
			w.Logger.Warn("usage check failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Check runs one pass.
func (w *Watcher) Check(ctx context.Context) error {
	w.init()
	rows, err := Report(ctx, w.DB, w.Catalog, "", w.Clock.Now())
	if err != nil {
		return err
	}
	w.gauge.Reset()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range rows {
		ratio := 0.0
		if r.QuotaBytes > 0 {
			ratio = float64(r.UsedBytes) / float64(r.QuotaBytes)
		} else if r.UsedBytes > 0 {
			ratio = 1
		}
		w.gauge.WithLabelValues(r.AccountID, r.Distribution, r.BundleID).Set(ratio)
		// Keyed by id: a distribution deleted and re-created under the same name is a new one.
		key := r.DistributionID
		crossed := int64(-1)
		for _, th := range Thresholds {
			if r.UsedBasisPoints >= th {
				crossed = th
			}
		}
		if crossed < 0 {
			continue
		}
		if prev, ok := w.level[key]; ok && prev.cycle == r.Cycle && prev.threshold >= crossed {
			continue
		}
		w.level[key] = level{cycle: r.Cycle, threshold: crossed}
		w.Logger.Warn("distribution crossed a quota threshold",
			"event", "quota_threshold", "account", r.AccountID, "distribution", r.Distribution,
			"threshold_percent", crossed/100, "used_bytes", r.UsedBytes, "quota_bytes", r.QuotaBytes, "cycle", r.Cycle)
	}
	return nil
}
