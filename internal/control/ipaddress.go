package control

import (
	"context"
	"time"

	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
)

// SetIpAddressType switches a distribution between dualstack and ipv4 (Terraform's in-place update of
// ip_address_type). sailcdn manages distributions only: other resource types are refused, and so is ipv6,
// which the documentation offers for instances and load balancers, not distributions (reference §5.12).
func (s *Service) SetIpAddressType(ctx context.Context, in *lightsail.SetIpAddressTypeRequest) (*lightsail.SetIpAddressTypeResult, error) {
	if deref(in.ResourceType) != "Distribution" {
		if _, err := caller(ctx); err != nil {
			return nil, err
		}
		return nil, invalid("UnsupportedResourceType", "sailcdn manages only distributions; resourceType %q is not supported.", deref(in.ResourceType))
	}
	c, err := distributionCaller(ctx)
	if err != nil {
		return nil, err
	}
	name, err := requireName(in.ResourceName)
	if err != nil {
		return nil, err
	}
	ipType := deref(in.IpAddressType)
	if ipType != "dualstack" && ipType != "ipv4" {
		return nil, invalid("InvalidIpAddressType", "Distributions support the IP address types dualstack and ipv4; got %q.", ipType)
	}
	_, op, err := s.mutate(ctx, c, name, "SetIpAddressType", func(_ *store.Tx, d *store.Distribution, cfg *lightsail.LightsailDistribution, now time.Time) error {
		if deref(cfg.IpAddressType) != ipType {
			cfg.IpAddressType = ptr(ipType)
			d.DeployedAt = now.Add(s.deployDelay)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &lightsail.SetIpAddressTypeResult{Operations: []lightsail.Operation{*opView(op)}}, nil
}
