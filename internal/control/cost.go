package control

import (
	"context"
	"errors"
	"time"

	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
	"github.com/sailcdn/sailcdn/internal/usage"
)

// Usage types of a distribution's cost estimate: the plan, accrued hourly; data transfer out above
// the bundle's quota; and all data transfer out — to viewers and to the origin, what the quota
// counts — at no charge of its own (it is covered by the plan up to the quota and charged as
// overage beyond). The real service's strings are undocumented (decision in docs/decisions.md).
const (
	UsageTypePlan     = "DistributionPlan"
	UsageTypeOverage  = "DataTransferOutOverage"
	UsageTypeTransfer = "DataTransferOut"
	pricingUnitHours  = "Hrs"
	pricingUnitGB     = "GB"
	estimateCurrency  = "USD"
	maxEstimateWindow = 366 * 24 * time.Hour
)

// GetCostEstimate estimates a distribution's cost over [startTime, endTime) from its metered traffic
// and bundle history: one row per UTC day for the plan (in hours), for data transfer over the quota
// (in GB) and for all data transfer out (in GB, usageCost 0: the quota's figure). As on AWS, no
// estimate is made for a deleted resource.
func (s *Service) GetCostEstimate(ctx context.Context, in *lightsail.GetCostEstimateRequest) (*lightsail.GetCostEstimateResult, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name := deref(in.ResourceName)
	start, end := in.StartTime.Time.UTC(), in.EndTime.Time.UTC()
	if !start.Before(end) {
		return nil, invalid("InvalidTimeRange", "startTime must be before endTime.")
	}
	if end.Sub(start) > maxEstimateWindow {
		return nil, invalid("InvalidTimeRange", "A cost estimate covers at most 366 days.")
	}
	if c.Region != HomeRegion {
		return nil, lightsail.Errorf(lightsail.NotFound, "DoesNotExist", "The resource %s does not exist in %s.", quoteName(name), c.Region)
	}
	d, err := s.db.GetDistribution(ctx, c.AccountID, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, lightsail.Errorf(lightsail.NotFound, "DoesNotExist", "The resource %s does not exist. A cost estimate is not generated for a deleted resource.", quoteName(name))
	}
	if err != nil {
		return nil, err
	}
	periods, samples, err := usage.Inputs(ctx, s.db, d, billing.CycleStart(start), end)
	if err != nil {
		return nil, err
	}
	est, err := billing.EstimateCost(s.catalog, periods, samples, start, end)
	if err != nil {
		return nil, err
	}
	plan := lightsail.CostEstimate{UsageType: ptr(UsageTypePlan), ResultsByTime: []lightsail.EstimateByTime{}}
	overage := lightsail.CostEstimate{UsageType: ptr(UsageTypeOverage), ResultsByTime: []lightsail.EstimateByTime{}}
	transfer := lightsail.CostEstimate{UsageType: ptr(UsageTypeTransfer), ResultsByTime: []lightsail.EstimateByTime{}}
	for _, day := range est.Days {
		period := &lightsail.TimePeriod{Start: lightsail.NewTimestamp(day.Start), End: lightsail.NewTimestamp(day.End)}
		plan.ResultsByTime = append(plan.ResultsByTime, lightsail.EstimateByTime{
			UsageCost: lightsail.NewDouble(day.PlanCost.Float64()), PricingUnit: ptr(pricingUnitHours), Unit: lightsail.NewDouble(float64(day.PlanHours)),
			Currency: ptr(estimateCurrency), TimePeriod: period,
		})
		overage.ResultsByTime = append(overage.ResultsByTime, lightsail.EstimateByTime{
			UsageCost: lightsail.NewDouble(day.OverageCost.Float64()), PricingUnit: ptr(pricingUnitGB), Unit: lightsail.NewDouble(float64(day.OverageBytes) / billing.BytesPerGB),
			Currency: ptr(estimateCurrency), TimePeriod: period,
		})
		transfer.ResultsByTime = append(transfer.ResultsByTime, lightsail.EstimateByTime{
			UsageCost: lightsail.NewDouble(0), PricingUnit: ptr(pricingUnitGB), Unit: lightsail.NewDouble(float64(day.TransferBytes) / billing.BytesPerGB),
			Currency: ptr(estimateCurrency), TimePeriod: period,
		})
	}
	return &lightsail.GetCostEstimateResult{ResourcesBudgetEstimate: []lightsail.ResourceBudgetEstimate{{
		ResourceName:  ptr(d.Name),
		ResourceType:  ptr("Distribution"),
		StartTime:     lightsail.NewTimestamp(start),
		EndTime:       lightsail.NewTimestamp(end),
		CostEstimates: []lightsail.CostEstimate{plan, overage, transfer},
	}}}, nil
}
