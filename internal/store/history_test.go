package store

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestCacheResets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		d1 := insertDistribution(t, db, newDistribution("111111111111", "one"))
		d2 := insertDistribution(t, db, newDistribution("111111111111", "two"))
		if _, err := db.LatestCacheReset(ctx, "111111111111", ""); !errors.Is(err, ErrNotFound) {
			t.Fatalf("no resets yet: err %v, want ErrNotFound", err)
		}
		resets := []*CacheReset{
			{DistributionID: d1.ID, AccountID: "111111111111", Status: "Completed", CreateTime: testTime},
			{DistributionID: d2.ID, AccountID: "111111111111", Status: "Completed", CreateTime: testTime.Add(time.Minute)},
			{DistributionID: d1.ID, AccountID: "111111111111", Status: "InProgress", CreateTime: testTime.Add(30 * time.Second)},
			// Same instant as the one before: insertion order decides.
			{DistributionID: d1.ID, AccountID: "111111111111", Status: "Completed", CreateTime: testTime.Add(30 * time.Second)},
		}
		mustTx(t, db, func(tx *Tx) error {
			for _, r := range resets {
				if err := tx.InsertCacheReset(ctx, r); err != nil {
					return err
				}
			}
			return nil
		})
		cases := []struct {
			name, account, distribution string
			want                        *CacheReset
		}{
			{"latest of distribution", "111111111111", d1.ID, resets[3]},
			{"latest of account", "111111111111", "", resets[1]},
			{"other distribution", "111111111111", d2.ID, resets[1]},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				got, err := db.LatestCacheReset(ctx, tc.account, tc.distribution)
				if err != nil || !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
				}
			})
		}
		if _, err := db.LatestCacheReset(ctx, "222222222222", d1.ID); !errors.Is(err, ErrNotFound) {
			t.Errorf("other account: err %v, want ErrNotFound", err)
		}
		err := db.Tx(ctx, func(tx *Tx) error {
			return tx.InsertCacheReset(ctx, &CacheReset{DistributionID: "no-such-id", AccountID: "111111111111", Status: "Completed"})
		})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("reset of an unknown distribution: err %v, want ErrNotFound (foreign key)", err)
		}
	})
}

func TestBundleChanges(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		d := insertDistribution(t, db, newDistribution("111111111111", "web"))
		changes := []*BundleChange{
			{DistributionID: d.ID, AccountID: "111111111111", BundleID: "large_1_0", EffectiveFrom: testTime.AddDate(0, 1, 0)},
			{DistributionID: d.ID, AccountID: "111111111111", BundleID: "small_1_0", EffectiveFrom: testTime},
			{DistributionID: d.ID, AccountID: "111111111111", BundleID: "medium_1_0", EffectiveFrom: testTime.AddDate(0, 0, 3)},
		}
		mustTx(t, db, func(tx *Tx) error {
			for _, b := range changes {
				if err := tx.InsertBundleChange(ctx, b); err != nil {
					return err
				}
			}
			return nil
		})
		got, err := db.ListBundleChanges(ctx, d.ID)
		want := []BundleChange{*changes[1], *changes[2], *changes[0]}
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("ListBundleChanges:\n got %+v, %v\nwant %+v", got, err, want)
		}
		if got, err := db.ListBundleChanges(ctx, "no-such-id"); err != nil || len(got) != 0 {
			t.Errorf("unknown distribution: %v, %v; want none", got, err)
		}
		err = db.Tx(ctx, func(tx *Tx) error {
			return tx.InsertBundleChange(ctx, &BundleChange{DistributionID: "no-such-id", BundleID: "small_1_0"})
		})
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("change of an unknown distribution: err %v, want ErrNotFound (foreign key)", err)
		}
	})
}
