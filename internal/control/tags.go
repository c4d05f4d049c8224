package control

import (
	"context"
	"errors"
	"time"

	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
)

// tagTarget finds the taggable resource named in a TagResource/UntagResource call. Distributions live
// only in us-east-1, so from another Region the name does not resolve.
func (s *Service) tagTarget(ctx context.Context, c Caller, name string, arn *string) error {
	if c.Region != HomeRegion {
		return lightsail.Errorf(lightsail.NotFound, "DoesNotExist", "The resource %s does not exist in %s.", quoteName(name), c.Region)
	}
	d, err := s.db.GetDistribution(ctx, c.AccountID, name)
	if errors.Is(err, store.ErrNotFound) {
		return lightsail.Errorf(lightsail.NotFound, "DoesNotExist", "The resource %s does not exist.", quoteName(name))
	}
	if err != nil {
		return err
	}
	if arn != nil && *arn != distributionARN(d.AccountID, d.ID) {
		return invalid("InvalidResourceArn", "The resourceArn %q does not identify the resource %s.", *arn, quoteName(name))
	}
	return nil
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
	if err := s.tagTarget(ctx, c, name, in.ResourceArn); err != nil {
		return nil, err
	}
	_, op, err := s.mutate(ctx, c, name, "TagResource", func(_ *store.Tx, _ *store.Distribution, cfg *lightsail.LightsailDistribution, _ time.Time) error {
		merged := append([]lightsail.Tag{}, cfg.Tags...)
		for _, t := range in.Tags {
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
			return invalid("TagLimitExceeded", "A resource can have at most %d tags; this change would give it %d.", maxTagsPerResource, len(merged))
		}
		cfg.Tags = merged
		return nil
	})
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
	if err := s.tagTarget(ctx, c, name, in.ResourceArn); err != nil {
		return nil, err
	}
	drop := map[string]bool{}
	for _, k := range in.TagKeys {
		drop[k] = true
	}
	_, op, err := s.mutate(ctx, c, name, "UntagResource", func(_ *store.Tx, _ *store.Distribution, cfg *lightsail.LightsailDistribution, _ time.Time) error {
		kept := []lightsail.Tag{}
		for _, t := range cfg.Tags {
			if !drop[deref(t.Key)] {
				kept = append(kept, t)
			}
		}
		cfg.Tags = kept
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &lightsail.UntagResourceResult{Operations: []lightsail.Operation{*opView(op)}}, nil
}
