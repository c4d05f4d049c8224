// Package wait is the one way sailcdn's tests wait for something to become true: a condition polled
// with a short, growing interval until it holds or a deadline passes. It imports nothing of sailcdn,
// so every package's own tests can use it (sailtest itself imports the packages it assembles).
//
// Code that runs on timers is better tested with testing/synctest, which needs no waiting at all;
// this is for what synctest cannot see: other processes, sockets, databases.
package wait

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// Poll intervals: the first checks come quickly (most conditions hold within milliseconds), later
// ones back off so that a long wait does not spin.
const (
	firstInterval = time.Millisecond
	maxInterval   = 25 * time.Millisecond
)

// Floor is the least time Until and For allow before they fail a test, whatever within says. A
// deadline in a test is a liveness bound, not a speed claim (speed is measured by the benchmarks
// under bench/): on a loaded two-core CI machine a condition that normally holds in milliseconds can
// take seconds, and a test that fails there says nothing about sailcdn. within still documents what
// the test expects and is what a failure reports next to the time actually allowed.
const Floor = 10 * time.Second

// Until polls cond until it returns true and returns how long that took; if it has not within
// max(within, Floor), t fails with what.
func Until(t testing.TB, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	return For(t, within, what, func() error {
		if cond() {
			return nil
		}
		return errNotYet
	})
}

// For polls cond until it returns nil and returns how long that took; if it has not within
// max(within, Floor), t fails with what and cond's last error, which should say what was seen
// instead.
func For(t testing.TB, within time.Duration, what string, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	allowed := max(within, Floor)
	err := Poll(context.Background(), allowed, cond)
	if err != nil {
		if errors.Is(err, errNotYet) {
			t.Fatalf("%s: not within %s (expected within %s)", what, allowed, within)
		}
		t.Fatalf("%s: not within %s (expected within %s): %v", what, allowed, within, err)
	}
	return time.Since(start)
}

// Poll polls cond until it returns nil (then Poll returns nil), ctx ends or within passes (then
// Poll returns cond's last error, wrapped). For helpers that report rather than fail a test.
func Poll(ctx context.Context, within time.Duration, cond func() error) error {
	deadline := time.Now().Add(within)
	interval := firstInterval
	for {
		err := cond()
		if err == nil {
			return nil
		}
		if !time.Now().Before(deadline) {
			return fmt.Errorf("timed out after %s: %w", within, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-time.After(min(interval, time.Until(deadline))):
		}
		interval = min(2*interval, maxInterval)
	}
}

var errNotYet = errors.New("condition not met")
