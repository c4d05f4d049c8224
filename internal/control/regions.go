package control

import (
	"context"
	"strings"

	"github.com/sailcdn/sailcdn/internal/lightsail"
)

// regionFacts are what GetRegions says about a Region beyond the SDK's endpoints data
// (lightsail.ServiceRegions: which Regions have Lightsail, and their descriptions). Recorded 2026-12:
//
//   - displayName: Lightsail's short name for the Region. "Virginia", "Ohio" and "Oregon" are the AWS
//     CLI's get-regions example (aws/aws-cli awscli/examples/lightsail/get-regions.rst) and the API
//     reference's (API_Region: "Ohio"); the other names are those a captured get-regions output
//     carries (reference §5.13), and for the Regions newer than it the place named in the Region's
//     description (Jakarta, Malaysia, Spain, Hong Kong, Sao Paulo).
//   - zones: the Availability Zone letters an account sees. The number of zones per Region is that
//     of the Region's zone IDs in AWS's "Availability Zone IDs for your AWS resources" table (AWS RAM
//     User Guide); the letters are those EC2's DescribeAvailabilityZones gives current accounts,
//     which skip retired letters in ca-central-1 (a, b, d) and ap-northeast-1 (a, c, d) (moto's
//     availability_zones_and_regions.py records the same sets).
//
// TestGetRegionsFromEndpointsData fails when the endpoints data gains a Region this table lacks.
var regionFacts = map[string]struct {
	display string
	zones   string // letters
}{
	"us-east-1":      {"Virginia", "abcdef"},
	"us-east-2":      {"Ohio", "abc"},
	"us-west-2":      {"Oregon", "abcd"},
	"ca-central-1":   {"Montreal", "abd"},
	"eu-west-1":      {"Ireland", "abc"},
	"eu-west-2":      {"London", "abc"},
	"eu-west-3":      {"Paris", "abc"},
	"eu-central-1":   {"Frankfurt", "abc"},
	"eu-north-1":     {"Stockholm", "abc"},
	"eu-south-2":     {"Spain", "abc"},
	"ap-south-1":     {"Mumbai", "abc"},
	"ap-southeast-1": {"Singapore", "abc"},
	"ap-southeast-2": {"Sydney", "abc"},
	"ap-southeast-3": {"Jakarta", "abc"},
	"ap-southeast-5": {"Malaysia", "abc"},
	"ap-northeast-1": {"Tokyo", "acd"},
	"ap-northeast-2": {"Seoul", "abcd"},
	"ap-east-1":      {"Hong Kong", "abc"},
	"sa-east-1":      {"Sao Paulo", "abc"},
}

// continentCode is the continent of a Region by its name's prefix, as GetRegions reports it ("NA" for
// us-east-1 in the AWS CLI example).
func continentCode(region string) string {
	switch prefix, _, _ := strings.Cut(region, "-"); prefix {
	case "us", "ca":
		return "NA"
	case "sa":
		return "SA"
	case "eu":
		return "EU"
	case "ap":
		return "AP"
	}
	return ""
}

// GetRegions lists the Lightsail Regions; Availability Zones only when asked for.
func (s *Service) GetRegions(ctx context.Context, in *lightsail.GetRegionsRequest) (*lightsail.GetRegionsResult, error) {
	if _, err := caller(ctx); err != nil {
		return nil, err
	}
	out := &lightsail.GetRegionsResult{Regions: []lightsail.Region{}}
	for _, r := range lightsail.ServiceRegions {
		facts := regionFacts[r.Name]
		reg := lightsail.Region{
			Name:                                ptr(r.Name),
			ContinentCode:                       ptr(continentCode(r.Name)),
			DisplayName:                         ptr(facts.display),
			Description:                         ptr(r.Description),
			AvailabilityZones:                   []lightsail.AvailabilityZone{},
			RelationalDatabaseAvailabilityZones: []lightsail.AvailabilityZone{},
		}
		zones := func() []lightsail.AvailabilityZone {
			z := make([]lightsail.AvailabilityZone, 0, len(facts.zones))
			for _, letter := range facts.zones {
				z = append(z, lightsail.AvailabilityZone{ZoneName: ptr(r.Name + string(letter)), State: ptr("available")})
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
