package clock

import (
	"testing"
	"time"
)

func TestOffsetSetKeepsTicking(t *testing.T) {
	wall := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	c := NewOffset(func() time.Time { return wall })
	target := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	c.Set(target)
	if got := c.Now(); !got.Equal(target) {
		t.Fatalf("after Set: got %v want %v", got, target)
	}
	wall = wall.Add(3 * time.Second)
	if got, want := c.Now(), target.Add(3*time.Second); !got.Equal(want) {
		t.Fatalf("clock did not tick: got %v want %v", got, want)
	}
	c.Advance(time.Hour)
	if got, want := c.Now(), target.Add(time.Hour+3*time.Second); !got.Equal(want) {
		t.Fatalf("after Advance: got %v want %v", got, want)
	}
}

func TestZeroOffsetIsWall(t *testing.T) {
	var c Offset
	if d := time.Since(c.Now()); d < 0 || d > time.Second {
		t.Fatalf("zero Offset is %v away from wall", d)
	}
}
