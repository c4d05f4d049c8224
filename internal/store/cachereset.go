package store

import (
	"context"
	"fmt"
	"time"
)

// CacheReset records one ResetDistributionCache call (GetDistributionLatestCacheReset reads it back).
type CacheReset struct {
	DistributionID, AccountID, Status string
	CreateTime                        time.Time
	// Generation is the configuration generation that carries the reset: an edge serving it (or a
	// newer one) has purged the distribution's cache. Set by the store when the insert commits.
	Generation int64
}

func scanCacheReset(s scanner) (CacheReset, error) {
	var (
		c       CacheReset
		created int64
	)
	if err := s.Scan(&c.DistributionID, &c.AccountID, &c.Status, &created, &c.Generation); err != nil {
		return CacheReset{}, err
	}
	c.CreateTime = fromMicros(created)
	return c, nil
}

// LatestCacheReset returns the newest cache reset of the distribution (distributionID "" = of any
// distribution of the account), or ErrNotFound. Resets with equal CreateTime are told apart by
// insertion order.
func (r queries) LatestCacheReset(ctx context.Context, accountID, distributionID string) (*CacheReset, error) {
	q, args := "SELECT distribution_id, account_id, status, create_time, generation FROM cache_resets WHERE account_id = ?", []any{accountID}
	if distributionID != "" {
		q, args = q+" AND distribution_id = ?", append(args, distributionID)
	}
	row := r.queryRow(ctx, q+" ORDER BY create_time DESC, seq DESC LIMIT 1", args...)
	return one(row, scanCacheReset, "latest cache reset", "")
}

// InsertCacheReset records a cache reset; c.Generation is set when the transaction commits. ErrNotFound
// if the distribution does not exist.
func (tx *Tx) InsertCacheReset(ctx context.Context, c *CacheReset) error {
	seq, err := tx.nextSeq(ctx, metaCacheResetSeq)
	if err != nil {
		return err
	}
	c.CreateTime = normalize(c.CreateTime)
	_, err = tx.execGuarded(ctx, fmt.Sprintf("insert cache reset for %q", c.DistributionID),
		"INSERT INTO cache_resets (seq, distribution_id, account_id, status, create_time, generation) VALUES (?, ?, ?, ?, ?, ?)",
		seq, c.DistributionID, c.AccountID, c.Status, toMicros(c.CreateTime), int64(pendingGeneration))
	if err != nil {
		return err
	}
	tx.servedChanged(stamp{
		query: "UPDATE cache_resets SET generation = ? WHERE seq = ? AND generation = -1",
		key:   seq, into: &c.Generation,
	})
	return nil
}
