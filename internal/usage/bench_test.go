package usage_test

import (
	"context"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/store"
	"github.com/sailcdn/sailcdn/internal/usage"
)

// BenchmarkReportBusyMonth: one distribution with traffic in every minute of a 30-day cycle, the
// worst case for the watcher, which recomputes this every 10 s for every distribution.
func BenchmarkReportBusyMonth(b *testing.B) {
	db, d := seed(b)
	start := time.Date(2026, 4, 11, 0, 0, 0, 0, time.UTC)
	var rows []store.UsageDelta
	for m := 0; m < 19*24*60; m++ { // from the 11th to the 30th
		rows = append(rows, store.UsageDelta{DistributionID: d.ID, Minute: start.Add(time.Duration(m) * time.Minute).Unix(), Requests: 1, BytesToViewers: 1_000_000, BytesDownloaded: 1_000_000})
	}
	if err := db.AddUsage(context.Background(), rows); err != nil {
		b.Fatal(err)
	}
	now := time.Date(2026, 4, 30, 23, 59, 0, 0, time.UTC)
	b.ResetTimer()
	for b.Loop() {
		if _, err := usage.Report(context.Background(), db, billing.DefaultCatalog(), "", now); err != nil {
			b.Fatal(err)
		}
	}
}
