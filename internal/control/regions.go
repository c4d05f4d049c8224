package control

import (
	"context"

	"github.com/sailcdn/sailcdn/internal/lightsail"
)

// regions are the Lightsail Regions of the model's RegionName enum that Lightsail operates (us-west-1 is
// in the enum but has no Lightsail). Display names and continent codes as GetRegions reports them
// (AWS CLI example output; reference §5.13).
var regions = []struct {
	name, continent, display string
	zones                    []string
}{
	{"us-east-1", "NA", "Virginia", []string{"a", "b", "c", "d", "e", "f"}},
	{"us-east-2", "NA", "Ohio", []string{"a", "b", "c"}},
	{"us-west-2", "NA", "Oregon", []string{"a", "b", "c", "d"}},
	{"ca-central-1", "NA", "Montreal", []string{"a", "b", "d"}},
	{"eu-west-1", "EU", "Ireland", []string{"a", "b", "c"}},
	{"eu-west-2", "EU", "London", []string{"a", "b", "c"}},
	{"eu-west-3", "EU", "Paris", []string{"a", "b", "c"}},
	{"eu-central-1", "EU", "Frankfurt", []string{"a", "b", "c"}},
	{"eu-north-1", "EU", "Stockholm", []string{"a", "b", "c"}},
	{"eu-south-2", "EU", "Spain", []string{"a", "b", "c"}},
	{"ap-south-1", "AP", "Mumbai", []string{"a", "b", "c"}},
	{"ap-southeast-1", "AP", "Singapore", []string{"a", "b", "c"}},
	{"ap-southeast-2", "AP", "Sydney", []string{"a", "b", "c"}},
	{"ap-southeast-3", "AP", "Jakarta", []string{"a", "b", "c"}},
	{"ap-southeast-5", "AP", "Malaysia", []string{"a", "b", "c"}},
	{"ap-northeast-1", "AP", "Tokyo", []string{"a", "c", "d"}},
	{"ap-northeast-2", "AP", "Seoul", []string{"a", "b", "c", "d"}},
	{"ap-east-1", "AP", "Hong Kong", []string{"a", "b", "c"}},
	{"sa-east-1", "SA", "São Paulo", []string{"a", "b", "c"}},
}

// GetRegions lists the Lightsail Regions; availability zones only when asked for.
func (s *Service) GetRegions(ctx context.Context, in *lightsail.GetRegionsRequest) (*lightsail.GetRegionsResult, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	out := &lightsail.GetRegionsResult{Regions: []lightsail.Region{}}
	for _, r := range regions {
		reg := lightsail.Region{
			Name:                                ptr(r.name),
			ContinentCode:                       ptr(r.continent),
			DisplayName:                         ptr(r.display),
			Description:                         ptr("This region is recommended to serve users in " + r.display + "."),
			AvailabilityZones:                   []lightsail.AvailabilityZone{},
			RelationalDatabaseAvailabilityZones: []lightsail.AvailabilityZone{},
		}
		zones := func() []lightsail.AvailabilityZone {
			z := make([]lightsail.AvailabilityZone, 0, len(r.zones))
			for _, suffix := range r.zones {
				z = append(z, lightsail.AvailabilityZone{ZoneName: ptr(r.name + suffix), State: ptr("available")})
			}
			return z
		}
		if deref(in.IncludeAvailabilityZones) {
			reg.AvailabilityZones = zones()
		}
		if deref(in.IncludeRelationalDatabaseAvailabilityZones) {
			reg.RelationalDatabaseAvailabilityZones = zones()
		}
		out.Regions = append(out.Regions, reg)
	}
	return out, nil
}
