package control

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
)

// tagTarget finds the taggable resource named in a TagResource/UntagResource call: a distribution or a
// certificate (the ARN says which when both have the name; without one the distribution wins).
// Distributions and sailcdn's certificates live only in us-east-1, so from another Region the name does
// not resolve. It reports whether the target is a certificate.
func (s *Service) tagTarget(ctx context.Context, c Caller, name string, arn *string) (bool, error) {
	if c.Region != HomeRegion {
		return false, lightsail.Errorf(lightsail.NotFound, "DoesNotExist", "The resource %s does not exist in %s.", quoteName(name), c.Region)
	}
	wantCert := arn != nil && strings.Contains(*arn, ":Certificate/")
	if !wantCert {
		d, err := s.db.GetDistribution(ctx, c.AccountID, name)
		switch {
		case err == nil:
			if arn != nil && *arn != distributionARN(d.AccountID, d.ID) {
				return false, invalid("InvalidResourceArn", "The resourceArn %q does not identify the resource %s.", *arn, quoteName(name))
			}
			return false, nil
		case !errors.Is(err, store.ErrNotFound):
			return false, err
		case arn != nil:
			return false, lightsail.Errorf(lightsail.NotFound, "DoesNotExist", "The resource %s does not exist.", quoteName(name))
		}
	}
	cert, err := s.db.GetCertificate(ctx, c.AccountID, name)
	if errors.Is(err, store.ErrNotFound) {
		return false, lightsail.Errorf(lightsail.NotFound, "DoesNotExist", "The resource %s does not exist.", quoteName(name))
	}
	if err != nil {
		return false, err
	}
	if arn != nil && *arn != certificateARN(cert.AccountID, cert.ID) {
		return false, invalid("InvalidResourceArn", "The resourceArn %q does not identify the resource %s.", *arn, quoteName(name))
	}
	return true, nil
}

// mergeTags upserts add into tags.
func mergeTags(tags, add []lightsail.Tag) ([]lightsail.Tag, error) {
	merged := append([]lightsail.Tag{}, tags...)
	for _, t := range add {
		replaced := false
		for i := range merged {
			if deref(merged[i].Key) == deref(t.Key) {
				merged[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			merged = append(merged, t)
		}
	}
	if len(merged) > maxTagsPerResource {
		return nil, invalid("TagLimitExceeded", "A resource can have at most %d tags; this change would give it %d.", maxTagsPerResource, len(merged))
	}
	return merged, nil
}

// dropTags removes the tags with the keys.
func dropTags(tags []lightsail.Tag, keys []string) []lightsail.Tag {
	kept := []lightsail.Tag{}
	for _, t := range tags {
		if !slices.Contains(keys, deref(t.Key)) {
			kept = append(kept, t)
		}
	}
	return kept
}

// retag applies change to the tags of the named distribution or certificate and records the operation.
func (s *Service) retag(ctx context.Context, c Caller, name string, isCert bool, opType string, change func([]lightsail.Tag) ([]lightsail.Tag, error)) (*store.Operation, error) {
	if !isCert {
		_, op, err := s.mutate(ctx, c, name, opType, func(_ *store.Tx, _ *store.Distribution, cfg *lightsail.LightsailDistribution, _ time.Time) error {
			tags, err := change(cfg.Tags)
			cfg.Tags = tags
			return err
		})
		return op, err
	}
	return s.mutateCertificate(ctx, c, name, opType, func(st *certState) error {
		tags, err := change(st.Tags)
		st.Tags = tags
		return err
	})
}

// TagResource adds tags to a resource, replacing the value of keys it already has (upsert). Tags without
// a value are accepted here, unlike on CreateDistribution (reference §5.7).
func (s *Service) TagResource(ctx context.Context, in *lightsail.TagResourceRequest) (*lightsail.TagResourceResult, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name := deref(in.ResourceName)
	if err := checkTags(in.Tags, true); err != nil {
		return nil, err
	}
	isCert, err := s.tagTarget(ctx, c, name, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	op, err := s.retag(ctx, c, name, isCert, "TagResource", func(tags []lightsail.Tag) ([]lightsail.Tag, error) { return mergeTags(tags, in.Tags) })
	if err != nil {
		return nil, err
	}
	return &lightsail.TagResourceResult{Operations: []lightsail.Operation{*opView(op)}}, nil
}

// UntagResource removes the named tag keys; keys the resource does not have are ignored.
func (s *Service) UntagResource(ctx context.Context, in *lightsail.UntagResourceRequest) (*lightsail.UntagResourceResult, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name := deref(in.ResourceName)
	isCert, err := s.tagTarget(ctx, c, name, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	op, err := s.retag(ctx, c, name, isCert, "UntagResource", func(tags []lightsail.Tag) ([]lightsail.Tag, error) { return dropTags(tags, in.TagKeys), nil })
	if err != nil {
		return nil, err
	}
	return &lightsail.UntagResourceResult{Operations: []lightsail.Operation{*opView(op)}}, nil
}
