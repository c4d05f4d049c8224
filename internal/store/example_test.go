package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sailcdn/sailcdn/internal/store"
)

// A rule checked inside DB.Tx — here Lightsail's "one bundle change per billing cycle" — holds even
// when several requests (or processes) try at once: the read for update makes the others wait and
// then see the change.
func ExampleDB_Tx() {
	dir, _ := os.MkdirTemp("", "sailcdn-example")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	db, err := store.Open(ctx, store.Config{DSN: filepath.Join(dir, "sailcdn.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()

	now := time.Date(2026, 4, 15, 10, 0, 0, 0, time.UTC)
	err = db.Tx(ctx, func(tx *store.Tx) error {
		return tx.InsertDistribution(ctx, &store.Distribution{
			AccountID: "111111111111", Name: "web", DomainName: "d111111abcdef8.cloudfront.net",
			BundleID: "small_1_0", IsEnabled: true, CreatedAt: now, UpdatedAt: now,
		})
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	errOncePerCycle := errors.New("the bundle was already changed this billing cycle")
	changeBundle := func(bundle string) error {
		return db.Tx(ctx, func(tx *store.Tx) error {
			d, err := tx.GetDistributionForUpdate(ctx, "111111111111", "web")
			if err != nil {
				return err
			}
			if d.BundleChangedCycle == now.Format("2006-01") {
				return errOncePerCycle
			}
			d.BundleID, d.BundleChangedCycle, d.UpdatedAt = bundle, now.Format("2006-01"), now
			if err := tx.UpdateDistribution(ctx, d); err != nil {
				return err
			}
			return tx.InsertBundleChange(ctx, &store.BundleChange{
				DistributionID: d.ID, AccountID: d.AccountID, BundleID: bundle, EffectiveFrom: now,
			})
		})
	}
	fmt.Println("first change:", changeBundle("medium_1_0"))
	fmt.Println("second change:", changeBundle("large_1_0"))

	d, _ := db.GetDistribution(ctx, "111111111111", "web")
	fmt.Println(d.BundleID, d.Version)
	// Output:
	// first change: <nil>
	// second change: the bundle was already changed this billing cycle
	// medium_1_0 2
}
