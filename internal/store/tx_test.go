package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestTxRollsBack(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		errStop := errors.New("stop")
		cases := []struct {
			name string
			run  func() error
		}{
			{"fn returns an error", func() error {
				return db.Tx(ctx, func(tx *Tx) error {
					if err := tx.InsertDistribution(ctx, newDistribution("111111111111", "web")); err != nil {
						return err
					}
					return errStop
				})
			}},
			{"fn panics", func() (err error) {
				defer func() {
					if recover() != nil {
						err = errStop
					}
				}()
				return db.Tx(ctx, func(tx *Tx) error {
					if err := tx.InsertDistribution(ctx, newDistribution("111111111111", "web")); err != nil {
						return err
					}
					panic("boom")
				})
			}},
		}
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if err := tc.run(); err != errStop {
					t.Fatalf("err = %v, want fn's own error unchanged", err)
				}
				if _, err := db.GetDistribution(ctx, "111111111111", "web"); !errors.Is(err, ErrNotFound) {
					t.Fatalf("write of a failed transaction is visible: %v", err)
				}
				// The writer connection must be free again (SQLite has only one).
				insertDistribution(t, db, newDistribution("111111111111", "after-"+string(rune('a'+i))))
			})
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := db.Tx(cancelled, func(tx *Tx) error { return nil }); !errors.Is(err, context.Canceled) {
			t.Errorf("Tx with a cancelled context: err %v, want context.Canceled", err)
		}
	})
}

// TestTxRetriesDeadlock: two transactions lock two rows in opposite orders. PostgreSQL detects the
// deadlock (after deadlock_timeout) and aborts one with 40P01; DB.Tx must run it again so that both
// succeed. SQLite serialises the transactions, so there is nothing to retry.
func TestTxRetriesDeadlock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		insertDistribution(t, db, newDistribution("111111111111", "x"))
		insertDistribution(t, db, newDistribution("111111111111", "y"))
		var wg sync.WaitGroup
		for i, order := range [][2]string{{"x", "y"}, {"y", "x"}} {
			wg.Go(func() {
				err := db.Tx(ctx, func(tx *Tx) error {
					for j, name := range order {
						d, err := tx.GetDistributionForUpdate(ctx, "111111111111", name)
						if err != nil {
							return err
						}
						if j == 0 {
							time.Sleep(100 * time.Millisecond) // let the other take its first lock
						}
						d.Config = []byte(`{"writer":` + string(rune('0'+i)) + `}`)
						if err := tx.UpdateDistribution(ctx, d); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Errorf("writer %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		for _, name := range []string{"x", "y"} {
			d, err := db.GetDistribution(ctx, "111111111111", name)
			if err != nil || d.Version != 3 {
				t.Errorf("%s: %+v, %v; want Version 3 (both writers committed)", name, d, err)
			}
		}
		if db.Driver() == DriverPostgres && db.retries.Load() == 0 {
			t.Errorf("no transaction was retried; the deadlock did not happen")
		}
	})
}

// TestTxRetriesBusy holds SQLite's write lock from another connection — another process, as far as
// SQLite can tell — for longer than busy_timeout. DB.Tx must retry and then get through; if the lock
// is never released it must give up with ErrConflict.
func TestTxRetriesBusy(t *testing.T) {
	forEachBackendConfig(t, func(t *testing.T, cfg Config) {
		if cfg.Driver != DriverSQLite {
			t.Skip("SQLITE_BUSY is SQLite's; PostgreSQL waits on row locks instead")
		}
		ctx := testContext(t)
		// The caller's DSN parameters come first and win: a short busy_timeout keeps the test fast.
		cfg.DSN += "?_busy_timeout=20"
		db, err := Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()

		other, err := sql.Open("sqlite", cfg.DSN)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		holder, err := other.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer holder.Close()
		lock := func() {
			t.Helper()
			if _, err := holder.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
				t.Fatal(err)
			}
		}
		unlock := func() {
			t.Helper()
			if _, err := holder.ExecContext(ctx, "COMMIT"); err != nil {
				t.Fatal(err)
			}
		}

		lock()
		time.AfterFunc(60*time.Millisecond, unlock)
		if err := db.Tx(ctx, func(tx *Tx) error { return tx.InsertDistribution(ctx, newDistribution("111111111111", "web")) }); err != nil {
			t.Fatalf("Tx while another connection briefly held the lock: %v", err)
		}
		if db.retries.Load() == 0 {
			t.Errorf("no retry happened; the lock was not contended")
		}

		time.Sleep(100 * time.Millisecond) // let unlock run before locking again
		lock()
		defer unlock()
		err = db.Tx(ctx, func(tx *Tx) error { return tx.InsertDistribution(ctx, newDistribution("111111111111", "api")) })
		if !errors.Is(err, ErrConflict) {
			t.Fatalf("Tx while the lock is never released: err %v, want ErrConflict", err)
		}
	})
}
