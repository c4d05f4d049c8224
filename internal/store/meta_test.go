package store

import (
	"errors"
	"testing"
	"time"
)

func TestConfigGeneration(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		web := newDistribution("111111111111", "web")
		cases := []struct {
			name string
			fn   func(tx *Tx) error
			bump int64
		}{
			{"insert", func(tx *Tx) error { return tx.InsertDistribution(ctx, web) }, 1},
			{"update", func(tx *Tx) error {
				d, err := tx.GetDistributionForUpdate(ctx, "111111111111", "web")
				if err != nil {
					return err
				}
				d.IsEnabled = false
				return tx.UpdateDistribution(ctx, d)
			}, 1},
			{"read only", func(tx *Tx) error {
				_, err := tx.GetDistributionForUpdate(ctx, "111111111111", "web")
				return err
			}, 0},
			{"other tables only", func(tx *Tx) error {
				return tx.InsertOperation(ctx, &Operation{AccountID: "111111111111", ResourceName: "web"})
			}, 0},
			{"rolled back", func(tx *Tx) error {
				if err := tx.InsertDistribution(ctx, newDistribution("111111111111", "tmp")); err != nil {
					return err
				}
				return errors.New("changed my mind")
			}, 0},
			{"failed insert", func(tx *Tx) error {
				err := tx.InsertDistribution(ctx, newDistribution("111111111111", "web"))
				if !errors.Is(err, ErrExists) {
					t.Errorf("duplicate insert: %v", err)
				}
				return nil
			}, 0},
			{"two writes, one transaction", func(tx *Tx) error {
				if err := tx.InsertDistribution(ctx, newDistribution("111111111111", "api")); err != nil {
					return err
				}
				return tx.InsertDistribution(ctx, newDistribution("111111111111", "img"))
			}, 1},
			{"delete", func(tx *Tx) error { return tx.DeleteDistribution(ctx, web.ID, testTime.Add(time.Hour)) }, 1},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				before, err := db.ConfigGeneration(ctx)
				if err != nil {
					t.Fatal(err)
				}
				db.Tx(ctx, tc.fn)
				after, err := db.ConfigGeneration(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if after-before != tc.bump {
					t.Fatalf("generation went %d -> %d, want +%d", before, after, tc.bump)
				}
			})
		}

		// Origins are served too: registering or moving one is a change, registering it again as it
		// is (every node does at start) is not.
		origin := Origin{Name: "web", RegionName: "us-east-1", ResourceType: "Instance", URL: "http://a.example", CreatedAt: testTime}
		for _, step := range []struct {
			what string
			url  string
			bump int64
		}{{"new origin", "http://a.example", 1}, {"same origin again", "http://a.example", 0}, {"origin moved", "http://b.example", 1}} {
			before, _ := db.ConfigGeneration(ctx)
			origin.URL = step.url
			if err := db.PutOrigin(ctx, origin); err != nil {
				t.Fatal(err)
			}
			if after, _ := db.ConfigGeneration(ctx); after-before != step.bump {
				t.Errorf("%s: generation went %d -> %d, want +%d", step.what, before, after, step.bump)
			}
		}

		served, err := db.Served(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := db.ConfigGeneration(ctx); served.Generation != want || len(served.Distributions) != 2 || len(served.Origins) != 1 {
			t.Fatalf("Served = generation %d with %v and %d origins; want %d with api and img and 1 origin",
				served.Generation, distNames(served.Distributions), len(served.Origins), want)
		}
	})
}
