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
}

func scanCacheReset(s scanner) (CacheReset, error) {
	var (
		c       CacheReset
		created int64
	)
	if err := s.Scan(&c.DistributionID, &c.AccountID, &c.Status, &created); err != nil {
		return CacheReset{}, err
	}
	c.CreateTime = fromMicros(created)
	return c, nil
}

// LatestCacheReset returns the newest cache reset of the distribution (distributionID "" = of any
// distribution of the account), or ErrNotFound. Resets with equal CreateTime are told apart by
// insertion order.
func (r queries) LatestCacheReset(ctx context.Context, accountID, distributionID string) (*CacheReset, error) {
	q, args := "SELECT distribution_id, account_id, status, create_time FROM cache_resets WHERE account_id = ?", []any{accountID}
	if distributionID != "" {
		q, args = q+" AND distribution_id = ?", append(args, distributionID)
	}
	row := r.queryRow(ctx, q+" ORDER BY create_time DESC, seq DESC LIMIT 1", args...)
	return one(row, scanCacheReset, "latest cache reset")
}

// InsertCacheReset records a cache reset. ErrNotFound if the distribution does not exist.
func (tx *Tx) InsertCacheReset(ctx context.Context, c *CacheReset) error {
	seq, err := tx.nextSeq(ctx, metaCacheResetSeq)
	if err != nil {
		return err
	}
	c.CreateTime = normalize(c.CreateTime)
	_, err = tx.execGuarded(ctx, fmt.Sprintf("insert cache reset for %q", c.DistributionID),
		"INSERT INTO cache_resets (seq, distribution_id, account_id, status, create_time) VALUES (?, ?, ?, ?, ?)",
		seq, c.DistributionID, c.AccountID, c.Status, toMicros(c.CreateTime))
	return err
}
