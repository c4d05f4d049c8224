package control

import (
	"context"

	"github.com/sailcdn/sailcdn/internal/lightsail"
)

// notYet answers an operation of the API that a later piece of sailcdn provides: a 501 naming the
// operation, never a fake success.
func notYet(ctx context.Context, op string) error {
	if _, err := caller(ctx); err != nil {
		return err
	}
	return lightsail.Errorf(lightsail.NotImplemented, "NotImplemented", "sailcdn does not implement the Lightsail operation %s yet.", op)
}

// CreateCertificate: see notYet.
func (s *Service) CreateCertificate(ctx context.Context, _ *lightsail.CreateCertificateRequest) (*lightsail.CreateCertificateResult, error) {
	return nil, notYet(ctx, "CreateCertificate")
}

// GetCertificates: see notYet.
func (s *Service) GetCertificates(ctx context.Context, _ *lightsail.GetCertificatesRequest) (*lightsail.GetCertificatesResult, error) {
	return nil, notYet(ctx, "GetCertificates")
}

// DeleteCertificate: see notYet.
func (s *Service) DeleteCertificate(ctx context.Context, _ *lightsail.DeleteCertificateRequest) (*lightsail.DeleteCertificateResult, error) {
	return nil, notYet(ctx, "DeleteCertificate")
}

// AttachCertificateToDistribution: see notYet.
func (s *Service) AttachCertificateToDistribution(ctx context.Context, _ *lightsail.AttachCertificateToDistributionRequest) (*lightsail.AttachCertificateToDistributionResult, error) {
	return nil, notYet(ctx, "AttachCertificateToDistribution")
}

// DetachCertificateFromDistribution: see notYet.
func (s *Service) DetachCertificateFromDistribution(ctx context.Context, _ *lightsail.DetachCertificateFromDistributionRequest) (*lightsail.DetachCertificateFromDistributionResult, error) {
	return nil, notYet(ctx, "DetachCertificateFromDistribution")
}
