package edge

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/meter"
	"github.com/sailcdn/sailcdn/internal/store"
)

// NewMeter returns a meter whose minutes follow clk (the server clock: usage lands in the billing
// cycle the control plane sees) and whose flushes go to db (see StoreFlusher). reg may be nil.
func NewMeter(db *store.DB, clk clock.Clock, reg prometheus.Registerer, log *slog.Logger) (*meter.Meter, error) {
	if clk == nil {
		clk = clock.Wall{}
	}
	return meter.New(meter.Config{Flush: StoreFlusher(db, log), Now: clk.Now, Registerer: reg, Logger: log})
}

// StoreFlusher adapts store.DB.AddUsageBatch to meter.Config.Flush. AddUsageBatch applies a batch
// atomically and at most once per batch id, so the meter's retry of a batch whose COMMIT went
// through but whose acknowledgement was lost adds nothing. If the store refuses the batch because a
// row names a distribution it does not know (store.ErrNotFound — distributions are only
// soft-deleted, so this means a database that was replaced under a running edge), the unknown
// distributions' rows are dropped with a log line and the rest is written under the same id, again
// atomically. Any other failure leaves the whole batch to the meter's next attempt.
func StoreFlusher(db *store.DB, log *slog.Logger) func(context.Context, meter.Batch) error {
	if log == nil {
		log = slog.Default()
	}
	add := func(ctx context.Context, b meter.Batch, deltas []store.UsageDelta) error {
		applied, err := db.AddUsageBatch(ctx, b.ID, b.At.Unix(), deltas)
		if err == nil && !applied {
			log.Info("edge: usage batch was already stored; its retry added nothing", "batch", b.ID)
		}
		return err
	}
	return func(ctx context.Context, b meter.Batch) error {
		deltas := toDeltas(b.Usage)
		err := add(ctx, b, deltas)
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		known := deltas[:0:0]
		exists := map[string]bool{}
		for _, u := range deltas {
			ok, seen := exists[u.DistributionID]
			if !seen {
				_, err := db.GetDistributionByID(ctx, u.DistributionID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				ok = err == nil
				exists[u.DistributionID] = ok
				if !ok {
					log.Error("edge: dropping usage of a distribution the store does not know", "distribution", u.DistributionID)
				}
			}
			if ok {
				known = append(known, u)
			}
		}
		if len(known) == 0 {
			return nil
		}
		if err := add(ctx, b, known); err != nil {
			return fmt.Errorf("edge: add usage without unknown distributions: %w", err)
		}
		return nil
	}
}

func toDeltas(batch []meter.Usage) []store.UsageDelta {
	out := make([]store.UsageDelta, len(batch))
	for i, u := range batch {
		out[i] = store.UsageDelta{
			DistributionID: u.DistributionID, Minute: u.Minute, Requests: u.Requests,
			BytesToViewers: u.BytesToViewers, BytesDownloaded: u.BytesDownloaded, BytesFromViewers: u.BytesFromViewers,
			BytesToOrigin: u.BytesToOrigin, BytesUploaded: u.BytesUploaded,
			Status4xx: u.Status4xx, Status5xx: u.Status5xx,
		}
	}
	return out
}
