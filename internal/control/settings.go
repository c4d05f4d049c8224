package control

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/sailcdn/sailcdn/internal/lightsail"
)

// The developer guide's naming rule for distributions: 2–255 characters, alphanumerics, '-', '_' and '.',
// starting and ending with an alphanumeric. Stricter than the model's unanchored pattern (reference §2).
var distributionNameRule = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,253}[A-Za-z0-9])$`)

func checkResourceName(kind, name string) error {
	if !distributionNameRule.MatchString(name) {
		return lightsail.Errorf(lightsail.InvalidInput, "InvalidResourceName",
			"%s is not a valid resource name. Resource names must be 2 to 255 characters long, start and end with an alphanumeric character, and contain only alphanumerics, -, _, and .", quoteName(name)).
			WithTip(fmt.Sprintf("Choose another %s name.", kind))
	}
	return nil
}

func quoteName(n string) string {
	if len(n) > 64 {
		n = n[:64] + "…"
	}
	return "'" + n + "'"
}

func invalid(code, format string, args ...any) *lightsail.Error {
	return lightsail.Errorf(lightsail.InvalidInput, code, format, args...)
}

// The documented choices for the method lists (model doc of CacheSettings).
var (
	allowedMethodSets = []string{"GET,HEAD", "GET,HEAD,OPTIONS", "GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE"}
	cachedMethodSets  = []string{"GET,HEAD", "GET,HEAD,OPTIONS"}
)

// Quotas per cache behaviour and distribution (reference §5.14).
const (
	maxAllowListItems    = 10
	maxCacheBehaviors    = 25
	maxTagsPerResource   = 50
	maxTagKeyLength      = 128
	maxTagValueLength    = 256
	defaultOriginTimeout = 30
)

// defaultCacheSettings is what the real service returns when a distribution is created without
// cacheBehaviorSettings (Terraform's acceptance test asserts exactly these values; reference §5.5).
func defaultCacheSettings() *lightsail.CacheSettings {
	return &lightsail.CacheSettings{
		DefaultTTL:         ptr[int64](86400),
		MinimumTTL:         ptr[int64](0),
		MaximumTTL:         ptr[int64](31536000),
		AllowedHTTPMethods: ptr("GET,HEAD,OPTIONS,PUT,PATCH,POST,DELETE"),
		CachedHTTPMethods:  ptr("GET,HEAD"),
		ForwardedCookies:   &lightsail.CookieObject{Option: ptr("none"), CookiesAllowList: []string{}},
		ForwardedHeaders:   &lightsail.HeaderObject{Option: ptr("default"), HeadersAllowList: []string{}},
		ForwardedQueryStrings: &lightsail.QueryStringObject{
			Option: ptr(false), QueryStringsAllowList: []string{},
		},
	}
}

// completeCacheSettings fills every member the caller left out with its default and checks the rules
// the model cannot express. A supplied object replaces the stored one as a whole (UpdateDistribution
// doc), so what was left out falls back to the defaults, not to the previous values.
func completeCacheSettings(in *lightsail.CacheSettings) (*lightsail.CacheSettings, error) {
	out := defaultCacheSettings()
	if in == nil {
		return out, nil
	}
	if in.DefaultTTL != nil {
		out.DefaultTTL = in.DefaultTTL
	}
	if in.MinimumTTL != nil {
		out.MinimumTTL = in.MinimumTTL
	}
	if in.MaximumTTL != nil {
		out.MaximumTTL = in.MaximumTTL
	}
	if in.AllowedHTTPMethods != nil {
		out.AllowedHTTPMethods = ptr(normalizeMethods(*in.AllowedHTTPMethods))
	}
	if in.CachedHTTPMethods != nil {
		out.CachedHTTPMethods = ptr(normalizeMethods(*in.CachedHTTPMethods))
	}
	if c := in.ForwardedCookies; c != nil {
		out.ForwardedCookies = &lightsail.CookieObject{Option: ptr(deref(c.Option)), CookiesAllowList: nonNil(c.CookiesAllowList)}
		if c.Option == nil {
			out.ForwardedCookies.Option = ptr("none")
		}
	}
	if h := in.ForwardedHeaders; h != nil {
		out.ForwardedHeaders = &lightsail.HeaderObject{Option: ptr(deref(h.Option)), HeadersAllowList: nonNil(h.HeadersAllowList)}
		if h.Option == nil {
			out.ForwardedHeaders.Option = ptr("default")
		}
	}
	if q := in.ForwardedQueryStrings; q != nil {
		out.ForwardedQueryStrings = &lightsail.QueryStringObject{Option: ptr(deref(q.Option)), QueryStringsAllowList: nonNil(q.QueryStringsAllowList)}
	}

	minTTL, defTTL, maxTTL := *out.MinimumTTL, *out.DefaultTTL, *out.MaximumTTL
	switch {
	case minTTL < 0 || defTTL < 0 || maxTTL < 0:
		return nil, invalid("InvalidCacheSettings", "The TTL values of cacheBehaviorSettings must not be negative.")
	case minTTL > defTTL || defTTL > maxTTL:
		// CloudFront, under Lightsail distributions, requires minimum <= default <= maximum.
		return nil, invalid("InvalidCacheSettings", "cacheBehaviorSettings must satisfy minimumTTL (%d) <= defaultTTL (%d) <= maximumTTL (%d).", minTTL, defTTL, maxTTL)
	}
	if !slices.Contains(allowedMethodSets, *out.AllowedHTTPMethods) {
		return nil, invalid("InvalidCacheSettings", "allowedHTTPMethods %q is not valid. Valid values: %s.", *out.AllowedHTTPMethods, strings.Join(quoteAll(allowedMethodSets), " | "))
	}
	if !slices.Contains(cachedMethodSets, *out.CachedHTTPMethods) {
		return nil, invalid("InvalidCacheSettings", "cachedHTTPMethods %q is not valid. Valid values: %s.", *out.CachedHTTPMethods, strings.Join(quoteAll(cachedMethodSets), " | "))
	}
	if !strings.HasPrefix(*out.AllowedHTTPMethods, *out.CachedHTTPMethods) {
		return nil, invalid("InvalidCacheSettings", "cachedHTTPMethods %q must be a subset of allowedHTTPMethods %q.", *out.CachedHTTPMethods, *out.AllowedHTTPMethods)
	}
	if err := checkAllowList("forwardedCookies", *out.ForwardedCookies.Option, out.ForwardedCookies.CookiesAllowList); err != nil {
		return nil, err
	}
	if err := checkAllowList("forwardedHeaders", *out.ForwardedHeaders.Option, out.ForwardedHeaders.HeadersAllowList); err != nil {
		return nil, err
	}
	if len(out.ForwardedQueryStrings.QueryStringsAllowList) > maxAllowListItems {
		return nil, invalid("InvalidCacheSettings", "forwardedQueryStrings.queryStringsAllowList has %d entries; at most %d are allowed.", len(out.ForwardedQueryStrings.QueryStringsAllowList), maxAllowListItems)
	}
	if *out.ForwardedHeaders.Option == "all" && minTTL != 0 {
		// Model doc of CacheSettings.minimumTTL: "must be 0 if forwardedHeaders is all".
		return nil, invalid("InvalidCacheSettings", "minimumTTL must be 0 when forwardedHeaders.option is \"all\".")
	}
	return out, nil
}

func checkAllowList(member, option string, list []string) error {
	if len(list) > maxAllowListItems {
		return invalid("InvalidCacheSettings", "%s allow list has %d entries; at most %d are allowed.", member, len(list), maxAllowListItems)
	}
	if option == "allow-list" && len(list) == 0 {
		return invalid("InvalidCacheSettings", "%s.option is \"allow-list\" but its allow list is empty.", member)
	}
	for _, v := range list {
		if strings.TrimSpace(v) == "" {
			return invalid("InvalidCacheSettings", "%s allow list contains an empty entry.", member)
		}
	}
	return nil
}

// normalizeMethods accepts "get, head" and the like, and writes them the one way the service echoes them.
func normalizeMethods(s string) string {
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.ToUpper(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

func quoteAll(list []string) []string {
	out := make([]string, len(list))
	for i, v := range list {
		out[i] = fmt.Sprintf("%q", v)
	}
	return out
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func checkCacheBehaviors(list []lightsail.CacheBehaviorPerPath) error {
	if len(list) > maxCacheBehaviors {
		return invalid("InvalidCacheBehaviors", "A distribution can have at most %d cacheBehaviors; %d were given.", maxCacheBehaviors, len(list))
	}
	seen := map[string]bool{}
	for i, b := range list {
		path := deref(b.Path)
		if path == "" {
			return invalid("InvalidCacheBehaviors", "cacheBehaviors[%d].path must not be empty.", i)
		}
		if b.Behavior == nil {
			return invalid("InvalidCacheBehaviors", "cacheBehaviors[%d].behavior must be \"cache\" or \"dont-cache\".", i)
		}
		if seen[path] {
			return invalid("InvalidCacheBehaviors", "cacheBehaviors has the path %q more than once.", path)
		}
		seen[path] = true
	}
	return nil
}

func checkCustomErrorResponses(list []lightsail.DistributionCustomErrorResponse) ([]lightsail.DistributionCustomErrorResponse, error) {
	out := make([]lightsail.DistributionCustomErrorResponse, 0, len(list))
	seen := map[int64]bool{}
	for i, r := range list {
		code := deref(r.ErrorCode)
		if code < 400 || code > 599 {
			return nil, invalid("InvalidCustomErrorResponses", "customErrorResponses[%d].errorCode %d is not an HTTP 4xx or 5xx status.", i, code)
		}
		if seen[code] {
			return nil, invalid("InvalidCustomErrorResponses", "customErrorResponses has errorCode %d more than once.", code)
		}
		seen[code] = true
		if p := r.ResponsePagePath; p != nil && !strings.HasPrefix(*p, "/") {
			return nil, invalid("InvalidCustomErrorResponses", "customErrorResponses[%d].responsePagePath must start with '/'.", i)
		}
		if rc := r.ResponseCode; rc != nil {
			var n int
			if _, err := fmt.Sscanf(*rc, "%d", &n); err != nil || n < 200 || n > 599 || fmt.Sprint(n) != *rc {
				return nil, invalid("InvalidCustomErrorResponses", "customErrorResponses[%d].responseCode %q is not an HTTP status code.", i, *rc)
			}
			if r.ResponsePagePath == nil {
				return nil, invalid("InvalidCustomErrorResponses", "customErrorResponses[%d] sets responseCode without responsePagePath.", i)
			}
		}
		if r.ErrorCachingMinTTL == nil {
			r.ErrorCachingMinTTL = ptr[int64](10) // model doc default
		} else if *r.ErrorCachingMinTTL < 0 {
			return nil, invalid("InvalidCustomErrorResponses", "customErrorResponses[%d].errorCachingMinTTL must not be negative.", i)
		}
		out = append(out, r)
	}
	return out, nil
}

// checkTags validates a tag list. keyOnlyAllowed is false on CreateDistribution, where the real service
// refuses tags without a value (a service bug Terraform documents, reference §5.7); TagResource accepts them.
func checkTags(tags []lightsail.Tag, keyOnlyAllowed bool) error {
	seen := map[string]bool{}
	for _, t := range tags {
		key := deref(t.Key)
		if key == "" || len(key) > maxTagKeyLength || !tagChars.MatchString(key) {
			return invalid("InvalidTag", "The tag key %q is not valid. Tag keys are 1 to %d characters: letters, digits, spaces and + - = . _ : / @.", key, maxTagKeyLength)
		}
		if seen[key] {
			return invalid("InvalidTag", "The tag key %q appears more than once.", key)
		}
		seen[key] = true
		val := deref(t.Value)
		if val == "" && !keyOnlyAllowed {
			return invalid("InvalidTag", "A specified tag (%s) is not valid (value must have at least 1 character).", key)
		}
		if len(val) > maxTagValueLength || (val != "" && !tagChars.MatchString(val)) {
			return invalid("InvalidTag", "The value of tag %q is not valid. Tag values are at most %d characters: letters, digits, spaces and + - = . _ : / @.", key, maxTagValueLength)
		}
	}
	if len(tags) > maxTagsPerResource {
		return invalid("TagLimitExceeded", "A resource can have at most %d tags; %d were given.", maxTagsPerResource, len(tags))
	}
	return nil
}

var tagChars = regexp.MustCompile(`^[\p{L}\p{N}\s+\-=._:/@]*$`)
