package sailtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, to create per-test schemas

	"github.com/sailcdn/sailcdn/internal/store"
)

// PostgresDSNEnv names the environment variable that, when set, makes tests also run on PostgreSQL
// (scripts/test.sh starts a private cluster and sets it).
const PostgresDSNEnv = "SAILCDN_TEST_POSTGRES_DSN"

// Backend is a store configuration for one test.
type Backend struct {
	Name   string
	Config func(t testing.TB) store.Config
}

// Backends lists SQLite always and PostgreSQL when PostgresDSNEnv is set.
func Backends() []Backend {
	b := []Backend{{Name: "sqlite", Config: func(t testing.TB) store.Config {
		return store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(t.TempDir(), "sailcdn.db")}
	}}}
	if dsn := os.Getenv(PostgresDSNEnv); dsn != "" {
		b = append(b, Backend{Name: "postgres", Config: func(t testing.TB) store.Config {
			return store.Config{Driver: store.DriverPostgres, DSN: freshSchema(t, dsn)}
		}})
	}
	return b
}

// WithBackend makes New use b's store.
func WithBackend(b Backend) Option {
	return func(c *Config) { c.backend = &b }
}

// PostgresSchema is freshSchema for tests outside this package (a process-level test hands the DSN to
// child servers).
func PostgresSchema(t testing.TB, dsn string) string { return freshSchema(t, dsn) }

// freshSchema creates an empty schema for one test and returns dsn with search_path pointing at it;
// the schema is dropped when the test ends. Cheaper than CREATE DATABASE per test.
func freshSchema(t testing.TB, dsn string) string {
	t.Helper()
	var buf [6]byte
	_, _ = rand.Read(buf[:])
	schema := "t_" + hex.EncodeToString(buf[:])
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	if u, err := url.Parse(dsn); err == nil && strings.Contains(dsn, "://") {
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " search_path=" + schema
}
