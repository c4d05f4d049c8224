package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
)

// postgresMaxConns caps the PostgreSQL pool. Each server connection is a backend process, and several
// sailcdn processes may share one server, so the cap stays well under the server's default
// max_connections (100). Transactions that wait on a row lock hold a connection while they wait.
const postgresMaxConns = 16

// openPostgres opens one pool that serves both reads and transactions: PostgreSQL has row-level locks
// and MVCC, so there is no single-writer constraint to model.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	if dsn == "" {
		return nil, errors.New("store: postgres DSN is required")
	}
	pool, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	pool.SetMaxOpenConns(postgresMaxConns)
	pool.SetMaxIdleConns(postgresMaxConns / 4)
	// Recycle idle connections so a server restart or failover does not leave stale ones behind.
	pool.SetConnMaxIdleTime(5 * time.Minute)
	// The schema names the change channel (changes.go); reading it is also the ping.
	var schema sql.NullString
	if err := pool.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		pool.Close()
		// The DSN may hold a password: never echo it.
		return nil, fmt.Errorf("store: ping postgres: %w", err)
	}
	return &DB{dialect: dialect{name: DriverPostgres}, write: pool, read: pool, dsn: dsn, channel: changeChannel(schema.String)}, nil
}
