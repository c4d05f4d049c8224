// Package clock owns sailcdn's notion of "now". Every time-dependent rule of the service (billing
// cycles, createdAt, operations, metric buckets, cache freshness) reads a Clock handed to it, never
// time.Now, so that tests and the admin endpoint can move time: developers must be able to reach the
// next billing cycle without waiting a month.
package clock

import (
	"sync/atomic"
	"time"
)

// Clock tells the time.
type Clock interface {
	Now() time.Time
}

// Wall is the machine's real clock.
type Wall struct{}

// Now returns the wall-clock time in UTC.
func (Wall) Now() time.Time { return time.Now().UTC() }

// Offset is a clock that runs at wall speed from a point that can be moved. Moving it (Set) keeps it
// ticking: a distribution created after the clock was set to 2026-04-01 still leaves InProgress
// a few seconds later, which a frozen clock would never allow.
// The zero value reads the wall clock. Safe for concurrent use.
type Offset struct {
	offset atomic.Int64 // nanoseconds added to the wall clock
	wall   func() time.Time
}

var _ Clock = (*Offset)(nil)

// NewOffset returns an Offset clock over wall (nil means time.Now).
func NewOffset(wall func() time.Time) *Offset {
	return &Offset{wall: wall}
}

func (c *Offset) base() time.Time {
	if c.wall != nil {
		return c.wall()
	}
	return time.Now()
}

// Now returns wall time plus the offset, in UTC.
func (c *Offset) Now() time.Time {
	return c.base().Add(time.Duration(c.offset.Load())).UTC()
}

// Set moves the clock so that Now reads t at this instant.
func (c *Offset) Set(t time.Time) {
	c.offset.Store(int64(t.Sub(c.base())))
}

// Offset returns how far the clock is from the wall clock.
func (c *Offset) Offset() time.Duration { return time.Duration(c.offset.Load()) }

// SetOffset places the clock d away from the wall clock (how a saved offset is restored).
func (c *Offset) SetOffset(d time.Duration) { c.offset.Store(int64(d)) }

// Advance moves the clock forward by d (backward when d is negative).
func (c *Offset) Advance(d time.Duration) {
	c.offset.Add(int64(d))
}

// Fixed is a clock stopped at one instant; for tests of pure rules.
type Fixed time.Time

// Now returns the fixed instant.
func (f Fixed) Now() time.Time { return time.Time(f).UTC() }
