package store

import (
	"errors"
	"fmt"

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
