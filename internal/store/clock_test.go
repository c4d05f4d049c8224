package store

import (
	"testing"
	"time"
)

func TestClockOffsetRoundTrip(t *testing.T) {
	forEachBackend(t, func(t *testing.T, db *DB) {
		ctx := testContext(t)
		if d, err := db.ClockOffset(ctx); err != nil || d != 0 {
			t.Fatalf("never set: %v, %v", d, err)
		}
		for _, want := range []time.Duration{-4 * 365 * 24 * time.Hour, 123456789 * time.Nanosecond, 0} {
			if err := db.SetClockOffset(ctx, want); err != nil {
				t.Fatal(err)
			}
			if got, err := db.ClockOffset(ctx); err != nil || got != want {
				t.Fatalf("ClockOffset = %v, %v; want %v", got, err, want)
			}
		}
	})
}
