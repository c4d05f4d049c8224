package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// postgresDSNEnv names the PostgreSQL database the tests may use; when unset, only SQLite runs.
// scripts/pg-test-env.sh starts a private cluster and prints a suitable DSN.
const postgresDSNEnv = "SAILCDN_TEST_POSTGRES_DSN"

// forEachBackend runs fn once per backend, each time against a fresh, migrated, empty database:
// SQLite in t.TempDir() always, PostgreSQL in a schema of its own when SAILCDN_TEST_POSTGRES_DSN is set.
func forEachBackend(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	forEachBackendConfig(t, func(t *testing.T, cfg Config) {
		db, err := Open(testContext(t), cfg)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		fn(t, db)
	})
}

// forEachBackendConfig is forEachBackend for tests that open (and reopen) the database themselves.
func forEachBackendConfig(t *testing.T, fn func(t *testing.T, cfg Config)) {
	t.Helper()
	t.Run(DriverSQLite, func(t *testing.T) {
		t.Parallel()
		fn(t, Config{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "sailcdn.db")})
	})
	t.Run(DriverPostgres, func(t *testing.T) {
		dsn := os.Getenv(postgresDSNEnv)
		if dsn == "" {
			t.Skipf("%s not set (scripts/pg-test-env.sh starts a throwaway cluster)", postgresDSNEnv)
		}
		t.Parallel()
		fn(t, Config{Driver: DriverPostgres, DSN: postgresTestSchema(t, dsn)})
	})
}

var (
	pgAdminOnce sync.Once
	pgAdmin     *sql.DB
	pgAdminErr  error
)

// postgresTestSchema creates a schema private to t, dropped on cleanup, and returns a DSN whose
// search_path points at it: every test gets an empty database without paying for CREATE DATABASE.
func postgresTestSchema(t *testing.T, dsn string) string {
	t.Helper()
	pgAdminOnce.Do(func() {
		pgAdmin, pgAdminErr = sql.Open("pgx", dsn)
	})
	if pgAdminErr != nil {
		t.Fatalf("open postgres admin connection: %v", pgAdminErr)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	ctx := testContext(t)
	if _, err := pgAdmin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := pgAdmin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("parse %s: %v", postgresDSNEnv, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// testTime is a fixed instant with nanoseconds and a non-UTC zone, so every round trip also checks
// the microsecond truncation and the conversion to UTC.
var testTime = time.Date(2026, 4, 15, 10, 30, 0, 123456789, time.FixedZone("CEST", 2*3600))

// mustTx runs fn in db.Tx and fails the test on error.
func mustTx(t *testing.T, db *DB, fn func(tx *Tx) error) {
	t.Helper()
	if err := db.Tx(testContext(t), fn); err != nil {
		t.Fatalf("Tx: %v", err)
	}
}

// newDistribution returns a fully populated distribution for account/name.
func newDistribution(account, name string) *Distribution {
	return &Distribution{
		AccountID:    account,
		Name:         name,
		DomainName:   "d" + name + account + ".cloudfront.test",
		BundleID:     "small_1_0",
		IsEnabled:    true,
		CreatedAt:    testTime,
		UpdatedAt:    testTime.Add(time.Second),
		DeployedAt:   testTime.Add(time.Minute),
		CacheResetAt: time.Time{},
		Config:       []byte(`{"origin":{"name":"web","regionName":"us-east-1"}}`),
	}
}

func insertDistribution(t *testing.T, db *DB, d *Distribution) *Distribution {
	t.Helper()
	mustTx(t, db, func(tx *Tx) error { return tx.InsertDistribution(testContext(t), d) })
	return d
}
