package control_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"
	"github.com/aws/smithy-go"

	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
	"github.com/sailcdn/sailcdn/internal/store"
)

var ctx = context.Background()

// TestAPI runs every API test through the real aws-sdk-go-v2 client on every store backend: SQLite
// always, PostgreSQL when SAILCDN_TEST_POSTGRES_DSN is set.
func TestAPI(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*testing.T, sailtest.Backend)
	}{
		{"CreateDistributionDefaults", testCreateDistributionDefaults},
		{"CreateDistributionErrors", testCreateDistributionErrors},
		{"NewerMembersRoundTrip", testNewerMembersRoundTrip},
		{"RegionGate", testRegionGate},
		{"GetDistributionsNotFoundAndPagination", testGetDistributionsNotFoundAndPagination},
		{"AccountsAreIsolated", testAccountsAreIsolated},
		{"UpdateDistributionKeepsOmittedMembers", testUpdateDistributionKeepsOmittedMembers},
		{"UpdateDistributionPartialOrigin", testUpdateDistributionPartialOrigin},
		{"BundleChangeOncePerCycle", testBundleChangeOncePerCycle},
		{"ConcurrentBundleChangesExactlyOneWins", testConcurrentBundleChangesExactlyOneWins},
		{"DeleteDistribution", testDeleteDistribution},
		{"CacheReset", testCacheReset},
		{"Tags", testTags},
		{"SetIpAddressType", testSetIpAddressType},
		{"BundlesRegionsOperations", testBundlesRegionsOperations},
		{"OperationsAreRegional", testOperationsAreRegional},
		{"UnservedOperationsAnswer501", testUnservedOperationsAnswer501},
		{"CostEstimateFromMeteredUsage", testCostEstimateFromMeteredUsage},
		{"TerraformCallSequence", testTerraformCallSequence},
		{"ConcurrentCreatesRespectQuotaAndNames", testConcurrentCreatesRespectQuotaAndNames},
		{"CloudFormationCallSequence", testCloudFormationCallSequence},
	}
	for _, b := range sailtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
			}
		})
	}
}

// newEnv starts sailcdn with one registered origin "web-1" (Instance, us-east-1) and a bucket origin.
func newEnv(t *testing.T, b sailtest.Backend, opts ...sailtest.Option) (*sailtest.Env, *ls.Client) {
	t.Helper()
	e := sailtest.New(t, append([]sailtest.Option{sailtest.WithBackend(b)}, opts...)...)
	e.AddOrigin("web-1", "http://127.0.0.1:9/", "Instance", "us-east-1")
	e.AddOrigin("media", "https://media.example.test/", "Bucket", "eu-west-2")
	return e, e.Client(sailtest.Alice, "us-east-1")
}

func createInput(name string) *ls.CreateDistributionInput {
	return &ls.CreateDistributionInput{
		DistributionName:     aws.String(name),
		BundleId:             aws.String("small_1_0"),
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: types.BehaviorEnumCacheSetting},
		Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1},
	}
}

func mustCreate(t testing.TB, c *ls.Client, name string) *ls.CreateDistributionOutput {
	t.Helper()
	out, err := c.CreateDistribution(ctx, createInput(name))
	if err != nil {
		t.Fatalf("CreateDistribution(%s): %v", name, err)
	}
	return out
}

func getOne(t *testing.T, c *ls.Client, name string) types.LightsailDistribution {
	t.Helper()
	out, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{DistributionName: aws.String(name)})
	if err != nil {
		t.Fatalf("GetDistributions(%s): %v", name, err)
	}
	if len(out.Distributions) != 1 {
		t.Fatalf("GetDistributions(%s) returned %d distributions", name, len(out.Distributions))
	}
	return out.Distributions[0]
}

// wantAPIError asserts err is the modeled exception T (as the SDK types it), with the given HTTP status
// and, when code is not empty, Lightsail's code member.
func wantAPIError[T error](t *testing.T, err error, status int, code string) T {
	t.Helper()
	var target T
	if err == nil {
		t.Fatalf("got success, want %T", target)
	}
	if !errors.As(err, &target) {
		t.Fatalf("got %v (%T), want %T", err, err, target)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("%v carries no HTTP response", err)
	}
	if re.HTTPStatusCode() != status {
		t.Errorf("HTTP status %d, want %d", re.HTTPStatusCode(), status)
	}
	if code != "" {
		var got string
		switch e := any(target).(type) {
		case *types.InvalidInputException:
			got = aws.ToString(e.Code)
		case *types.NotFoundException:
			got = aws.ToString(e.Code)
		case *types.OperationFailureException:
			got = aws.ToString(e.Code)
		}
		if got != code {
			t.Errorf("code %q, want %q (error: %v)", got, code, err)
		}
	}
	return target
}

func testCreateDistributionDefaults(t *testing.T, b sailtest.Backend) {
	e, c := newEnv(t, b)
	out := mustCreate(t, c, "site-cdn")
	d := out.Distribution
	if got := aws.ToString(d.Arn); !regexp.MustCompile(`^arn:aws:lightsail:us-east-1:111111111111:Distribution/[0-9a-f-]{36}$`).MatchString(got) {
		t.Errorf("arn = %q", got)
	}
	if got := aws.ToString(d.DomainName); !regexp.MustCompile(`^d[a-z0-9]{13}\.cdn\.localhost$`).MatchString(got) {
		t.Errorf("domainName = %q", got)
	}
	if aws.ToString(d.SupportCode) == "" || aws.ToString(d.OriginPublicDNS) != "127.0.0.1" {
		t.Errorf("supportCode %q, originPublicDNS %q", aws.ToString(d.SupportCode), aws.ToString(d.OriginPublicDNS))
	}
	if d.Location == nil || aws.ToString(d.Location.AvailabilityZone) != "all" || d.Location.RegionName != types.RegionNameUsEast1 {
		t.Errorf("location = %+v", d.Location)
	}
	if d.ResourceType != types.ResourceTypeDistribution || aws.ToString(d.Status) != "InProgress" {
		t.Errorf("resourceType %q status %q", d.ResourceType, aws.ToString(d.Status))
	}
	if !aws.ToBool(d.IsEnabled) || !aws.ToBool(d.AbleToUpdateBundle) {
		t.Errorf("isEnabled %v ableToUpdateBundle %v", aws.ToBool(d.IsEnabled), aws.ToBool(d.AbleToUpdateBundle))
	}
	if d.IpAddressType != types.IpAddressTypeDualstack {
		t.Errorf("ipAddressType = %q, want dualstack", d.IpAddressType)
	}
	if d.Origin == nil || d.Origin.ResourceType != types.ResourceTypeInstance || d.Origin.ProtocolPolicy != types.OriginProtocolPolicyEnumHTTPOnly {
		t.Errorf("origin = %+v", d.Origin)
	}
	if d.AlternativeDomainNames == nil || len(d.AlternativeDomainNames) != 0 {
		t.Errorf("alternativeDomainNames = %#v, want an empty list", d.AlternativeDomainNames)
	}
	s := d.CacheBehaviorSettings
	if s == nil || aws.ToInt64(s.DefaultTTL) != 86400 || aws.ToInt64(s.MinimumTTL) != 0 || aws.ToInt64(s.MaximumTTL) != 31536000 ||
		aws.ToString(s.AllowedHTTPMethods) != "GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE" || aws.ToString(s.CachedHTTPMethods) != "GET,HEAD" ||
		s.ForwardedCookies.Option != types.ForwardValuesNone || string(s.ForwardedHeaders.Option) != "default" || aws.ToBool(s.ForwardedQueryStrings.Option) {
		t.Errorf("default cacheBehaviorSettings wrong: %+v", s)
	}
	op := out.Operation
	if op.OperationType != types.OperationTypeCreateDistribution || op.Status != types.OperationStatusSucceeded || !aws.ToBool(op.IsTerminal) ||
		aws.ToString(op.ResourceName) != "site-cdn" || op.ResourceType != types.ResourceTypeDistribution {
		t.Errorf("operation = %+v", op)
	}
	got, err := c.GetOperation(ctx, &ls.GetOperationInput{OperationId: op.Id})
	if err != nil || aws.ToString(got.Operation.Id) != aws.ToString(op.Id) {
		t.Fatalf("GetOperation: %v %+v", err, got)
	}

	// InProgress is observable, then it settles on Deployed once the deploy delay has passed and the
	// node's edge serves it (it reloads within milliseconds of the commit, but not synchronously).
	e.Clock.Advance(time.Second)
	wait.Until(t, 5*time.Second, "Deployed after the deploy delay", func() bool {
		return aws.ToString(getOne(t, c, "site-cdn").Status) == "Deployed"
	})
}

func isInvalid(code string) func(*testing.T, error) {
	return func(t *testing.T, err error) { wantAPIError[*types.InvalidInputException](t, err, 400, code) }
}

func isNotFound(code string) func(*testing.T, error) {
	return func(t *testing.T, err error) { wantAPIError[*types.NotFoundException](t, err, 404, code) }
}

func testCreateDistributionErrors(t *testing.T, b sailtest.Backend) {
	_, c := newEnv(t, b, func(cfg *sailtest.Config) {
		cfg.Control.MaxDistributions = 2
		cat := billing.DefaultCatalog()
		cat.Bundles = append(cat.Bundles, billing.Bundle{ID: "legacy_0_9", Name: "Legacy", Price: 1_000_000, TransferPerMonthGB: 10, IsActive: false})
		cfg.Control.Catalog = cat
	})
	mustCreate(t, c, "taken")
	cases := []struct {
		name   string
		mutate func(in *ls.CreateDistributionInput)
		check  func(t *testing.T, err error)
	}{
		{"duplicate name", func(in *ls.CreateDistributionInput) { in.DistributionName = aws.String("taken") },
			isInvalid("AlreadyExists")},
		{"bad name", func(in *ls.CreateDistributionInput) { in.DistributionName = aws.String("-bad-") },
			isInvalid("InvalidResourceName")},
		{"unknown origin", func(in *ls.CreateDistributionInput) { in.Origin.Name = aws.String("nope") },
			isNotFound("DoesNotExist")},
		{"origin in another region", func(in *ls.CreateDistributionInput) { in.Origin.RegionName = types.RegionNameEuWest1 },
			isNotFound("DoesNotExist")},
		{"unknown bundle", func(in *ls.CreateDistributionInput) { in.BundleId = aws.String("huge_9_9") },
			isInvalid("InvalidBundle")},
		{"inactive bundle", func(in *ls.CreateDistributionInput) { in.BundleId = aws.String("legacy_0_9") },
			isInvalid("InactiveBundle")},
		{"key-only tag", func(in *ls.CreateDistributionInput) { in.Tags = []types.Tag{{Key: aws.String("team")}} },
			isInvalid("InvalidTag")},
		{"ttl order", func(in *ls.CreateDistributionInput) {
			in.CacheBehaviorSettings = &types.CacheSettings{MinimumTTL: aws.Int64(100), DefaultTTL: aws.Int64(10)}
		}, isInvalid("InvalidCacheSettings")},
		{"response timeout", func(in *ls.CreateDistributionInput) { in.Origin.ResponseTimeout = aws.Int32(90) },
			isInvalid("InvalidOrigin")},
		{"private access on an instance", func(in *ls.CreateDistributionInput) { in.EnablePrivateOriginAccess = aws.Bool(true) },
			isInvalid("InvalidOrigin")},
		{"waf on small", func(in *ls.CreateDistributionInput) { in.EnableWaf = aws.Bool(true) },
			isInvalid("InvalidWafConfig")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := createInput("fresh-one")
			tc.mutate(in)
			_, err := c.CreateDistribution(ctx, in)
			tc.check(t, err)
		})
	}
	// Nothing was lost or half-created by the refusals: exactly the one distribution exists.
	out, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{})
	if err != nil || len(out.Distributions) != 1 {
		t.Fatalf("after refusals: %v, %d distributions", err, len(out.Distributions))
	}
	mustCreate(t, c, "second")
	_, err = c.CreateDistribution(ctx, createInput("third"))
	wantAPIError[*types.OperationFailureException](t, err, 400, "QuotaExceeded")
}

func testNewerMembersRoundTrip(t *testing.T, b sailtest.Backend) {
	_, c := newEnv(t, b)
	in := createInput("newer")
	in.BundleId = aws.String("medium_1_0")
	in.ViewerMinimumTlsProtocolVersion = types.ViewerMinimumTlsProtocolVersionEnumTLSv122019
	in.DefaultRootObject = aws.String("index.html")
	in.CustomErrorResponses = []types.DistributionCustomErrorResponse{{ErrorCode: aws.Int32(404), ResponseCode: aws.String("200"), ResponsePagePath: aws.String("/404.html")}}
	in.Origin.ResponseTimeout = aws.Int32(45)
	in.Origin.IpAddressType = types.OriginIpAddressTypeEnumIpv4
	in.EnableWaf = aws.Bool(true)
	in.WafRules = []types.WafRule{{Name: aws.String("AWSManagedRulesCommonRuleSet")}}
	mustCreate(t, c, "newer")
	_, err := c.CreateDistribution(ctx, in)
	wantAPIError[*types.InvalidInputException](t, err, 400, "AlreadyExists")
	in.DistributionName = aws.String("newer-2")
	if _, err := c.CreateDistribution(ctx, in); err != nil {
		t.Fatal(err)
	}
	d := getOne(t, c, "newer-2")
	if aws.ToString(d.ViewerMinimumTlsProtocolVersion) != "TLSv1.2_2019" || aws.ToString(d.DefaultRootObject) != "index.html" ||
		len(d.CustomErrorResponses) != 1 || aws.ToInt64(d.CustomErrorResponses[0].ErrorCachingMinTTL) != 10 ||
		aws.ToInt32(d.Origin.ResponseTimeout) != 45 || d.Origin.IpAddressType != types.OriginIpAddressTypeEnumIpv4 ||
		d.Waf == nil || !aws.ToBool(d.Waf.IsWafEnabled) || len(d.Waf.WafRules) != 1 {
		t.Errorf("newer members did not round-trip: %+v", d)
	}
}

func testRegionGate(t *testing.T, b sailtest.Backend) {
	e, _ := newEnv(t, b)
	c := e.Client(sailtest.Alice, "eu-west-1")
	_, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{})
	ie := wantAPIError[*types.InvalidInputException](t, err, 400, "UnsupportedOperation")
	if !strings.Contains(aws.ToString(ie.Message), "us-east-1") {
		t.Errorf("message %q does not name us-east-1", aws.ToString(ie.Message))
	}
	_, err = c.CreateDistribution(ctx, createInput("x1"))
	wantAPIError[*types.InvalidInputException](t, err, 400, "UnsupportedOperation")
	// Regions and operations are not distribution APIs and answer anywhere.
	if _, err := c.GetRegions(ctx, &ls.GetRegionsInput{}); err != nil {
		t.Fatal(err)
	}
}

func testGetDistributionsNotFoundAndPagination(t *testing.T, b sailtest.Backend) {
	_, c := newEnv(t, b, func(cfg *sailtest.Config) { cfg.Control.PageSize = 2 })
	// Also an account without any distribution answers InvalidInputException, not an empty list:
	// CloudFormation's delete stabilisation waits for an exception (clients_test.go, decisions.md).
	_, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{DistributionName: aws.String("ghost")})
	ie := wantAPIError[*types.InvalidInputException](t, err, 400, "DoesNotExist")
	if !strings.Contains(aws.ToString(ie.Message), "Requested resource not found") {
		t.Errorf("message %q", aws.ToString(ie.Message))
	}
	out, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{})
	if err != nil || out.Distributions == nil || len(out.Distributions) != 0 {
		t.Fatalf("listing an empty account: %v %+v", err, out)
	}
	names := []string{"a-one", "b-two", "c-three", "d-four", "e-five"}
	for _, n := range names {
		mustCreate(t, c, n)
	}
	_, err = c.GetDistributions(ctx, &ls.GetDistributionsInput{DistributionName: aws.String("ghost")})
	ie = wantAPIError[*types.InvalidInputException](t, err, 400, "DoesNotExist")
	if !strings.Contains(aws.ToString(ie.Message), "Requested resource not found") {
		t.Errorf("message %q", aws.ToString(ie.Message))
	}
	var got []string
	var token *string
	pages := 0
	for {
		out, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{PageToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, d := range out.Distributions {
			got = append(got, aws.ToString(d.Name))
		}
		if out.NextPageToken == nil {
			break
		}
		token = out.NextPageToken
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("paged %d times through %v", pages, got)
	}
	_, err = c.GetDistributions(ctx, &ls.GetDistributionsInput{PageToken: aws.String("garbage!")})
	wantAPIError[*types.InvalidInputException](t, err, 400, "InvalidPageToken")
}

func testAccountsAreIsolated(t *testing.T, b sailtest.Backend) {
	e, alice := newEnv(t, b)
	bob := e.Client(sailtest.Bob, "us-east-1")
	mustCreate(t, alice, "shared-name")
	if out, err := bob.GetDistributions(ctx, &ls.GetDistributionsInput{}); err != nil || len(out.Distributions) != 0 {
		t.Fatalf("bob sees %v %v", out, err)
	}
	_, err := bob.DeleteDistribution(ctx, &ls.DeleteDistributionInput{DistributionName: aws.String("shared-name")})
	wantAPIError[*types.NotFoundException](t, err, 404, "")
	_, err = bob.UpdateDistributionBundle(ctx, &ls.UpdateDistributionBundleInput{DistributionName: aws.String("shared-name"), BundleId: aws.String("medium_1_0")})
	wantAPIError[*types.NotFoundException](t, err, 404, "")
	// The same name is free in Bob's account, and Alice's operations are not Bob's.
	created := mustCreate(t, bob, "shared-name")
	aliceDist := getOne(t, alice, "shared-name")
	if aws.ToString(aliceDist.Arn) == aws.ToString(created.Distribution.Arn) {
		t.Fatal("two accounts share one distribution")
	}
	_, err = alice.GetOperation(ctx, &ls.GetOperationInput{OperationId: created.Operation.Id})
	wantAPIError[*types.NotFoundException](t, err, 404, "")
}

func testUpdateDistributionKeepsOmittedMembers(t *testing.T, b sailtest.Backend) {
	e, c := newEnv(t, b)
	in := createInput("upd")
	in.CacheBehaviorSettings = &types.CacheSettings{
		DefaultTTL:       aws.Int64(600),
		ForwardedCookies: &types.CookieObject{Option: types.ForwardValuesAllowList, CookiesAllowList: []string{"session"}},
	}
	in.CacheBehaviors = []types.CacheBehaviorPerPath{{Path: aws.String("/api/*"), Behavior: types.BehaviorEnumDontCacheSetting}}
	if _, err := c.CreateDistribution(ctx, in); err != nil {
		t.Fatal(err)
	}
	e.Clock.Advance(time.Minute)
	out, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("upd"), IsEnabled: aws.Bool(false)})
	if err != nil || out.Operation.OperationType != types.OperationTypeUpdateDistribution || out.Operation.Status != types.OperationStatusSucceeded {
		t.Fatalf("UpdateDistribution: %v %+v", err, out)
	}
	d := getOne(t, c, "upd")
	if aws.ToBool(d.IsEnabled) || aws.ToString(d.Status) != "InProgress" {
		t.Errorf("isEnabled %v status %q", aws.ToBool(d.IsEnabled), aws.ToString(d.Status))
	}
	if aws.ToInt64(d.CacheBehaviorSettings.DefaultTTL) != 600 || len(d.CacheBehaviors) != 1 || d.CacheBehaviorSettings.ForwardedCookies.Option != types.ForwardValuesAllowList {
		t.Errorf("omitted members changed: %+v %+v", d.CacheBehaviorSettings, d.CacheBehaviors)
	}
	// A supplied cacheBehaviorSettings replaces the whole object: what it leaves out is back to defaults.
	if _, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("upd"),
		CacheBehaviorSettings: &types.CacheSettings{MaximumTTL: aws.Int64(7200), DefaultTTL: aws.Int64(3600)}}); err != nil {
		t.Fatal(err)
	}
	d = getOne(t, c, "upd")
	s := d.CacheBehaviorSettings
	if aws.ToInt64(s.MaximumTTL) != 7200 || aws.ToInt64(s.DefaultTTL) != 3600 || s.ForwardedCookies.Option != types.ForwardValuesNone || len(d.CacheBehaviors) != 1 {
		t.Errorf("replacement semantics broken: %+v", s)
	}
	_, err = c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("nope")})
	wantAPIError[*types.NotFoundException](t, err, 404, "DoesNotExist")
}

// testUpdateDistributionPartialOrigin: an origin object that names the same origin resource changes
// the members it carries and keeps the others (decisions.md: the API reference tells clients to send
// the origin with its name "even if the origin is not changing"; Terraform and CloudFormation send
// name, region and protocol policy only). An origin naming another resource starts from the defaults.
func testUpdateDistributionPartialOrigin(t *testing.T, b sailtest.Backend) {
	e, c := newEnv(t, b)
	e.AddOrigin("web-2", "http://127.0.0.1:10/", "Instance", "us-east-1")
	in := createInput("part")
	in.Origin.ProtocolPolicy = types.OriginProtocolPolicyEnumHTTPSOnly
	in.Origin.ResponseTimeout = aws.Int32(45)
	in.Origin.IpAddressType = types.OriginIpAddressTypeEnumIpv4
	if _, err := c.CreateDistribution(ctx, in); err != nil {
		t.Fatal(err)
	}
	origin := func() *types.Origin { return getOne(t, c, "part").Origin }
	update := func(o *types.InputOrigin) {
		t.Helper()
		if _, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("part"), Origin: o}); err != nil {
			t.Fatal(err)
		}
	}
	want := func(what string, policy types.OriginProtocolPolicyEnum, timeout int32, ip types.OriginIpAddressTypeEnum) {
		t.Helper()
		o := origin()
		if o.ProtocolPolicy != policy || aws.ToInt32(o.ResponseTimeout) != timeout || o.IpAddressType != ip {
			t.Errorf("%s: protocolPolicy %q responseTimeout %d ipAddressType %q, want %q %d %q", what,
				o.ProtocolPolicy, aws.ToInt32(o.ResponseTimeout), o.IpAddressType, policy, timeout, ip)
		}
	}
	// Name and region only (what Terraform sends when nothing else is configured): nothing changes.
	update(&types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1})
	want("name and region only", types.OriginProtocolPolicyEnumHTTPSOnly, 45, types.OriginIpAddressTypeEnumIpv4)
	// One member: only that one changes.
	update(&types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1, ProtocolPolicy: types.OriginProtocolPolicyEnumHTTPOnly})
	want("protocolPolicy only", types.OriginProtocolPolicyEnumHTTPOnly, 45, types.OriginIpAddressTypeEnumIpv4)
	update(&types.InputOrigin{Name: aws.String("web-1"), RegionName: types.RegionNameUsEast1, ResponseTimeout: aws.Int32(10)})
	want("responseTimeout only", types.OriginProtocolPolicyEnumHTTPOnly, 10, types.OriginIpAddressTypeEnumIpv4)
	// Another origin resource: its members start from the defaults, as on create.
	update(&types.InputOrigin{Name: aws.String("web-2"), RegionName: types.RegionNameUsEast1})
	want("another origin", types.OriginProtocolPolicyEnumHTTPOnly, 30, types.OriginIpAddressTypeEnumDualstack)
	if aws.ToString(origin().Name) != "web-2" {
		t.Errorf("origin %q, want web-2", aws.ToString(origin().Name))
	}
}

func testBundleChangeOncePerCycle(t *testing.T, b sailtest.Backend) {
	e, c := newEnv(t, b)
	mustCreate(t, c, "bundled")
	if !aws.ToBool(getOne(t, c, "bundled").AbleToUpdateBundle) {
		t.Fatal("a new distribution must be able to change its bundle (creation does not spend the allowance)")
	}
	// Same bundle: no-op success that spends nothing.
	if _, err := c.UpdateDistributionBundle(ctx, &ls.UpdateDistributionBundleInput{DistributionName: aws.String("bundled"), BundleId: aws.String("small_1_0")}); err != nil {
		t.Fatal(err)
	}
	if !aws.ToBool(getOne(t, c, "bundled").AbleToUpdateBundle) {
		t.Fatal("re-selecting the current bundle spent the allowance")
	}
	out, err := c.UpdateDistributionBundle(ctx, &ls.UpdateDistributionBundleInput{DistributionName: aws.String("bundled"), BundleId: aws.String("medium_1_0")})
	if err != nil || out.Operation.OperationType != types.OperationTypeUpdateDistributionBundle {
		t.Fatalf("first change: %v", err)
	}
	d := getOne(t, c, "bundled")
	if aws.ToString(d.BundleId) != "medium_1_0" || aws.ToBool(d.AbleToUpdateBundle) {
		t.Fatalf("after change: bundle %q ableToUpdateBundle %v", aws.ToString(d.BundleId), aws.ToBool(d.AbleToUpdateBundle))
	}
	_, err = c.UpdateDistributionBundle(ctx, &ls.UpdateDistributionBundleInput{DistributionName: aws.String("bundled"), BundleId: aws.String("large_1_0")})
	ie := wantAPIError[*types.InvalidInputException](t, err, 400, "BundleUpdateNotAllowed")
	if !strings.Contains(aws.ToString(ie.Message), "2026-05-01") {
		t.Errorf("message %q does not say when a change becomes possible", aws.ToString(ie.Message))
	}
	if got := aws.ToString(getOne(t, c, "bundled").BundleId); got != "medium_1_0" {
		t.Fatalf("refused change changed the bundle to %q", got)
	}
	// Last second of the cycle: still refused. First second of the next: allowed.
	e.Clock.Set(time.Date(2026, 4, 30, 23, 59, 59, 0, time.UTC))
	if aws.ToBool(getOne(t, c, "bundled").AbleToUpdateBundle) {
		t.Fatal("ableToUpdateBundle true before the cycle ended")
	}
	e.Clock.Set(time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC))
	if !aws.ToBool(getOne(t, c, "bundled").AbleToUpdateBundle) {
		t.Fatal("ableToUpdateBundle still false in the next cycle")
	}
	if _, err := c.UpdateDistributionBundle(ctx, &ls.UpdateDistributionBundleInput{DistributionName: aws.String("bundled"), BundleId: aws.String("large_1_0")}); err != nil {
		t.Fatalf("change in the next cycle: %v", err)
	}
	_, err = c.UpdateDistributionBundle(ctx, &ls.UpdateDistributionBundleInput{DistributionName: aws.String("bundled"), BundleId: aws.String("nope_1_0")})
	wantAPIError[*types.InvalidInputException](t, err, 400, "InvalidBundle")
}

func testConcurrentBundleChangesExactlyOneWins(t *testing.T, b sailtest.Backend) {
	e, c := newEnv(t, b)
	mustCreate(t, c, "racy")
	bundles := []string{"medium_1_0", "large_1_0"}
	const n = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	var wins []string
	refused := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			b := bundles[i%2]
			// Each goroutine its own client and connection, like separate processes.
			_, err := e.Client(sailtest.Alice, "us-east-1").UpdateDistributionBundle(ctx, &ls.UpdateDistributionBundleInput{DistributionName: aws.String("racy"), BundleId: aws.String(b)})
			mu.Lock()
			defer mu.Unlock()
			var ie *types.InvalidInputException
			switch {
			case err == nil:
				wins = append(wins, b)
			case errors.As(err, &ie) && aws.ToString(ie.Code) == "BundleUpdateNotAllowed":
				refused++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}(i)
	}
	wg.Wait()
	// Requests for the bundle that already won are same-bundle no-ops and also succeed; so "exactly one
	// change" means: every success names the same bundle, and the other bundle was always refused.
	if len(wins) == 0 {
		t.Fatal("no change won")
	}
	for _, w := range wins {
		if w != wins[0] {
			t.Fatalf("two different bundle changes both won: %v", wins)
		}
	}
	if refused != n-len(wins) {
		t.Fatalf("wins %d refused %d of %d", len(wins), refused, n)
	}
	if got := aws.ToString(getOne(t, c, "racy").BundleId); got != wins[0] {
		t.Fatalf("stored bundle %q, winner %q", got, wins[0])
	}
	ops, err := c.GetOperationsForResource(ctx, &ls.GetOperationsForResourceInput{ResourceName: aws.String("racy")})
	if err != nil {
		t.Fatal(err)
	}
	changes := 0
	for _, op := range ops.Operations {
		if op.OperationType == types.OperationTypeUpdateDistributionBundle {
			changes++
		}
	}
	if changes != len(wins) {
		t.Errorf("%d UpdateDistributionBundle operations recorded, %d successes", changes, len(wins))
	}
}

func testDeleteDistribution(t *testing.T, b sailtest.Backend) {
	_, c := newEnv(t, b)
	mustCreate(t, c, "doomed")
	mustCreate(t, c, "keeper")
	out, err := c.DeleteDistribution(ctx, &ls.DeleteDistributionInput{DistributionName: aws.String("doomed")})
	if err != nil || out.Operation.OperationType != types.OperationTypeDeleteDistribution {
		t.Fatalf("delete: %v", err)
	}
	_, err = c.GetDistributions(ctx, &ls.GetDistributionsInput{DistributionName: aws.String("doomed")})
	wantAPIError[*types.InvalidInputException](t, err, 400, "DoesNotExist")
	_, err = c.DeleteDistribution(ctx, &ls.DeleteDistributionInput{DistributionName: aws.String("doomed")})
	wantAPIError[*types.NotFoundException](t, err, 404, "DoesNotExist")
	if op, err := c.GetOperation(ctx, &ls.GetOperationInput{OperationId: out.Operation.Id}); err != nil || op.Operation.Status != types.OperationStatusSucceeded {
		t.Fatalf("operation of a deleted distribution: %v", err)
	}
	mustCreate(t, c, "doomed") // the name is free again
}

func testCacheReset(t *testing.T, b sailtest.Backend) {
	e, c := newEnv(t, b)
	mustCreate(t, c, "cached")
	latest, err := c.GetDistributionLatestCacheReset(ctx, &ls.GetDistributionLatestCacheResetInput{DistributionName: aws.String("cached")})
	if err != nil || latest.Status != nil || latest.CreateTime != nil {
		t.Fatalf("never reset: %v %+v", err, latest)
	}
	out, err := c.ResetDistributionCache(ctx, &ls.ResetDistributionCacheInput{DistributionName: aws.String("cached")})
	if err != nil || aws.ToString(out.Status) != "InProgress" || out.Operation.OperationType != types.OperationTypeResetDistributionCache || out.CreateTime == nil {
		t.Fatalf("reset: %v %+v", err, out)
	}
	if !out.CreateTime.Equal(e.Clock.Now().Truncate(time.Millisecond)) && out.CreateTime.Sub(e.Clock.Now()) > time.Second {
		t.Errorf("createTime %v is not the server clock %v", out.CreateTime, e.Clock.Now())
	}
	e.Clock.Advance(2 * time.Second)
	for _, name := range []*string{aws.String("cached"), nil} {
		wait.For(t, 5*time.Second, "the reset to complete once the edge has purged", func() error {
			latest, err = c.GetDistributionLatestCacheReset(ctx, &ls.GetDistributionLatestCacheResetInput{DistributionName: name})
			if err != nil {
				t.Fatalf("latest (%v): %v", aws.ToString(name), err)
			}
			if st := aws.ToString(latest.Status); st != "Completed" {
				return fmt.Errorf("status %q", st)
			}
			return nil
		})
	}
	_, err = c.ResetDistributionCache(ctx, &ls.ResetDistributionCacheInput{DistributionName: aws.String("ghost")})
	wantAPIError[*types.NotFoundException](t, err, 404, "DoesNotExist")
}

func testTags(t *testing.T, b sailtest.Backend) {
	_, c := newEnv(t, b)
	in := createInput("tagged")
	in.Tags = []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}
	if _, err := c.CreateDistribution(ctx, in); err != nil {
		t.Fatal(err)
	}
	arn := getOne(t, c, "tagged").Arn
	out, err := c.TagResource(ctx, &ls.TagResourceInput{ResourceName: aws.String("tagged"), ResourceArn: arn,
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}, {Key: aws.String("keyonly")}}})
	if err != nil || len(out.Operations) != 1 || string(out.Operations[0].OperationType) != "TagResource" {
		t.Fatalf("tag: %v %+v", err, out)
	}
	if _, err := c.TagResource(ctx, &ls.TagResourceInput{ResourceName: aws.String("tagged"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}); err != nil {
		t.Fatal(err)
	}
	tags := map[string]string{}
	for _, tg := range getOne(t, c, "tagged").Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if len(tags) != 2 || tags["env"] != "dev" || tags["keyonly"] != "" {
		t.Errorf("tags after upsert = %v", tags)
	}
	if _, err := c.UntagResource(ctx, &ls.UntagResourceInput{ResourceName: aws.String("tagged"), TagKeys: []string{"env", "absent"}}); err != nil {
		t.Fatal(err)
	}
	if tg := getOne(t, c, "tagged").Tags; len(tg) != 1 || aws.ToString(tg[0].Key) != "keyonly" {
		t.Errorf("tags after untag = %+v", tg)
	}
	many := make([]types.Tag, 50)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
	}
	_, err = c.TagResource(ctx, &ls.TagResourceInput{ResourceName: aws.String("tagged"), Tags: many})
	wantAPIError[*types.InvalidInputException](t, err, 400, "TagLimitExceeded")
	_, err = c.TagResource(ctx, &ls.TagResourceInput{ResourceName: aws.String("tagged"), ResourceArn: aws.String("arn:aws:lightsail:us-east-1:111111111111:Distribution/00000000-0000-0000-0000-000000000000"), Tags: many[:1]})
	wantAPIError[*types.InvalidInputException](t, err, 400, "InvalidResourceArn")
	_, err = c.TagResource(ctx, &ls.TagResourceInput{ResourceName: aws.String("ghost"), Tags: many[:1]})
	wantAPIError[*types.NotFoundException](t, err, 404, "")
}

func testSetIpAddressType(t *testing.T, b sailtest.Backend) {
	_, c := newEnv(t, b)
	mustCreate(t, c, "ipv")
	out, err := c.SetIpAddressType(ctx, &ls.SetIpAddressTypeInput{ResourceName: aws.String("ipv"), ResourceType: types.ResourceTypeDistribution, IpAddressType: types.IpAddressTypeIpv4})
	if err != nil || len(out.Operations) != 1 || out.Operations[0].OperationType != types.OperationTypeSetIpAddressType {
		t.Fatalf("SetIpAddressType: %v", err)
	}
	if got := getOne(t, c, "ipv").IpAddressType; got != types.IpAddressTypeIpv4 {
		t.Errorf("ipAddressType = %q", got)
	}
	_, err = c.SetIpAddressType(ctx, &ls.SetIpAddressTypeInput{ResourceName: aws.String("ipv"), ResourceType: types.ResourceTypeDistribution, IpAddressType: types.IpAddressTypeIpv6})
	wantAPIError[*types.InvalidInputException](t, err, 400, "InvalidIpAddressType")
	_, err = c.SetIpAddressType(ctx, &ls.SetIpAddressTypeInput{ResourceName: aws.String("ipv"), ResourceType: types.ResourceTypeInstance, IpAddressType: types.IpAddressTypeIpv4})
	wantAPIError[*types.InvalidInputException](t, err, 400, "UnsupportedResourceType")
}

func testBundlesRegionsOperations(t *testing.T, b sailtest.Backend) {
	_, c := newEnv(t, b)
	bundles, err := c.GetDistributionBundles(ctx, &ls.GetDistributionBundlesInput{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, x := range bundles.Bundles {
		if aws.ToString(x.BundleId) == "small_1_0" {
			found = aws.ToFloat32(x.Price) == 2.5 && aws.ToInt32(x.TransferPerMonthInGb) == 50 && aws.ToBool(x.IsActive)
		}
	}
	if !found || len(bundles.Bundles) < 3 {
		t.Errorf("bundles = %+v", bundles.Bundles)
	}
	r, err := c.GetRegions(ctx, &ls.GetRegionsInput{IncludeAvailabilityZones: aws.Bool(true)})
	if err != nil || len(r.Regions) < 15 {
		t.Fatalf("regions: %v %d", err, len(r.Regions))
	}
	for _, reg := range r.Regions {
		if reg.Name == types.RegionNameUsEast1 && (aws.ToString(reg.DisplayName) != "Virginia" || len(reg.AvailabilityZones) == 0) {
			t.Errorf("us-east-1 = %+v", reg)
		}
	}
	for i := 0; i < 3; i++ {
		mustCreate(t, c, fmt.Sprintf("op-%d", i))
	}
	ops, err := c.GetOperations(ctx, &ls.GetOperationsInput{})
	if err != nil || len(ops.Operations) != 3 || ops.NextPageToken != nil {
		t.Fatalf("GetOperations: %v %+v", err, ops)
	}
	if aws.ToString(ops.Operations[0].ResourceName) != "op-0" || aws.ToString(ops.Operations[2].ResourceName) != "op-2" {
		t.Errorf("operations not oldest→newest")
	}
	_, err = c.GetOperation(ctx, &ls.GetOperationInput{OperationId: aws.String("no-such-op")})
	wantAPIError[*types.NotFoundException](t, err, 404, "DoesNotExist")
	_, err = c.GetOperationsForResource(ctx, &ls.GetOperationsForResourceInput{ResourceName: aws.String("ghost")})
	wantAPIError[*types.NotFoundException](t, err, 404, "")
}

// testOperationsAreRegional: GetOperation, GetOperations and GetOperationsForResource answer in the
// caller's region, as every other call does: an operation recorded in us-east-1 is unknown to a
// us-west-2 client.
func testOperationsAreRegional(t *testing.T, b sailtest.Backend) {
	e, c := newEnv(t, b)
	west := e.Client(sailtest.Alice, "us-west-2")
	out := mustCreate(t, c, "regional")
	id := out.Operation.Id
	if got, err := c.GetOperation(ctx, &ls.GetOperationInput{OperationId: id}); err != nil || got.Operation.Location.RegionName != types.RegionNameUsEast1 {
		t.Fatalf("GetOperation in us-east-1: %v", err)
	}
	_, err := west.GetOperation(ctx, &ls.GetOperationInput{OperationId: id})
	wantAPIError[*types.NotFoundException](t, err, 404, "DoesNotExist")
	ops, err := west.GetOperations(ctx, &ls.GetOperationsInput{})
	if err != nil || len(ops.Operations) != 0 {
		t.Fatalf("GetOperations in us-west-2: %v, %d operations, want none", err, len(ops.Operations))
	}
	_, err = west.GetOperationsForResource(ctx, &ls.GetOperationsForResourceInput{ResourceName: aws.String("regional")})
	wantAPIError[*types.NotFoundException](t, err, 404, "DoesNotExist")
	if ops, err := c.GetOperationsForResource(ctx, &ls.GetOperationsForResourceInput{ResourceName: aws.String("regional")}); err != nil || len(ops.Operations) != 1 {
		t.Fatalf("GetOperationsForResource in us-east-1: %v", err)
	}
}

func testUnservedOperationsAnswer501(t *testing.T, b sailtest.Backend) {
	_, c := newEnv(t, b)
	_, err := c.GetInstances(ctx, &ls.GetInstancesInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "NotImplementedException" || !strings.Contains(ae.ErrorMessage(), "GetInstances") {
		t.Fatalf("GetInstances: %v", err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusNotImplemented {
		t.Fatalf("status: %v", err)
	}
}

func testCostEstimateFromMeteredUsage(t *testing.T, b sailtest.Backend) {
	e, c := newEnv(t, b)
	// Created 2026-04-10T12:00Z (the harness clock) on small_1_0: $2.50/month, 50 GB.
	mustCreate(t, c, "billed")
	d, err := e.Store.GetDistribution(ctx, sailtest.Alice.AccountID, "billed")
	if err != nil {
		t.Fatal(err)
	}
	day := func(d, h int) int64 { return time.Date(2026, 4, d, h, 0, 0, 0, time.UTC).Unix() }
	const gb = int64(1_000_000_000)
	// The quota counts all data transfer out: to viewers for every method (BytesToViewers, of
	// which BytesDownloaded is the GET/HEAD/OPTIONS part) and to the origin (BytesToOrigin, of
	// which BytesUploaded is the POST/PUT part).
	rows := []store.UsageDelta{
		{DistributionID: d.ID, Minute: day(11, 3), Requests: 1000, BytesToViewers: 25 * gb, BytesDownloaded: 20 * gb, BytesToOrigin: 5 * gb, BytesUploaded: 4 * gb},
		{DistributionID: d.ID, Minute: day(11, 4), Requests: 1000, BytesToViewers: 10 * gb, BytesDownloaded: 10 * gb},
		{DistributionID: d.ID, Minute: day(12, 8), Requests: 1000, BytesToViewers: 15*gb + 100, BytesDownloaded: 15 * gb, BytesToOrigin: 23},
	}
	if err := e.Store.AddUsage(ctx, rows); err != nil {
		t.Fatal(err)
	}
	e.Clock.Set(time.Date(2026, 4, 13, 0, 0, 0, 0, time.UTC))
	out, err := c.GetCostEstimate(ctx, &ls.GetCostEstimateInput{ResourceName: aws.String("billed"),
		StartTime: aws.Time(time.Unix(day(10, 0), 0)), EndTime: aws.Time(time.Unix(day(13, 0), 0))})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.ResourcesBudgetEstimate) != 1 {
		t.Fatalf("%d estimates", len(out.ResourcesBudgetEstimate))
	}
	est := out.ResourcesBudgetEstimate[0]
	if aws.ToString(est.ResourceName) != "billed" || est.ResourceType != types.ResourceTypeDistribution || len(est.CostEstimates) != 3 {
		t.Fatalf("estimate = %+v", est)
	}
	var hours, overageGB, planCost, overageCost, transferGB, transferCost float64
	for _, ce := range est.CostEstimates {
		if len(ce.ResultsByTime) != 3 {
			t.Fatalf("%s: %d daily rows, want 3", aws.ToString(ce.UsageType), len(ce.ResultsByTime))
		}
		for _, r := range ce.ResultsByTime {
			if r.Currency != types.CurrencyUsd || r.TimePeriod == nil || r.TimePeriod.End.Sub(*r.TimePeriod.Start) != 24*time.Hour {
				t.Errorf("row %+v", r)
			}
			switch ut := aws.ToString(ce.UsageType); {
			case ut == "DistributionPlan" && r.PricingUnit == types.PricingUnitHrs:
				hours += aws.ToFloat64(r.Unit)
				planCost += aws.ToFloat64(r.UsageCost)
			case ut == "DataTransferOutOverage" && r.PricingUnit == types.PricingUnitGb:
				overageGB += aws.ToFloat64(r.Unit)
				overageCost += aws.ToFloat64(r.UsageCost)
			case ut == "DataTransferOut" && r.PricingUnit == types.PricingUnitGb:
				transferGB += aws.ToFloat64(r.Unit)
				transferCost += aws.ToFloat64(r.UsageCost)
			default:
				t.Errorf("usage type %q with pricing unit %q", ut, r.PricingUnit)
			}
		}
	}
	// 12 hours on the 10th, then two whole days; $2.50 accrues at price/744 per hour.
	if hours != 60 {
		t.Errorf("plan hours %v, want 60", hours)
	}
	if want := 2.5 * 60 / 744; planCost < want-0.00001 || planCost > want+0.00001 {
		t.Errorf("plan cost %v, want %v", planCost, want)
	}
	// 55 GB + 123 bytes out against a 50 GB quota: exactly 5 GB + 123 bytes over, at $0.09/GB.
	if got := int64(overageGB*1e9 + 0.5); got != 5*gb+123 {
		t.Errorf("overage bytes %d, want %d", got, 5*gb+123)
	}
	if overageCost < 0.45-0.000001 || overageCost > 0.45+0.000001 {
		t.Errorf("overage cost %v, want 0.45", overageCost)
	}
	// All transfer out, the quota's figure, at no charge of its own.
	if got := int64(transferGB*1e9 + 0.5); got != 55*gb+123 || transferCost != 0 {
		t.Errorf("transfer out %d bytes at %v, want %d at 0", got, transferCost, 55*gb+123)
	}

	_, err = c.GetCostEstimate(ctx, &ls.GetCostEstimateInput{ResourceName: aws.String("billed"), StartTime: aws.Time(time.Unix(day(13, 0), 0)), EndTime: aws.Time(time.Unix(day(10, 0), 0))})
	wantAPIError[*types.InvalidInputException](t, err, 400, "InvalidTimeRange")
	if _, err := c.DeleteDistribution(ctx, &ls.DeleteDistributionInput{DistributionName: aws.String("billed")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetCostEstimate(ctx, &ls.GetCostEstimateInput{ResourceName: aws.String("billed"), StartTime: aws.Time(time.Unix(day(10, 0), 0)), EndTime: aws.Time(time.Unix(day(13, 0), 0))})
	wantAPIError[*types.NotFoundException](t, err, 404, "DoesNotExist")
}

// testConcurrentCreatesRespectQuotaAndNames: the quota and unique names are rules over the account's
// set of rows; concurrent creates must neither exceed the quota nor create a name twice, and a loser
// gets the documented error, never a 500.
func testConcurrentCreatesRespectQuotaAndNames(t *testing.T, b sailtest.Backend) {
	e, c := newEnv(t, b, func(cfg *sailtest.Config) { cfg.Control.MaxDistributions = 3 })
	mustCreate(t, c, "first")
	race := func(names []string) (created int, errs []error) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for _, n := range names {
			wg.Add(1)
			go func(n string) {
				defer wg.Done()
				_, err := e.Client(sailtest.Alice, "us-east-1").CreateDistribution(ctx, createInput(n))
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					created++
				} else {
					errs = append(errs, err)
				}
			}(n)
		}
		wg.Wait()
		return created, errs
	}
	// Six creates of one name: exactly one wins, the others are told the name is taken.
	created, errs := race([]string{"same", "same", "same", "same", "same", "same"})
	if created != 1 {
		t.Fatalf("%d creates of one name succeeded", created)
	}
	for _, err := range errs {
		wantAPIError[*types.InvalidInputException](t, err, 400, "AlreadyExists")
	}
	// Four creates at quota - 1: exactly one fits, the others are refused with QuotaExceeded.
	created, errs = race([]string{"x1", "x2", "x3", "x4"})
	if created != 1 {
		t.Fatalf("%d creates at quota - 1 succeeded, want 1", created)
	}
	for _, err := range errs {
		wantAPIError[*types.OperationFailureException](t, err, 400, "QuotaExceeded")
	}
	out, err := c.GetDistributions(ctx, &ls.GetDistributionsInput{})
	if err != nil || len(out.Distributions) != 3 {
		t.Fatalf("%d distributions exist, quota 3 (%v)", len(out.Distributions), err)
	}
}
