package billing

import (
	"fmt"
	"time"
)

// Charges are the billable quantities of a stretch of time. A natural GetCostEstimate mapping (the
// control plane's choice) is two EstimateByTime entries per day: the plan (pricingUnit "Hrs", unit
// PlanHours, usageCost PlanCost) and the transfer (pricingUnit "GB", unit TransferBytes / BytesPerGB,
// usageCost OverageCost), with Micros.Float64 for the doubles.
type Charges struct {
	PlanHours     int64  // hour slots billed (partial hours count whole)
	PlanCost      Micros // prorated plan charge for those hours
	TransferBytes int64  // all metered bytes out
	OverageBytes  int64  // the part of TransferBytes above the quota
	OverageCost   Micros // charge for OverageBytes
}

// Cost returns PlanCost + OverageCost.
func (c Charges) Cost() Micros { return c.PlanCost + c.OverageCost }

// sub returns c - d field by field.
func (c Charges) sub(d Charges) Charges {
	return Charges{
		PlanHours:     c.PlanHours - d.PlanHours,
		PlanCost:      c.PlanCost - d.PlanCost,
		TransferBytes: c.TransferBytes - d.TransferBytes,
		OverageBytes:  c.OverageBytes - d.OverageBytes,
		OverageCost:   c.OverageCost - d.OverageCost,
	}
}

// add returns c + d, reporting overflow.
func (c Charges) add(d Charges) (Charges, bool) {
	var s Charges
	var ok [5]bool
	s.PlanHours, ok[0] = addInt64(c.PlanHours, d.PlanHours)
	pc, ok1 := addInt64(int64(c.PlanCost), int64(d.PlanCost))
	s.PlanCost, ok[1] = Micros(pc), ok1
	s.TransferBytes, ok[2] = addInt64(c.TransferBytes, d.TransferBytes)
	s.OverageBytes, ok[3] = addInt64(c.OverageBytes, d.OverageBytes)
	oc, ok4 := addInt64(int64(c.OverageCost), int64(d.OverageCost))
	s.OverageCost, ok[4] = Micros(oc), ok4
	return s, ok == [5]bool{true, true, true, true, true}
}

// DayEstimate is one row of an estimate: the charges of one UTC day [Start, End), clipped to the
// estimate window (GetCostEstimate's TimePeriod: start inclusive, end exclusive).
type DayEstimate struct {
	Start, End time.Time
	Cycle      string // the billing cycle the day belongs to
	Charges
}

// Estimate is a distribution's cost over a window, one row per UTC day. Total is the exact sum of
// the rows.
type Estimate struct {
	Start, End time.Time
	Days       []DayEstimate
	Total      Charges
}

// EstimateCost computes the charges of a distribution over the window [start, end), one row per UTC
// day (the first and last rows are clipped to the window). The figures of a day do not depend on
// the window they are asked through: plan hours and overage are accrued from the start of each
// billing cycle (so usage must include the samples from CycleStart(start) on; samples outside
// [CycleStart(start), end) do not affect the result) and rounded once per cycle, and a row is the
// difference of two cycle-cumulative amounts. Hence rows add up exactly to cycle totals, and for a
// window covering a whole cycle the sum equals CycleUsage's figures for that cycle.
//
// Days before creation or after deletion are present with zero charges. A window reaching into the
// future accrues plan hours for the open bundle period up to end (a projection); usage covers only
// what was metered. periods and usage are validated (see BundlePeriod, UsageSample); errors wrap
// ErrInvalidWindow, ErrInvalidPeriods, ErrUnknownBundle, ErrInvalidUsage, ErrInvalidCatalog or
// ErrOverflow.
func EstimateCost(cat Catalog, periods []BundlePeriod, usage []UsageSample, start, end time.Time) (Estimate, error) {
	start, end = start.UTC(), end.UTC()
	if !start.Before(end) {
		return Estimate{}, fmt.Errorf("%w: start %s is not before end %s", ErrInvalidWindow,
			start.Format(time.RFC3339), end.Format(time.RFC3339))
	}
	if err := cat.Validate(); err != nil {
		return Estimate{}, err
	}
	l, err := newLife(cat, periods)
	if err != nil {
		return Estimate{}, err
	}
	g, err := newLedger(l, usage, CycleStart(start), end)
	if err != nil {
		return Estimate{}, err
	}
	a := accountant{life: l, ledger: g, rate: cat.OveragePerGB}

	est := Estimate{Start: start, End: end}
	for rs := start; rs.Before(end); {
		re := minTime(nextDay(rs), end)
		cs := CycleStart(rs)
		before, err := a.cumulative(cs, rs)
		if err != nil {
			return Estimate{}, err
		}
		after, err := a.cumulative(cs, re)
		if err != nil {
			return Estimate{}, err
		}
		row := DayEstimate{Start: rs, End: re, Cycle: CycleOf(rs), Charges: after.sub(before)}
		var ok bool
		if est.Total, ok = est.Total.add(row.Charges); !ok {
			return Estimate{}, fmt.Errorf("%w: estimate total", ErrOverflow)
		}
		est.Days = append(est.Days, row)
		rs = re
	}
	return est, nil
}

// accountant computes cycle-cumulative charges: everything billable in the cycle starting at cs up
// to (not including) x, with the one rounding per cycle.
type accountant struct {
	life   life
	ledger *ledger
	rate   Micros
}

func (a accountant) cumulative(cs, x time.Time) (Charges, error) {
	hours, plan, ok := a.life.planUpTo(cs, x)
	if !ok {
		return Charges{}, fmt.Errorf("%w: plan cost in cycle %s", ErrOverflow, CycleOf(cs))
	}
	used, over := a.ledger.upTo(cs, x)
	cost, ok := overageCost(over, a.rate)
	if !ok {
		return Charges{}, fmt.Errorf("%w: overage cost in cycle %s", ErrOverflow, CycleOf(cs))
	}
	return Charges{PlanHours: hours, PlanCost: plan, TransferBytes: used, OverageBytes: over, OverageCost: cost}, nil
}

// nextDay returns 00:00 UTC of the day after t's.
func nextDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)
}
