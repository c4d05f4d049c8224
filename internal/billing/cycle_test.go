package billing

import (
	"errors"
	"testing"
	"time"
)

// at parses an RFC 3339 instant; tests use it for readable fixtures.
func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad fixture time %q: %v", s, err)
	}
	return v
}

func TestCycleBoundaries(t *testing.T) {
	tests := []struct {
		name       string
		t          string
		cycle      string
		start, end string
		hours      int64
	}{
		{"mid month", "2026-03-16T10:15:00Z", "2026-03", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z", 744},
		{"first instant", "2026-04-01T00:00:00Z", "2026-04", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", 720},
		{"last instant", "2026-04-30T23:59:59.999999999Z", "2026-04", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", 720},
		{"december rolls the year", "2026-12-31T23:00:00Z", "2026-12", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z", 744},
		{"leap february", "2028-02-29T12:00:00Z", "2028-02", "2028-02-01T00:00:00Z", "2028-03-01T00:00:00Z", 696},
		{"common february", "2026-02-10T00:00:00Z", "2026-02", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", 672},
		// 08:30 on 1 May in Tokyo is still April in UTC: cycles are UTC months.
		{"non-UTC input", "2026-05-01T08:30:00+09:00", "2026-04", "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z", 720},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := at(t, tt.t)
			if got := CycleOf(v); got != tt.cycle {
				t.Errorf("CycleOf = %q, want %q", got, tt.cycle)
			}
			if got := CycleStart(v); !got.Equal(at(t, tt.start)) || got.Location() != time.UTC {
				t.Errorf("CycleStart = %v, want %s UTC", got, tt.start)
			}
			if got := NextCycleStart(v); !got.Equal(at(t, tt.end)) {
				t.Errorf("NextCycleStart = %v, want %s", got, tt.end)
			}
			if got := HoursInCycle(v); got != tt.hours {
				t.Errorf("HoursInCycle = %d, want %d", got, tt.hours)
			}
			if got, err := ParseCycle(tt.cycle); err != nil || !got.Equal(at(t, tt.start)) {
				t.Errorf("ParseCycle(%q) = %v, %v; want %s", tt.cycle, got, err, tt.start)
			}
		})
	}
}

func TestParseCycleRejects(t *testing.T) {
	for _, in := range []string{"", "2026-3", "2026-13", "2026-03-01", "March 2026", " 2026-03"} {
		if _, err := ParseCycle(in); !errors.Is(err, ErrInvalidWindow) {
			t.Errorf("ParseCycle(%q) err = %v, want ErrInvalidWindow", in, err)
		}
	}
}

func TestAbleToUpdateBundle(t *testing.T) {
	tests := []struct {
		name       string
		lastChange string
		now        string
		want       bool
	}{
		{"never changed", "", "2026-03-16T10:00:00Z", true},
		{"changed earlier this month", "2026-03", "2026-03-16T10:00:00Z", false},
		{"changed last month", "2026-02", "2026-03-16T10:00:00Z", true},
		{"last instant of the month of the change", "2026-03", "2026-03-31T23:59:59Z", false},
		{"flag resets at 00:00 UTC on the 1st", "2026-03", "2026-04-01T00:00:00Z", true},
		{"changed a year ago in the same month", "2025-03", "2026-03-16T10:00:00Z", true},
		{"UTC decides, not local time", "2026-03", "2026-04-01T08:00:00+09:00", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AbleToUpdateBundle(tt.lastChange, at(t, tt.now)); got != tt.want {
				t.Fatalf("AbleToUpdateBundle(%q, %s) = %v, want %v", tt.lastChange, tt.now, got, tt.want)
			}
		})
	}
}
