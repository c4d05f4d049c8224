package control_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/sailcdn/sailcdn/internal/sailtest"
)

// TestMemberNamesAreCaseSensitive: AWS JSON member names are case-sensitive, so "DistributionName" is
// not distributionName but an unknown member, and unknown members are ignored (newer SDKs send newer
// members). A required member spelled in another case is therefore missing: the model validation
// error names the member as the model spells it. encoding/json matched names case-insensitively.
func TestMemberNamesAreCaseSensitive(t *testing.T) {
	e := sailtest.New(t)
	e.AddOrigin("web-1", "http://127.0.0.1:9/", "Instance", "us-east-1")
	c := e.Client(sailtest.Alice, "us-east-1")
	mustCreate(t, c, "site")
	alice := sailtest.Alice

	// A required member in the wrong case: missing, named as the model spells it.
	r := e.Call(&alice, "us-east-1", "CreateDistribution", []byte(`{"DistributionName": "other", "bundleId": "small_1_0",
		"origin": {"name": "web-1", "regionName": "us-east-1"}, "defaultCacheBehavior": {"behavior": "cache"}}`))
	want := "1 validation error detected: Value null at 'distributionName' failed to satisfy constraint: Member must not be null"
	if m := r.JSON(t); r.Status != 400 || m["__type"] != "InvalidInputException" || m["code"] != "ValidationError" || m["message"] != want {
		t.Errorf("CreateDistribution with DistributionName: %d %s, want 400 InvalidInputException %q", r.Status, r.Body, want)
	}
	// Nested: origin.Name is not origin.name either.
	r = e.Call(&alice, "us-east-1", "CreateDistribution", []byte(`{"distributionName": "other", "bundleId": "small_1_0",
		"origin": {"Name": "web-1", "regionName": "us-east-1"}, "defaultCacheBehavior": {"behavior": "cache"}}`))
	if m := r.JSON(t); r.Status != 400 || m["__type"] != "InvalidInputException" || !strings.Contains(m["message"].(string), "origin.name") {
		t.Errorf("CreateDistribution with origin.Name: %d %s, want 400 naming origin.name", r.Status, r.Body)
	}
	if out, err := c.GetDistributions(ctx, nil); err != nil || len(out.Distributions) != 1 {
		t.Fatalf("a refused create changed something: %v, %d distributions", err, len(out.Distributions))
	}

	// An optional member in the wrong case is an unknown member: ignored, nothing changes.
	r = e.Call(&alice, "us-east-1", "UpdateDistribution", []byte(`{"distributionName": "site", "IsEnabled": false,
		"cacheBehaviorSettings": {"DefaultTTL": 5}}`))
	if r.Status != 200 {
		t.Fatalf("UpdateDistribution: %d %s", r.Status, r.Body)
	}
	d := getOne(t, c, "site")
	if !aws.ToBool(d.IsEnabled) || aws.ToInt64(d.CacheBehaviorSettings.DefaultTTL) != 86400 {
		t.Errorf("IsEnabled/DefaultTTL were applied: isEnabled %v, defaultTTL %d", aws.ToBool(d.IsEnabled), aws.ToInt64(d.CacheBehaviorSettings.DefaultTTL))
	}

	// GetDistributions with DistributionName: no name was given, so every distribution is listed.
	r = e.Call(&alice, "us-east-1", "GetDistributions", []byte(`{"DistributionName": "nothing-by-this-name"}`))
	if m := r.JSON(t); r.Status != 200 || len(m["distributions"].([]any)) != 1 {
		t.Errorf("GetDistributions with DistributionName: %d %s, want the list", r.Status, r.Body)
	}
}
