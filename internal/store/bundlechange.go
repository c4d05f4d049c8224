package store

import (
	"context"
	"fmt"
	"time"
)

// BundleChange is billing history: one row when a distribution is created and one per
// UpdateDistributionBundle, each saying which bundle applies from EffectiveFrom on.
type BundleChange struct {
	DistributionID, AccountID, BundleID string
	EffectiveFrom                       time.Time
}

func scanBundleChange(s scanner) (BundleChange, error) {
	var (
		b    BundleChange
		from int64
	)
	if err := s.Scan(&b.DistributionID, &b.AccountID, &b.BundleID, &from); err != nil {
		return BundleChange{}, err
	}
	b.EffectiveFrom = fromMicros(from)
	return b, nil
}

// ListBundleChanges returns the distribution's bundle history ordered by EffectiveFrom; changes with
// equal EffectiveFrom keep insertion order, so the last one is the one in force.
func (r queries) ListBundleChanges(ctx context.Context, distributionID string) ([]BundleChange, error) {
	rows, err := r.query(ctx, "SELECT distribution_id, account_id, bundle_id, effective_from FROM bundle_changes"+
		" WHERE distribution_id = ? ORDER BY effective_from, seq", distributionID)
	return all(rows, err, scanBundleChange, "list bundle changes")
}

// InsertBundleChange appends to the bundle history. ErrNotFound if the distribution does not exist.
func (tx *Tx) InsertBundleChange(ctx context.Context, b *BundleChange) error {
	seq, err := tx.nextSeq(ctx, metaBundleChangeSeq)
	if err != nil {
		return err
	}
	b.EffectiveFrom = normalize(b.EffectiveFrom)
	_, err = tx.execGuarded(ctx, fmt.Sprintf("insert bundle change for %q", b.DistributionID),
		"INSERT INTO bundle_changes (seq, distribution_id, account_id, bundle_id, effective_from) VALUES (?, ?, ?, ?, ?)",
		seq, b.DistributionID, b.AccountID, b.BundleID, toMicros(b.EffectiveFrom))
	return err
}
