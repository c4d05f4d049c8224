package billing

import (
	"errors"
	"testing"
)

func TestCycleUsage(t *testing.T) {
	type want struct {
		cycle    string
		complete bool
		bundle   string
		quota    int64
		bp       int64
		charges  Charges
		project  Micros
	}
	tests := []struct {
		name    string
		periods []BundlePeriod
		usage   []UsageSample
		now     string
		want    []want
	}{
		{
			name:    "month in progress projects the plan and the traffic rate to the month end",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-03-01T00:00:00Z")}},
			usage: []UsageSample{
				{At: at(t, "2026-03-05T00:00:00Z"), BytesOut: 30 * gb},
				{At: at(t, "2026-03-10T05:00:00Z"), BytesOut: 15 * gb},
				{At: at(t, "2026-03-10T12:30:00Z"), BytesOut: 99 * gb}, // stamped at now: not yet counted
			},
			now: "2026-03-10T12:30:00Z",
			want: []want{{
				cycle: "2026-03", bundle: "small_1_0", quota: 50 * gb, bp: 9000,
				// 9 days + the 00:00..12:00 hours of the 10th = 229 hours.
				charges: Charges{PlanHours: 229, PlanCost: 769_489, TransferBytes: 45 * gb},
				// 45 GB over 229 h → +101.2 GB over the remaining 515 h; 96.2 GB above the quota.
				project: 2_500_000 + 8_658_078,
			}},
		},
		{
			name: "bundle change: finished month and the next one",
			periods: []BundlePeriod{
				{BundleID: "small_1_0", From: at(t, "2026-03-01T00:00:00Z"), To: at(t, "2026-03-16T10:15:00Z")},
				{BundleID: "medium_1_0", From: at(t, "2026-03-16T10:15:00Z")},
			},
			usage: []UsageSample{
				{At: at(t, "2026-03-10T12:00:00Z"), BytesOut: 60 * gb},
				{At: at(t, "2026-03-20T12:00:00Z"), BytesOut: 100 * gb},
			},
			now: "2026-04-01T00:00:00Z",
			want: []want{
				{
					cycle: "2026-03", complete: true, bundle: "medium_1_0", quota: 1000 * gb, bp: 1600,
					charges: Charges{PlanHours: 744, PlanCost: 18_837_365, TransferBytes: 160 * gb, OverageBytes: 10 * gb, OverageCost: 900_000},
					project: 18_837_365 + 900_000,
				},
				{
					// now is the first instant of April: nothing accrued yet, a full month projected.
					cycle: "2026-04", bundle: "medium_1_0", quota: 1000 * gb,
					charges: Charges{},
					project: 35_000_000 * 720 / 744,
				},
			},
		},
		{
			name: "downgrade reports the current bundle and the larger quota",
			periods: []BundlePeriod{
				{BundleID: "medium_1_0", From: at(t, "2026-03-01T00:00:00Z"), To: at(t, "2026-03-05T10:00:00Z")},
				{BundleID: "small_1_0", From: at(t, "2026-03-05T10:00:00Z")},
			},
			now: "2026-03-31T23:30:00Z",
			want: []want{{
				cycle: "2026-03", bundle: "small_1_0", quota: 1000 * gb,
				charges: Charges{PlanHours: 744, PlanCost: 4_986_559 + 2_143_817},
				project: 4_986_559 + 2_143_817,
			}},
		},
		{
			name:    "deleted mid-month: one complete cycle, projection equals cost",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-02-20T00:00:00Z"), To: at(t, "2026-03-10T10:05:00Z")}},
			usage:   []UsageSample{{At: at(t, "2026-03-10T10:04:00Z"), BytesOut: 10 * gb}},
			now:     "2026-05-20T00:00:00Z",
			want: []want{
				{
					cycle: "2026-02", complete: true, bundle: "small_1_0", quota: 50 * gb,
					charges: Charges{PlanHours: 9 * 24, PlanCost: 2_500_000 * 216 / 744},
					project: 2_500_000 * 216 / 744,
				},
				{
					cycle: "2026-03", complete: true, bundle: "small_1_0", quota: 50 * gb, bp: 2000,
					charges: Charges{PlanHours: 227, PlanCost: 762_768, TransferBytes: 10 * gb},
					project: 762_768,
				},
			},
		},
		{
			name:    "deleted at the first instant of a month: that month is not reported",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-03-01T00:00:00Z"), To: at(t, "2026-04-01T00:00:00Z")}},
			now:     "2026-04-05T00:00:00Z",
			want: []want{{
				cycle: "2026-03", complete: true, bundle: "small_1_0", quota: 50 * gb,
				charges: Charges{PlanHours: 744, PlanCost: 2_500_000},
				project: 2_500_000,
			}},
		},
		{
			name:    "zero quota: 100 % as soon as one byte is sent",
			periods: []BundlePeriod{{BundleID: "zero_1_0", From: at(t, "2026-03-01T00:00:00Z")}},
			usage:   []UsageSample{{At: at(t, "2026-03-01T00:00:00Z"), BytesOut: 1}},
			now:     "2026-03-01T01:00:00Z",
			want: []want{{
				cycle: "2026-03", bundle: "zero_1_0", quota: 0, bp: 10_000,
				charges: Charges{PlanHours: 1, PlanCost: 1344, TransferBytes: 1, OverageBytes: 1},
				// 1 byte per hour for 744 hours is still below one micro of overage.
				project: 1_000_000,
			}},
		},
		{
			name:    "zero quota and no traffic: 0 %",
			periods: []BundlePeriod{{BundleID: "zero_1_0", From: at(t, "2026-03-01T00:00:00Z")}},
			now:     "2026-03-01T00:00:00Z",
			want: []want{{
				cycle: "2026-03", bundle: "zero_1_0", quota: 0, bp: 0,
				project: 1_000_000,
			}},
		},
		{
			name:    "now before creation: nothing to report",
			periods: []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-03-05T00:00:00Z")}},
			now:     "2026-03-01T00:00:00Z",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CycleUsage(testCatalog(), tt.periods, tt.usage, at(t, tt.now))
			if err != nil {
				t.Fatalf("CycleUsage: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d reports, want %d: %+v", len(got), len(tt.want), got)
			}
			for i, w := range tt.want {
				r := got[i]
				if r.Cycle != w.cycle || r.Complete != w.complete || r.BundleID != w.bundle || r.QuotaBytes != w.quota ||
					r.UsedBasisPoints != w.bp || r.Charges != w.charges || r.ProjectedCost != w.project {
					t.Errorf("report %d = %+v\n          want %+v", i, r, w)
				}
				if start, err := ParseCycle(r.Cycle); err != nil || !r.Start.Equal(start) || !r.End.Equal(NextCycleStart(start)) {
					t.Errorf("report %d covers [%v, %v), not cycle %s", i, r.Start, r.End, r.Cycle)
				}
			}
		})
	}
}

func TestCycleUsageRejectsUsageAfterDeletion(t *testing.T) {
	periods := []BundlePeriod{{BundleID: "small_1_0", From: at(t, "2026-03-01T00:00:00Z"), To: at(t, "2026-03-10T10:05:00Z")}}
	usage := []UsageSample{{At: at(t, "2026-03-10T10:06:00Z"), BytesOut: 1}}
	if _, err := CycleUsage(testCatalog(), periods, usage, at(t, "2026-03-20T00:00:00Z")); !errors.Is(err, ErrInvalidUsage) {
		t.Fatalf("err = %v, want ErrInvalidUsage", err)
	}
}
