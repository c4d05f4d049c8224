package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/sailcdn/sailcdn/internal/backoff"
)

// Tx is one read-write transaction, handed to the function given to DB.Tx. It offers every read of
// *DB (seeing the transaction's own writes) plus the writes. It must not be used after that function
// returns, nor from several goroutines at once.
type Tx struct {
	queries
	tx *sql.Tx

	// served makes the commit draw a new configuration generation, fill stamps with it and notify
	// the edges (see servedChanged, publishGeneration).
	served bool
	stamps []stamp
}

// txAttempts bounds how often DB.Tx runs fn when the database asks for a retry.
const txAttempts = 5

// Tx runs fn in ONE read-write transaction and commits if fn returns nil; any error from fn rolls back
// and is returned unchanged.
//
// SQLite: the transaction is BEGIN IMMEDIATE, holding the database's write lock from the start, so
// transactions are fully serialised, within and across processes. PostgreSQL: READ COMMITTED; reads
// that precede a change must lock the row (GetDistributionForUpdate), so a concurrent transaction waits
// and then sees the committed change. Either way a rule checked inside fn still holds at commit.
//
// When the database reports SQLITE_BUSY, a serialization failure (40001), a deadlock (40P01) or an
// UpdateDistribution version conflict, the whole transaction is rolled back and fn runs again, up to
// a few times with jittered backoff; after that the error wraps ErrConflict. fn must therefore have no
// effects outside tx (or tolerate repeating them). Inside fn use tx's methods only: calling DB.Tx or
// DB's writes there would wait for the writer connection fn itself holds (SQLite), and DB's reads do
// not see tx's uncommitted writes.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	var err error
	for attempt := 1; attempt <= txAttempts; attempt++ {
		if attempt > 1 {
			if werr := backoff.Sleep(ctx, txBackoff.Delay(attempt-1)); werr != nil {
				return errors.Join(werr, err)
			}
			db.retries.Add(1)
		}
		err = db.runTx(ctx, fn)
		if err == nil || !isRetryable(err) {
			return err
		}
	}
	return fmt.Errorf("store: transaction still failing after %d attempts: %w: %w", txAttempts, ErrConflict, err)
}

func (db *DB) runTx(ctx context.Context, fn func(tx *Tx) error) error {
	db.writeStmts.prepareWanted(ctx)
	sqlTx, err := db.write.BeginTx(ctx, db.dialect.writeTxOptions())
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	done := false
	defer func() {
		// Also runs when fn panics, so the writer connection is never left inside a transaction.
		if !done {
			sqlTx.Rollback()
		}
	}()
	tx := &Tx{queries: queries{q: sqlTx, d: db.dialect, stmts: db.writeStmts, tx: sqlTx}, tx: sqlTx}
	if err := fn(tx); err != nil {
		return err
	}
	var gen int64
	if tx.served {
		var err error
		if gen, err = tx.publishGeneration(ctx, db.channel); err != nil {
			return err
		}
	}
	done = true
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if tx.served {
		for _, s := range tx.stamps {
			if s.applied && s.into != nil {
				*s.into = gen
			}
		}
		db.changes.signal()
	}
	return nil
}

// txBackoff spaces the attempts of a transaction: 10 ms doubling, with jitter so that transactions
// that collided do not collide again in lockstep.
var txBackoff = backoff.Policy{Min: 10 * time.Millisecond, Max: time.Second}

// execGuarded runs one write inside a savepoint. On PostgreSQL any failed statement aborts the whole
// transaction (every later statement fails with 25P02); rolling back to the savepoint keeps the
// transaction usable, so that fn can react to ErrExists exactly as it can on SQLite, where a failed
// statement only undoes itself. Both engines accept the same SAVEPOINT syntax.
func (tx *Tx) execGuarded(ctx context.Context, what, query string, args ...any) (sql.Result, error) {
	if _, err := tx.tx.ExecContext(ctx, "SAVEPOINT store_write"); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	res, err := tx.exec(ctx, query, args...)
	if err != nil {
		if _, rerr := tx.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT store_write"); rerr != nil {
			return nil, errors.Join(mapWriteError(err, what), rerr)
		}
	}
	if _, rerr := tx.tx.ExecContext(ctx, "RELEASE SAVEPOINT store_write"); rerr != nil {
		return nil, errors.Join(mapWriteError(err, what), rerr)
	}
	if err != nil {
		return nil, mapWriteError(err, what)
	}
	return res, nil
}

// LockAccount serialises, until the transaction ends, every transaction that locks the same account:
// rules over an account's set of rows (at most N distributions, unique names) cannot be checked with a
// row lock because the row that would break them does not exist yet. SQLite's BEGIN IMMEDIATE already
// serialises all writers; PostgreSQL takes a transaction-scoped advisory lock on the account id. Take it
// first in the transaction, before any other lock, so lock order is the same everywhere.
func (tx *Tx) LockAccount(ctx context.Context, accountID string) error {
	if tx.d.name != DriverPostgres {
		return nil
	}
	if _, err := tx.exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", "account:"+accountID); err != nil {
		return fmt.Errorf("store: lock account: %w", err)
	}
	return nil
}

// LockAlternativeDomainNames serialises, until the transaction ends, the transactions that check or
// change which distribution serves an alternative domain name: the rule (a name is served by one
// distribution, whatever the account) spans every account, so no row lock can hold it. SQLite's BEGIN
// IMMEDIATE already serialises all writers; PostgreSQL takes a transaction-scoped advisory lock. Take
// it after LockAccount and before row locks.
func (tx *Tx) LockAlternativeDomainNames(ctx context.Context) error {
	if tx.d.name != DriverPostgres {
		return nil
	}
	if _, err := tx.exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", "alternative-domain-names"); err != nil {
		return fmt.Errorf("store: lock alternative domain names: %w", err)
	}
	return nil
}
