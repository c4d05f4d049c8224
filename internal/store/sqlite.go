package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Connection parameters understood by modernc.org/sqlite (see its Driver documentation). Every
// connection gets them; modernc applies busy_timeout first so the others cannot fail on a lock.
const (
	// busy_timeout: wait up to 5 s for another process's lock instead of failing at once with
	// SQLITE_BUSY; DB.Tx retries if even that is not enough.
	// _dqs=0: refuse double-quoted string literals, a SQLite-only quirk (https://sqlite.org/quirks.html#dblquote)
	// that would let SQL pass here and then fail on PostgreSQL.
	sqliteCommonParams = "_busy_timeout=5000&_dqs=0"

	// The writer additionally gets:
	//   journal_mode=WAL  readers never block the writer nor the writer them (https://sqlite.org/wal.html).
	//   synchronous=FULL  in WAL mode, FULL syncs the WAL on every commit, so an acknowledged commit
	//                     survives power loss, not only a process crash (https://sqlite.org/pragma.html#pragma_synchronous).
	//   foreign_keys=on   off by default in SQLite for backwards compatibility (https://sqlite.org/foreignkeys.html §2).
	//   _txlock=immediate every BEGIN is BEGIN IMMEDIATE: take the write lock when the transaction starts,
	//                     so a read-then-write transaction can never fail half way through with SQLITE_BUSY
	//                     trying to upgrade its read lock while another connection writes
	//                     (https://sqlite.org/lang_transaction.html §2.1). modernc honours it for every
	//                     non-read-only BeginTx (modernc.org/sqlite tx.go, newTx).
	sqliteWriterParams = "_journal_mode=WAL&_synchronous=FULL&_foreign_keys=on&_txlock=immediate"

	// Readers only read; query_only turns an accidental write into an error instead of a lock fight.
	sqliteReaderParams = "_query_only=on"

	// sqliteReaders caps the read pool. WAL allows any number of concurrent readers; each connection
	// costs a page cache (about 2 MiB by default), and the API's reads are short, so a handful suffices.
	sqliteReaders = 4
)

// openSQLite opens two pools over one database file.
//
// Writer: exactly ONE connection. SQLite has a single write lock per database, so more writer
// connections in one process would only queue inside SQLite's busy handler (sleep-and-poll) instead
// of in database/sql's pool, which hands the connection over as soon as it is free, honours context
// cancellation and never fails with SQLITE_BUSY. Writers in OTHER processes still contend through the
// file lock, which busy_timeout and DB.Tx's retry absorb.
//
// Readers: a small pool of read-only connections, because WAL lets reads proceed concurrently with the
// writer and with each other.
func openSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: sqlite DSN (a database file path) is required")
	}
	if path == ":memory:" || strings.Contains(path, "mode=memory") {
		return nil, errors.New("store: sqlite in-memory databases are not supported (each pooled connection would get its own); use a file, e.g. in a temporary directory")
	}
	base, extra, _ := strings.Cut(path, "?")
	if extra != "" {
		// The caller's parameters come first: modernc takes the first value of a repeated key.
		extra += "&"
	}
	open := func(params string) (*sql.DB, error) {
		return sql.Open("sqlite", base+"?"+extra+sqliteCommonParams+"&"+params)
	}

	write, err := open(sqliteWriterParams)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite %s: %w", base, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	read, err := open(sqliteReaderParams)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open sqlite %s: %w", base, err)
	}
	read.SetMaxOpenConns(sqliteReaders)
	read.SetMaxIdleConns(sqliteReaders)

	db := &DB{dialect: dialect{name: DriverSQLite}, write: write, read: read}
	// The writer must be open (and the file in WAL mode) before any reader connects.
	if err := checkSQLiteDurability(ctx, write); err != nil {
		db.Close()
		return nil, err
	}
	// The cache watches the -shm file SQLite itself uses: the one beside the database file as SQLite
	// names it after resolving symbolic links (os_unix.c, unixFullPathname), which the DSN's path need
	// not be. A -shm file found by the DSN's spelling could be a stale one, whose header never changes.
	file, err := sqliteMainFile(ctx, write)
	if err != nil {
		db.Close()
		return nil, err
	}
	db.rowCache = newRowCache(file)
	return db, nil
}

// sqliteMainFile is the file of the main database as SQLite resolved it (PRAGMA database_list).
func sqliteMainFile(ctx context.Context, write *sql.DB) (string, error) {
	rows, err := write.QueryContext(ctx, "PRAGMA database_list")
	if err != nil {
		return "", fmt.Errorf("store: open sqlite: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			seq        int
			name, file string
		)
		if err := rows.Scan(&seq, &name, &file); err != nil {
			return "", fmt.Errorf("store: open sqlite: %w", err)
		}
		if name == "main" {
			return file, nil
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("store: open sqlite: %w", err)
	}
	return "", errors.New("store: open sqlite: PRAGMA database_list names no main database")
}

// checkSQLiteDurability fails Open unless the writer really runs in WAL mode with synchronous=FULL:
// a caller's DSN parameters could override them, and a silent downgrade would lose acknowledged writes.
func checkSQLiteDurability(ctx context.Context, write *sql.DB) error {
	var mode string
	if err := write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	var syncLevel int
	if err := write.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncLevel); err != nil {
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	// synchronous: 2 = FULL, 3 = EXTRA (https://sqlite.org/pragma.html#pragma_synchronous).
	if !strings.EqualFold(mode, "wal") || syncLevel < 2 {
		return fmt.Errorf("store: open sqlite: need journal_mode=wal and synchronous>=FULL, got %s and %d", mode, syncLevel)
	}
	return nil
}
