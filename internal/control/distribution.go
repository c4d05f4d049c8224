package control

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sailcdn/sailcdn/internal/awsjson"
	"github.com/sailcdn/sailcdn/internal/billing"
	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Distribution status strings: "InProgress" while a change propagates, "Deployed" once settled
// (CloudFormation waits for "Deployed"; reference §5.4).
const (
	StatusInProgress = "InProgress"
	StatusDeployed   = "Deployed"
)

func notFoundDistribution(name string) *lightsail.Error {
	return lightsail.Errorf(lightsail.NotFound, "DoesNotExist", "The distribution %s does not exist.", quoteName(name)).
		WithTip("Check the distribution name; GetDistributions lists the distributions of this account.")
}

// requireName turns a missing or malformed distributionName into an InvalidInputException. The model
// leaves distributionName optional on several operations, so the protocol layer lets it through
// (reference §9.9).
func requireName(name *string) (string, error) {
	if name == nil || *name == "" {
		return "", invalid("MissingParameter", "The distributionName parameter is required.")
	}
	return *name, checkResourceName("distribution", *name)
}

// distributionTarget is the common start of every operation on one named distribution: the caller,
// gated to us-east-1, and a well-formed distributionName.
func distributionTarget(ctx context.Context, name *string) (Caller, string, error) {
	c, err := distributionCaller(ctx)
	if err != nil {
		return c, "", err
	}
	n, err := requireName(name)
	return c, n, err
}

// loadConfig decodes the stored configuration: the persistent members of a LightsailDistribution,
// written by persistentConfig. The generated reader is what serves GetDistributions quickly:
// encoding/json took 30 % of a signed GetDistributions in the profile (docs/benchmarks.md).
func loadConfig(d *store.Distribution) (*lightsail.LightsailDistribution, error) {
	cfg := new(lightsail.LightsailDistribution)
	if len(d.Config) > 0 {
		dec := awsjson.NewDecoder(d.Config)
		if err := cfg.ReadJSON(dec); err != nil {
			return nil, fmt.Errorf("distribution %s: stored config: %w", d.ID, err)
		}
		if err := dec.End(); err != nil {
			return nil, fmt.Errorf("distribution %s: stored config: %w", d.ID, err)
		}
	}
	return cfg, nil
}

// persistentConfig is cfg without the members that are derived from the row at read time, so that the
// stored JSON never contradicts the columns.
func persistentConfig(cfg *lightsail.LightsailDistribution) ([]byte, error) {
	c := *cfg
	c.Name, c.Arn, c.SupportCode, c.CreatedAt, c.Location, c.ResourceType = nil, nil, nil, nil, nil, nil
	c.Status, c.IsEnabled, c.DomainName, c.BundleId, c.AbleToUpdateBundle = nil, nil, nil, nil, nil
	return c.AppendJSON(nil), nil
}

// Values of view's members that are the same for many distributions: shared, never written through.
var (
	resourceTypeDistribution = "Distribution"
	homeLocation             = lightsail.ResourceLocation{AvailabilityZone: ptr("all"), RegionName: ptr(HomeRegion)}
	statusInProgress         = StatusInProgress
	statusDeployed           = StatusDeployed
	boolTrue, boolFalse      = true, false
)

func sharedBool(v bool) *bool {
	if v {
		return &boolTrue
	}
	return &boolFalse
}

// view renders a stored distribution as the API returns it. The result shares the cached decoded
// configuration (configCache): callers encode it and must not write into it.
func (s *Service) view(ctx context.Context, d *store.Distribution, now time.Time) (*lightsail.LightsailDistribution, error) {
	e, err := s.configs.get(d)
	if err != nil {
		return nil, err
	}
	cfg := new(lightsail.LightsailDistribution)
	*cfg = *e.cfg
	cfg.Status = &statusInProgress
	if ok, err := s.deployed(ctx, d.DeployedAt, d.DeployGeneration, now); err != nil {
		return nil, err
	} else if ok {
		cfg.Status = &statusDeployed
	}
	cfg.Name = &d.Name
	cfg.Arn = &e.arn
	cfg.SupportCode = &e.supportCode
	cfg.CreatedAt = lightsail.NewTimestamp(d.CreatedAt)
	cfg.Location = &homeLocation
	cfg.ResourceType = &resourceTypeDistribution
	cfg.IsEnabled = sharedBool(d.IsEnabled)
	cfg.DomainName = &d.DomainName
	cfg.BundleId = &d.BundleID
	cfg.AbleToUpdateBundle = sharedBool(billing.AbleToUpdateBundle(d.BundleChangedCycle, now))
	cfg.AlternativeDomainNames = nonNil(cfg.AlternativeDomainNames)
	cfg.CacheBehaviors = nonNil(cfg.CacheBehaviors)
	cfg.Tags = nonNil(cfg.Tags)
	return cfg, nil
}

// supportCode is "<account>/<domain label, upper case>" (format undocumented; decisions.md).
func supportCode(d *store.Distribution) string {
	return d.AccountID + "/" + strings.ToUpper(strings.SplitN(d.DomainName, ".", 2)[0])
}

func distributionARN(account, id string) string {
	return "arn:aws:lightsail:" + HomeRegion + ":" + account + ":Distribution/" + id
}

// newDomainName is "d" + 13 lowercase alphanumerics + "." + the edge suffix, the shape of CloudFront's
// default hostnames (reference §5.3).
func (s *Service) newDomainName() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 13)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "d" + string(b) + "." + s.edgeDomain
}

// resolveOrigin checks an InputOrigin against the origin registry and returns the stored Origin plus
// the origin's public DNS name. Members the request leaves out stay nil: CreateDistribution fills them
// with the defaults (withOriginDefaults), UpdateDistribution first from the distribution's current
// origin when the request names the same origin resource (keepOmittedOriginMembers).
func (s *Service) resolveOrigin(ctx context.Context, in *lightsail.InputOrigin, privateAccess *bool) (*lightsail.Origin, string, error) {
	if in == nil || deref(in.Name) == "" || deref(in.RegionName) == "" {
		return nil, "", invalid("MissingParameter", "origin.name and origin.regionName are required.")
	}
	o, err := s.db.GetOrigin(ctx, *in.RegionName, *in.Name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", lightsail.Errorf(lightsail.NotFound, "DoesNotExist",
			"The origin resource %s does not exist in %s.", quoteName(*in.Name), *in.RegionName).
			WithTip("Register the origin with `sailcdn serve --origin NAME=URL` or POST /_sailcdn/origins.")
	}
	if err != nil {
		return nil, "", err
	}
	out := &lightsail.Origin{
		Name:            ptr(o.Name),
		RegionName:      ptr(o.RegionName),
		ResourceType:    ptr(o.ResourceType),
		ProtocolPolicy:  in.ProtocolPolicy,
		ResponseTimeout: in.ResponseTimeout,
		IpAddressType:   in.IpAddressType,
	}
	if t := out.ResponseTimeout; t != nil && (*t < 1 || *t > 60) {
		return nil, "", invalid("InvalidOrigin", "origin.responseTimeout must be between 1 and 60 seconds; got %d.", *t)
	}
	if privateAccess != nil {
		if *privateAccess && o.ResourceType != "Bucket" {
			return nil, "", invalid("InvalidOrigin", "enablePrivateOriginAccess applies only to Lightsail bucket origins; %s is a %s.", quoteName(o.Name), o.ResourceType)
		}
		out.IsPrivateOriginAccessEnabled = ptr(*privateAccess)
	}
	host := o.URL
	if u, err := url.Parse(o.URL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return out, host, nil
}

// keepOmittedOriginMembers fills the members an UpdateDistribution's origin leaves out from the
// distribution's current origin, when both name the same origin resource (decisions.md: the API
// reference has clients send the origin with its name "even if the origin is not changing", and
// Terraform and CloudFormation send only name, region and protocol policy, so an omitted member
// cannot mean "back to the default"). Another origin resource starts from the defaults.
func keepOmittedOriginMembers(o, current *lightsail.Origin) {
	if current == nil || deref(o.Name) != deref(current.Name) || deref(o.RegionName) != deref(current.RegionName) {
		return
	}
	if o.ProtocolPolicy == nil {
		o.ProtocolPolicy = current.ProtocolPolicy
	}
	if o.ResponseTimeout == nil {
		o.ResponseTimeout = current.ResponseTimeout
	}
	if o.IpAddressType == nil {
		o.IpAddressType = current.IpAddressType
	}
	if o.IsPrivateOriginAccessEnabled == nil {
		o.IsPrivateOriginAccessEnabled = current.IsPrivateOriginAccessEnabled
	}
}

// withOriginDefaults fills the members still unset with Lightsail's defaults: http-only (a bucket
// origin is always reached over HTTPS, DG), a 30 s response timeout, dual-stack.
func withOriginDefaults(o *lightsail.Origin) {
	if o.ProtocolPolicy == nil {
		o.ProtocolPolicy = ptr("http-only") // default for instance, load balancer and container origins
	}
	if deref(o.ResourceType) == "Bucket" {
		o.ProtocolPolicy = ptr("https-only")
	}
	if o.ResponseTimeout == nil {
		o.ResponseTimeout = ptr[int64](defaultOriginTimeout)
	}
	if o.IpAddressType == nil {
		o.IpAddressType = ptr("dualstack")
	}
}

// WAF managed rule groups per bundle, from the aws-sdk-go-v2 v1.68.0 documentation (reference §3).
var wafRulesByBundle = map[string][]string{
	"medium_1_0": {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAnonymousIpList"},
	"large_1_0": {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAnonymousIpList",
		"AWSManagedRulesAdminProtectionRuleSet", "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesLinuxRuleSet", "AWSManagedRulesUnixRuleSet",
		"AWSManagedRulesWindowsRuleSet", "AWSManagedRulesPHPRuleSet", "AWSManagedRulesWordPressRuleSet", "AWSManagedRulesAmazonIpReputationList",
		"AWSManagedRulesATPRuleSet", "AWSManagedRulesACFPRuleSet", "AWSManagedRulesBotControlRuleSet"},
}

// applyWaf merges enableWaf/wafRules into cfg. wafRules replaces the set and is only allowed while WAF is
// enabled; enableWaf false removes the rules (UpdateDistribution doc).
func applyWaf(cfg *lightsail.LightsailDistribution, bundleID string, enable *bool, rules []lightsail.WafRule) error {
	if enable == nil && rules == nil {
		return nil
	}
	enabled := cfg.Waf != nil && deref(cfg.Waf.IsWafEnabled)
	if enable != nil {
		enabled = *enable
	}
	if !enabled {
		if len(rules) > 0 {
			return invalid("InvalidWafConfig", "wafRules can be set only while WAF is enabled (enableWaf: true).")
		}
		cfg.Waf = &lightsail.WafConfig{IsWafEnabled: ptr(false), WafRules: []lightsail.WafRule{}}
		return nil
	}
	allowed, ok := wafRulesByBundle[bundleID]
	if !ok {
		return invalid("InvalidWafConfig", "WAF is available only on the medium_1_0 and large_1_0 bundles; this distribution uses %s.", bundleID)
	}
	if rules == nil && cfg.Waf != nil {
		rules = cfg.Waf.WafRules
	}
	for _, r := range rules {
		if !slices.Contains(allowed, deref(r.Name)) {
			return invalid("InvalidWafConfig", "The WAF rule %q is not available on bundle %s.", deref(r.Name), bundleID)
		}
	}
	cfg.Waf = &lightsail.WafConfig{IsWafEnabled: ptr(true), WafRules: nonNil(rules)}
	return nil
}

func (s *Service) bundle(id string) (billing.Bundle, error) {
	b, ok := s.catalog.Bundle(id)
	if !ok {
		return b, invalid("InvalidBundle", "The bundle ID %q is not valid. GetDistributionBundles lists the valid bundle IDs.", id)
	}
	if !b.IsActive {
		return b, invalid("InactiveBundle", "The bundle %q is not active and cannot be chosen.", id)
	}
	return b, nil
}

// CreateDistribution creates a distribution in the caller's account.
func (s *Service) CreateDistribution(ctx context.Context, in *lightsail.CreateDistributionRequest) (*lightsail.CreateDistributionResult, error) {
	c, name, err := distributionTarget(ctx, in.DistributionName)
	if err != nil {
		return nil, err
	}
	if _, err := s.bundle(deref(in.BundleId)); err != nil {
		return nil, err
	}
	if in.DefaultCacheBehavior == nil || in.DefaultCacheBehavior.Behavior == nil {
		return nil, invalid("MissingParameter", "defaultCacheBehavior.behavior is required.")
	}
	origin, publicDNS, err := s.resolveOrigin(ctx, in.Origin, in.EnablePrivateOriginAccess)
	if err != nil {
		return nil, err
	}
	withOriginDefaults(origin)
	settings, err := completeCacheSettings(in.CacheBehaviorSettings)
	if err != nil {
		return nil, err
	}
	if err := checkCacheBehaviors(in.CacheBehaviors); err != nil {
		return nil, err
	}
	errorResponses, err := checkCustomErrorResponses(in.CustomErrorResponses)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags, false); err != nil {
		return nil, err
	}
	certName := deref(in.CertificateName)
	ipType := deref(in.IpAddressType)
	if ipType == "" {
		ipType = "dualstack"
	}
	if ipType == "ipv6" {
		return nil, invalid("InvalidIpAddressType", "Distributions support the IP address types dualstack and ipv4.")
	}

	cfg := &lightsail.LightsailDistribution{
		Origin:                          origin,
		OriginPublicDNS:                 ptr(publicDNS),
		DefaultCacheBehavior:            &lightsail.CacheBehavior{Behavior: in.DefaultCacheBehavior.Behavior},
		CacheBehaviorSettings:           settings,
		CacheBehaviors:                  nonNil(in.CacheBehaviors),
		IpAddressType:                   ptr(ipType),
		Tags:                            nonNil(in.Tags),
		AlternativeDomainNames:          []string{},
		ViewerMinimumTlsProtocolVersion: in.ViewerMinimumTlsProtocolVersion,
		DefaultRootObject:               in.DefaultRootObject,
		CustomErrorResponses:            errorResponses,
	}
	if cfg.ViewerMinimumTlsProtocolVersion == nil {
		cfg.ViewerMinimumTlsProtocolVersion = ptr("TLSv1.2_2021") // CloudFront's recommended policy; reference §8.4 leaves it open
	}
	if err := applyWaf(cfg, *in.BundleId, in.EnableWaf, in.WafRules); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	d := &store.Distribution{
		ID:         uuid.NewString(),
		AccountID:  c.AccountID,
		Name:       name,
		BundleID:   *in.BundleId,
		IsEnabled:  true,
		CreatedAt:  now,
		UpdatedAt:  now,
		DeployedAt: now.Add(s.deployDelay),
	}
	var op *store.Operation
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// The quota and the unique name are rules over the account's set of rows: lock the account so
		// two creates (even in two processes on one PostgreSQL) cannot both pass the checks.
		if err := tx.LockAccount(ctx, c.AccountID); err != nil {
			return err
		}
		n, err := tx.CountDistributions(ctx, c.AccountID)
		if err != nil {
			return err
		}
		if n >= s.maxDist {
			return lightsail.Errorf(lightsail.OperationFailure, "QuotaExceeded",
				"You have reached the quota of %d distributions for this account.", s.maxDist).
				WithTip("Delete a distribution you no longer need.")
		}
		if _, err := tx.GetDistribution(ctx, c.AccountID, name); err == nil {
			return invalid("AlreadyExists", "The distribution name %s is already in use in this account.", quoteName(name))
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if certName != "" {
			if err := s.attachCertificate(ctx, tx, d, cfg, certName); err != nil {
				return err
			}
		}
		if d.Config, err = persistentConfig(cfg); err != nil {
			return err
		}
		// A domain clash between two random 13-character labels is astronomically unlikely, but the
		// unique index would turn it into a failed create; draw again instead. The name was checked
		// under the account lock, so ErrExists here is the domain.
		for attempt := 0; ; attempt++ {
			d.DomainName = s.newDomainName()
			err := tx.InsertDistribution(ctx, d)
			if err == nil {
				break
			}
			if !errors.Is(err, store.ErrExists) || attempt == 3 {
				return err
			}
			if _, err := tx.GetDistribution(ctx, c.AccountID, name); err == nil {
				return invalid("AlreadyExists", "The distribution name %s is already in use in this account.", quoteName(name))
			}
		}
		if err := tx.InsertBundleChange(ctx, &store.BundleChange{DistributionID: d.ID, AccountID: c.AccountID, BundleID: d.BundleID, EffectiveFrom: now}); err != nil {
			return err
		}
		op, err = s.succeeded(ctx, tx, c, onDistribution("CreateDistribution", name), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	view, err := s.view(ctx, d, now)
	if err != nil {
		return nil, err
	}
	return &lightsail.CreateDistributionResult{Distribution: view, Operation: opView(op)}, nil
}

// GetDistributions lists the caller's distributions, or the one named.
func (s *Service) GetDistributions(ctx context.Context, in *lightsail.GetDistributionsRequest) (*lightsail.GetDistributionsResult, error) {
	c, err := distributionCaller(ctx)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	if in.DistributionName != nil {
		d, err := s.db.GetDistribution(ctx, c.AccountID, *in.DistributionName)
		if errors.Is(err, store.ErrNotFound) {
			// Always an InvalidInputException saying "Requested resource not found", also in an account
			// without any distribution (decisions.md): CloudFormation's delete stabilisation and read
			// handler need an exception, an empty list would leave a stack deleting its last
			// distribution waiting for ever; its create pre-check and Terraform's finder take either.
			// The code "DoesNotExist" is what Terraform's IsANotFoundError also matches.
			return nil, invalid("DoesNotExist", "Requested resource not found: the distribution %s does not exist.", quoteName(*in.DistributionName))
		}
		if err != nil {
			return nil, err
		}
		v, err := s.view(ctx, d, now)
		if err != nil {
			return nil, err
		}
		return &lightsail.GetDistributionsResult{Distributions: []lightsail.LightsailDistribution{*v}}, nil
	}
	after, err := decodeToken("d", in.PageToken)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.ListDistributions(ctx, c.AccountID, after, s.pageSize+1)
	if err != nil {
		return nil, err
	}
	out := &lightsail.GetDistributionsResult{Distributions: []lightsail.LightsailDistribution{}}
	if len(rows) > s.pageSize {
		rows = rows[:s.pageSize]
		out.NextPageToken = ptr(encodeToken("d", rows[len(rows)-1].Name))
	}
	for i := range rows {
		v, err := s.view(ctx, &rows[i], now)
		if err != nil {
			return nil, err
		}
		out.Distributions = append(out.Distributions, *v)
	}
	return out, nil
}

// mutate runs fn on the named distribution inside one transaction, with the row locked, writes it back
// and records a succeeded operation of type opType.
func (s *Service) mutate(ctx context.Context, c Caller, name, opType string, fn func(tx *store.Tx, d *store.Distribution, cfg *lightsail.LightsailDistribution, now time.Time) error) (*store.Distribution, *store.Operation, error) {
	now := s.clock.Now()
	var d *store.Distribution
	var op *store.Operation
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		d, err = tx.GetDistributionForUpdate(ctx, c.AccountID, name)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundDistribution(name)
		}
		if err != nil {
			return err
		}
		cfg, err := loadConfig(d)
		if err != nil {
			return err
		}
		if err := fn(tx, d, cfg, now); err != nil {
			return err
		}
		if d.Config, err = persistentConfig(cfg); err != nil {
			return err
		}
		d.UpdatedAt = now
		if err := tx.UpdateDistribution(ctx, d); err != nil {
			return err
		}
		op, err = s.succeeded(ctx, tx, c, onDistribution(opType, name), now)
		return err
	})
	return d, op, err
}

// UpdateDistribution changes the members the caller supplied; omitted members stay as they are.
func (s *Service) UpdateDistribution(ctx context.Context, in *lightsail.UpdateDistributionRequest) (*lightsail.UpdateDistributionResult, error) {
	c, name, err := distributionTarget(ctx, in.DistributionName)
	if err != nil {
		return nil, err
	}
	// Everything that needs no stored state is checked before the transaction.
	var origin *lightsail.Origin
	var publicDNS string
	if in.Origin != nil {
		if origin, publicDNS, err = s.resolveOrigin(ctx, in.Origin, in.EnablePrivateOriginAccess); err != nil {
			return nil, err
		}
	} else if in.EnablePrivateOriginAccess != nil {
		return nil, invalid("MissingParameter", "enablePrivateOriginAccess must be accompanied by origin (even if unchanged).")
	}
	var settings *lightsail.CacheSettings
	if in.CacheBehaviorSettings != nil {
		if settings, err = completeCacheSettings(in.CacheBehaviorSettings); err != nil {
			return nil, err
		}
	}
	if in.CacheBehaviors != nil {
		if err := checkCacheBehaviors(in.CacheBehaviors); err != nil {
			return nil, err
		}
	}
	if in.DefaultCacheBehavior != nil && in.DefaultCacheBehavior.Behavior == nil {
		return nil, invalid("MissingParameter", "defaultCacheBehavior.behavior is required when defaultCacheBehavior is given.")
	}
	var errorResponses []lightsail.DistributionCustomErrorResponse
	if in.CustomErrorResponses != nil {
		if errorResponses, err = checkCustomErrorResponses(in.CustomErrorResponses); err != nil {
			return nil, err
		}
	}
	certName := deref(in.CertificateName)
	if certName != "" && deref(in.UseDefaultCertificate) {
		return nil, invalid("InvalidCertificateSettings", "Give certificateName to use a certificate, or useDefaultCertificate true to return to the default one, not both.")
	}

	_, op, err := s.mutate(ctx, c, name, "UpdateDistribution", func(tx *store.Tx, d *store.Distribution, cfg *lightsail.LightsailDistribution, now time.Time) error {
		if origin != nil {
			o := *origin // fn may run again (DB.Tx retries): fill a copy
			keepOmittedOriginMembers(&o, cfg.Origin)
			withOriginDefaults(&o)
			cfg.Origin, cfg.OriginPublicDNS = &o, ptr(publicDNS)
		}
		if in.DefaultCacheBehavior != nil {
			cfg.DefaultCacheBehavior = &lightsail.CacheBehavior{Behavior: in.DefaultCacheBehavior.Behavior}
		}
		if settings != nil {
			cfg.CacheBehaviorSettings = settings
		}
		if in.CacheBehaviors != nil {
			cfg.CacheBehaviors = in.CacheBehaviors
		}
		if in.IsEnabled != nil {
			d.IsEnabled = *in.IsEnabled
		}
		if in.ViewerMinimumTlsProtocolVersion != nil {
			cfg.ViewerMinimumTlsProtocolVersion = in.ViewerMinimumTlsProtocolVersion
		}
		if in.DefaultRootObject != nil {
			cfg.DefaultRootObject = in.DefaultRootObject
			if *in.DefaultRootObject == "" {
				cfg.DefaultRootObject = nil
			}
		}
		if in.CustomErrorResponses != nil {
			cfg.CustomErrorResponses = errorResponses
		}
		// certificateName attaches exactly as AttachCertificateToDistribution does, names included
		// (decision: reference §5.8 reports the real service attaching without the names, which left
		// HTTPS broken for the custom domains); useDefaultCertificate true detaches.
		// (An empty certificateName never gets here: the model's ResourceName pattern refuses it.)
		if certName != "" {
			if err := tx.LockAccount(ctx, c.AccountID); err != nil {
				return err
			}
			if err := s.attachCertificate(ctx, tx, d, cfg, certName); err != nil {
				return err
			}
		} else if deref(in.UseDefaultCertificate) {
			detachCertificate(cfg)
		}
		if err := applyWaf(cfg, d.BundleID, in.EnableWaf, in.WafRules); err != nil {
			return err
		}
		d.DeployedAt = now.Add(s.deployDelay)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &lightsail.UpdateDistributionResult{Operation: opView(op)}, nil
}

// UpdateDistributionBundle moves a distribution to another bundle: at most once per billing cycle
// (calendar month, UTC, by the server clock). The rule is checked and the change written inside one
// database transaction holding the row lock, so of concurrent changes, even from several sailcdn
// processes sharing one PostgreSQL, exactly one wins.
func (s *Service) UpdateDistributionBundle(ctx context.Context, in *lightsail.UpdateDistributionBundleRequest) (*lightsail.UpdateDistributionBundleResult, error) {
	c, name, err := distributionTarget(ctx, in.DistributionName)
	if err != nil {
		return nil, err
	}
	if in.BundleId == nil || *in.BundleId == "" {
		return nil, invalid("MissingParameter", "The bundleId parameter is required.")
	}
	if _, err := s.bundle(*in.BundleId); err != nil {
		return nil, err
	}
	_, op, err := s.mutate(ctx, c, name, "UpdateDistributionBundle", func(tx *store.Tx, d *store.Distribution, cfg *lightsail.LightsailDistribution, now time.Time) error {
		if d.BundleID == *in.BundleId {
			// Re-selecting the current bundle changes nothing and spends nothing, so a client that retries
			// a change after a lost response gets success instead of a refusal (decision in docs/decisions.md).
			return nil
		}
		if !billing.AbleToUpdateBundle(d.BundleChangedCycle, now) {
			next := billing.NextCycleStart(now)
			return lightsail.Errorf(lightsail.InvalidInput, "BundleUpdateNotAllowed",
				"The bundle of distribution %s was already changed in the current billing cycle (%s). It can be changed again from %s.",
				quoteName(d.Name), d.BundleChangedCycle, next.Format("2006-01-02T15:04:05Z")).
				WithTip("A distribution's bundle can be changed once per monthly billing cycle; ableToUpdateBundle tells whether a change is possible now.")
		}
		if cfg.Waf != nil && deref(cfg.Waf.IsWafEnabled) {
			allowed, ok := wafRulesByBundle[*in.BundleId]
			if !ok {
				return invalid("InvalidBundle", "Distribution %s has WAF enabled, which bundle %s does not offer. Disable WAF first.", quoteName(d.Name), *in.BundleId)
			}
			for _, r := range cfg.Waf.WafRules {
				if !slices.Contains(allowed, deref(r.Name)) {
					return invalid("InvalidWafConfig", "The WAF rule %q of distribution %s is not available on bundle %s; remove it first.", deref(r.Name), quoteName(d.Name), *in.BundleId)
				}
			}
		}
		d.BundleID = *in.BundleId
		d.BundleChangedCycle = billing.CycleOf(now)
		d.DeployedAt = now.Add(s.deployDelay)
		return tx.InsertBundleChange(ctx, &store.BundleChange{DistributionID: d.ID, AccountID: d.AccountID, BundleID: d.BundleID, EffectiveFrom: now})
	})
	if err != nil {
		return nil, err
	}
	return &lightsail.UpdateDistributionBundleResult{Operation: opView(op)}, nil
}

// DeleteDistribution deletes a distribution. Its usage and bundle history stay for billing.
func (s *Service) DeleteDistribution(ctx context.Context, in *lightsail.DeleteDistributionRequest) (*lightsail.DeleteDistributionResult, error) {
	c, name, err := distributionTarget(ctx, in.DistributionName)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var op *store.Operation
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		d, err := tx.GetDistributionForUpdate(ctx, c.AccountID, name)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundDistribution(name)
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteDistribution(ctx, d.ID, now); err != nil {
			return err
		}
		op, err = s.succeeded(ctx, tx, c, onDistribution("DeleteDistribution", name), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &lightsail.DeleteDistributionResult{Operation: opView(op)}, nil
}
