package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// metaClockOffset names the meta row holding the server clock's offset from the wall clock.
const metaClockOffset = "clock_offset_ns"

// ClockOffset returns the server clock's offset from the wall clock as last saved by SetClockOffset
// (0 if it was never moved). Kept in the database so that a restarted process, and every process
// sharing the database, reads the same "now" for billing cycles.
func (r queries) ClockOffset(ctx context.Context) (time.Duration, error) {
	var ns int64
	err := r.queryRow(ctx, "SELECT value FROM meta WHERE name = ?", metaClockOffset).Scan(&ns)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: clock offset: %w", err)
	}
	return time.Duration(ns), nil
}

// SetClockOffset saves the server clock's offset from the wall clock.
func (db *DB) SetClockOffset(ctx context.Context, d time.Duration) error {
	return db.Tx(ctx, func(tx *Tx) error {
		_, err := tx.exec(ctx, "INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value",
			metaClockOffset, int64(d))
		if err != nil {
			return fmt.Errorf("store: set clock offset: %w", err)
		}
		return nil
	})
}
