package billing_test

import (
	"fmt"
	"time"

	"github.com/sailcdn/sailcdn/internal/billing"
)

// A small_1_0 distribution created at 22:30 on 30 March sends 49 GB that evening and 2 GB the next
// day: the second day crosses the 50 GB quota by 1 GB.
func ExampleEstimateCost() {
	created := time.Date(2026, 3, 30, 22, 30, 0, 0, time.UTC)
	periods := []billing.BundlePeriod{{BundleID: "small_1_0", From: created}}
	usage := []billing.UsageSample{
		{At: time.Date(2026, 3, 30, 23, 0, 0, 0, time.UTC), BytesOut: 49 * billing.BytesPerGB},
		{At: time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC), BytesOut: 2 * billing.BytesPerGB},
	}
	start := time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)

	est, err := billing.EstimateCost(billing.DefaultCatalog(), periods, usage, start, end)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, d := range est.Days {
		fmt.Printf("%s  %2d h  plan %s  out %d GB  overage %d GB %s\n", d.Start.Format(time.DateOnly),
			d.PlanHours, d.PlanCost, d.TransferBytes/billing.BytesPerGB, d.OverageBytes/billing.BytesPerGB, d.OverageCost)
	}
	fmt.Printf("total %s\n", est.Total.Cost())
	// Output:
	// 2026-03-30   2 h  plan $0.006720  out 49 GB  overage 0 GB $0.000000
	// 2026-03-31  24 h  plan $0.080645  out 2 GB  overage 1 GB $0.090000
	// total $0.177365
}
