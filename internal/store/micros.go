package store

import (
	"database/sql"
	"time"
)

// Times are stored as BIGINT unix microseconds. Integer columns compare and sort the same in both
// engines, need no driver-specific time parsing, and pin the precision both agree on: PostgreSQL's
// timestamps stop at microseconds, so nanoseconds would round-trip on SQLite only.
// The zero time.Time is stored as its own (large negative) value and reads back as the zero value.

func toMicros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// normalize returns t as the store will read it back: UTC, truncated to the microsecond. Writes apply
// it to the caller's struct so that what was written equals what a later read returns.
func normalize(t time.Time) time.Time { return fromMicros(toMicros(t)) }

func normalizePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	n := normalize(*t)
	return &n
}

func toNullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: toMicros(*t), Valid: true}
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}
