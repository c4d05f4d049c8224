package billing

import (
	"fmt"
	"slices"
	"sort"
	"time"
)

// UsageSample is metered outbound traffic: BytesOut bytes sent by the distribution — to viewers
// for every method and to the origin: all data transfer out counts toward a distribution's quota
// (Lightsail FAQ "What are the differences between Lightsail's instance data transfer quotas and
// distribution data transfer quotas?"; docs/decisions.md "What counts toward the quota"), which is
// more than the BytesDownloaded and BytesUploaded metrics together — during a metering bucket
// stamped At (internal/usage makes one sample per clock hour with traffic, stamped with its last
// metered minute). A sample is attributed wholly to the instant At: its day, its cycle, and the
// quota in force then.
type UsageSample struct {
	At       time.Time
	BytesOut int64
}

// Quota and overage rules.
//
// Quota of a cycle. The quota is NOT prorated when the distribution is created or deleted
// mid-month: Lightsail documents no proration for distributions, and a bundle is "designed to cover a
// month's worth of usage" (Lightsail FAQ, "How is Lightsail CDN intended to be used?"). After a bundle
// change the quota is the LARGEST quota among the bundles in effect in the cycle so far: an upgrade
// raises it at once, a downgrade keeps the larger quota until the cycle ends (customer-favourable,
// and a downgrade cannot turn bytes already served into overage). With one change per cycle at most
// two bundles are involved.
//
// Overage. A byte is overage when the cycle's cumulative usage up to and including it exceeds the
// quota in force at its sample's At. An upgrade does not refund overage already incurred: the
// Lightsail guide advises changing the plan "before your distribution exceeds its monthly quota" to
// avoid an overage fee ("Changing the plan of your Amazon Lightsail distribution"). Consequences: a
// day's overage never changes once the day is over; the day on which cumulative usage crosses the
// quota gets the part above it and later days get all their bytes; and cumulative overage never
// decreases as usage grows. Cost = floor(cumulative overage bytes × OveragePerGB / BytesPerGB) per
// cycle; a day's cost is the difference of two such cycle-cumulative amounts.

// quotaAt returns the quota in force at t in the cycle [cs, ce): the largest quota of the periods
// overlapping the cycle that had started by t. Samples stamped in the creation hour but before the
// creation instant use the first bundle's quota.
func (l life) quotaAt(cs, ce, t time.Time) int64 {
	var q int64
	first := true
	for _, p := range l.periods {
		overlaps := p.from.Before(ce) && (p.open || p.to.After(cs))
		if !overlaps {
			continue
		}
		if first || !p.from.After(t) {
			q = max(q, p.bundle.QuotaBytes())
		}
		first = false
	}
	return q
}

// bundleAt returns the bundle of the last period overlapping [cs, ce) that had started by t (the
// first overlapping one if none had).
func (l life) bundleAt(cs, ce, t time.Time) Bundle {
	var b Bundle
	first := true
	for _, p := range l.periods {
		if !(p.from.Before(ce) && (p.open || p.to.After(cs))) {
			continue
		}
		if first || !p.from.After(t) {
			b = p.bundle
		}
		first = false
	}
	return b
}

// ledger holds usage samples in time order with cycle-local running totals.
type ledger struct {
	at      []time.Time
	cycle   []time.Time // CycleStart of sample i
	usedCum []int64     // bytes in sample i's cycle up to and including sample i
	overCum []int64     // overage bytes in sample i's cycle up to and including sample i
}

// newLedger validates every sample (non-negative bytes; not before the creation hour, when no
// metering bucket can start; not at or after deletion, when no traffic can be served) and keeps
// those stamped in [from, to). Errors wrap ErrInvalidUsage or ErrOverflow.
func newLedger(l life, usage []UsageSample, from, to time.Time) (*ledger, error) {
	earliest := floorHour(l.created())
	gone, deleted := l.deleted()
	kept := make([]UsageSample, 0, len(usage))
	for i, s := range usage {
		at := s.At.UTC()
		switch {
		case s.BytesOut < 0:
			return nil, fmt.Errorf("%w: sample %d at %s has negative bytes", ErrInvalidUsage, i, at.Format(time.RFC3339))
		case at.Before(earliest):
			return nil, fmt.Errorf("%w: sample %d at %s is before the distribution was created", ErrInvalidUsage, i, at.Format(time.RFC3339))
		case deleted && !at.Before(gone):
			return nil, fmt.Errorf("%w: sample %d at %s is after the distribution was deleted", ErrInvalidUsage, i, at.Format(time.RFC3339))
		}
		if !at.Before(from) && at.Before(to) {
			kept = append(kept, UsageSample{At: at, BytesOut: s.BytesOut})
		}
	}
	slices.SortStableFunc(kept, func(a, b UsageSample) int { return a.At.Compare(b.At) })

	g := &ledger{
		at:      make([]time.Time, len(kept)),
		cycle:   make([]time.Time, len(kept)),
		usedCum: make([]int64, len(kept)),
		overCum: make([]int64, len(kept)),
	}
	var cs, ce time.Time
	var used, over int64
	for i, s := range kept {
		if c := CycleStart(s.At); !c.Equal(cs) {
			cs, ce = c, NextCycleStart(s.At)
			used, over = 0, 0
		}
		var ok bool
		if used, ok = addInt64(used, s.BytesOut); !ok {
			return nil, fmt.Errorf("%w: usage in cycle %s", ErrOverflow, CycleOf(cs))
		}
		quota := l.quotaAt(cs, ce, s.At)
		over += min(s.BytesOut, max(0, used-quota)) // <= used, cannot overflow
		g.at[i], g.cycle[i], g.usedCum[i], g.overCum[i] = s.At, cs, used, over
	}
	return g, nil
}

// upTo returns the usage and overage bytes of the cycle starting at cs from samples stamped in
// [cs, x).
func (g *ledger) upTo(cs, x time.Time) (used, over int64) {
	i := sort.Search(len(g.at), func(i int) bool { return !g.at[i].Before(x) })
	if i == 0 || !g.cycle[i-1].Equal(cs) {
		return 0, 0
	}
	return g.usedCum[i-1], g.overCum[i-1]
}

// overageCost prices cumulative overage bytes: floor(bytes × rate / BytesPerGB).
func overageCost(bytes int64, rate Micros) (Micros, bool) {
	c, ok := mulDivFloor(bytes, int64(rate), BytesPerGB)
	return Micros(c), ok
}
