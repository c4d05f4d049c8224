package wait

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestUntilReturnsOnceTheConditionHolds(t *testing.T) {
	n := 0
	Until(t, time.Second, "third poll", func() bool { n++; return n == 3 })
	if n != 3 {
		t.Fatalf("polled %d times, want 3", n)
	}
}

func TestPollReportsTheLastError(t *testing.T) {
	last := errors.New("still 404")
	err := Poll(context.Background(), 20*time.Millisecond, func() error { return last })
	if !errors.Is(err, last) {
		t.Fatalf("Poll = %v, want it to wrap %v", err, last)
	}
}

func TestPollStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := Poll(ctx, time.Hour, func() error { return errNotYet })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Poll = %v, want context.Canceled", err)
	}
}
