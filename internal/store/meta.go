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
