package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Migrations live in migrations/ and are compiled into the binary.
//
// File names: NNNN_name.sql holds SQL valid in BOTH dialects. When one migration cannot be written that
// way, it is split into NNNN_name.sqlite.sql and NNNN_name.postgres.sql (both must exist) — that
// migration only. Versions start at 1 and have no gaps. A migration is never edited once released:
// add a new one.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string // file name, recorded in schema_migrations
	sql     string
}

// migrationLockKey serialises concurrent migrators on PostgreSQL (two sailcdn processes starting at
// once). Any constant works; this one is "sailcdn" in ASCII.
const migrationLockKey = 0x7361696c63646e

const createSchemaMigrations = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// migrate applies every pending migration, each in its own transaction together with its
// schema_migrations row, so a crash leaves either all of a migration or none of it (both engines
// have transactional DDL).
func migrate(ctx context.Context, db *sql.DB, d dialect) error {
	ms, err := loadMigrations(migrationFiles, d.name)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if err := applyMigration(ctx, db, d, m); err != nil {
			return err
		}
	}
	var newest sql.NullInt64
	if err := db.QueryRowContext(ctx, "SELECT MAX(version) FROM schema_migrations").Scan(&newest); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	// An older binary must not run against a schema it does not know: it could write rows that a newer
	// migration's constraints or defaults were meant to govern.
	if newest.Int64 > int64(len(ms)) {
		return fmt.Errorf("store: database schema is at version %d but this binary knows only %d", newest.Int64, len(ms))
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, d dialect, m migration) (err error) {
	tx, err := db.BeginTx(ctx, d.writeTxOptions())
	if err != nil {
		return fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	// SQLite: the transaction is BEGIN IMMEDIATE, so it already excludes other migrators. PostgreSQL:
	// take a transaction-scoped advisory lock BEFORE creating schema_migrations, because two concurrent
	// CREATE TABLE IF NOT EXISTS can still collide in the catalog.
	if d.name == DriverPostgres {
		if _, err = tx.ExecContext(ctx, d.rebind("SELECT pg_advisory_xact_lock(?)"), int64(migrationLockKey)); err != nil {
			return fmt.Errorf("store: migration lock: %w", err)
		}
	}
	if _, err = tx.ExecContext(ctx, createSchemaMigrations); err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	var applied int
	err = tx.QueryRowContext(ctx, d.rebind("SELECT COUNT(*) FROM schema_migrations WHERE version = ?"), m.version).Scan(&applied)
	if err != nil {
		return fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	if applied > 0 {
		return tx.Rollback()
	}
	if _, err = tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	// applied_at is bookkeeping for operators, not a business time, so it reads the wall clock.
	_, err = tx.ExecContext(ctx, d.rebind("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)"),
		m.version, m.name, time.Now().UnixMicro())
	if err != nil {
		return fmt.Errorf("store: migration %s: %w", m.name, err)
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("store: migration %s: commit: %w", m.name, err)
	}
	return nil
}

// loadMigrations returns the migrations for dialect name, ordered by version.
func loadMigrations(fsys fs.FS, dialectName string) ([]migration, error) {
	paths, err := fs.Glob(fsys, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	type variants struct {
		shared, sqlite, postgres string // file paths
	}
	byVersion := map[int]*variants{}
	for _, p := range paths {
		version, variant, err := parseMigrationName(path.Base(p))
		if err != nil {
			return nil, err
		}
		v := byVersion[version]
		if v == nil {
			v = &variants{}
			byVersion[version] = v
		}
		slot := map[string]*string{"": &v.shared, DriverSQLite: &v.sqlite, DriverPostgres: &v.postgres}[variant]
		if *slot != "" {
			return nil, fmt.Errorf("store: migrations %s and %s have the same version", *slot, p)
		}
		*slot = p
	}
	versions := make([]int, 0, len(byVersion))
	for version := range byVersion {
		versions = append(versions, version)
	}
	sort.Ints(versions)
	ms := make([]migration, 0, len(versions))
	for i, version := range versions {
		if version != i+1 {
			return nil, fmt.Errorf("store: migration versions must be 1..n without gaps; version %d is missing", i+1)
		}
		v := byVersion[version]
		p := v.shared
		switch {
		case v.shared != "" && (v.sqlite != "" || v.postgres != ""):
			return nil, fmt.Errorf("store: migration %d has both a shared file and per-dialect files", version)
		case v.shared == "" && (v.sqlite == "" || v.postgres == ""):
			return nil, fmt.Errorf("store: migration %d needs both a .sqlite.sql and a .postgres.sql file", version)
		case v.shared == "" && dialectName == DriverSQLite:
			p = v.sqlite
		case v.shared == "":
			p = v.postgres
		}
		body, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: version, name: path.Base(p), sql: string(body)})
	}
	return ms, nil
}

// parseMigrationName splits "0002_collation.postgres.sql" into 2 and "postgres" ("" for shared files).
func parseMigrationName(name string) (version int, variant string, err error) {
	stem, ok := strings.CutSuffix(name, ".sql")
	digits, rest, ok2 := strings.Cut(stem, "_")
	if !ok || !ok2 || rest == "" || digits == "" {
		return 0, "", fmt.Errorf("store: migration file %q: want NNNN_name.sql", name)
	}
	version, err = strconv.Atoi(digits)
	if err != nil || version <= 0 {
		return 0, "", errors.Join(fmt.Errorf("store: migration file %q: version must be a positive number", name), err)
	}
	for _, d := range []string{DriverSQLite, DriverPostgres} {
		if strings.HasSuffix(rest, "."+d) {
			return version, d, nil
		}
	}
	return version, "", nil
}
