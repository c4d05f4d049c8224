package edge

import (
	"context"
	"slices"

	"github.com/sailcdn/sailcdn/internal/store"
)

// reload compares the store's configuration generation and origin registry with the snapshot in
// service and rebuilds the snapshot when either changed. Origins are re-read on every poll because
// registering or moving an origin (the admin endpoint) does not bump the generation; the table is
// small.
func (e *Edge) reload(ctx context.Context, first bool) error {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	cur := e.snap.Load()
	gen, err := e.db.ConfigGeneration(ctx)
	if err != nil {
		return err
	}
	origins, err := e.db.ListOrigins(ctx)
	if err != nil {
		return err
	}
	if cur != nil && gen == cur.generation && sameOrigins(origins, cur.origins) {
		return nil
	}
	// LiveDistributions reads the rows and the generation they reflect in one snapshot, so a
	// change committed meanwhile shows up as a newer generation at the next poll.
	gen, rows, err := e.db.LiveDistributions(ctx)
	if err != nil {
		return err
	}
	var gone []string
	if first {
		if gone, err = e.deletedHosts(ctx); err != nil {
			return err
		}
	}
	next, errs := buildSnapshot(gen, rows, origins, cur, gone)
	for _, err := range errs {
		e.log.Error("edge: distribution not served", "err", err)
	}
	for _, d := range next.byID {
		d.fetch = e.fetcher(d)
		d.prom = e.metrics.dist(d.id)
	}
	e.snap.Store(next)
	e.buildTLS(ctx, next)
	if cur != nil {
		e.purgeChanged(cur, next)
	}
	e.metrics.loaded(gen)
	e.log.Debug("edge: configuration loaded", "generation", gen, "distributions", len(next.byID), "origins", len(origins))
	return nil
}

// purgeChanged purges the cache of every distribution whose CacheResetAt moved
// (ResetDistributionCache) and of every distribution that is gone (to free its memory).
func (e *Edge) purgeChanged(cur, next *snapshot) {
	for id, d := range next.byID {
		if old := cur.byID[id]; old != nil && d.cacheResetAt.After(old.cacheResetAt) {
			e.cache.Purge(id)
			e.log.Info("edge: cache reset", "distribution", d.name, "id", id)
		}
	}
	for id := range cur.byID {
		if next.byID[id] == nil {
			e.cache.Purge(id)
			e.metrics.forget(id)
			e.meter.Forget(id)
		}
	}
}

// deletedHosts lists the host names of deleted distributions, so that after a restart they still
// answer "deleted" rather than "unknown".
func (e *Edge) deletedHosts(ctx context.Context) ([]string, error) {
	all, err := e.db.ListAllDistributions(ctx, "")
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, d := range all {
		if d.DeletedAt != nil {
			hosts = append(hosts, canonicalHost(d.DomainName))
		}
	}
	return hosts, nil
}

func sameOrigins(a, b []store.Origin) bool {
	return slices.EqualFunc(a, b, func(x, y store.Origin) bool {
		return x.Name == y.Name && x.RegionName == y.RegionName && x.URL == y.URL && x.ResourceType == y.ResourceType
	})
}
