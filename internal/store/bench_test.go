package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkGetDistribution is the store read behind every GetDistributions(name), on SQLite.
func BenchmarkGetDistribution(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, Config{Driver: DriverSQLite, DSN: filepath.Join(b.TempDir(), "sailcdn.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	d := &Distribution{AccountID: "000000000000", Name: "bench", DomainName: "d1.cdn.localhost", BundleID: "small_1_0",
		IsEnabled: true, CreatedAt: now, UpdatedAt: now, DeployedAt: now, Config: []byte(`{"origin":` + strings.Repeat(`"x"`, 300) + `}`)}
	if err := db.Tx(ctx, func(tx *Tx) error { return tx.InsertDistribution(ctx, d) }); err != nil {
		b.Fatal(err)
	}
	// The API's requests carry a cancellable context.
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// cached: DB.GetDistribution with no commit in between (answered from the read cache after the
	// WAL-index header check); query: the database read itself (what a read after a commit costs).
	for _, bc := range []struct {
		name string
		get  func() (*Distribution, error)
	}{
		{"cached", func() (*Distribution, error) { return db.GetDistribution(rctx, "000000000000", "bench") }},
		{"query", func() (*Distribution, error) { return db.queries.GetDistribution(rctx, "000000000000", "bench") }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.get(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
