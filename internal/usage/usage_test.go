package usage_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/store"
	"github.com/sailcdn/sailcdn/internal/usage"
)

const gb = int64(1_000_000_000)

func seed(t testing.TB) (*store.DB, *store.Distribution) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DSN: filepath.Join(t.TempDir(), "u.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	created := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	d := &store.Distribution{ID: "dist-1", AccountID: "111111111111", Name: "site", DomainName: "dabc.cdn.localhost",
		BundleID: "small_1_0", IsEnabled: true, CreatedAt: created, UpdatedAt: created, DeployedAt: created, Config: []byte("{}")}
	err = db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.InsertDistribution(ctx, d); err != nil {
			return err
		}
		return tx.InsertBundleChange(ctx, &store.BundleChange{DistributionID: d.ID, AccountID: d.AccountID, BundleID: "small_1_0", EffectiveFrom: created})
	})
	if err != nil {
		t.Fatal(err)
	}
	return db, d
}

// addBytes adds n bytes of data transfer out at a minute: two thirds to viewers, a third to the
// origin (the quota counts both).
func addBytes(t testing.TB, db *store.DB, d *store.Distribution, at time.Time, n int64) {
	t.Helper()
	toOrigin := n / 3
	if err := db.AddUsage(context.Background(), []store.UsageDelta{{DistributionID: d.ID, Minute: at.Truncate(time.Minute).Unix(), Requests: 1,
		BytesToViewers: n - toOrigin, BytesDownloaded: n - toOrigin, BytesToOrigin: toOrigin}}); err != nil {
		t.Fatal(err)
	}
}

func TestReportAgainstQuota(t *testing.T) {
	db, d := seed(t)
	addBytes(t, db, d, time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC), 30*gb)
	addBytes(t, db, d, time.Date(2026, 4, 12, 0, 0, 0, 0, time.UTC), 25*gb)
	addBytes(t, db, d, time.Date(2026, 3, 31, 0, 0, 0, 0, time.UTC), 99*gb) // before creation's cycle: not this cycle
	addBytes(t, db, d, time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC), 7*gb)  // before creation (clock moved back): ignored
	rows, err := usage.Report(context.Background(), db, billing.DefaultCatalog(), "", time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if r.Cycle != "2026-04" || r.BundleID != "small_1_0" || r.UsedBytes != 55*gb || r.QuotaBytes != 50*gb || r.UsedBasisPoints != 11000 || r.OverageBytes != 5*gb {
		t.Fatalf("row = %+v", r)
	}
	if r.OverageCost != 450_000 || r.CostSoFar != r.PlanCost+r.OverageCost || r.ProjectedMonthly < r.CostSoFar {
		t.Fatalf("money = %+v", r)
	}
	if rows, _ := usage.Report(context.Background(), db, billing.DefaultCatalog(), "222222222222", time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC)); len(rows) != 0 {
		t.Fatalf("another account sees %d rows", len(rows))
	}
}

func TestWatcherLogsEachCrossingOnce(t *testing.T) {
	db, d := seed(t)
	clk := clock.NewOffset(nil)
	clk.Set(time.Date(2026, 4, 20, 0, 0, 0, 0, time.UTC))
	var logs bytes.Buffer
	w := &usage.Watcher{DB: db, Catalog: billing.DefaultCatalog(), Clock: clk, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	reg := prometheus.NewRegistry()
	if err := w.Register(reg); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func() {
		t.Helper()
		if err := w.Check(ctx); err != nil {
			t.Fatal(err)
		}
	}
	check()
	if strings.Contains(logs.String(), "quota_threshold") {
		t.Fatalf("logged with no traffic: %s", logs.String())
	}
	addBytes(t, db, d, time.Date(2026, 4, 15, 0, 0, 0, 0, time.UTC), 41*gb) // 82 %
	check()
	check()
	if n := strings.Count(logs.String(), `"threshold_percent":80`); n != 1 {
		t.Fatalf("80 %% crossing logged %d times: %s", n, logs.String())
	}
	if got := testutil.ToFloat64(w.Gauge().WithLabelValues("111111111111", "site", "small_1_0")); got < 0.819 || got > 0.821 {
		t.Fatalf("gauge = %v", got)
	}
	addBytes(t, db, d, time.Date(2026, 4, 16, 0, 0, 0, 0, time.UTC), 10*gb) // 102 %
	check()
	check()
	if n := strings.Count(logs.String(), `"threshold_percent":100`); n != 1 {
		t.Fatalf("100 %% crossing logged %d times", n)
	}
	// A new cycle starts below every threshold; crossing again there is a new event.
	clk.Set(time.Date(2026, 5, 20, 0, 0, 0, 0, time.UTC))
	addBytes(t, db, d, time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC), 45*gb)
	check()
	if n := strings.Count(logs.String(), `"threshold_percent":80`); n != 2 {
		t.Fatalf("80 %% crossing in the new cycle: %d events", n)
	}
}
