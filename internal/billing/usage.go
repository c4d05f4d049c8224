package billing

import (
	"fmt"
	"time"
)

// CycleReport is the "usage so far" of one billing cycle as of AsOf.
type CycleReport struct {
	Cycle      string    // "YYYY-MM"
	Start, End time.Time // the cycle, [Start, End)
	AsOf       time.Time // min(now, End): figures count hours and samples starting before AsOf
	// Complete is true when nothing more can accrue in the cycle: it has ended or the distribution
	// was deleted.
	Complete bool
	BundleID string // the bundle in effect at AsOf (at deletion for a deleted distribution)
	// QuotaBytes is the quota in force at AsOf: the largest quota among the cycle's bundles so far,
	// not prorated.
	QuotaBytes int64
	// UsedBasisPoints is TransferBytes / QuotaBytes in 1/10,000ths, rounded down (10000 = 100 %; may
	// exceed 10000). With a zero quota it is 0 when nothing was sent and 10000 otherwise.
	UsedBasisPoints int64
	Charges         // so far; OverageBytes can exceed TransferBytes-QuotaBytes after an upgrade
	// ProjectedCost is the cycle's expected total: the plan accrued to the end of the cycle (or to
	// deletion) on the current bundle, plus the overage if traffic continues at its average rate per
	// billed hour so far. Equal to Cost() when Complete.
	ProjectedCost Micros
}

// CycleUsage reports, for every billing cycle from the distribution's creation to now (or to its
// deletion), the bundle, quota, usage, overage and cost so far, by the same rules and rounding as
// EstimateCost: for a complete cycle, its Charges equal the sum of EstimateCost's rows over that
// cycle. usage must include every sample since creation. It returns no reports when now is before
// the creation. Errors are those of EstimateCost.
func CycleUsage(cat Catalog, periods []BundlePeriod, usage []UsageSample, now time.Time) ([]CycleReport, error) {
	now = now.UTC()
	if err := cat.Validate(); err != nil {
		return nil, err
	}
	l, err := newLife(cat, periods)
	if err != nil {
		return nil, err
	}
	if now.Before(l.created()) {
		return nil, nil
	}
	gone, deleted := l.deleted()
	first := CycleStart(l.created())
	g, err := newLedger(l, usage, first, now)
	if err != nil {
		return nil, err
	}
	a := accountant{life: l, ledger: g, rate: cat.OveragePerGB}

	var reports []CycleReport
	// Every cycle that has begun by now (the current one even at its first instant), up to the one
	// the distribution was deleted in.
	for cs := first; !cs.After(now) && (!deleted || cs.Before(gone)); cs = NextCycleStart(cs) {
		ce := NextCycleStart(cs)
		asOf := minTime(now, ce)
		so, err := a.cumulative(cs, asOf)
		if err != nil {
			return nil, err
		}
		quota := l.quotaAt(cs, ce, asOf)
		r := CycleReport{
			Cycle:      CycleOf(cs),
			Start:      cs,
			End:        ce,
			AsOf:       asOf,
			Complete:   asOf.Equal(ce) || (deleted && !gone.After(asOf)),
			BundleID:   l.bundleAt(cs, ce, asOf).ID,
			QuotaBytes: quota,
			Charges:    so,
		}
		if r.UsedBasisPoints, err = basisPoints(so.TransferBytes, quota); err != nil {
			return nil, err
		}
		if r.ProjectedCost, err = a.project(cs, ce, so, quota); err != nil {
			return nil, err
		}
		reports = append(reports, r)
	}
	return reports, nil
}

// basisPoints returns floor(used × 10000 / quota).
func basisPoints(used, quota int64) (int64, error) {
	if quota == 0 {
		if used == 0 {
			return 0, nil
		}
		return 10_000, nil
	}
	bp, ok := mulDivFloor(used, 10_000, quota)
	if !ok {
		return 0, fmt.Errorf("%w: usage percentage", ErrOverflow)
	}
	return bp, nil
}

// project extrapolates a cycle to its end: the plan accrues for the remaining hours of the open
// period (planUpTo to the cycle end does exactly that, and nothing for a deleted distribution), and
// traffic continues at so.TransferBytes per billed hour so far, with the quota unchanged.
func (a accountant) project(cs, ce time.Time, so Charges, quota int64) (Micros, error) {
	full, err := a.cumulative(cs, ce) // usage is only metered up to now: this adds plan hours only
	if err != nil {
		return 0, err
	}
	extra := int64(0)
	if remaining := full.PlanHours - so.PlanHours; remaining > 0 && so.PlanHours > 0 {
		var ok bool
		if extra, ok = mulDivFloor(so.TransferBytes, remaining, so.PlanHours); !ok {
			return 0, fmt.Errorf("%w: projected usage", ErrOverflow)
		}
	}
	total, ok := addInt64(so.TransferBytes, extra)
	if !ok {
		return 0, fmt.Errorf("%w: projected usage", ErrOverflow)
	}
	// Bytes still to come are overage above max(quota, used so far); overage so far stands.
	over, ok := addInt64(so.OverageBytes, max(0, total-max(quota, so.TransferBytes)))
	if !ok {
		return 0, fmt.Errorf("%w: projected usage", ErrOverflow)
	}
	overCost, ok := overageCost(over, a.rate)
	if !ok {
		return 0, fmt.Errorf("%w: projected overage cost", ErrOverflow)
	}
	sum, ok := addInt64(int64(full.PlanCost), int64(overCost))
	if !ok {
		return 0, fmt.Errorf("%w: projected cost", ErrOverflow)
	}
	return Micros(sum), nil
}
