// Package usage turns metered traffic into "usage against quota": for each distribution, the current
// billing cycle's bundle, quota, bytes used, percentage, overage and cost so far (the figures of
// `sailcdn usage`, /_sailcdn/usage and the console), and a watcher that logs and exports the moment a
// distribution crosses 80 % and 100 % of its quota. The arithmetic is billing's; this package only
// reads the store and calls it.
package usage

import (
	"context"
	"time"

	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Inputs gathers what the billing math needs for one distribution: its bundle periods (the bundle
// history, the last one closed by the deletion) and its bytes sent to viewers in [from, to), one
// sample per clock hour with traffic. Billing needs no finer grain — plan hours are whole hours, and
// an hour's bytes are judged against the quota in force at the hour's last metered minute (an
// upgrade within the hour counts for the whole hour, as the hour's plan charge does) — and summing
// in the database reads one row per hour instead of up to sixty, which matters for the watcher that
// recomputes every distribution every few seconds.
func Inputs(ctx context.Context, db *store.DB, d *store.Distribution, from, to time.Time) ([]billing.BundlePeriod, []billing.UsageSample, error) {
	changes, err := db.ListBundleChanges(ctx, d.ID)
	if err != nil {
		return nil, nil, err
	}
	periods := make([]billing.BundlePeriod, 0, len(changes))
	for i, c := range changes {
		p := billing.BundlePeriod{BundleID: c.BundleID, From: c.EffectiveFrom}
		if i+1 < len(changes) {
			p.To = changes[i+1].EffectiveFrom
		} else if d.DeletedAt != nil {
			p.To = *d.DeletedAt
		}
		periods = append(periods, p)
	}
	// Rows outside the distribution's life can exist only when the server clock was moved backwards
	// after traffic (developer mode); they belong to no billable hour and are left out rather than
	// failing the whole estimate.
	if first := d.CreatedAt.Truncate(time.Hour); from.Before(first) {
		from = first
	}
	if d.DeletedAt != nil && d.DeletedAt.Before(to) {
		to = *d.DeletedAt
	}
	if !from.Before(to) {
		return periods, nil, nil
	}
	hours, err := db.QueryHourlyBytesOut(ctx, d.ID, from.Unix(), to.Unix())
	if err != nil {
		return nil, nil, err
	}
	samples := make([]billing.UsageSample, 0, len(hours))
	for _, h := range hours {
		samples = append(samples, billing.UsageSample{At: time.Unix(h.LastMinute, 0).UTC(), BytesOut: h.Bytes})
	}
	return periods, samples, nil
}

// Row is one distribution's current cycle.
type Row struct {
	DistributionID   string         `json:"distributionId"`
	AccountID        string         `json:"accountId"`
	Distribution     string         `json:"distributionName"`
	Cycle            string         `json:"cycle"`
	BundleID         string         `json:"bundleId"`
	UsedBytes        int64          `json:"transferUsedBytes"`
	QuotaBytes       int64          `json:"quotaBytes"`
	UsedBasisPoints  int64          `json:"usedBasisPoints"` // 10000 = 100 %
	OverageBytes     int64          `json:"overageBytes"`
	OverageCost      billing.Micros `json:"overageCostMicros"`
	PlanCost         billing.Micros `json:"planCostMicros"`
	CostSoFar        billing.Micros `json:"costSoFarMicros"`
	ProjectedMonthly billing.Micros `json:"projectedCostMicros"`
}

// Report computes the current cycle of every live distribution of accountID ("" = every account),
// ordered by account and name.
func Report(ctx context.Context, db *store.DB, cat billing.Catalog, accountID string, now time.Time) ([]Row, error) {
	all, err := db.ListAllDistributions(ctx, accountID)
	if err != nil {
		return nil, err
	}
	rows := []Row{}
	for i := range all {
		d := &all[i]
		if d.DeletedAt != nil {
			continue
		}
		row, err := cycleRow(ctx, db, cat, d, now)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, nil
}

func cycleRow(ctx context.Context, db *store.DB, cat billing.Catalog, d *store.Distribution, now time.Time) (Row, error) {
	start := billing.CycleStart(now)
	periods, samples, err := Inputs(ctx, db, d, start, now.Add(time.Minute))
	if err != nil {
		return Row{}, err
	}
	reports, err := billing.CycleUsage(cat, periods, samples, now)
	if err != nil {
		return Row{}, err
	}
	row := Row{DistributionID: d.ID, AccountID: d.AccountID, Distribution: d.Name, Cycle: billing.CycleOf(now), BundleID: d.BundleID}
	if len(reports) == 0 {
		return row, nil
	}
	cur := reports[len(reports)-1]
	row.Cycle, row.BundleID = cur.Cycle, cur.BundleID
	row.UsedBytes, row.QuotaBytes, row.UsedBasisPoints = cur.TransferBytes, cur.QuotaBytes, cur.UsedBasisPoints
	row.OverageBytes, row.OverageCost, row.PlanCost = cur.OverageBytes, cur.OverageCost, cur.PlanCost
	row.CostSoFar, row.ProjectedMonthly = cur.Cost(), cur.ProjectedCost
	return row, nil
}
