package store

import (
	"cmp"
	"context"
	"fmt"
	"slices"
)

// UsageDelta is traffic of one distribution in one minute, as counted by the edge's meter. AddUsage
// adds deltas to the stored totals; QueryUsage returns totals. Bytes are counted at the sockets.
type UsageDelta struct {
	DistributionID string
	Minute         int64 // unix seconds, a multiple of 60: the minute's first second
	Requests       int64
	// BytesToViewers: every byte written to viewers, whatever the method.
	BytesToViewers int64
	// BytesDownloaded: the part of BytesToViewers that answered GET, HEAD and OPTIONS requests (the
	// BytesDownloaded metric).
	BytesDownloaded int64
	// BytesFromViewers: every byte read from viewers.
	BytesFromViewers int64
	// BytesToOrigin: every byte written to origins, whatever the method.
	BytesToOrigin int64
	// BytesUploaded: the part of BytesToOrigin sent for POST and PUT requests (the BytesUploaded
	// metric).
	BytesUploaded int64
	Status4xx     int64
	Status5xx     int64
}

// TransferOut is what counts toward the quota: every byte out, to viewers and to the origin.
func (u *UsageDelta) TransferOut() int64 { return u.BytesToViewers + u.BytesToOrigin }

// Add adds o's counts to u (its distribution and minute are left as they are).
func (u *UsageDelta) Add(o UsageDelta) {
	u.Requests += o.Requests
	u.BytesToViewers += o.BytesToViewers
	u.BytesDownloaded += o.BytesDownloaded
	u.BytesFromViewers += o.BytesFromViewers
	u.BytesToOrigin += o.BytesToOrigin
	u.BytesUploaded += o.BytesUploaded
	u.Status4xx += o.Status4xx
	u.Status5xx += o.Status5xx
}

const usageColumns = "distribution_id, minute, requests, bytes_to_viewers, bytes_downloaded, bytes_from_viewers," +
	" bytes_to_origin, bytes_uploaded, status_4xx, status_5xx"

func scanUsage(s scanner) (UsageDelta, error) {
	var u UsageDelta
	err := s.Scan(&u.DistributionID, &u.Minute, &u.Requests, &u.BytesToViewers, &u.BytesDownloaded, &u.BytesFromViewers,
		&u.BytesToOrigin, &u.BytesUploaded, &u.Status4xx, &u.Status5xx)
	return u, err
}

// QueryUsage returns the distribution's per-minute totals with from <= Minute < to, ordered by minute.
func (r queries) QueryUsage(ctx context.Context, distributionID string, from, to int64) ([]UsageDelta, error) {
	rows, err := r.query(ctx, "SELECT "+usageColumns+
		" FROM usage_minutes WHERE distribution_id = ? AND minute >= ? AND minute < ? ORDER BY minute",
		distributionID, from, to)
	return all(rows, err, scanUsage, "query usage")
}

// HourlyBytesOut is a distribution's data transfer out (UsageDelta.TransferOut) in one clock hour:
// what billing reads.
type HourlyBytesOut struct {
	LastMinute int64 // the hour's last minute with traffic (unix seconds)
	Bytes      int64
}

// QueryHourlyBytesOut sums the transfer out (to viewers and to the origin) per clock hour over
// from <= Minute < to, ordered by hour, leaving out hours without bytes out. Billing needs no finer
// grain, and summing in the database reads one row per hour instead of up to sixty.
func (r queries) QueryHourlyBytesOut(ctx context.Context, distributionID string, from, to int64) ([]HourlyBytesOut, error) {
	rows, err := r.query(ctx, "SELECT MAX(minute), CAST(SUM(bytes_to_viewers + bytes_to_origin) AS BIGINT) FROM usage_minutes"+
		" WHERE distribution_id = ? AND minute >= ? AND minute < ? AND bytes_to_viewers + bytes_to_origin > 0"+
		" GROUP BY minute / 3600 ORDER BY minute / 3600", distributionID, from, to)
	return all(rows, err, func(s scanner) (HourlyBytesOut, error) {
		var h HourlyBytesOut
		err := s.Scan(&h.LastMinute, &h.Bytes)
		return h, err
	}, "query hourly bytes out")
}

// AddUsage adds the deltas to the per-minute totals in one transaction: all of them or none. The
// upsert's "existing + excluded" arithmetic runs in the database, so concurrent AddUsage calls (several
// edge processes) sum exactly. ErrNotFound if a delta names a distribution that does not exist.
// A retried AddUsage adds again; the edge's meter uses AddUsageBatch, which does not.
func (db *DB) AddUsage(ctx context.Context, deltas []UsageDelta) error {
	merged, err := mergeUsage(deltas)
	if err != nil || len(merged) == 0 {
		return err
	}
	return db.Tx(ctx, func(tx *Tx) error { return tx.addUsage(ctx, merged) })
}

// UsageBatchRetention is how long AddUsageBatch remembers a batch id. A batch retried later than this
// after it was applied would be added again; the meter retries within seconds.
const UsageBatchRetention = 7 * 24 * 3600

// AddUsageBatch is AddUsage for a batch with an id, at most once: the id is recorded in the same
// transaction as the deltas, and a batch whose id is already recorded changes nothing and reports
// applied=false. That makes the meter's retry after an ambiguous failure (the COMMIT reached the
// database but its acknowledgement did not reach the edge) exact instead of counting twice. at is the
// batch's time (unix seconds, the meter's clock); ids recorded more than UsageBatchRetention before it
// are pruned in the same transaction.
func (db *DB) AddUsageBatch(ctx context.Context, id string, at int64, deltas []UsageDelta) (applied bool, err error) {
	if id == "" {
		return false, fmt.Errorf("store: add usage batch: empty batch id")
	}
	merged, err := mergeUsage(deltas)
	if err != nil {
		return false, err
	}
	err = db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, "INSERT INTO usage_batches (id, applied_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING", id, at)
		if err != nil {
			return mapWriteError(err, "record usage batch "+id)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: record usage batch %s: %w", id, err)
		} else if n == 0 {
			return nil // applied before
		}
		applied = true
		if _, err := tx.exec(ctx, "DELETE FROM usage_batches WHERE applied_at < ?", at-UsageBatchRetention); err != nil {
			return mapWriteError(err, "prune usage batches")
		}
		return tx.addUsage(ctx, merged)
	})
	if err != nil {
		return false, err
	}
	return applied, nil
}

func (tx *Tx) addUsage(ctx context.Context, merged []UsageDelta) error {
	for _, u := range merged {
		// INSERT ... ON CONFLICT DO UPDATE: SQLite >= 3.24 (https://sqlite.org/lang_upsert.html) and
		// PostgreSQL >= 9.5 share this syntax, including the "excluded" pseudo-table.
		_, err := tx.exec(ctx, "INSERT INTO usage_minutes ("+usageColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"+
			" ON CONFLICT (distribution_id, minute) DO UPDATE SET"+
			" requests = usage_minutes.requests + excluded.requests,"+
			" bytes_to_viewers = usage_minutes.bytes_to_viewers + excluded.bytes_to_viewers,"+
			" bytes_downloaded = usage_minutes.bytes_downloaded + excluded.bytes_downloaded,"+
			" bytes_from_viewers = usage_minutes.bytes_from_viewers + excluded.bytes_from_viewers,"+
			" bytes_to_origin = usage_minutes.bytes_to_origin + excluded.bytes_to_origin,"+
			" bytes_uploaded = usage_minutes.bytes_uploaded + excluded.bytes_uploaded,"+
			" status_4xx = usage_minutes.status_4xx + excluded.status_4xx,"+
			" status_5xx = usage_minutes.status_5xx + excluded.status_5xx",
			u.DistributionID, u.Minute, u.Requests, u.BytesToViewers, u.BytesDownloaded, u.BytesFromViewers,
			u.BytesToOrigin, u.BytesUploaded, u.Status4xx, u.Status5xx)
		if err != nil {
			return mapWriteError(err, fmt.Sprintf("add usage for %q at %d", u.DistributionID, u.Minute))
		}
	}
	return nil
}

// mergeUsage validates the deltas, sums those for the same (distribution, minute) and sorts them.
// The sort matters on PostgreSQL: two AddUsage transactions that lock the same rows in the same order
// queue behind each other instead of deadlocking.
func mergeUsage(deltas []UsageDelta) ([]UsageDelta, error) {
	type key struct {
		id     string
		minute int64
	}
	byKey := make(map[key]int, len(deltas))
	var merged []UsageDelta
	for _, u := range deltas {
		if u.DistributionID == "" || u.Minute%60 != 0 {
			return nil, fmt.Errorf("store: add usage: need a distribution id and a minute that is a multiple of 60, got %q at %d", u.DistributionID, u.Minute)
		}
		k := key{u.DistributionID, u.Minute}
		i, ok := byKey[k]
		if !ok {
			byKey[k] = len(merged)
			merged = append(merged, u)
			continue
		}
		merged[i].Add(u)
	}
	slices.SortFunc(merged, func(a, b UsageDelta) int {
		return cmp.Or(cmp.Compare(a.DistributionID, b.DistributionID), cmp.Compare(a.Minute, b.Minute))
	})
	return merged, nil
}
