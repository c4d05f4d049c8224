package control_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// waitOperation is Terraform's waiter (internal/service/lightsail/wait.go): poll GetOperation; "Started"
// is pending, "Completed"/"Succeeded" done, anything else (NotStarted, Failed) aborts the apply.
func waitOperation(t *testing.T, c *ls.Client, id *string) {
	t.Helper()
	wait.For(t, 5*time.Second, "operation "+aws.ToString(id)+" to finish", func() error {
		out, err := c.GetOperation(ctx, &ls.GetOperationInput{OperationId: id})
		if err != nil {
			t.Fatalf("GetOperation(%s): %v", aws.ToString(id), err)
		}
		switch out.Operation.Status {
		case types.OperationStatusSucceeded, types.OperationStatusCompleted:
			return nil
		case types.OperationStatusStarted:
			return fmt.Errorf("status %q", out.Operation.Status)
		}
		t.Fatalf("operation %s is %q: Terraform would abort", aws.ToString(id), out.Operation.Status)
		return nil
	})
}

// gone is Terraform's and CloudFormation's test for "the distribution no longer exists": NotFound,
// InvalidInput, an error mentioning DoesNotExist, or an empty list.
func gone(t *testing.T, c *ls.Client, name string) bool {
	t.Helper()
	out, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{DistributionName: aws.String(name)})
	var nf *types.NotFoundException
	var ie *types.InvalidInputException
	switch {
	case err == nil:
		return len(out.Distributions) == 0
	case errors.As(err, &nf), errors.As(err, &ie), strings.Contains(err.Error(), "DoesNotExist"):
		return true
	}
	t.Fatalf("GetDistributions(%s): %v", name, err)
	return false
}

// testTerraformCallSequence replays what terraform-provider-aws does for aws_lightsail_distribution
// (reference §5.15): create, wait, disable, read, in-place updates in its order, bundle change, delete.
func testTerraformCallSequence(t *testing.T, b sailtest.Backend) {
	_, c := newEnv(t, b)
	if !gone(t, c, "tf-site") {
		t.Fatal("not gone before create")
	}
	in := createInput("tf-site")
	in.IpAddressType = types.IpAddressTypeDualstack
	in.CacheBehaviorSettings = &types.CacheSettings{ // Terraform sends the canonical example explicitly
		AllowedHTTPMethods: aws.String("GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE"), CachedHTTPMethods: aws.String("GET,HEAD"),
		DefaultTTL: aws.Int64(86400), MaximumTTL: aws.Int64(31536000), MinimumTTL: aws.Int64(0),
		ForwardedCookies:      &types.CookieObject{Option: types.ForwardValuesNone},
		ForwardedHeaders:      &types.HeaderObject{Option: "default"},
		ForwardedQueryStrings: &types.QueryStringObject{Option: aws.Bool(false)},
	}
	in.Tags = []types.Tag{{Key: aws.String("Name"), Value: aws.String("tf-site")}}
	out, err := c.CreateDistribution(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, out.Operation.Id)
	// is_enabled = false in the configuration: a separate UpdateDistribution after create.
	upd, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("tf-site"), IsEnabled: aws.Bool(false)})
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, upd.Operation.Id)
	d := getOne(t, c, "tf-site") // Read uses distributions[0]
	if aws.ToBool(d.IsEnabled) || string(d.CacheBehaviorSettings.ForwardedHeaders.Option) != "default" || aws.ToString(d.SupportCode) == "" || aws.ToString(d.OriginPublicDNS) == "" || len(d.AlternativeDomainNames) != 0 {
		t.Fatalf("read after create: %+v", d)
	}
	// Update: SetIpAddressType first, then one UpdateDistribution with only the changed member, then the bundle.
	ip, err := c.SetIpAddressType(ctx, &ls.SetIpAddressTypeInput{ResourceType: types.ResourceTypeDistribution, ResourceName: aws.String("tf-site"), IpAddressType: types.IpAddressTypeIpv4})
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, ip.Operations[0].Id)
	upd, err = c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("tf-site"), DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumDontCacheSetting}})
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, upd.Operation.Id)
	bun, err := c.UpdateDistributionBundle(ctx, &ls.UpdateDistributionBundleInput{DistributionName: aws.String("tf-site"), BundleId: aws.String("medium_1_0")})
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, bun.Operation.Id)
	d = getOne(t, c, "tf-site")
	if d.IpAddressType != types.IpAddressTypeIpv4 || d.DefaultCacheBehavior.Behavior != types.BehaviorEnumDontCacheSetting || aws.ToString(d.BundleId) != "medium_1_0" ||
		aws.ToBool(d.IsEnabled) || aws.ToInt64(d.CacheBehaviorSettings.DefaultTTL) != 86400 || len(d.Tags) != 1 {
		t.Fatalf("read after update: %+v", d)
	}
	del, err := c.DeleteDistribution(ctx, &ls.DeleteDistributionInput{DistributionName: aws.String("tf-site")})
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, del.Operation.Id)
	if !gone(t, c, "tf-site") {
		t.Fatal("still there after delete")
	}
}

// testCloudFormationCallSequence replays the CloudFormation resource provider (reference §5.15): an
// existence pre-check, then after every mutation poll GetDistributions until status is "Deployed";
// update order UpdateDistribution → UpdateDistributionBundle (skipped when unchanged); delete stabilises
// on NotFound/InvalidInput.
func testCloudFormationCallSequence(t *testing.T, b sailtest.Backend) {
	e, c := newEnv(t, b)
	stabilise := func() {
		t.Helper()
		wait.Until(t, 5*time.Second, "Deployed", func() bool {
			if strings.EqualFold(aws.ToString(getOne(t, c, "cfn-site").Status), "Deployed") {
				return true
			}
			e.Clock.Advance(100 * time.Millisecond) // the harness's deploy delay is 200ms of server time
			return false
		})
	}
	if !gone(t, c, "cfn-site") {
		t.Fatal("pre-check found the distribution")
	}
	mustCreate(t, c, "cfn-site")
	stabilise()
	if _, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("cfn-site"),
		CacheBehaviors: []types.CacheBehaviorPerPath{{Path: aws.String("/images/*"), Behavior: types.BehaviorEnumCacheSetting}}}); err != nil {
		t.Fatal(err)
	}
	if st := aws.ToString(getOne(t, c, "cfn-site").Status); st != "InProgress" {
		t.Fatalf("status right after an update = %q, want InProgress", st)
	}
	stabilise()
	if _, err := c.UpdateDistributionBundle(ctx, &ls.UpdateDistributionBundleInput{DistributionName: aws.String("cfn-site"), BundleId: aws.String("large_1_0")}); err != nil {
		t.Fatal(err)
	}
	stabilise()
	if _, err := c.DeleteDistribution(ctx, &ls.DeleteDistributionInput{DistributionName: aws.String("cfn-site")}); err != nil {
		t.Fatal(err)
	}
	if !gone(t, c, "cfn-site") {
		t.Fatal("delete did not stabilise")
	}
}
