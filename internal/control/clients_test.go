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
	"github.com/aws/smithy-go"

	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// The replays below follow the infrastructure clients' own source, branch by branch, so that each
// step passes exactly when the real handler would go on, and fails where it would fail:
//
//   - Terraform: hashicorp/terraform-provider-aws, internal/service/lightsail/distribution.go
//     (FindDistributionByID, resourceDistributionCreate/Read/Update/Delete), errs.go
//     (IsANotFoundError), wait.go and status.go (the operation waiter), as of commit 083fa12d.
//   - CloudFormation: aws-cloudformation/aws-cloudformation-resource-providers-lightsail,
//     aws-lightsail-distribution/src/main/java/software/amazon/lightsail/distribution/
//     helpers/handler/DistributionHandler.java (preCreate, preDelete, the stabilisers),
//     helpers/resource/Distribution.java (read, isStabilizedUpdate, isStabilizedDelete,
//     isSafeExceptionDelete, isUpdateBundleRequired), BaseHandlerStd.java (handleError),
//     Translator.java (translateFromReadResponse), as of commit 1f83e5a.
//
// Each runs for an account's first and last distribution (an account that has none before and none
// after) and beside another distribution of the same account.

// waitOperation is Terraform's waiter (wait.go): poll GetOperation; "Started" is pending,
// "Completed"/"Succeeded" done, anything else (NotStarted, Failed) aborts the apply.
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

// errTFNotFound is Terraform's retry.NotFoundError / tfresource.EmptyResultError: "the resource is
// gone", which tfresource.NotFound recognises.
var errTFNotFound = errors.New("terraform: resource not found")

// tfFindDistributionByID is FindDistributionByID: IsANotFoundError (a NotFoundException, or an error
// whose text contains "DoesNotExist") or an InvalidInputException is not-found, as is an empty list;
// any other error is an error; otherwise distributions[0].
func tfFindDistributionByID(c *ls.Client, name string) (*types.LightsailDistribution, error) {
	out, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{DistributionName: aws.String(name)})
	var nf *types.NotFoundException
	var ie *types.InvalidInputException
	if err != nil && (errors.As(err, &nf) || strings.Contains(err.Error(), "DoesNotExist") || errors.As(err, &ie)) {
		return nil, errTFNotFound
	}
	if err != nil {
		return nil, err
	}
	if out == nil || len(out.Distributions) == 0 {
		return nil, errTFNotFound
	}
	return &out.Distributions[0], nil
}

// tfRead is resourceDistributionRead: right after create or update (d.IsNewResource() for a create)
// every error fails the apply, not-found included; on a refresh, not-found removes the resource
// from the state.
func tfRead(t *testing.T, c *ls.Client, name string, newResource bool) (d *types.LightsailDistribution, removed bool) {
	t.Helper()
	d, err := tfFindDistributionByID(c, name)
	if !newResource && errors.Is(err, errTFNotFound) {
		return nil, true
	}
	if err != nil {
		t.Fatalf("terraform: reading Lightsail Distribution (%s): %v", name, err)
	}
	return d, false
}

// inBobsAccount runs a replay twice in Bob's account, which holds nothing else: the distribution
// is the account's first and last, then it lives beside another one. A handler whose lookups work
// only while the account has some live distribution fails the first.
func inBobsAccount(t *testing.T, b sailtest.Backend, replay func(t *testing.T, e *sailtest.Env, c *ls.Client)) {
	for _, sibling := range []bool{false, true} {
		t.Run(map[bool]string{false: "first and last distribution", true: "beside another"}[sibling], func(t *testing.T) {
			e, _ := newEnv(t, b)
			c := e.Client(sailtest.Bob, "us-east-1")
			if sibling {
				mustCreate(t, c, "neighbour")
			}
			replay(t, e, c)
		})
	}
}

// testTerraformCallSequence replays terraform-provider-aws for aws_lightsail_distribution: create,
// wait, disable, read, a refresh, in-place updates in its order, bundle change, delete, and the
// acceptance tests' CheckDestroy (FindDistributionByID must report not-found).
func testTerraformCallSequence(t *testing.T, b sailtest.Backend) {
	inBobsAccount(t, b, func(t *testing.T, e *sailtest.Env, c *ls.Client) {
		// CheckDestroy-style lookup before anything exists: not-found.
		if _, err := tfFindDistributionByID(c, "tf-site"); !errors.Is(err, errTFNotFound) {
			t.Fatalf("FindDistributionByID before create: %v, want not-found", err)
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
		if out.Distribution == nil || out.Operation == nil {
			t.Fatal("terraform: empty output")
		}
		waitOperation(t, c, out.Operation.Id)
		// is_enabled = false in the configuration: a separate UpdateDistribution after create.
		upd, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("tf-site"), IsEnabled: aws.Bool(false)})
		if err != nil {
			t.Fatal(err)
		}
		waitOperation(t, c, upd.Operation.Id)
		d, _ := tfRead(t, c, "tf-site", true)
		if aws.ToBool(d.IsEnabled) || string(d.CacheBehaviorSettings.ForwardedHeaders.Option) != "default" || aws.ToString(d.SupportCode) == "" ||
			aws.ToString(d.OriginPublicDNS) == "" || len(d.AlternativeDomainNames) != 0 || d.CreatedAt == nil {
			t.Fatalf("read after create: %+v", d)
		}
		if _, removed := tfRead(t, c, "tf-site", false); removed { // terraform plan's refresh
			t.Fatal("refresh removed the distribution from the state")
		}
		// Update: SetIpAddressType first, then one UpdateDistribution with only the changed
		// member, then the bundle.
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
		d, _ = tfRead(t, c, "tf-site", false)
		if d.IpAddressType != types.IpAddressTypeIpv4 || d.DefaultCacheBehavior.Behavior != types.BehaviorEnumDontCacheSetting || aws.ToString(d.BundleId) != "medium_1_0" ||
			aws.ToBool(d.IsEnabled) || aws.ToInt64(d.CacheBehaviorSettings.DefaultTTL) != 86400 || len(d.Tags) != 1 {
			t.Fatalf("read after update: %+v", d)
		}
		// Delete: NotFound or InvalidInput would mean "already gone"; here the call succeeds and
		// its operation is waited for.
		del, err := c.DeleteDistribution(ctx, &ls.DeleteDistributionInput{DistributionName: aws.String("tf-site")})
		if err != nil {
			t.Fatalf("terraform: deleting: %v", err)
		}
		waitOperation(t, c, del.Operation.Id)
		// CheckDestroy, and a refresh of a state that still holds it: gone.
		if _, err := tfFindDistributionByID(c, "tf-site"); !errors.Is(err, errTFNotFound) {
			t.Fatalf("FindDistributionByID after delete: %v, want not-found", err)
		}
		if _, removed := tfRead(t, c, "tf-site", false); !removed {
			t.Fatal("refresh after delete kept the distribution in the state")
		}
		// A second destroy (the resource deleted outside Terraform): NotFound or InvalidInput is success.
		_, err = c.DeleteDistribution(ctx, &ls.DeleteDistributionInput{DistributionName: aws.String("tf-site")})
		var nf *types.NotFoundException
		var ie *types.InvalidInputException
		if err == nil || !(errors.As(err, &nf) || strings.Contains(err.Error(), "DoesNotExist") || errors.As(err, &ie)) {
			t.Fatalf("second delete: %v, want an error Terraform takes as already deleted", err)
		}
	})
}

// cfnOutcome is what a CloudFormation handler step hands back: go on, or the failure's
// HandlerErrorCode (BaseHandlerStd.handleError).
type cfnOutcome string

const (
	cfnProgress        cfnOutcome = "IN_PROGRESS"
	cfnNotFound        cfnOutcome = "NotFound"
	cfnInvalidRequest  cfnOutcome = "InvalidRequest"
	cfnGeneralService  cfnOutcome = "GeneralServiceException"
	cfnAlreadyExists   cfnOutcome = "AlreadyExists"
	cfnAccessDenied    cfnOutcome = "AccessDenied"
	cfnThrottling      cfnOutcome = "Throttling"
	cfnStabilizedDone  cfnOutcome = "stabilised"
	cfnStabilizingMore cfnOutcome = "not yet stabilised"
)

// cfnHandleError is BaseHandlerStd.handleError for an AWS service exception: an ignored error code
// goes on; "Requested resource not found" in the message is NotFound (GetDistributions answers
// InvalidInputException there, and Delete needs NotFound); then by error code. Anything that is not
// a service exception (an IndexOutOfBoundsException from distributions().get(0)) is
// GeneralServiceException.
func cfnHandleError(err error, ignore ...string) cfnOutcome {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return cfnGeneralService
	}
	for _, code := range ignore {
		if apiErr.ErrorCode() == code {
			return cfnProgress
		}
	}
	if strings.Contains(err.Error(), "Requested resource not found") {
		return cfnNotFound
	}
	switch apiErr.ErrorCode() {
	case "NotFoundException":
		return cfnNotFound
	case "InvalidInputException", "InvalidParameterCombination", "InvalidQueryParameter", "InvalidAction",
		"ValidationError", "MissingParameter", "OperationFailureException":
		return cfnInvalidRequest
	case "ThrottlingException":
		return cfnThrottling
	case "NotAuthorized", "OptInRequired", "AccessDeniedException", "UnauthenticatedException":
		return cfnAccessDenied
	}
	return cfnGeneralService
}

// cfnPreCreate is DistributionHandler.preCreate: GetDistributions(name); an empty list goes on, a
// distribution is AlreadyExists; an error goes through handleError with InvalidInputException and
// NotFoundException ignored.
func cfnPreCreate(c *ls.Client, name string) cfnOutcome {
	out, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{DistributionName: aws.String(name)})
	if err != nil {
		return cfnHandleError(err, "InvalidInputException", "NotFoundException")
	}
	if len(out.Distributions) == 0 {
		return cfnProgress
	}
	return cfnAlreadyExists
}

// cfnIsStabilizedUpdate is Distribution.isStabilizedUpdate: the status of distributions[0] equals
// "Deployed", ignoring case. An error, or an empty list (get(0) throws), fails the handler.
func cfnIsStabilizedUpdate(c *ls.Client, name string) cfnOutcome {
	out, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{DistributionName: aws.String(name)})
	if err != nil {
		return cfnHandleError(err)
	}
	if len(out.Distributions) == 0 {
		return cfnGeneralService
	}
	if strings.EqualFold(aws.ToString(out.Distributions[0].Status), "Deployed") {
		return cfnStabilizedDone
	}
	return cfnStabilizingMore
}

// cfnIsStabilizedDelete is Distribution.isStabilizedDelete: stabilised only when GetDistributions
// throws a NotFoundException or an InvalidInputException (isSafeExceptionDelete); any answer without
// an exception, an empty list included, means "not yet"; any other exception fails the handler.
func cfnIsStabilizedDelete(c *ls.Client, name string) cfnOutcome {
	_, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{DistributionName: aws.String(name)})
	var nf *types.NotFoundException
	var ie *types.InvalidInputException
	switch {
	case err == nil:
		return cfnStabilizingMore
	case errors.As(err, &nf), errors.As(err, &ie):
		return cfnStabilizedDone
	}
	return cfnHandleError(err)
}

// cfnRead is ReadHandler: GetDistributions(name), errors through handleError (nothing ignored), and
// Translator.translateFromReadResponse, which takes distributions().get(0).
func cfnRead(c *ls.Client, name string) (*types.LightsailDistribution, cfnOutcome) {
	out, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{DistributionName: aws.String(name)})
	if err != nil {
		return nil, cfnHandleError(err)
	}
	if len(out.Distributions) == 0 {
		return nil, cfnGeneralService
	}
	return &out.Distributions[0], cfnProgress
}

// cfnStabilize polls a stabiliser as CloudFormation does (the harness's deploy delay is 200 ms of
// server time, moved on by the test): it must end stabilised, never fail.
func cfnStabilize(t *testing.T, e *sailtest.Env, what string, step func() cfnOutcome) {
	t.Helper()
	wait.Until(t, 5*time.Second, what, func() bool {
		switch o := step(); o {
		case cfnStabilizedDone:
			return true
		case cfnStabilizingMore:
			e.Clock.Advance(100 * time.Millisecond)
			return false
		default:
			t.Fatalf("%s: the handler fails with %s", what, o)
			return false
		}
	})
}

// testCloudFormationCallSequence replays the CloudFormation resource provider: create (pre-check,
// create, stabilise, then the update handler and a read), update (pre-check, UpdateDistribution,
// UpdateDistributionBundle only when the bundle differs, each stabilised, then a read), delete
// (pre-check stabilised, delete, delete stabilisation) and the contract's read after delete.
func testCloudFormationCallSequence(t *testing.T, b sailtest.Backend) {
	inBobsAccount(t, b, func(t *testing.T, e *sailtest.Env, c *ls.Client) {
		name := "cfn-site"
		deployed := func(what string) {
			cfnStabilize(t, e, what, func() cfnOutcome { return cfnIsStabilizedUpdate(c, name) })
		}

		// Create handler.
		if o := cfnPreCreate(c, name); o != cfnProgress {
			t.Fatalf("Create::PreExistenceCheck: %s", o)
		}
		if _, err := c.CreateDistribution(ctx, createInput(name)); err != nil {
			t.Fatalf("Create: %s", cfnHandleError(err))
		}
		deployed("Create stabilisation")
		// ... which always continues through the update handler (same desired state).
		deployed("Update::PreCheck")
		if _, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String(name),
			Origin: &types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1}, IsEnabled: aws.Bool(true),
			DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting}}); err != nil {
			t.Fatalf("Update: %s", cfnHandleError(err))
		}
		deployed("Update stabilisation")
		if d, o := cfnRead(c, name); o != cfnProgress || aws.ToString(d.BundleId) != "small_1_0" {
			t.Fatalf("isUpdateBundleRequired/read: %s", o) // same bundle: no UpdateDistributionBundle
		}
		if _, o := cfnRead(c, name); o != cfnProgress {
			t.Fatalf("Read after create: %s", o)
		}

		// Update handler: a per-path behaviour and a bigger bundle.
		deployed("Update::PreCheck")
		if _, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String(name),
			Origin: &types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1}, IsEnabled: aws.Bool(true),
			DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
			CacheBehaviors:       []types.CacheBehaviorPerPath{{Path: aws.String("/images/*"), Behavior: types.BehaviorEnumCacheSetting}}}); err != nil {
			t.Fatalf("Update: %s", cfnHandleError(err))
		}
		if o := cfnIsStabilizedUpdate(c, name); o != cfnStabilizingMore {
			t.Fatalf("right after an update the stabiliser reports %s, want InProgress (not yet)", o)
		}
		deployed("Update stabilisation")
		if _, err := c.UpdateDistributionBundle(ctx, &ls.UpdateDistributionBundleInput{DistributionName: aws.String(name), BundleId: aws.String("large_1_0")}); err != nil {
			t.Fatalf("Update::Bundle: %s", cfnHandleError(err))
		}
		deployed("Update::Bundle stabilisation")
		if d, o := cfnRead(c, name); o != cfnProgress || len(d.CacheBehaviors) != 1 || aws.ToString(d.BundleId) != "large_1_0" {
			t.Fatalf("Read after update: %s %+v", o, d)
		}

		// Delete handler.
		deployed("Delete::PreDeletionCheck")
		if _, err := c.DeleteDistribution(ctx, &ls.DeleteDistributionInput{DistributionName: aws.String(name)}); err != nil {
			t.Fatalf("Delete: %s", cfnHandleError(err))
		}
		if o := cfnIsStabilizedDelete(c, name); o != cfnStabilizedDone {
			t.Fatalf("Delete stabilisation: %s", o)
		}
		// The contract tests read a deleted resource: NotFound.
		if _, o := cfnRead(c, name); o != cfnNotFound {
			t.Fatalf("Read after delete: %s, want NotFound", o)
		}
		// And a stack that creates it again starts with the pre-check.
		if o := cfnPreCreate(c, name); o != cfnProgress {
			t.Fatalf("Create::PreExistenceCheck after delete: %s", o)
		}
	})
}
