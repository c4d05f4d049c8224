package billing

import (
	"fmt"
	"time"
)

// HoursPerPlanMonth is the divisor of the hourly plan rate: a plan costs Price × hours / 744, 744
// being the hours of a 31-day month. Lightsail bills plans "on an on-demand hourly rate … up to the
// maximum monthly plan cost" (Lightsail FAQ, "What do Lightsail plans cost?"), and its published
// hourly rates are the monthly price / 744 truncated to $0.0001: $5 → $0.0067/h, $3.50 → $0.0047/h,
// $10 → $0.0134/h, $9.50 → $0.0127/h (a /730 divisor would give $0.0068, $0.0136, $0.0130). sailcdn
// keeps the exact ratio instead of a truncated rate, so a full 31-day month costs exactly the monthly
// price and the cap is never reached early; a 30-day month costs 720/744 of it and February
// 672/744 (696/744 in a leap year). Because no cycle has more than 744 hours, "capped at the
// monthly price" holds by construction. Whether Lightsail bills distributions exactly like instances
// is not documented [M].
const HoursPerPlanMonth = 744

// PlanCost returns what hours hours of a plan priced monthly cost within one billing cycle:
// floor(price × hours / 744), hours clamped to 0..744. hours must be the cumulative hours of that
// bundle in the cycle, not a day's share, so that rounding happens once (see the package doc).
func PlanCost(price Micros, hours int64) Micros {
	hours = min(max(hours, 0), HoursPerPlanMonth)
	if price <= 0 {
		return 0
	}
	// Cannot fail: hours <= 744 keeps the quotient <= price.
	c, _ := mulDivFloor(int64(price), hours, HoursPerPlanMonth)
	return Micros(c)
}

// BundlePeriod is one stretch of a distribution's life on one bundle: From the creation or the
// bundle change, To the next change or the deletion (exclusive). To is zero while the bundle is
// still in effect and the distribution exists. A distribution's periods, in order, must be
// contiguous (each To equals the next From); only the last may be open.
type BundlePeriod struct {
	BundleID string
	From, To time.Time
}

// Hour slots. Plans accrue per clock hour [h, h+1h) UTC. A distribution pays for every hour slot in
// which it existed at any instant: an hour that is only partly covered (created at 23:30, deleted at
// 10:05) counts as a whole hour, as AWS bills partial hours of hourly resources. If the bundle
// changed within an hour, the hour is billed once, to the bundle in effect at the end of the hour
// (for the deletion hour: at deletion), so a change never bills an hour twice and a downgrade cannot
// dodge the hour it happened in. Hours never straddle cycles, so each hour belongs to the cycle that
// contains its start. A window [lo, hi) contains the hours that START inside it; so any split of time
// into windows splits the hours without loss or double counting.

// period is a validated BundlePeriod with its bundle resolved and its hour slots computed.
type period struct {
	bundle   Bundle
	from, to time.Time // the period itself; to is zero when open
	open     bool
	// Owned hour slots: starts in [slotFrom, slotTo); slotTo is unbounded when open.
	slotFrom, slotTo time.Time
}

// life is a distribution's validated bundle history.
type life struct {
	periods []period
}

// newLife validates periods against the catalog: at least one period; each with a known bundle, a
// From, and From < To; contiguous; only the last open. Errors wrap ErrInvalidPeriods or
// ErrUnknownBundle.
func newLife(cat Catalog, periods []BundlePeriod) (life, error) {
	if len(periods) == 0 {
		return life{}, fmt.Errorf("%w: no bundle periods", ErrInvalidPeriods)
	}
	l := life{periods: make([]period, len(periods))}
	for i, bp := range periods {
		b, ok := cat.Bundle(bp.BundleID)
		if !ok {
			return life{}, fmt.Errorf("%w: %q (period %d)", ErrUnknownBundle, bp.BundleID, i)
		}
		last := i == len(periods)-1
		p := period{bundle: b, from: bp.From.UTC(), to: bp.To.UTC(), open: bp.To.IsZero()}
		switch {
		case bp.From.IsZero():
			return life{}, fmt.Errorf("%w: period %d has no start", ErrInvalidPeriods, i)
		case p.open && !last:
			return life{}, fmt.Errorf("%w: period %d is open but is not the last", ErrInvalidPeriods, i)
		case !p.open && !p.from.Before(p.to):
			return life{}, fmt.Errorf("%w: period %d ends at or before its start", ErrInvalidPeriods, i)
		case i > 0 && !l.periods[i-1].to.Equal(p.from):
			return life{}, fmt.Errorf("%w: period %d does not start where period %d ends", ErrInvalidPeriods, i, i-1)
		}
		p.slotFrom = floorHour(p.from)
		switch {
		case p.open:
		case last: // deleted: the deletion hour is billed
			p.slotTo = ceilHour(p.to)
		default: // changed: the change hour goes to the next bundle
			p.slotTo = floorHour(p.to)
		}
		l.periods[i] = p
	}
	return l, nil
}

// created is the creation instant.
func (l life) created() time.Time { return l.periods[0].from }

// deleted returns the deletion instant, if the distribution was deleted.
func (l life) deleted() (time.Time, bool) {
	last := l.periods[len(l.periods)-1]
	return last.to, !last.open
}

// hoursIn returns how many of p's hour slots start in [lo, hi).
func (p period) hoursIn(lo, hi time.Time) int64 {
	from := maxTime(p.slotFrom, ceilHour(lo))
	to := ceilHour(hi)
	if !p.open {
		to = minTime(to, p.slotTo)
	}
	if !from.Before(to) {
		return 0
	}
	return int64(to.Sub(from) / time.Hour)
}

// planUpTo returns the plan hours and plan cost accrued in the cycle starting at cs by the hour slots
// starting in [cs, x). Hours are summed per bundle before PlanCost so each bundle is rounded once.
func (l life) planUpTo(cs, x time.Time) (hours int64, cost Micros, ok bool) {
	type acc struct {
		price Micros
		hours int64
	}
	var per []acc // a cycle holds one or two bundles; a map would be overkill
	ids := make([]string, 0, 2)
	for _, p := range l.periods {
		h := p.hoursIn(cs, x)
		if h == 0 {
			continue
		}
		hours += h
		found := false
		for i, id := range ids {
			if id == p.bundle.ID {
				per[i].hours += h
				found = true
				break
			}
		}
		if !found {
			ids = append(ids, p.bundle.ID)
			per = append(per, acc{price: p.bundle.Price, hours: h})
		}
	}
	for _, a := range per {
		c, ok := addInt64(int64(cost), int64(PlanCost(a.price, a.hours)))
		if !ok {
			return 0, 0, false
		}
		cost = Micros(c)
	}
	return hours, cost, true
}

func floorHour(t time.Time) time.Time { return t.Truncate(time.Hour) }

func ceilHour(t time.Time) time.Time {
	f := t.Truncate(time.Hour)
	if f.Equal(t) {
		return f
	}
	return f.Add(time.Hour)
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
