package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
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
	GetOperation(ctx context.Context, p Place, id string) (*Operation, error)
	ListOperations(ctx context.Context, p Place, afterSeq int64, limit int) ([]Operation, error)
	ListOperationsForResource(ctx context.Context, p Place, resourceName string, afterSeq int64, limit int) ([]Operation, error)
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
	// stmts are the prepared statements of the pool q runs on; tx is set when q is a transaction, whose
	// statements are the pool's bound to it. nil stmts: every statement is prepared anew.
	stmts *stmtCache
	tx    *sql.Tx
}

func (r queries) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := r.prepared(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return r.q.QueryContext(ctx, r.d.rebind(query), args...)
}

func (r queries) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	// A single-row read is over in microseconds; a cancellable context costs more than that with
	// modernc's SQLite (a watcher goroutine and a progress handler per statement), and cancelling
	// would save nothing.
	ctx = context.WithoutCancel(ctx)
	if st := r.prepared(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return r.q.QueryRowContext(ctx, r.d.rebind(query), args...)
}

func (r queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := r.prepared(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return r.q.ExecContext(ctx, r.d.rebind(query), args...)
}

// prepared returns query's prepared statement on r's pool, bound to r's transaction if there is one;
// nil when it is not available (the statement then runs unprepared and reports its own errors).
func (r queries) prepared(ctx context.Context, query string) *sql.Stmt {
	if r.stmts == nil {
		return nil
	}
	if r.tx == nil {
		return r.stmts.get(ctx, query)
	}
	st := r.stmts.lookup(query)
	if st == nil {
		// Preparing on the pool now would wait for a free connection, and SQLite's writer pool has
		// exactly one, which this transaction holds: the statement is prepared before the next
		// transaction begins instead (prepareWanted).
		r.stmts.want.Store(query, struct{}{})
		return nil
	}
	// Tx.StmtContext reuses the statement already prepared on the transaction's connection (SQLite's
	// single writer always has it), so this costs no parse either.
	return r.tx.StmtContext(ctx, st)
}

// stmtCache holds one prepared statement per distinct query text of a pool. Parsing and planning a
// statement is most of the cost of a short read: the profile of signed GetDistributions on SQLite
// (docs/benchmarks.md) spent 19 % of the server's CPU in sqlite3_prepare_v2, parsing the same SELECT
// again on every request. database/sql prepares a *sql.Stmt lazily on each connection it runs on and
// keeps it there. The texts are the store's own constants (values are always bound), so the cache is
// bounded by the number of queries in this package.
type stmtCache struct {
	pool *sql.DB
	d    dialect
	m    sync.Map // query text (with "?" placeholders) → *sql.Stmt
	want sync.Map // query texts a transaction ran unprepared → struct{}
}

func (c *stmtCache) lookup(query string) *sql.Stmt {
	if v, ok := c.m.Load(query); ok {
		return v.(*sql.Stmt)
	}
	return nil
}

// get returns the statement, preparing it on the pool when needed; nil if preparing failed.
func (c *stmtCache) get(ctx context.Context, query string) *sql.Stmt {
	if st := c.lookup(query); st != nil {
		return st
	}
	st, err := c.pool.PrepareContext(ctx, c.d.rebind(query))
	if err != nil {
		return nil
	}
	if prev, loaded := c.m.LoadOrStore(query, st); loaded {
		st.Close()
		return prev.(*sql.Stmt)
	}
	return st
}

// prepareWanted prepares the statements transactions asked for. Call it while no transaction of this
// goroutine holds a connection of the pool.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.want.Range(func(k, _ any) bool {
		c.want.Delete(k)
		c.get(ctx, k.(string))
		return true
	})
}

// close closes every cached statement.
func (c *stmtCache) close() {
	c.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		c.m.Delete(k)
		return true
	})
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// one scans a single row, turning "no rows" into ErrNotFound. what and key name the row in errors
// (the message is only built on failure: reads are the API's hot path).
func one[T any](row *sql.Row, scan func(scanner) (T, error), what, key string) (*T, error) {
	v, err := scan(row)
	if err == nil {
		return &v, nil
	}
	if key != "" {
		what = fmt.Sprintf("%s %q", what, key)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return nil, fmt.Errorf("store: %s: %w", what, err)
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
