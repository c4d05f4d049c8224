package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// querier is what both *sql.DB and *sql.Tx offer; every read is written once against it and is
// therefore available on *DB (read pool, latest committed state) and on *Tx (inside the transaction,
// seeing its own uncommitted writes).
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

var (
	_ querier = (*sql.DB)(nil)
	_ querier = (*sql.Tx)(nil)
)

// Reader is the read API, offered by *DB (latest committed state) and by *Tx (inside the transaction).
// Code that only reads can accept either.
type Reader interface {
	GetDistribution(ctx context.Context, accountID, name string) (*Distribution, error)
	GetDistributionByID(ctx context.Context, id string) (*Distribution, error)
	ListDistributions(ctx context.Context, accountID, afterName string, limit int) ([]Distribution, error)
	CountDistributions(ctx context.Context, accountID string) (int, error)
	ListLiveDistributions(ctx context.Context) ([]Distribution, error)
	ListAllDistributions(ctx context.Context, accountID string) ([]Distribution, error)
	ConfigGeneration(ctx context.Context) (int64, error)
	LiveEdges(ctx context.Context, timeout time.Duration) (EdgeFleet, error)
	ListEdges(ctx context.Context) ([]EdgeNode, error)
	GetOperation(ctx context.Context, accountID, id string) (*Operation, error)
	ListOperations(ctx context.Context, accountID string, afterSeq int64, limit int) ([]Operation, error)
	ListOperationsForResource(ctx context.Context, accountID, resourceName string, afterSeq int64, limit int) ([]Operation, error)
	GetOrigin(ctx context.Context, region, name string) (*Origin, error)
	ListOrigins(ctx context.Context) ([]Origin, error)
	LatestCacheReset(ctx context.Context, accountID, distributionID string) (*CacheReset, error)
	ListBundleChanges(ctx context.Context, distributionID string) ([]BundleChange, error)
	QueryUsage(ctx context.Context, distributionID string, from, to int64) ([]UsageDelta, error)
	GetCertificate(ctx context.Context, accountID, name string) (*Certificate, error)
	ListCertificates(ctx context.Context, accountID, afterName string, limit int) ([]Certificate, error)
	DueCertificates(ctx context.Context, now time.Time, limit int) ([]Certificate, error)
	GetPKI(ctx context.Context, name string) (*PKIEntry, error)
}

var (
	_ Reader = (*DB)(nil)
	_ Reader = (*Tx)(nil)
)

// queries holds the read methods shared by DB and Tx (promoted through embedding).
type queries struct {
	q querier
	d dialect
}

func (r queries) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return r.q.QueryContext(ctx, r.d.rebind(query), args...)
}

func (r queries) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, r.d.rebind(query), args...)
}

func (r queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return r.q.ExecContext(ctx, r.d.rebind(query), args...)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// one scans a single row, turning "no rows" into ErrNotFound.
func one[T any](row *sql.Row, scan func(scanner) (T, error), what string) (*T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return &v, nil
}

// all scans every row.
func all[T any](rows *sql.Rows, err error, scan func(scanner) (T, error), what string) ([]T, error) {
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return out, nil
}

// withLimit appends a LIMIT clause when limit > 0 (limit <= 0 means "all rows"). The clause is
// appended rather than passed as LIMIT -1, which only SQLite understands.
func withLimit(query string, args []any, limit int) (string, []any) {
	if limit <= 0 {
		return query, args
	}
	return query + " LIMIT ?", append(args, limit)
}

// requireRow turns an UPDATE that matched no row into ErrNotFound.
func requireRow(res sql.Result, what string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return nil
}

// configText stores opaque JSON as TEXT: one column type valid in both engines (SQLite BLOB and
// PostgreSQL BYTEA differ). The control plane writes JSON, which is valid UTF-8 without NUL bytes,
// the only constraint PostgreSQL puts on TEXT.
func configText(b []byte) string { return string(b) }

func configBytes(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}
