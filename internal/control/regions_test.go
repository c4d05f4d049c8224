package control_test

import (
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/sailtest"
)

// TestGetRegionsFromEndpointsData: GetRegions lists the Regions the SDK's endpoints data gives
// Lightsail (aws-sdk-go-v2/service/lightsail v1.71.1), each with the description of the same data
// (aws-sdk-go-v2 v1.48.0 partitions.json), Lightsail's display name, and its Availability Zones when
// asked for.
func TestGetRegionsFromEndpointsData(t *testing.T) {
	e := sailtest.New(t)
	c := e.Client(sailtest.Alice, "eu-west-1")
	out, err := c.GetRegions(ctx, &ls.GetRegionsInput{IncludeAvailabilityZones: aws.Bool(true), IncludeRelationalDatabaseAvailabilityZones: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range out.Regions {
		names = append(names, string(r.Name))
		if aws.ToString(r.Description) == "" || aws.ToString(r.DisplayName) == "" || aws.ToString(r.ContinentCode) == "" || len(r.AvailabilityZones) < 2 {
			t.Errorf("%s: %+v", r.Name, r)
		}
		for _, z := range r.AvailabilityZones {
			if len(aws.ToString(z.ZoneName)) != len(r.Name)+1 || aws.ToString(z.ZoneName)[:len(r.Name)] != string(r.Name) || aws.ToString(z.State) != "available" {
				t.Errorf("%s: zone %+v", r.Name, z)
			}
		}
	}
	want := []string{"ap-east-1", "ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
		"ap-southeast-3", "ap-southeast-5", "ca-central-1", "eu-central-1", "eu-north-1", "eu-south-2", "eu-west-1",
		"eu-west-2", "eu-west-3", "sa-east-1", "us-east-1", "us-east-2", "us-west-2"}
	slices.Sort(names)
	if !slices.Equal(names, want) {
		t.Errorf("regions %v, want %v", names, want)
	}
	for _, r := range out.Regions {
		switch r.Name {
		case types.RegionNameUsEast1:
			if aws.ToString(r.Description) != "US East (N. Virginia)" || aws.ToString(r.DisplayName) != "Virginia" || len(r.AvailabilityZones) != 6 {
				t.Errorf("us-east-1: %q %q %d zones", aws.ToString(r.Description), aws.ToString(r.DisplayName), len(r.AvailabilityZones))
			}
		case types.RegionNameCaCentral1:
			var zones []string
			for _, z := range r.AvailabilityZones {
				zones = append(zones, aws.ToString(z.ZoneName))
			}
			if aws.ToString(r.Description) != "Canada (Central)" || !slices.Equal(zones, []string{"ca-central-1a", "ca-central-1b", "ca-central-1d"}) {
				t.Errorf("ca-central-1: %q %v", aws.ToString(r.Description), zones)
			}
		}
	}
	// Without the flags, empty zone lists (AWS CLI example).
	out, err = c.GetRegions(ctx, &ls.GetRegionsInput{})
	if err != nil || len(out.Regions[0].AvailabilityZones) != 0 || out.Regions[0].AvailabilityZones == nil {
		t.Fatalf("GetRegions without zones: %v %+v", err, out.Regions[0])
	}
}
