// Package store owns sailcdn's persistent state: one *DB over database/sql that runs the same SQL on
// embedded SQLite (modernc.org/sqlite, the default) and on PostgreSQL (pgx's stdlib driver), with
// versioned migrations embedded in the binary and sentinel errors (ErrNotFound, ErrExists, ErrConflict).
//
// Queries are written once with "?" placeholders; the dialect rebinds them to "$n" for PostgreSQL in
// one place (dialect.go). Times are stored as BIGINT unix microseconds so both engines round-trip them
// identically. Business rules live in the control plane; the store only guarantees that a rule checked
// inside DB.Tx holds across every process sharing the database.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/sailcdn/sailcdn/internal/backoff"
)

// Sentinel errors. Every method wraps them with %w, so callers test with errors.Is, never on text.
var (
	// ErrNotFound: no live row matches (or, for writes by id, the row is gone or soft-deleted).
	ErrNotFound = errors.New("store: not found")
	// ErrExists: a live row already holds the unique name or domain.
	ErrExists = errors.New("store: already exists")
	// ErrConflict: a concurrent writer won — the row's Version moved since it was read, or the database
	// kept reporting busy/serialization failures after DB.Tx's retries.
	ErrConflict = errors.New("store: conflict")
)

// Drivers accepted in Config.Driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// Config says which database to open.
type Config struct {
	// Driver is "sqlite" (the default when empty) or "postgres".
	Driver string
	// DSN for sqlite is a file path; the store adds WAL, synchronous=FULL, foreign_keys, busy_timeout and
	// BEGIN IMMEDIATE itself (extra "?key=value" parameters are passed through to modernc.org/sqlite).
	// In-memory databases are refused: the store opens several connections and each would see its own.
	// For postgres it is a URL or keyword/value string understood by pgx, e.g.
	// "postgres://user@host:5432/db?sslmode=disable".
	DSN string
}

// DB is the store. Reads on *DB run outside any transaction (each sees the latest committed state);
// writes that must be atomic with reads go through DB.Tx. Safe for concurrent use.
type DB struct {
	queries // reads, served by the read pool

	dialect dialect
	// write runs every transaction. For SQLite it is a pool of exactly one connection (see openSQLite);
	// for PostgreSQL it is the same pool as read.
	write *sql.DB
	// read serves plain reads. For SQLite it is a separate pool of read-only connections, because WAL lets
	// readers proceed while the single writer commits.
	read *sql.DB

	// readStmts and writeStmts are the prepared statements of read and write (one cache when they are
	// the same pool).
	readStmts, writeStmts *stmtCache

	// rowCache caches GetDistribution on SQLite (walwatch.go); nil on PostgreSQL.
	rowCache *rowCache

	// retries counts transactions DB.Tx ran again; tests use it to prove that locking, not retrying,
	// is what keeps concurrent rule checks correct.
	retries atomic.Int64

	// changes signals this process's watchers after each commit that drew a generation (changes.go).
	changes feed
	// channel is the PostgreSQL NOTIFY channel of the store's schema; "" on SQLite.
	channel string
	// dsn opens the change listener's own connection (PostgreSQL).
	dsn string
}

// Open opens the database named by cfg, pings it and applies every pending migration. Several
// processes may open one database at the same moment: on PostgreSQL the migrations serialise on an
// advisory lock; an SQLite file still locked by another process's start after the busy timeout (a new
// file switching to WAL, a migration) is opened again, a few times, with backoff.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	for attempt := 1; ; attempt++ {
		db, err := open(ctx, cfg)
		if err == nil || !isRetryable(err) || attempt == txAttempts {
			return db, err
		}
		if werr := backoff.Sleep(ctx, txBackoff.Delay(attempt)); werr != nil {
			return nil, errors.Join(werr, err)
		}
	}
}

func open(ctx context.Context, cfg Config) (*DB, error) {
	var (
		db  *DB
		err error
	)
	switch cfg.Driver {
	case "", DriverSQLite:
		db, err = openSQLite(ctx, cfg.DSN)
	case DriverPostgres:
		db, err = openPostgres(ctx, cfg.DSN)
	default:
		return nil, fmt.Errorf("store: unknown driver %q (want %q or %q)", cfg.Driver, DriverSQLite, DriverPostgres)
	}
	if err != nil {
		return nil, err
	}
	db.writeStmts = &stmtCache{pool: db.write, d: db.dialect}
	db.readStmts = db.writeStmts
	if db.read != db.write {
		db.readStmts = &stmtCache{pool: db.read, d: db.dialect}
	}
	db.queries = queries{q: db.read, d: db.dialect, stmts: db.readStmts}
	if err := migrate(ctx, db.write, db.dialect); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close closes every pool.
func (db *DB) Close() error {
	if db.rowCache != nil {
		db.rowCache.close()
	}
	if db.writeStmts != nil {
		db.writeStmts.close()
		db.readStmts.close()
	}
	err := db.write.Close()
	if db.read != db.write {
		err = errors.Join(err, db.read.Close())
	}
	return err
}

// Driver reports "sqlite" or "postgres".
func (db *DB) Driver() string { return db.dialect.name }
