package store

import (
	"errors"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestDistributionRoundTrip(t *testing.T) {
	deleted := testTime.Add(time.Hour)
	cases := []struct {
		name string
		mod  func(d *Distribution)
	}{
		{"all fields", func(d *Distribution) {
			d.BundleChangedCycle = "2026-04"
			d.CacheResetAt = testTime.Add(2 * time.Minute)
		}},
		{"zero times and empty config", func(d *Distribution) {
			d.CreatedAt, d.UpdatedAt, d.DeployedAt = time.Time{}, time.Time{}, time.Time{}
			d.Config = nil
			d.IsEnabled = false
		}},
		{"before 1970 and far future", func(d *Distribution) {
			d.CreatedAt = time.Date(1969, 7, 20, 20, 17, 40, 999_999_999, time.UTC)
			d.DeployedAt = time.Date(9999, 12, 31, 23, 59, 59, 999_999_000, time.UTC)
		}},
		{"inserted deleted", func(d *Distribution) { d.DeletedAt = &deleted }},
	}
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				d := newDistribution("111111111111", string(rune('a'+i))+"-dist")
				tc.mod(d)
				wantCreated := d.CreatedAt.Truncate(time.Microsecond)
				insertDistribution(t, db, d)
				if d.ID == "" || d.Version != 1 {
					t.Fatalf("after insert: ID %q Version %d, want an id and version 1", d.ID, d.Version)
				}
				if !d.CreatedAt.Equal(wantCreated) || d.CreatedAt.Location() != time.UTC {
					t.Errorf("insert normalised CreatedAt to %v, want %v in UTC", d.CreatedAt, wantCreated)
				}
				got, err := db.GetDistributionByID(ctx, d.ID)
				if err != nil {
					t.Fatalf("GetDistributionByID: %v", err)
				}
				if !reflect.DeepEqual(got, d) {
					t.Errorf("GetDistributionByID:\n got %+v\nwant %+v", got, d)
				}
				if d.DeletedAt != nil {
					if _, err := db.GetDistribution(ctx, d.AccountID, d.Name); !errors.Is(err, ErrNotFound) {
						t.Errorf("GetDistribution of a deleted row: err %v, want ErrNotFound", err)
					}
					return
				}
				got, err = db.GetDistribution(ctx, d.AccountID, d.Name)
				if err != nil {
					t.Fatalf("GetDistribution: %v", err)
				}
				if !reflect.DeepEqual(got, d) {
					t.Errorf("GetDistribution:\n got %+v\nwant %+v", got, d)
				}
			})
		}
	})
}

func TestDistributionErrors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		first := insertDistribution(t, db, newDistribution("111111111111", "web"))
		gone := insertDistribution(t, db, newDistribution("111111111111", "gone"))
		mustTx(t, db, func(tx *Tx) error { return tx.DeleteDistribution(ctx, gone.ID, testTime) })

		cases := []struct {
			name string
			op   func(tx *Tx) error
			want error
		}{
			{"same name same account", func(tx *Tx) error {
				d := newDistribution("111111111111", "web")
				d.DomainName = "other.test"
				return tx.InsertDistribution(ctx, d)
			}, ErrExists},
			{"same domain other account", func(tx *Tx) error {
				d := newDistribution("222222222222", "x")
				d.DomainName = first.DomainName
				return tx.InsertDistribution(ctx, d)
			}, ErrExists},
			{"same name other account", func(tx *Tx) error {
				return tx.InsertDistribution(ctx, newDistribution("222222222222", "web"))
			}, nil},
			{"get missing", func(tx *Tx) error {
				_, err := tx.GetDistribution(ctx, "111111111111", "nope")
				return err
			}, ErrNotFound},
			{"get deleted", func(tx *Tx) error {
				_, err := tx.GetDistribution(ctx, "111111111111", "gone")
				return err
			}, ErrNotFound},
			{"get for update missing", func(tx *Tx) error {
				_, err := tx.GetDistributionForUpdate(ctx, "111111111111", "nope")
				return err
			}, ErrNotFound},
			{"get by id missing", func(tx *Tx) error {
				_, err := tx.GetDistributionByID(ctx, "no-such-id")
				return err
			}, ErrNotFound},
			{"update missing", func(tx *Tx) error {
				d := newDistribution("111111111111", "nope")
				d.ID, d.Version = "no-such-id", 1
				return tx.UpdateDistribution(ctx, d)
			}, ErrNotFound},
			{"update deleted", func(tx *Tx) error {
				d := *gone
				return tx.UpdateDistribution(ctx, &d)
			}, ErrNotFound},
			{"rename onto a live name", func(tx *Tx) error {
				d, err := tx.GetDistributionForUpdate(ctx, "222222222222", "web")
				if err != nil {
					return err
				}
				d.DomainName = first.DomainName
				return tx.UpdateDistribution(ctx, d)
			}, ErrExists},
			{"delete missing", func(tx *Tx) error { return tx.DeleteDistribution(ctx, "no-such-id", testTime) }, ErrNotFound},
			{"delete twice", func(tx *Tx) error { return tx.DeleteDistribution(ctx, gone.ID, testTime) }, ErrNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := db.Tx(ctx, tc.op)
				if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
			})
		}
	})
}

// TestErrExistsKeepsTxUsable checks that after a failed insert the transaction goes on (PostgreSQL
// would otherwise abort it) and commits the other writes.
func TestErrExistsKeepsTxUsable(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		insertDistribution(t, db, newDistribution("111111111111", "web"))
		mustTx(t, db, func(tx *Tx) error {
			if err := tx.InsertDistribution(ctx, newDistribution("111111111111", "web")); !errors.Is(err, ErrExists) {
				t.Errorf("duplicate insert: err %v, want ErrExists", err)
			}
			return tx.InsertDistribution(ctx, newDistribution("111111111111", "api"))
		})
		if _, err := db.GetDistribution(ctx, "111111111111", "api"); err != nil {
			t.Fatalf("write after ErrExists was not committed: %v", err)
		}
	})
}

// TestConcurrentInsertSameName: concurrent creators of one name; the pre-check cannot see the
// others' uncommitted rows on PostgreSQL, so the unique index must turn the losers into ErrExists.
func TestConcurrentInsertSameName(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		const n = 8
		var ok, exists atomic.Int32
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				d := newDistribution("111111111111", "web")
				d.DomainName = string(rune('a'+i)) + ".test"
				err := db.Tx(ctx, func(tx *Tx) error { return tx.InsertDistribution(ctx, d) })
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, ErrExists):
					exists.Add(1)
				default:
					t.Errorf("insert %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 || exists.Load() != n-1 {
			t.Fatalf("%d inserts succeeded and %d got ErrExists, want 1 and %d", ok.Load(), exists.Load(), n-1)
		}
	})
}

func TestSoftDeleteFreesName(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		old := insertDistribution(t, db, newDistribution("111111111111", "web"))
		deletedAt := testTime.Add(time.Hour)
		mustTx(t, db, func(tx *Tx) error { return tx.DeleteDistribution(ctx, old.ID, deletedAt) })
		reborn := insertDistribution(t, db, newDistribution("111111111111", "web")) // same name and domain

		got, err := db.GetDistribution(ctx, "111111111111", "web")
		if err != nil || got.ID != reborn.ID {
			t.Fatalf("GetDistribution = %v, %v; want the new row %s", got, err, reborn.ID)
		}
		dead, err := db.GetDistributionByID(ctx, old.ID)
		if err != nil {
			t.Fatalf("GetDistributionByID(deleted): %v", err)
		}
		if dead.DeletedAt == nil || !dead.DeletedAt.Equal(deletedAt.Truncate(time.Microsecond)) || dead.Version != 2 {
			t.Errorf("deleted row: DeletedAt %v Version %d, want %v and 2", dead.DeletedAt, dead.Version, deletedAt)
		}
		if n, err := db.CountDistributions(ctx, "111111111111"); err != nil || n != 1 {
			t.Errorf("CountDistributions = %d, %v; want 1", n, err)
		}
		live, err := db.ListLiveDistributions(ctx)
		if err != nil || len(live) != 1 || live[0].ID != reborn.ID {
			t.Errorf("ListLiveDistributions = %v, %v; want only the new row", ids(live), err)
		}
		for _, account := range []string{"111111111111", ""} {
			everything, err := db.ListAllDistributions(ctx, account)
			if err != nil || len(everything) != 2 {
				t.Errorf("ListAllDistributions(%q) = %v, %v; want both rows", account, ids(everything), err)
			}
		}
		if other, err := db.ListAllDistributions(ctx, "222222222222"); err != nil || len(other) != 0 {
			t.Errorf("ListAllDistributions(other account) = %v, %v; want none", ids(other), err)
		}
	})
}

func TestListDistributionsPaging(t *testing.T) {
	// Bytewise order on both engines: upper case before lower, '-' (0x2d) before '_' (0x5f) before
	// letters — a linguistic collation would order these differently.
	names := []string{"ab", "a_b", "B", "a-c", "a"}
	want := []string{"B", "a", "a-c", "a_b", "ab"}
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		for _, n := range names {
			insertDistribution(t, db, newDistribution("111111111111", n))
		}
		insertDistribution(t, db, newDistribution("222222222222", "other"))

		all, err := db.ListDistributions(ctx, "111111111111", "", 0)
		if err != nil || !reflect.DeepEqual(distNames(all), want) {
			t.Fatalf("ListDistributions(all) = %v, %v; want %v", distNames(all), err, want)
		}
		var paged []string
		after := ""
		for page := 0; ; page++ {
			got, err := db.ListDistributions(ctx, "111111111111", after, 2)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) > 2 {
				t.Fatalf("page %d has %d rows, limit 2", page, len(got))
			}
			if len(got) == 0 {
				break
			}
			paged = append(paged, distNames(got)...)
			after = got[len(got)-1].Name
		}
		if !reflect.DeepEqual(paged, want) {
			t.Errorf("paged = %v, want %v", paged, want)
		}
		live, err := db.ListLiveDistributions(ctx)
		if err != nil || !reflect.DeepEqual(distNames(live), append(want, "other")) {
			t.Errorf("ListLiveDistributions = %v, %v", distNames(live), err)
		}
	})
}

func TestUpdateDistribution(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		d := insertDistribution(t, db, newDistribution("111111111111", "web"))
		mustTx(t, db, func(tx *Tx) error {
			cur, err := tx.GetDistributionForUpdate(ctx, "111111111111", "web")
			if err != nil {
				return err
			}
			cur.BundleID, cur.BundleChangedCycle, cur.IsEnabled = "medium_1_0", "2026-04", false
			cur.UpdatedAt, cur.CacheResetAt = testTime.Add(time.Hour), testTime.Add(time.Hour)
			cur.Config = []byte(`{"changed":true}`)
			if err := tx.UpdateDistribution(ctx, cur); err != nil {
				return err
			}
			if cur.Version != 2 {
				t.Errorf("struct Version after update = %d, want 2", cur.Version)
			}
			got, err := tx.GetDistributionByID(ctx, cur.ID)
			if err != nil || !reflect.DeepEqual(got, cur) {
				t.Errorf("read inside tx:\n got %+v, %v\nwant %+v", got, err, cur)
			}
			return nil
		})
		got, err := db.GetDistributionByID(ctx, d.ID)
		if err != nil || got.Version != 2 || got.BundleID != "medium_1_0" || got.IsEnabled || string(got.Config) != `{"changed":true}` {
			t.Fatalf("after commit: %+v, %v", got, err)
		}
		// d still carries Version 1: writing it now would overwrite the update above.
		err = db.Tx(ctx, func(tx *Tx) error { return tx.UpdateDistribution(ctx, d) })
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("stale update: err %v, want ErrConflict", err)
		}
	})
}

// TestBundleChangeRace is the rule "one bundle change per billing cycle" checked inside DB.Tx by
// concurrent writers: exactly one may change, every other must see the change and refuse.
func TestBundleChangeRace(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		insertDistribution(t, db, newDistribution("111111111111", "web"))
		raceBundleChange(t, db)
	})
}

// TestBundleChangeRaceAcrossHandles is the same race between two *DB opened on one database, as two
// sailcdn processes would: on SQLite each has its own writer connection, so only BEGIN IMMEDIATE (not
// the in-process pool of one) keeps them apart.
func TestBundleChangeRaceAcrossHandles(t *testing.T) {
	forEachBackendConfig(t, func(t *testing.T, cfg Config) {
		var dbs []*DB
		for range 2 {
			db, err := Open(testContext(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			dbs = append(dbs, db)
		}
		insertDistribution(t, dbs[0], newDistribution("111111111111", "web"))
		raceBundleChange(t, dbs...)
	})
}

// raceBundleChange runs 8 writers, spread over dbs, that each read the distribution for update,
// check the rule, and write.
func raceBundleChange(t *testing.T, dbs ...*DB) {
	t.Helper()
	ctx := testContext(t)
	errAlreadyChanged := errors.New("bundle already changed this cycle")
	const n = 8
	var changed, refused atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		db := dbs[i%len(dbs)]
		wg.Go(func() {
			<-start
			err := db.Tx(ctx, func(tx *Tx) error {
				d, err := tx.GetDistributionForUpdate(ctx, "111111111111", "web")
				if err != nil {
					return err
				}
				if d.BundleChangedCycle == "2026-04" {
					return errAlreadyChanged
				}
				// Widen the window between check and write, so that without the lock the writers
				// would overlap here.
				time.Sleep(20 * time.Millisecond)
				d.BundleChangedCycle = "2026-04"
				d.BundleID = []string{"medium_1_0", "large_1_0"}[i%2]
				return tx.UpdateDistribution(ctx, d)
			})
			switch {
			case err == nil:
				changed.Add(1)
			case errors.Is(err, errAlreadyChanged):
				refused.Add(1)
			default:
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	if changed.Load() != 1 || refused.Load() != n-1 {
		t.Fatalf("%d writers changed the bundle and %d were refused, want 1 and %d", changed.Load(), refused.Load(), n-1)
	}
	d, err := dbs[0].GetDistribution(ctx, "111111111111", "web")
	if err != nil || d.Version != 2 || d.BundleChangedCycle != "2026-04" {
		t.Fatalf("final row: %+v, %v; want Version 2 (exactly one update)", d, err)
	}
	// The lock taken by GetDistributionForUpdate (PostgreSQL) or BEGIN IMMEDIATE (SQLite) must be
	// what serialises the writers; the version check in UpdateDistribution is only a backstop.
	for _, db := range dbs {
		if r := db.retries.Load(); r != 0 {
			t.Errorf("%d transactions were retried, want 0", r)
		}
	}
}

func distNames(ds []Distribution) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

func ids(ds []Distribution) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}
