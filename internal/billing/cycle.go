package billing

import (
	"fmt"
	"time"
)

// A billing cycle is a calendar month in UTC. The Lightsail guide speaks of the "AWS billing cycle"
// and the FAQ says a second bundle change must wait "until the beginning of the following month";
// AWS bills by calendar month in UTC. Cycles are named "YYYY-MM".

const cycleLayout = "2006-01"

// CycleOf returns the name ("YYYY-MM") of the billing cycle containing t.
func CycleOf(t time.Time) string { return t.UTC().Format(cycleLayout) }

// CycleStart returns the first instant (00:00 UTC on the 1st) of the billing cycle containing t.
func CycleStart(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// NextCycleStart returns the first instant of the billing cycle after the one containing t, which is
// also the exclusive end of t's cycle.
func NextCycleStart(t time.Time) time.Time { return CycleStart(t).AddDate(0, 1, 0) }

// ParseCycle returns the first instant of the named cycle ("YYYY-MM"). Errors wrap ErrInvalidWindow.
func ParseCycle(name string) (time.Time, error) {
	t, err := time.Parse(cycleLayout, name)
	if err != nil || t.Format(cycleLayout) != name {
		return time.Time{}, fmt.Errorf("%w: billing cycle %q is not YYYY-MM", ErrInvalidWindow, name)
	}
	return t, nil
}

// HoursInCycle returns the number of hours in the billing cycle containing t: 24 × the days of the
// month (672, 696, 720 or 744).
func HoursInCycle(t time.Time) int64 {
	return int64(NextCycleStart(t).Sub(CycleStart(t)) / time.Hour)
}

// AbleToUpdateBundle reports the distribution's ableToUpdateBundle flag at now: a bundle may be
// changed once per billing cycle (API reference, UpdateDistributionBundle and
// LightsailDistribution.ableToUpdateBundle), so the flag is false iff the last change happened in
// now's cycle, and flips back to true at 00:00 UTC on the 1st. lastChangeCycle is the CycleOf the
// last UpdateDistributionBundle, or "" if there was none. Creating a distribution is not a change
// (sailcdn's choice; AWS does not say), so the caller passes "" for a distribution whose bundle was
// only chosen at creation.
func AbleToUpdateBundle(lastChangeCycle string, now time.Time) bool {
	return lastChangeCycle != CycleOf(now)
}
