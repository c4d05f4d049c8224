package store

import (
	"context"
	"fmt"
)

// Counters in the meta table (migrations/0001_init.sql).
const (
	metaConfigGeneration = "config_generation"
	metaOperationSeq     = "operation_seq"
	metaCacheResetSeq    = "cache_reset_seq"
	metaBundleChangeSeq  = "bundle_change_seq"
)

// ConfigGeneration returns a counter that grows whenever a transaction that wrote distributions
// (insert, update, delete), an issued certificate or the pki table commits. The edge polls it — cheaply, and across processes — and reloads
// ListLiveDistributions when it changes. It is bumped once per such transaction, not once per row.
func (r queries) ConfigGeneration(ctx context.Context) (int64, error) {
	var gen int64
	if err := r.queryRow(ctx, "SELECT value FROM meta WHERE name = ?", metaConfigGeneration).Scan(&gen); err != nil {
		return 0, fmt.Errorf("store: config generation: %w", err)
	}
	return gen, nil
}

// bumpConfigGeneration runs just before commit rather than at each distribution write. On PostgreSQL
// the UPDATE locks the counter's row until commit; taking that lock last, after every row lock fn took,
// means two transactions can never wait on each other through it (no deadlock), and it is held only for
// the commit itself.
func (tx *Tx) bumpConfigGeneration(ctx context.Context) error {
	if _, err := tx.exec(ctx, "UPDATE meta SET value = value + 1 WHERE name = ?", metaConfigGeneration); err != nil {
		return fmt.Errorf("store: bump config generation: %w", err)
	}
	return nil
}

// nextSeq draws the next value of a meta counter. A counter row, unlike an auto-increment column
// (whose syntax differs between the engines anyway), is locked until commit on PostgreSQL, so
// sequence numbers are handed out in commit order: a reader paging with "seq > last seen" can never
// miss a row that commits late with a smaller number. UPDATE ... RETURNING needs SQLite >= 3.35.
func (tx *Tx) nextSeq(ctx context.Context, counter string) (int64, error) {
	var seq int64
	err := tx.queryRow(ctx, "UPDATE meta SET value = value + 1 WHERE name = ? RETURNING value", counter).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("store: next %s: %w", counter, err)
	}
	return seq, nil
}

// LiveDistributions returns every live distribution together with the ConfigGeneration they reflect,
// both read from one snapshot: an edge that loads with it and later sees a larger generation knows
// its copy is stale, with no window in which a change could slip between the two reads.
func (db *DB) LiveDistributions(ctx context.Context) (int64, []Distribution, error) {
	sqlTx, err := db.read.BeginTx(ctx, db.dialect.snapshotTxOptions())
	if err != nil {
		return 0, nil, fmt.Errorf("store: live distributions: %w", err)
	}
	defer sqlTx.Rollback()
	r := queries{q: sqlTx, d: db.dialect}
	gen, err := r.ConfigGeneration(ctx)
	if err != nil {
		return 0, nil, err
	}
	ds, err := r.ListLiveDistributions(ctx)
	if err != nil {
		return 0, nil, err
	}
	return gen, ds, nil
}
