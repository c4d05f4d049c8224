package backoff

import (
	"context"
	"testing"
	"time"
)

func TestDelayDoublesWithinBounds(t *testing.T) {
	p := Policy{Min: 100 * time.Millisecond, Max: time.Second}
	cases := []struct {
		failures int
		full     time.Duration // the un-jittered delay: the result lies in [full/2, full]
	}{
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{3, 400 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second},
		{50, time.Second},
	}
	for _, tc := range cases {
		for range 100 {
			if d := p.Delay(tc.failures); d < tc.full/2 || d > tc.full {
				t.Fatalf("Delay(%d) = %s, want within [%s, %s]", tc.failures, d, tc.full/2, tc.full)
			}
		}
	}
}

func TestSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep on an ended context = %v", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}

func TestStreakLogsAnOutageOnce(t *testing.T) {
	s := Streak{Policy: Policy{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond}}
	if ended := s.Succeed(); ended != 0 {
		t.Fatalf("a success without failures ended %d", ended)
	}
	first, wait := s.Fail()
	if !first || wait > 10*time.Millisecond {
		t.Fatalf("first failure: %v %s", first, wait)
	}
	for range 5 {
		if first, wait = s.Fail(); first || wait > 40*time.Millisecond {
			t.Fatalf("later failure: %v %s", first, wait)
		}
	}
	if ended := s.Succeed(); ended != 6 {
		t.Fatalf("the success ended %d failures, want 6", ended)
	}
	if first, _ := s.Fail(); !first {
		t.Fatal("a failure after a success starts a new streak")
	}
}
