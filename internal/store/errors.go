package store

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Driver error classification, by error code (never by message), for both drivers in one place.
// Both drivers are always linked in, so each check simply tries both error types.

// PostgreSQL SQLSTATEs (PostgreSQL docs, Appendix A "PostgreSQL Error Codes").
const (
	pgUniqueViolation      = "23505"
	pgForeignKeyViolation  = "23503"
	pgSerializationFailure = "40001"
	pgDeadlockDetected     = "40P01"
)

func sqliteCode(err error) (int, bool) {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code(), true
	}
	return 0, false
}

func pgCode(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code, true
	}
	return "", false
}

// isUniqueViolation reports a UNIQUE or PRIMARY KEY constraint failure.
func isUniqueViolation(err error) bool {
	if c, ok := sqliteCode(err); ok {
		return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	c, ok := pgCode(err)
	return ok && c == pgUniqueViolation
}

// isForeignKeyViolation reports a row that references a distribution that does not exist.
func isForeignKeyViolation(err error) bool {
	if c, ok := sqliteCode(err); ok {
		return c == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	c, ok := pgCode(err)
	return ok && c == pgForeignKeyViolation
}

// isRetryable reports errors after which the whole transaction may simply be run again: SQLite's
// SQLITE_BUSY (another process held the write lock past busy_timeout; extended codes share the low
// byte, https://sqlite.org/rescode.html), PostgreSQL's serialization failure and deadlock (the server
// already rolled back; the docs §13.6 recommend retrying), and a Version conflict detected by the store.
func isRetryable(err error) bool {
	var vc *versionConflict
	if errors.As(err, &vc) {
		return true
	}
	if c, ok := sqliteCode(err); ok {
		return c&0xff == sqlite3.SQLITE_BUSY
	}
	c, ok := pgCode(err)
	return ok && (c == pgSerializationFailure || c == pgDeadlockDetected)
}

// Unavailable reports whether err says that the database could not be reached or went away, as
// opposed to refusing a statement: a connection refused, reset or cut short, a timeout on the network,
// a PostgreSQL server shutting down, starting up or out of connections, a database/sql connection gone
// bad; for SQLite, an I/O error, a full disk or a file it cannot open. Whoever gets it answers "try
// again later" and retries with backoff; nothing about the request itself was wrong.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if c, ok := pgCode(err); ok {
		// Class 08 "Connection Exception"; 57P01 admin_shutdown, 57P02 crash_shutdown,
		// 57P03 cannot_connect_now; 53300 too_many_connections (PostgreSQL docs, Appendix A).
		return strings.HasPrefix(c, "08") || c == "57P01" || c == "57P02" || c == "57P03" || c == "53300"
	}
	if c, ok := sqliteCode(err); ok {
		switch c & 0xff {
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN:
			return true
		}
		return false
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) || pgconn.Timeout(err) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// mapWriteError turns constraint failures of either driver into the store's sentinels.
func mapWriteError(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		return fmt.Errorf("store: %s: %w (%w)", what, ErrExists, err)
	case isForeignKeyViolation(err):
		return fmt.Errorf("store: %s: referenced distribution: %w (%w)", what, ErrNotFound, err)
	}
	return fmt.Errorf("store: %s: %w", what, err)
}

// versionConflict is returned when an UPDATE finds the row at another Version than the caller read.
// It wraps ErrConflict for callers and marks the transaction as worth re-running: fn reads again.
type versionConflict struct {
	what            string
	id              string
	version, actual int64
}

func (e *versionConflict) Error() string {
	return fmt.Sprintf("store: %s %s: version %d was read but the row is at %d: %v", e.what, e.id, e.version, e.actual, ErrConflict)
}

func (e *versionConflict) Unwrap() error { return ErrConflict }
