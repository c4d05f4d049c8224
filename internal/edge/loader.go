package edge

import (
	"context"
	"time"

	"github.com/sailcdn/sailcdn/internal/backoff"
)

// Propagation: how a change committed by any node reaches this edge.
//
// The store's change feed (store.DB.WatchChanges) wakes the loader at once: for commits of this
// process directly, for other processes' commits through PostgreSQL LISTEN/NOTIFY. Polling stays as
// the fallback, and it is cheap: one single-row read of the configuration generation, and a full load
// (store.DB.Served, one snapshot) only when it moved. While notifications arrive the poll runs every
// listeningPoll, a safety net against a notification connection that died unnoticed; without them
// (SQLite shared by several processes, or PostgreSQL while the listener reconnects) every
// PollInterval. A reload that fails keeps the configuration in service and is retried with backoff.

const (
	// listeningPoll is the poll interval while notifications arrive.
	listeningPoll = time.Second
	// reloadBackoffMax bounds the spacing of reloads while the store is unreachable (from
	// PollInterval, doubling): an edge keeps serving what it has, and a fleet of edges must not
	// hammer a database that is coming back.
	reloadBackoffMax = 5 * time.Second
)

// follow keeps the configuration current until ctx ends: on every signal of the change feed and
// every poll.
func (e *Edge) follow(ctx context.Context) {
	watch := e.db.WatchChanges(ctx, e.log)
	e.watch.Store(watch)
	defer func() { <-watch.Done() }()
	outage := backoff.Streak{Policy: backoff.Policy{Min: e.poll, Max: reloadBackoffMax}}
	t := time.NewTimer(e.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-watch.C:
		case <-t.C:
		}
		_, err := e.reload(ctx, false)
		next := e.poll
		if watch.Listening() {
			next = listeningPoll
		}
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			e.metrics.reloadFailed()
			first, wait := outage.Fail()
			if first {
				e.log.Warn("edge: configuration reload failed; serving the configuration in service", "generation", e.Generation(), "err", err)
			}
			next = max(next, wait)
		default:
			if n := outage.Succeed(); n > 0 {
				e.log.Info("edge: configuration reloads again", "failed_attempts", n, "generation", e.Generation())
			}
		}
		t.Reset(next) // Go 1.23 timers: no stale tick to drain
	}
}

// Notified reports whether changes committed by other processes currently reach the edge by
// notification (PostgreSQL LISTEN); otherwise it polls every PollInterval.
func (e *Edge) Notified() bool {
	w := e.watch.Load()
	return w != nil && w.Listening()
}

// reload compares the store's configuration generation with the snapshot in service and, when it
// moved (or on the first load), loads what edges serve in one snapshot and swaps it in, purges what
// the change asks to purge, and has the registry report the new generation at once. It reports
// whether the snapshot changed.
func (e *Edge) reload(ctx context.Context, first bool) (bool, error) {
	e.reloadMu.Lock()
	defer e.reloadMu.Unlock()
	cur := e.snap.Load()
	if cur != nil {
		gen, err := e.db.ConfigGeneration(ctx)
		if err != nil {
			return false, err
		}
		if gen == cur.generation {
			return false, nil
		}
	}
	served, err := e.db.Served(ctx)
	if err != nil {
		return false, err
	}
	var gone []string
	if first {
		if gone, err = e.deletedHosts(ctx); err != nil {
			return false, err
		}
	}
	next, errs := buildSnapshot(served.Generation, served.Distributions, served.Origins, cur, gone)
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
	e.metrics.loaded(served.Generation)
	e.reportSoon()
	e.log.Debug("edge: configuration loaded", "generation", served.Generation, "distributions", len(next.byID), "origins", len(served.Origins))
	return true, nil
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
