package control

import (
	"context"
	"errors"
	"time"

	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Cache reset status strings, as CloudFront reports invalidations (reference §8.3). A reset is
// "InProgress" until every live edge has purged (it serves the reset's generation), and for at least
// the deploy delay, then "Completed" (deploy.go).
const (
	resetInProgress = "InProgress"
	resetCompleted  = "Completed"
)

// ResetDistributionCache purges every cached object of the distribution; the next request for any of
// them goes to the origin. Lightsail has no per-path invalidation (DG FAQ).
func (s *Service) ResetDistributionCache(ctx context.Context, in *lightsail.ResetDistributionCacheRequest) (*lightsail.ResetDistributionCacheResult, error) {
	c, name, err := distributionTarget(ctx, in.DistributionName)
	if err != nil {
		return nil, err
	}
	var reset store.CacheReset
	_, op, err := s.mutate(ctx, c, name, "ResetDistributionCache", func(tx *store.Tx, d *store.Distribution, _ *lightsail.LightsailDistribution, now time.Time) error {
		d.CacheResetAt = now
		reset = store.CacheReset{DistributionID: d.ID, AccountID: d.AccountID, Status: resetInProgress, CreateTime: now}
		return tx.InsertCacheReset(ctx, &reset)
	})
	if err != nil {
		return nil, err
	}
	return &lightsail.ResetDistributionCacheResult{
		Status:     ptr(resetInProgress),
		CreateTime: lightsail.NewTimestamp(reset.CreateTime),
		Operation:  opView(op),
	}, nil
}

// GetDistributionLatestCacheReset reports the latest reset of the named distribution, or of any of the
// account's distributions when no name is given (API doc). A distribution never reset answers {}.
func (s *Service) GetDistributionLatestCacheReset(ctx context.Context, in *lightsail.GetDistributionLatestCacheResetRequest) (*lightsail.GetDistributionLatestCacheResetResult, error) {
	c, err := distributionCaller(ctx)
	if err != nil {
		return nil, err
	}
	distID := ""
	if in.DistributionName != nil {
		d, err := s.db.GetDistribution(ctx, c.AccountID, *in.DistributionName)
		if errors.Is(err, store.ErrNotFound) {
			return nil, notFoundDistribution(*in.DistributionName)
		}
		if err != nil {
			return nil, err
		}
		distID = d.ID
	}
	r, err := s.db.LatestCacheReset(ctx, c.AccountID, distID)
	if errors.Is(err, store.ErrNotFound) {
		return &lightsail.GetDistributionLatestCacheResetResult{}, nil
	}
	if err != nil {
		return nil, err
	}
	status := resetInProgress
	if done, err := s.deployed(ctx, r.CreateTime.Add(s.deployDelay), r.Generation, s.clock.Now()); err != nil {
		return nil, err
	} else if done {
		status = resetCompleted
	}
	return &lightsail.GetDistributionLatestCacheResetResult{
		Status:     ptr(status),
		CreateTime: lightsail.NewTimestamp(r.CreateTime),
	}, nil
}
