package edge

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sailcdn/sailcdn/internal/httpcache"
	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
)

// snapshot is one immutable view of every live distribution, compiled for serving. The loader
// builds a new one whenever the configuration changes and swaps it in atomically; a request uses
// the snapshot it started with from beginning to end.
type snapshot struct {
	generation int64
	origins    []store.Origin           // as loaded, to notice origin changes (they do not bump the generation)
	byHost     map[string]*distribution // lower-case host name → distribution
	byID       map[string]*distribution
	// deleted holds the host names of distributions deleted while this process ran (or found
	// deleted at start-up) and not reused since, so that they answer "deleted" rather than "unknown".
	deleted map[string]bool
}

// distribution is one distribution's configuration, compiled.
type distribution struct {
	id, name, domainName string
	enabled              bool
	// accountID and certificateName find the attached certificate; tlsPolicy is
	// viewerMinimumTlsProtocolVersion (see tls.go).
	accountID, certificateName, tlsPolicy string
	cacheResetAt                          time.Time

	origin originTarget

	allowedMethods map[string]bool // allowedHTTPMethods; anything else is refused with 403
	// behaviors are the path-specific behaviours in list order; def is the default one.
	behaviors []pathBehavior
	def       behavior

	forward    forwarding
	rootObject string            // defaultRootObject without a leading '/', "" if none
	errorPages map[int]errorPage // customErrorResponses by origin status code
	fetch      httpcache.Fetcher // bound to this distribution's origin settings
	prom       *distMetrics      // nil without a registry
}

type pathBehavior struct {
	pattern string // normalised: leading '/'
	behavior
}

// behavior is what a cache behaviour decides for a request: the cache policy (TTLs, cached
// methods, or bypass for "dont-cache").
type behavior struct {
	name   string // "default" or the path pattern, for logs
	policy httpcache.Policy
}

type errorPage struct {
	path         string // responsePagePath; "" means only the error TTL is configured
	responseCode int    // 0: keep the origin's status
}

// originTarget is where and how requests are sent.
type originTarget struct {
	base    *url.URL      // scheme chosen by protocolPolicy; nil if the origin is not registered
	missing string        // why base is nil, for the 502 body and the log
	timeout time.Duration // responseTimeout: time to first byte, and between body reads
}

// lookup routes a request's Host field. It returns the distribution and, when there is none,
// whether the host belonged to a distribution that was deleted.
func (s *snapshot) lookup(hostport string) (d *distribution, deleted bool) {
	host := canonicalHost(hostport)
	if d := s.byHost[host]; d != nil {
		return d, false
	}
	return nil, s.deleted[host]
}

// canonicalHost strips the port and a trailing dot and lower-cases: "CDN.example.com.:8080" →
// "cdn.example.com". Host names are case-insensitive (RFC 9110 §4.2.3).
func canonicalHost(hostport string) string {
	host := hostport
	// Only a colon can start a port (testing first spares SplitHostPort's error allocation for
	// the usual Host without one).
	if strings.IndexByte(hostport, ':') >= 0 {
		if h, _, err := net.SplitHostPort(hostport); err == nil {
			return strings.ToLower(strings.TrimSuffix(h, "."))
		}
	}
	if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	return strings.ToLower(strings.TrimSuffix(host, "."))
}

// behaviorFor returns the behaviour of the first path pattern that matches, else the default.
func (d *distribution) behaviorFor(path string) *behavior {
	for i := range d.behaviors {
		if matchPattern(d.behaviors[i].pattern, path) {
			return &d.behaviors[i].behavior
		}
	}
	return &d.def
}

// compile turns a stored distribution into its serving form. Problems that make the distribution
// unservable (a malformed config) are returned; an origin that is not registered is not an
// error: the distribution then answers 502. It also returns the alternative domain names.
func compile(row *store.Distribution, origins map[[2]string]store.Origin) (*distribution, []string, error) {
	var cfg lightsail.LightsailDistribution
	if len(row.Config) > 0 {
		if err := json.Unmarshal(row.Config, &cfg); err != nil {
			return nil, nil, fmt.Errorf("distribution %s: stored config: %w", row.ID, err)
		}
	}
	d := &distribution{
		id: row.ID, name: row.Name, domainName: strings.ToLower(row.DomainName),
		enabled: row.IsEnabled, cacheResetAt: row.CacheResetAt,
		rootObject: strings.TrimLeft(deref(cfg.DefaultRootObject), "/"),
		accountID:  row.AccountID, certificateName: deref(cfg.CertificateName), tlsPolicy: deref(cfg.ViewerMinimumTlsProtocolVersion),
	}
	d.origin = compileOrigin(cfg.Origin, origins)

	s := cfg.CacheBehaviorSettings
	if s == nil {
		s = &lightsail.CacheSettings{}
	}
	// Defaults are those CreateDistribution stores (reference §5.5), for rows written without them.
	d.allowedMethods = methodSet(deref(s.AllowedHTTPMethods), "GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE")
	cached := slices.Sorted(maps.Keys(methodSet(deref(s.CachedHTTPMethods), "GET,HEAD")))
	// customErrorResponses: the error page to serve, and how long the error is cached whatever
	// the origin said (errorCachingMinTTL).
	var errorTTLs map[int]time.Duration
	for _, r := range cfg.CustomErrorResponses {
		code := int(deref(r.ErrorCode))
		if code < 400 || code > 599 {
			continue
		}
		if errorTTLs == nil {
			errorTTLs, d.errorPages = map[int]time.Duration{}, map[int]errorPage{}
		}
		errorTTLs[code] = seconds(r.ErrorCachingMinTTL, int64(defaultErrorTTL/time.Second))
		if p := deref(r.ResponsePagePath); p != "" {
			page := errorPage{path: normalizePattern(p)}
			if rc, err := strconv.Atoi(deref(r.ResponseCode)); err == nil && rc >= 200 && rc <= 599 {
				page.responseCode = rc
			}
			d.errorPages[code] = page
		}
	}
	base := httpcache.Policy{
		DefaultTTL: seconds(s.DefaultTTL, 86400),
		MinTTL:     seconds(s.MinimumTTL, 0),
		MaxTTL:     seconds(s.MaximumTTL, 31536000),
		// Other errors without freshness of their own: CloudFront's default error caching (10 s)
		// rather than the default TTL of a day.
		ErrorTTL:      defaultErrorTTL,
		ErrorTTLs:     errorTTLs,
		CachedMethods: cached,
	}
	d.forward = compileForwarding(s)
	if d.forward.headers == forwardAll {
		// CloudFront: "Forward all headers to your origin: CloudFront doesn't cache the objects
		// associated with this cache behavior" — a key over every header would never be shared.
		base.Bypass = true
	}
	d.def = behavior{name: "default", policy: policyFor(base, cfg.DefaultCacheBehavior)}
	for _, b := range cfg.CacheBehaviors {
		p := deref(b.Path)
		if p == "" {
			continue
		}
		d.behaviors = append(d.behaviors, pathBehavior{
			pattern:  normalizePattern(p),
			behavior: behavior{name: p, policy: policyFor(base, &lightsail.CacheBehavior{Behavior: b.Behavior})},
		})
	}
	return d, cfg.AlternativeDomainNames, nil
}

// policyFor applies a cache behaviour ("cache" or "dont-cache") to the distribution's policy.
func policyFor(base httpcache.Policy, b *lightsail.CacheBehavior) httpcache.Policy {
	if b != nil && deref(b.Behavior) == "dont-cache" {
		base.Bypass = true
	}
	return base
}

func compileOrigin(o *lightsail.Origin, origins map[[2]string]store.Origin) originTarget {
	t := originTarget{timeout: defaultOriginTimeout}
	if o == nil {
		t.missing = "the distribution has no origin"
		return t
	}
	if rt := deref(o.ResponseTimeout); rt > 0 {
		t.timeout = time.Duration(rt) * time.Second
	}
	reg, ok := origins[[2]string{deref(o.RegionName), deref(o.Name)}]
	if !ok {
		t.missing = fmt.Sprintf("origin %s/%s is not registered", deref(o.RegionName), deref(o.Name))
		return t
	}
	u, err := url.Parse(reg.URL)
	if err != nil || u.Host == "" {
		t.missing = fmt.Sprintf("origin %s/%s has an unusable URL", deref(o.RegionName), deref(o.Name))
		return t
	}
	// protocolPolicy picks the scheme; the registered URL gives host, port and path prefix. An
	// https-only origin registered as http://host:port is reached at https://host:port (and
	// http-only likewise the other way round): the port stays what the operator wrote.
	// match-viewer is not a Lightsail value (the model refuses it); a row holding it is treated as http-only.
	switch deref(o.ProtocolPolicy) {
	case "https-only":
		u.Scheme = "https"
	case "http-only", "match-viewer":
		u.Scheme = "http"
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = strings.TrimSuffix(u.RawPath, "/")
	u.RawQuery, u.Fragment, u.User = "", "", nil
	t.base = u
	return t
}

// methodSet parses "GET,HEAD,OPTIONS"; an empty list means def.
func methodSet(list, def string) map[string]bool {
	if strings.TrimSpace(list) == "" {
		list = def
	}
	set := map[string]bool{}
	for m := range strings.SplitSeq(list, ",") {
		if m = strings.ToUpper(strings.TrimSpace(m)); m != "" {
			set[m] = true
		}
	}
	return set
}

func seconds(v *int64, def int64) time.Duration {
	if v == nil || *v < 0 {
		return time.Duration(def) * time.Second
	}
	return time.Duration(*v) * time.Second
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// buildSnapshot compiles the rows. prev (nil at start-up) carries the deleted-host memory; gone
// lists host names known deleted from the store.
func buildSnapshot(gen int64, rows []store.Distribution, origins []store.Origin, prev *snapshot, gone []string) (*snapshot, []error) {
	byKey := make(map[[2]string]store.Origin, len(origins))
	for _, o := range origins {
		byKey[[2]string{o.RegionName, o.Name}] = o
	}
	s := &snapshot{
		generation: gen, origins: origins,
		byHost:  make(map[string]*distribution, len(rows)),
		byID:    make(map[string]*distribution, len(rows)),
		deleted: map[string]bool{},
	}
	var errs []error
	for i := range rows {
		d, alternatives, err := compile(&rows[i], byKey)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.byID[d.id] = d
		s.byHost[d.domainName] = d
		for _, alt := range alternatives {
			if h := canonicalHost(alt); h != "" {
				if _, taken := s.byHost[h]; !taken {
					s.byHost[h] = d
				}
			}
		}
	}
	remember := func(h string) {
		if _, live := s.byHost[h]; !live && len(s.deleted) < maxDeletedHosts {
			s.deleted[h] = true
		}
	}
	for _, h := range gone {
		remember(h)
	}
	if prev != nil {
		for h := range prev.deleted {
			remember(h)
		}
		for h, d := range prev.byHost {
			if _, still := s.byID[d.id]; !still {
				remember(h)
			}
		}
	}
	return s, errs
}

// maxDeletedHosts bounds the deleted-host memory; beyond it deleted hosts answer "unknown", which
// is the same 404.
const maxDeletedHosts = 100_000
