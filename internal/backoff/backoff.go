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

// Streak follows the consecutive failures of one recurring attempt (a reload, a heartbeat, a
// delivery): how long to wait after each, and whether this failure starts an outage or this success
// ends one, so that an outage is logged once when it starts and once when it ends, not at every try.
type Streak struct {
	Policy
	failures int
}

// Fail records a failure: whether it is the first of a streak, and how long to wait before the next
// attempt.
func (s *Streak) Fail() (first bool, wait time.Duration) {
	s.failures++
	return s.failures == 1, s.Delay(s.failures)
}

// Succeed records a success and returns how many failures it ends (0: there was no outage).
func (s *Streak) Succeed() (ended int) {
	ended, s.failures = s.failures, 0
	return ended
}
