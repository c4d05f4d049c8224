package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/store"
)

// clockFollowInterval is how often a node reads the saved clock offset: a move made through any node
// reaches every other within about a second.
const clockFollowInterval = time.Second

// followClock applies clock moves saved by any node sharing db (POST /_sailcdn/clock) until ctx ends.
// seen is the saved offset as last read. A saved offset is applied when it changes, not whenever it
// differs from clk: a clock moved in this process only (a test's) stays where it was put until the
// next saved move.
func followClock(ctx context.Context, db *store.DB, clk *clock.Offset, seen time.Duration, log *slog.Logger) {
	t := time.NewTicker(clockFollowInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		offset, err := db.ClockOffset(ctx)
		if err != nil {
			if ctx.Err() == nil {
				log.Warn("read clock offset", "err", err)
			}
			continue
		}
		if offset != seen {
			clk.SetOffset(offset)
			seen = offset
		}
	}
}
