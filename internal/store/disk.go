package store

import (
	"path/filepath"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"
)

// DiskState says what is wrong with the filesystem under an SQLite database, for an error that
// tells its callers more than "the database is unavailable" (issue 9's data-directory drill).
type DiskState int

const (
	DiskOK       DiskState = iota // nothing seen wrong, or not SQLite
	DiskFull                      // no space left
	DiskReadOnly                  // the filesystem (or the file) refuses writes
)

// lowSpace is what counts as full: SQLite needs a few pages for a commit (WAL frames, a checkpoint),
// so a filesystem with less than this free cannot take a write even when statfs shows some room.
const lowSpace = 256 << 10

// Disk classifies err from the store opened with cfg. SQLite reports a full disk as SQLITE_FULL and a
// database file it may not write as SQLITE_READONLY, but a filesystem turned read-only under an open
// file (ext4's errors=remount-ro, a failing disk) only as SQLITE_IOERR_WRITE; for I/O errors the
// filesystem of the database file is asked (statfs) whether it is read-only or out of space.
func (cfg Config) Disk(err error) DiskState {
	if cfg.Driver != "" && cfg.Driver != DriverSQLite {
		return DiskOK
	}
	c, ok := sqliteCode(err)
	if !ok {
		return DiskOK
	}
	switch c & 0xff {
	case sqlite3.SQLITE_FULL:
		return DiskFull
	case sqlite3.SQLITE_READONLY:
		return DiskReadOnly
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		path, _, _ := strings.Cut(strings.TrimPrefix(cfg.DSN, "file:"), "?")
		return statDisk(filepath.Dir(path))
	}
	return DiskOK
}
