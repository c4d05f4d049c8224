package control

import (
	"sync"

	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
)

// maxCachedConfigs bounds configCache: a few KiB per distribution, and a server holds the
// distributions of its accounts (20 per account by default).
const maxCachedConfigs = 4096

// configCache keeps the decoded configuration of distributions the API has read, by row version.
// A distribution's configuration only changes with its row, and every change of the row increments
// its Version (store.UpdateDistribution), so a cached entry is valid exactly while the row read from
// the store still carries its version — in every process sharing the database, since the row is
// still read on every request. Decoding the stored JSON was the largest share of a signed
// GetDistributions after the store read (docs/benchmarks.md).
//
// Entries are shared: a reader copies the top-level structure (view does) and never writes into
// what it points to.
type configCache struct {
	mu      sync.Mutex
	entries map[string]cachedConfig // by distribution id; guarded by mu
}

type cachedConfig struct {
	version int64
	cfg     *lightsail.LightsailDistribution
	// The members derived from the row that never change: computed once per distribution.
	arn, supportCode string
}

// get returns d's configuration as of d.Version, decoding and caching it on a miss.
func (c *configCache) get(d *store.Distribution) (cachedConfig, error) {
	c.mu.Lock()
	e, ok := c.entries[d.ID]
	c.mu.Unlock()
	if ok && e.version == d.Version {
		return e, nil
	}
	cfg, err := loadConfig(d)
	if err != nil {
		return cachedConfig{}, err
	}
	e = cachedConfig{version: d.Version, cfg: cfg, arn: distributionARN(d.AccountID, d.ID), supportCode: supportCode(d)}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCachedConfigs {
		c.entries = make(map[string]cachedConfig)
	}
	if cur, ok := c.entries[d.ID]; !ok || cur.version < d.Version {
		c.entries[d.ID] = e
	}
	c.mu.Unlock()
	return e, nil
}
