package billing

import (
	"errors"
	"testing"
	"time"
)

const gb = BytesPerGB

// testCatalog is the default catalog plus a $1 bundle with a zero quota.
func testCatalog() Catalog {
	c := DefaultCatalog()
	c.Bundles = append(c.Bundles, Bundle{ID: "zero_1_0", Name: "Zero", Price: 1_000_000, TransferPerMonthGB: 0, IsActive: true})
	return c
}

func TestEstimateCost(t *testing.T) {
	tests := []struct {
		name       string
		periods    []BundlePeriod
		usage      []UsageSample
		start, end string
		rows       int
		total      Charges
		days       map[string]Charges // rows to check, by the date of their Start
	}{
		{
			name:    "created 23:30 on the last day of a month",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-01-31T23:30:00Z")}},
			start:   "2026-01-31T00:00:00Z", end: "2026-02-02T00:00:00Z",
			rows:  2,
			total: Charges{PlanHours: 25, PlanCost: 3360 + 80645},
			days: map[string]Charges{
				// The half hour bills a whole hour, in January: floor(2.5 × 1/744) dollars.
				"2026-01-31": {PlanHours: 1, PlanCost: 3360},
				// February starts its own cycle: floor(2.5 × 24/744).
				"2026-02-01": {PlanHours: 24, PlanCost: 80645},
			},
		},
		{
			name:    "31-day month bills exactly the monthly price",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2025-12-15T00:00:00Z")}},
			start:   "2026-01-01T00:00:00Z", end: "2026-02-01T00:00:00Z",
			rows:  31,
			total: Charges{PlanHours: 744, PlanCost: 2_500_000},
		},
		{
			name:    "30-day month bills 720/744 of the price",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-01-01T00:00:00Z")}},
			start:   "2026-04-01T00:00:00Z", end: "2026-05-01T00:00:00Z",
			rows:  30,
			total: Charges{PlanHours: 720, PlanCost: 2_419_354},
		},
		{
			name:    "leap year February is 29 days of 24 hours",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2028-01-01T00:00:00Z")}},
			start:   "2028-02-01T00:00:00Z", end: "2028-03-01T00:00:00Z",
			rows:  29,
			total: Charges{PlanHours: 696, PlanCost: 2_338_709},
			days:  map[string]Charges{"2028-02-29": {PlanHours: 24, PlanCost: 2_338_709 - 2_258_064}},
		},
		{
			name:    "common February is 28 days",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-01-01T00:00:00Z")}},
			start:   "2026-02-01T00:00:00Z", end: "2026-03-01T00:00:00Z",
			rows:  28,
			total: Charges{PlanHours: 672, PlanCost: 2_258_064},
		},
		{
			name: "bundle change mid-month: upgrade raises the quota but keeps earlier overage",
			periods: []BundlePeriod{
				{BundleID: "small_1_0", From: at(t, "2026-03-01T00:00:00Z"), To: at(t, "2026-03-16T10:15:00Z")},
				{BundleID: "medium_1_0", From: at(t, "2026-03-16T10:15:00Z")},
			},
			usage: []UsageSample{
				{At: at(t, "2026-03-20T12:00:00Z"), BytesOut: 100 * gb}, // given out of order on purpose
				{At: at(t, "2026-03-10T12:00:00Z"), BytesOut: 60 * gb},
			},
			start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z",
			rows: 31,
			// small: 370 h (to 10:00 on the 16th), medium: 374 h (the 10:00 hour goes to medium).
			total: Charges{PlanHours: 744, PlanCost: 1_243_279 + 17_594_086,
				TransferBytes: 160 * gb, OverageBytes: 10 * gb, OverageCost: 900_000},
			days: map[string]Charges{
				"2026-03-10": {PlanHours: 24, PlanCost: 80_645, TransferBytes: 60 * gb, OverageBytes: 10 * gb, OverageCost: 900_000},
				"2026-03-16": {PlanHours: 24, PlanCost: 33_602 + 658_602},
				"2026-03-20": {PlanHours: 24, PlanCost: 1_129_033, TransferBytes: 100 * gb},
			},
		},
		{
			name: "downgrade keeps the larger quota until the cycle ends",
			periods: []BundlePeriod{
				{BundleID: "medium_1_0", From: at(t, "2026-03-01T00:00:00Z"), To: at(t, "2026-03-05T10:00:00Z")},
				{BundleID: "small_1_0", From: at(t, "2026-03-05T10:00:00Z")},
			},
			usage: []UsageSample{{At: at(t, "2026-03-20T00:00:00Z"), BytesOut: 100 * gb}},
			start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z",
			rows:  31,
			total: Charges{PlanHours: 744, PlanCost: 4_986_559 + 2_143_817, TransferBytes: 100 * gb},
		},
		{
			name:    "zero quota bundle: every byte is overage",
			periods: []BundlePeriod{{BundleID: "zero_1_0", From: at(t, "2026-03-01T00:00:00Z")}},
			usage: []UsageSample{
				{At: at(t, "2026-03-02T00:00:00Z"), BytesOut: 1},
				{At: at(t, "2026-03-03T00:00:00Z"), BytesOut: gb - 1},
			},
			start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z",
			rows:  31,
			total: Charges{PlanHours: 744, PlanCost: 1_000_000, TransferBytes: gb, OverageBytes: gb, OverageCost: 90_000},
			days: map[string]Charges{
				// One byte is worth less than a micro: rounded down, cumulatively.
				"2026-03-02": {PlanHours: 24, PlanCost: 32_258, TransferBytes: 1, OverageBytes: 1, OverageCost: 0},
				"2026-03-03": {PlanHours: 24, PlanCost: 32_258, TransferBytes: gb - 1, OverageBytes: gb - 1, OverageCost: 90_000},
			},
		},
		{
			name:    "usage exactly at quota",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-03-01T00:00:00Z")}},
			usage:   []UsageSample{{At: at(t, "2026-03-05T00:00:00Z"), BytesOut: 50 * gb}},
			start:   "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z",
			rows:  31,
			total: Charges{PlanHours: 744, PlanCost: 2_500_000, TransferBytes: 50 * gb},
		},
		{
			name:    "one byte over the quota",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-03-01T00:00:00Z")}},
			usage: []UsageSample{
				{At: at(t, "2026-03-05T00:00:00Z"), BytesOut: 50*gb + 1},
				{At: at(t, "2026-03-06T00:00:00Z"), BytesOut: gb - 1},
			},
			start: "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z",
			rows:  31,
			total: Charges{PlanHours: 744, PlanCost: 2_500_000, TransferBytes: 51 * gb, OverageBytes: gb, OverageCost: 90_000},
			days: map[string]Charges{
				"2026-03-05": {PlanHours: 24, PlanCost: 80_645, TransferBytes: 50*gb + 1, OverageBytes: 1, OverageCost: 0},
				"2026-03-06": {PlanHours: 24, PlanCost: 80_645, TransferBytes: gb - 1, OverageBytes: gb - 1, OverageCost: 90_000},
			},
		},
		{
			name:    "the day usage crosses the quota gets only the part above it",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-03-01T00:00:00Z")}},
			usage: []UsageSample{
				{At: at(t, "2026-03-01T10:00:00Z"), BytesOut: 40 * gb},
				{At: at(t, "2026-03-02T10:00:00Z"), BytesOut: 20 * gb},
				{At: at(t, "2026-03-03T10:00:00Z"), BytesOut: 5 * gb},
			},
			start: "2026-03-01T00:00:00Z", end: "2026-03-04T00:00:00Z",
			rows:  3,
			total: Charges{PlanHours: 72, PlanCost: 241_935, TransferBytes: 65 * gb, OverageBytes: 15 * gb, OverageCost: 1_350_000},
			days: map[string]Charges{
				"2026-03-01": {PlanHours: 24, PlanCost: 80_645, TransferBytes: 40 * gb},
				"2026-03-02": {PlanHours: 24, PlanCost: 80_645, TransferBytes: 20 * gb, OverageBytes: 10 * gb, OverageCost: 900_000},
				"2026-03-03": {PlanHours: 24, PlanCost: 80_645, TransferBytes: 5 * gb, OverageBytes: 5 * gb, OverageCost: 450_000},
			},
		},
		{
			name:    "deleted distribution accrues to the deletion hour",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-03-01T00:00:00Z"), To: at(t, "2026-03-10T10:05:00Z")}},
			usage:   []UsageSample{{At: at(t, "2026-03-10T10:04:00Z"), BytesOut: gb}},
			start:   "2026-03-01T00:00:00Z", end: "2026-04-01T00:00:00Z",
			rows: 31,
			// 9 days + 11 hours (00:00 to the 10:00 hour inclusive).
			total: Charges{PlanHours: 227, PlanCost: 762_768, TransferBytes: gb},
			days: map[string]Charges{
				"2026-03-10": {PlanHours: 11, PlanCost: 762_768 - 725_806, TransferBytes: gb},
				"2026-03-11": {},
			},
		},
		{
			name:    "window starting mid-cycle counts earlier usage toward the quota",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-02-01T00:00:00Z")}},
			usage: []UsageSample{
				{At: at(t, "2026-02-28T23:59:00Z"), BytesOut: 100 * gb}, // previous cycle: no effect
				{At: at(t, "2026-03-10T00:00:00Z"), BytesOut: 60 * gb},
				{At: at(t, "2026-03-15T05:00:00Z"), BytesOut: gb},
				{At: at(t, "2026-03-17T00:00:00Z"), BytesOut: 7 * gb}, // after the window: ignored
			},
			start: "2026-03-15T00:00:00Z", end: "2026-03-17T00:00:00Z",
			rows:  2,
			total: Charges{PlanHours: 48, PlanCost: 161_290, TransferBytes: gb, OverageBytes: gb, OverageCost: 90_000},
		},
		{
			name:    "sample stamped in the creation hour before the creation instant",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-03-05T10:30:00Z")}},
			usage:   []UsageSample{{At: at(t, "2026-03-05T10:00:00Z"), BytesOut: gb}},
			start:   "2026-03-05T00:00:00Z", end: "2026-03-06T00:00:00Z",
			rows:  1,
			total: Charges{PlanHours: 14, PlanCost: 47_043, TransferBytes: gb},
		},
		{
			name:    "partial days at both ends of the window are clipped",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-02-01T00:00:00Z")}},
			start:   "2026-03-01T12:00:00Z", end: "2026-03-02T06:00:00Z",
			rows:  2,
			total: Charges{PlanHours: 18, PlanCost: 40_323 + 20_161},
			days: map[string]Charges{
				"2026-03-01": {PlanHours: 12, PlanCost: 40_323},
				"2026-03-02": {PlanHours: 6, PlanCost: 20_161},
			},
		},
		{
			name:    "days before creation are present and empty",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-03-03T00:00:00Z")}},
			start:   "2026-03-01T00:00:00Z", end: "2026-03-04T00:00:00Z",
			rows:  3,
			total: Charges{PlanHours: 24, PlanCost: 80_645},
			days:  map[string]Charges{"2026-03-01": {}, "2026-03-02": {}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			est, err := EstimateCost(testCatalog(), tt.periods, tt.usage, at(t, tt.start), at(t, tt.end))
			if err != nil {
				t.Fatalf("EstimateCost: %v", err)
			}
			if len(est.Days) != tt.rows {
				t.Fatalf("%d rows, want %d", len(est.Days), tt.rows)
			}
			if est.Total != tt.total {
				t.Errorf("Total = %+v\n         want %+v", est.Total, tt.total)
			}
			var sum Charges
			seen := 0
			for i, d := range est.Days {
				sum, _ = sum.add(d.Charges)
				if i > 0 && !d.Start.Equal(est.Days[i-1].End) {
					t.Errorf("row %d starts at %v, previous ends at %v", i, d.Start, est.Days[i-1].End)
				}
				if d.Cycle != CycleOf(d.Start) {
					t.Errorf("row %d Cycle = %q, want %q", i, d.Cycle, CycleOf(d.Start))
				}
				if want, ok := tt.days[d.Start.Format(time.DateOnly)]; ok {
					seen++
					if d.Charges != want {
						t.Errorf("day %s = %+v\n                want %+v", d.Start.Format(time.DateOnly), d.Charges, want)
					}
				}
			}
			if sum != est.Total {
				t.Errorf("rows sum to %+v, Total is %+v", sum, est.Total)
			}
			if seen != len(tt.days) {
				t.Errorf("checked %d of %d expected days: a day key is not in the window", seen, len(tt.days))
			}
			if first, last := est.Days[0], est.Days[len(est.Days)-1]; !first.Start.Equal(at(t, tt.start)) || !last.End.Equal(at(t, tt.end)) {
				t.Errorf("rows cover [%v, %v), want [%s, %s)", first.Start, last.End, tt.start, tt.end)
			}
		})
	}
}

func TestEstimateCostRejects(t *testing.T) {
	small := func(from, to string) BundlePeriod {
		p := BundlePeriod{BundleID: "small_1_0", From: at(t, from)}
		if to != "" {
			p.To = at(t, to)
		}
		return p
	}
	open := []BundlePeriod{small("2026-03-01T00:00:00Z", "")}
	deleted := []BundlePeriod{small("2026-03-01T00:00:00Z", "2026-03-10T10:05:00Z")}
	start, end := at(t, "2026-03-01T00:00:00Z"), at(t, "2026-04-01T00:00:00Z")
	tests := []struct {
		name       string
		cat        Catalog
		periods    []BundlePeriod
		usage      []UsageSample
		start, end time.Time
		want       error
	}{
		{"empty window", testCatalog(), open, nil, start, start, ErrInvalidWindow},
		{"reversed window", testCatalog(), open, nil, end, start, ErrInvalidWindow},
		{"invalid catalog", Catalog{}, open, nil, start, end, ErrInvalidCatalog},
		{"no periods", testCatalog(), nil, nil, start, end, ErrInvalidPeriods},
		{"unknown bundle", testCatalog(), []BundlePeriod{{BundleID: "huge_9_9", From: start}}, nil, start, end, ErrUnknownBundle},
		{"period without start", testCatalog(), []BundlePeriod{{BundleID: "small_1_0"}}, nil, start, end, ErrInvalidPeriods},
		{"period ending before it starts", testCatalog(), []BundlePeriod{small("2026-03-05T00:00:00Z", "2026-03-04T00:00:00Z")}, nil, start, end, ErrInvalidPeriods},
		{"empty period", testCatalog(), []BundlePeriod{small("2026-03-05T00:00:00Z", "2026-03-05T00:00:00Z")}, nil, start, end, ErrInvalidPeriods},
		{"gap between periods", testCatalog(), []BundlePeriod{small("2026-03-01T00:00:00Z", "2026-03-05T00:00:00Z"), small("2026-03-06T00:00:00Z", "")}, nil, start, end, ErrInvalidPeriods},
		{"open period before the last", testCatalog(), []BundlePeriod{small("2026-03-01T00:00:00Z", ""), small("2026-03-06T00:00:00Z", "")}, nil, start, end, ErrInvalidPeriods},
		{"negative bytes", testCatalog(), open, []UsageSample{{At: at(t, "2026-03-02T00:00:00Z"), BytesOut: -1}}, start, end, ErrInvalidUsage},
		{"usage after deletion", testCatalog(), deleted, []UsageSample{{At: at(t, "2026-03-10T10:05:00Z"), BytesOut: 1}}, start, end, ErrInvalidUsage},
		{"usage before the creation hour", testCatalog(), open, []UsageSample{{At: at(t, "2026-02-28T23:59:00Z"), BytesOut: 1}}, start, end, ErrInvalidUsage},
		{"usage overflowing a cycle", testCatalog(), open, []UsageSample{
			{At: at(t, "2026-03-02T00:00:00Z"), BytesOut: 1 << 62},
			{At: at(t, "2026-03-03T00:00:00Z"), BytesOut: 1 << 62},
		}, start, end, ErrOverflow},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			est, err := EstimateCost(tt.cat, tt.periods, tt.usage, tt.start, tt.end)
			if !errors.Is(err, tt.want) {
				t.Fatalf("EstimateCost = %d rows, %v; want %v", len(est.Days), err, tt.want)
			}
		})
	}
}

func TestPlanCost(t *testing.T) {
	tests := []struct {
		name  string
		price Micros
		hours int64
		want  Micros
	}{
		{"one hour of $2.50 rounds down", 2_500_000, 1, 3360},
		{"full 31-day month", 2_500_000, 744, 2_500_000},
		{"capped at the monthly price", 2_500_000, 10_000, 2_500_000},
		{"negative hours are none", 2_500_000, -5, 0},
		{"free bundle", 0, 744, 0},
		// Lightsail's published rate for the $5 plan is $0.0067/h = floor(5/744, 4 decimals).
		{"$5 plan hour", 5_000_000, 1, 6720},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PlanCost(tt.price, tt.hours); got != tt.want {
				t.Fatalf("PlanCost(%d, %d) = %d, want %d", tt.price, tt.hours, got, tt.want)
			}
		})
	}
}
