// Package billing is sailcdn's billing arithmetic for Lightsail distributions: the bundle catalog,
// calendar-month billing cycles and the once-per-cycle bundle change rule, hourly plan proration,
// the monthly transfer quota and overage, and the per-day cost estimates behind GetCostEstimate.
// It is pure: no I/O, no clock (every instant is an argument), integers for money (Micros) and bytes.
//
// # The one rounding rule
//
// Every fractional quantity in this package (prorated plan cost, overage cost, usage percentage,
// projected usage) is computed as a*b/d in 128-bit arithmetic and rounded DOWN to a whole unit, by
// one function (mulDivFloor). Rounding always happens on a cumulative cycle quantity (hours or bytes
// since the start of the billing cycle), never on a day's share: a day's amount is the difference of
// two rounded cumulative amounts. So the daily rows of an estimate add up exactly to the cycle total,
// and the cycle total is the same whichever window it was asked through. Rounding down is the
// customer-favourable direction and is also how Lightsail publishes its hourly plan rates (see plan.go).
//
// # Decisions where AWS is silent
//
//   - Billing cycle: the calendar month in UTC (cycle.go).
//   - Plan charges: hourly, at price × hours / 744, so a 31-day month costs exactly the monthly
//     price and shorter months less (plan.go).
//   - An hour that is only partly covered is billed as a whole hour, to the bundle in effect at the
//     end of that hour (or at deletion), so a bundle change never bills one hour twice (plan.go).
//   - Quota: the transfer quota of a cycle is not prorated for a distribution created or deleted
//     mid-month; after a bundle change it is the largest quota among the bundles in effect in the
//     cycle so far (overage.go).
//   - Overage: a byte is overage when the cycle's cumulative usage including it exceeds the quota in
//     force when it was transferred; usage is attributed by the sample's timestamp (overage.go).
package billing
