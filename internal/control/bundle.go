package control

import (
	"context"

	"github.com/sailcdn/sailcdn/internal/lightsail"
)

// GetDistributionBundles lists the bundle catalog, inactive bundles included (they are listed with
// isActive false so that a distribution still on one can be explained).
func (s *Service) GetDistributionBundles(ctx context.Context, _ *lightsail.GetDistributionBundlesRequest) (*lightsail.GetDistributionBundlesResult, error) {
	if _, err := distributionCaller(ctx); err != nil {
		return nil, err
	}
	out := &lightsail.GetDistributionBundlesResult{Bundles: []lightsail.DistributionBundle{}}
	for _, b := range s.catalog.Bundles {
		out.Bundles = append(out.Bundles, lightsail.DistributionBundle{
			BundleId:             ptr(b.ID),
			Name:                 ptr(b.Name),
			Price:                lightsail.NewDouble(b.Price.Float64()),
			TransferPerMonthInGb: ptr(b.TransferPerMonthGB),
			IsActive:             ptr(b.IsActive),
		})
	}
	return out, nil
}
