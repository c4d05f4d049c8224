package billing

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// scenario is a random distribution life within one billing cycle, plus usage consistent with it.
type scenario struct {
	cs, ce  time.Time
	periods []BundlePeriod
	usage   []UsageSample
}

// randomScenario draws: a cycle between 2024 and 2028 (leap and common Februaries, 30- and 31-day
// months); a creation before or inside the cycle; maybe one bundle change and maybe a deletion inside
// the cycle; and up to 40 samples in the distribution's billable life, with sizes that often land
// on or next to the quota.
func randomScenario(r *rand.Rand, cat Catalog) scenario {
	cs := time.Date(2024+r.IntN(5), time.Month(1+r.IntN(12)), 1, 0, 0, 0, 0, time.UTC)
	ce := NextCycleStart(cs)
	span := int64(ce.Sub(cs))
	instant := func(lo, hi time.Time) time.Time { // uniform in [lo, hi), minute-aligned half the time
		t := lo.Add(time.Duration(r.Int64N(int64(hi.Sub(lo)))))
		if r.IntN(2) == 0 {
			t = t.Truncate(time.Minute)
			if t.Before(lo) {
				t = lo
			}
		}
		return t
	}
	bundle := func() string { return cat.Bundles[r.IntN(len(cat.Bundles))].ID }

	created := cs.Add(-time.Duration(r.Int64N(span)))
	if r.IntN(2) == 0 {
		created = instant(cs, ce.Add(-2*time.Hour))
	}
	sc := scenario{cs: cs, ce: ce, periods: []BundlePeriod{{BundleID: bundle(), From: created}}}
	if r.IntN(2) == 0 { // one bundle change in the cycle
		change := instant(maxTime(created, cs).Add(time.Second), ce.Add(-time.Hour))
		sc.periods[0].To = change
		sc.periods = append(sc.periods, BundlePeriod{BundleID: bundle(), From: change})
	}
	lifeEnd := ce
	if r.IntN(3) == 0 { // deleted in the cycle
		last := &sc.periods[len(sc.periods)-1]
		gone := instant(maxTime(last.From, cs).Add(time.Second), ce)
		last.To, lifeEnd = gone, gone
	}
	lo := maxTime(floorHour(created), cs)
	for range r.IntN(41) {
		if !lo.Before(lifeEnd) {
			break
		}
		var b int64
		switch r.IntN(4) {
		case 0:
			b = 50 * BytesPerGB // exactly the small quota
		case 1:
			b = r.Int64N(3) // a byte or two
		default:
			b = r.Int64N(80 * BytesPerGB)
		}
		sc.usage = append(sc.usage, UsageSample{At: instant(lo, lifeEnd), BytesOut: b})
	}
	return sc
}

func TestPropertyRowsReconcileAndCostIsMonotone(t *testing.T) {
	cat := testCatalog()
	r := rand.New(rand.NewPCG(20260316, 1))
	for iter := range 300 {
		sc := randomScenario(r, cat)
		est, err := EstimateCost(cat, sc.periods, sc.usage, sc.cs, sc.ce)
		if err != nil {
			t.Fatalf("iter %d: EstimateCost: %v\n%+v", iter, err, sc)
		}

		// Daily rows are non-negative and sum exactly to the cycle total, which is what the
		// usage-so-far view reports for the finished cycle.
		var sum Charges
		for _, d := range est.Days {
			if d.PlanHours < 0 || d.PlanCost < 0 || d.TransferBytes < 0 || d.OverageBytes < 0 || d.OverageCost < 0 {
				t.Fatalf("iter %d: negative row %+v", iter, d)
			}
			sum, _ = sum.add(d.Charges)
		}
		if sum != est.Total {
			t.Fatalf("iter %d: rows sum to %+v, total %+v", iter, sum, est.Total)
		}
		reports, err := CycleUsage(cat, sc.periods, sc.usage, sc.ce.Add(time.Hour))
		if err != nil {
			t.Fatalf("iter %d: CycleUsage: %v", iter, err)
		}
		i := slices.IndexFunc(reports, func(c CycleReport) bool { return c.Start.Equal(sc.cs) })
		if i < 0 {
			t.Fatalf("iter %d: no report for %s: %+v", iter, CycleOf(sc.cs), reports)
		}
		if rep := reports[i]; rep.Charges != est.Total || !rep.Complete || rep.ProjectedCost != est.Total.Cost() {
			t.Fatalf("iter %d: report %+v disagrees with estimate total %+v", iter, rep, est.Total)
		}
		if est.Total.PlanHours > HoursInCycle(sc.cs) {
			t.Fatalf("iter %d: %d plan hours in a %d-hour cycle", iter, est.Total.PlanHours, HoursInCycle(sc.cs))
		}

		// Any split of the window gives the same total.
		mid := sc.cs.Add(time.Duration(r.Int64N(int64(sc.ce.Sub(sc.cs)-1)) + 1))
		a, errA := EstimateCost(cat, sc.periods, sc.usage, sc.cs, mid)
		b, errB := EstimateCost(cat, sc.periods, sc.usage, mid, sc.ce)
		if errA != nil || errB != nil {
			t.Fatalf("iter %d: split: %v, %v", iter, errA, errB)
		}
		if split, _ := a.Total.add(b.Total); split != est.Total {
			t.Fatalf("iter %d: split at %v gives %+v, whole window %+v", iter, mid, split, est.Total)
		}

		// Cost never decreases as usage grows: feed the samples one by one in time order, and
		// finally grow one sample.
		usage := slices.Clone(sc.usage)
		slices.SortFunc(usage, func(x, y UsageSample) int { return x.At.Compare(y.At) })
		var prev Charges
		for k := 0; k <= len(usage); k++ {
			e, err := EstimateCost(cat, sc.periods, usage[:k], sc.cs, sc.ce)
			if err != nil {
				t.Fatalf("iter %d: prefix %d: %v", iter, k, err)
			}
			if k > 0 && (e.Total.OverageBytes < prev.OverageBytes || e.Total.OverageCost < prev.OverageCost || e.Total.Cost() < prev.Cost()) {
				t.Fatalf("iter %d: adding sample %d lowered the charges: %+v then %+v", iter, k-1, prev, e.Total)
			}
			prev = e.Total
		}
		if len(usage) > 0 {
			j := r.IntN(len(usage))
			usage[j].BytesOut += 1 + r.Int64N(10*BytesPerGB)
			e, err := EstimateCost(cat, sc.periods, usage, sc.cs, sc.ce)
			if err != nil {
				t.Fatalf("iter %d: grown: %v", iter, err)
			}
			if e.Total.OverageCost < prev.OverageCost || e.Total.Cost() < prev.Cost() {
				t.Fatalf("iter %d: growing sample %d lowered the charges: %+v then %+v", iter, j, prev, e.Total)
			}
		}
	}
}
