// Package backoff is the one rule by which sailcdn waits before trying again something that failed
// (a database connection, a usage flush, a heartbeat): exponential growth with jitter, so that many
// nodes retrying against a database that has just come back do not retry in lockstep.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Policy is a backoff: the first wait is about Min, each further failure doubles it, up to Max.
type Policy struct {
	Min, Max time.Duration
}

// Delay is the wait after the given number of consecutive failures (1 for the first): Min doubled
// failures-1 times, at most Max, of which the upper half is random ("equal jitter").
func (p Policy) Delay(failures int) time.Duration {
	d := p.Min
	for i := 1; i < failures && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	return d/2 + rand.N(d/2+1)
}

// Sleep waits for d or until ctx ends, and returns ctx.Err() if it ended.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
