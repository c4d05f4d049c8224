package control

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/sailcdn/sailcdn/internal/ca"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Validation modes of CertificateConfig.Validation (--cert-validation).
const (
	ValidationDev = "dev"
	ValidationDNS = "dns"
)

// CertificateConfig configures how certificates are validated and issued. Zero values take the
// documented defaults.
type CertificateConfig struct {
	// Issuer issues a certificate once every name is validated: sailcdn's CA or an ACME client.
	// nil: certificates validate but stay PENDING_VALIDATION (a control plane without issuance).
	Issuer ca.Issuer
	// Sealer seals issued private keys for the store; required with Issuer.
	Sealer *ca.Sealer
	// Validation is ValidationDev (every name is valid ValidationDelay after the request) or
	// ValidationDNS (each name's CNAME must resolve, through Resolver, to the value sailcdn issued).
	// Default ValidationDNS.
	Validation string
	// ValidationDelay of ValidationDev; default 2s.
	ValidationDelay time.Duration
	// Resolver is the DNS server (host:port) asked in ValidationDNS; "" = the first nameserver of
	// /etc/resolv.conf.
	Resolver string
	// ACMEZone, when set, makes each validation record the ACME DNS-01 delegation
	// _acme-challenge.<name> CNAME <label>.<ACMEZone>, whose TXT records sailcdn's DNS responder
	// answers (internal/acme).
	ACMEZone string
	// ValidationZone is the suffix of the values of the CA's validation records; default
	// "validations.<edge domain>".
	ValidationZone string
	// ValidationTimeout after which a pending certificate is VALIDATION_TIMED_OUT; default 72h (ACM's).
	ValidationTimeout time.Duration
	// Poll is how often RunCertificates looks for due certificates; default 1s.
	Poll time.Duration
}

func (c *CertificateConfig) setDefaults() {
	if c.Validation == "" {
		c.Validation = ValidationDNS
	}
	if c.ValidationDelay <= 0 {
		c.ValidationDelay = 2 * time.Second
	}
	if c.ValidationTimeout <= 0 {
		c.ValidationTimeout = 72 * time.Hour
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	c.ACMEZone = strings.TrimSuffix(strings.ToLower(c.ACMEZone), ".")
}

func (c *CertificateConfig) validationZone(edgeDomain string) string {
	if c.ValidationZone != "" {
		return strings.TrimSuffix(c.ValidationZone, ".")
	}
	return "validations." + edgeDomain
}

const (
	// claimLease is how long a worker owns a certificate it is working on; if its process dies, another
	// takes over after it.
	claimLease = 5 * time.Minute
	// maxIssueAttempts before an issuance failure is final (FAILED).
	maxIssueAttempts = 3
	dueBatch         = 20
)

// never is a NextCheckAt that does not come: the certificate needs no more work.
var never = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// backoff between validation checks: 1 s doubling to a minute. A record created a while after the
// request is noticed within a minute; ACM checks for 72 hours.
func backoff(checks int) time.Duration {
	if checks > 6 {
		return time.Minute
	}
	return min(time.Second<<max(checks-1, 0), time.Minute)
}

// RunCertificates is the certificate lifecycle worker: every Poll it validates pending certificates,
// issues validated ones, times out those pending for ValidationTimeout and renews issued ones at two
// thirds of their lifetime, until ctx ends. Every process sharing a store may run it: a certificate
// is claimed (store.Certificate.NextCheckAt moved by a lease) before it is worked on.
func (s *Service) RunCertificates(ctx context.Context) {
	t := time.NewTicker(s.certs.Poll)
	defer t.Stop()
	for {
		if err := s.ProcessCertificates(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("certificates: lifecycle pass failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ProcessCertificates works once on every certificate that is due now.
func (s *Service) ProcessCertificates(ctx context.Context) error {
	due, err := s.db.DueCertificates(ctx, s.clock.Now(), dueBatch)
	if err != nil {
		return err
	}
	var errs []error
	for i := range due {
		if err := s.processCertificate(ctx, due[i].ID); err != nil {
			errs = append(errs, fmt.Errorf("certificate %s: %w", due[i].Name, err))
		}
	}
	return errors.Join(errs...)
}

func (s *Service) processCertificate(ctx context.Context, id string) error {
	now := s.clock.Now()
	var row *store.Certificate
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		row = nil
		r, err := tx.GetCertificateByIDForUpdate(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.NextCheckAt.After(now) {
			return nil // another worker claimed it
		}
		r.NextCheckAt = now.Add(claimLease)
		row = r
		return tx.UpdateCertificate(ctx, r)
	})
	if err != nil || row == nil {
		return err
	}
	st, err := loadCertState(row)
	if err != nil {
		return err
	}
	switch row.Status {
	case CertPendingValidation:
		s.advancePending(ctx, row, st, now)
	case CertIssued:
		s.advanceRenewal(ctx, row, st, now)
	default:
		row.NextCheckAt = never
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		cur, err := tx.GetCertificateByIDForUpdate(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil // deleted while we worked
		}
		if err != nil {
			return err
		}
		// Tags are the one thing a caller may have changed meanwhile (TagResource): keep theirs.
		curState, err := loadCertState(cur)
		if err != nil {
			return err
		}
		st.Tags = curState.Tags
		if row.Config, err = jsonBytes(st); err != nil {
			return err
		}
		return tx.UpdateCertificate(ctx, row)
	})
}

// advancePending validates what is not yet validated and issues once everything is.
func (s *Service) advancePending(ctx context.Context, row *store.Certificate, st *certState, now time.Time) {
	deadline := row.CreatedAt.Add(s.certs.ValidationTimeout)
	if !now.Before(deadline) {
		row.Status, row.NextCheckAt = CertValidationTimedOut, never
		for i := range st.Records {
			if st.Records[i].Status != validationSuccess {
				st.Records[i].Status = validationFailed
			}
		}
		s.log.Info("certificate validation timed out", "account", row.AccountID, "certificate", row.Name)
		return
	}
	if !s.validateAll(ctx, row, st, now) {
		st.Checks++
		next := now.Add(backoff(st.Checks))
		if s.certs.Validation == ValidationDev {
			next = row.CreatedAt.Add(s.certs.ValidationDelay)
		}
		row.NextCheckAt = minTime(next, deadline)
		return
	}
	iss, err := s.issue(ctx, row, st)
	if err != nil {
		st.Checks++
		s.log.Warn("certificate issuance failed", "account", row.AccountID, "certificate", row.Name, "attempt", st.Checks, "err", err)
		if st.Checks >= maxIssueAttempts {
			row.Status, row.NextCheckAt = CertFailed, never
			st.FailureReason = "OTHER"
			return
		}
		row.NextCheckAt = now.Add(backoff(st.Checks + 3))
		return
	}
	if err := s.install(row, st, iss, now); err != nil {
		s.log.Error("certificate could not be stored", "account", row.AccountID, "certificate", row.Name, "err", err)
		row.NextCheckAt = now.Add(backoff(4))
		return
	}
	st.Checks = 0
	s.log.Info("certificate issued", "account", row.AccountID, "certificate", row.Name, "serial", st.Issued.Serial, "not_after", st.Issued.NotAfter)
}

// advanceRenewal renews an issued certificate whose renewal is due: in dns mode its validation
// records must still be in place (as ACM's managed renewal requires), then a new certificate is
// issued and swapped in. Until it is, the current one keeps being served; if it runs out first, the
// certificate is EXPIRED.
func (s *Service) advanceRenewal(ctx context.Context, row *store.Certificate, st *certState, now time.Time) {
	d := st.Issued
	if d == nil || d.RenewalDue.After(now) {
		if d != nil {
			row.NextCheckAt = d.RenewalDue
		} else {
			row.NextCheckAt = never
		}
		return
	}
	expiry := d.IssuedAt.Add(d.NotAfter.Sub(d.NotBefore))
	if !now.Before(expiry) {
		row.Status, row.NextCheckAt = CertExpired, never
		st.Renewal = &renewalState{Status: "Failed", Reason: "The certificate expired before it could be renewed.", UpdatedAt: now}
		return
	}
	if st.Renewal == nil || st.Renewal.Status == "Success" {
		st.Renewal = &renewalState{Status: "PendingAutoRenewal", UpdatedAt: now}
	}
	retry := func(status, reason string) {
		st.Renewal.Checks++
		st.Renewal.Status, st.Renewal.Reason, st.Renewal.UpdatedAt = status, reason, now
		row.NextCheckAt = minTime(now.Add(backoff(st.Renewal.Checks)), expiry)
	}
	for i := range st.Records {
		st.Records[i].Status = validationPending
	}
	if !s.validateAll(ctx, row, st, now) {
		retry("PendingValidation", "The DNS validation records are no longer in place.")
		return
	}
	iss, err := s.issue(ctx, row, st)
	if err != nil {
		s.log.Warn("certificate renewal failed", "account", row.AccountID, "certificate", row.Name, "err", err)
		retry("PendingAutoRenewal", "Issuance failed; retrying.")
		return
	}
	if err := s.install(row, st, iss, now); err != nil {
		s.log.Error("renewed certificate could not be stored", "account", row.AccountID, "certificate", row.Name, "err", err)
		retry("PendingAutoRenewal", "The renewed certificate could not be stored; retrying.")
		return
	}
	st.Renewal = &renewalState{Status: "Success", UpdatedAt: now}
	s.log.Info("certificate renewed", "account", row.AccountID, "certificate", row.Name, "serial", st.Issued.Serial)
}

// validateAll checks every record not yet validated and reports whether all are.
func (s *Service) validateAll(ctx context.Context, row *store.Certificate, st *certState, now time.Time) bool {
	all := true
	for i := range st.Records {
		r := &st.Records[i]
		if r.Status == validationSuccess {
			continue
		}
		ok := false
		switch s.certs.Validation {
		case ValidationDev:
			ok = !now.Before(row.CreatedAt.Add(s.certs.ValidationDelay))
		default:
			target, err := lookupCNAME(ctx, s.certs.Resolver, r.Name)
			ok = err == nil && strings.EqualFold(strings.TrimSuffix(target, "."), strings.TrimSuffix(r.Value, "."))
			if err != nil {
				s.log.Debug("certificate validation lookup", "record", r.Name, "err", err)
			}
		}
		if ok {
			r.Status = validationSuccess
		} else {
			r.Status = validationPending
			all = false
		}
	}
	return all
}

func (s *Service) issue(ctx context.Context, row *store.Certificate, st *certState) (*ca.Issued, error) {
	if s.certs.Issuer == nil || s.certs.Sealer == nil {
		return nil, errors.New("no certificate issuer is configured")
	}
	req := ca.IssueRequest{Names: st.SANs, ValidationLabels: map[string]string{}}
	for _, r := range st.Records {
		if r.Label != "" {
			req.ValidationLabels[r.Domain] = r.Label
		}
	}
	ictx, cancel := context.WithTimeout(ctx, claimLease-time.Minute)
	defer cancel()
	return s.certs.Issuer.Issue(ictx, req)
}

// install stores an issued certificate: the chain, the sealed key and the detail read from the leaf.
func (s *Service) install(row *store.Certificate, st *certState, iss *ca.Issued, now time.Time) error {
	sealed, err := s.certs.Sealer.Seal(iss.Key, ca.CertificateAAD(row.ID))
	if err != nil {
		return err
	}
	leaf := iss.Leaf
	row.ChainPEM, row.SealedKey, row.Status = string(iss.ChainPEM), sealed, CertIssued
	st.Issued = &issuedDetail{
		Serial:       serialText(leaf),
		NotBefore:    leaf.NotBefore,
		NotAfter:     leaf.NotAfter,
		IssuedAt:     now,
		KeyAlgorithm: keyAlgorithm(leaf),
		IssuerCA:     issuerName(leaf),
		RenewalDue:   ca.RenewalDue(now, leaf),
	}
	row.NextCheckAt = st.Issued.RenewalDue
	return nil
}

// serialText writes a serial number as ACM does: lower-case hex bytes separated by colons.
func serialText(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

// keyAlgorithm names the leaf's key as Lightsail does ("RSA-2048" in its examples; "EC-prime256v1"
// for P-256, after ACM's EC_prime256v1).
func keyAlgorithm(c *x509.Certificate) string {
	switch k := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve.Params().BitSize {
		case 256:
			return "EC-prime256v1"
		case 384:
			return "EC-secp384r1"
		}
		return "EC-" + k.Curve.Params().Name
	default:
		if c.PublicKeyAlgorithm == x509.RSA {
			if pk, ok := c.PublicKey.(interface{ Size() int }); ok {
				return fmt.Sprintf("RSA-%d", pk.Size()*8)
			}
		}
		return c.PublicKeyAlgorithm.String()
	}
}

// issuerName is the issuer's organisation, or its common name without one ("Amazon" in Lightsail's
// examples, "sailcdn" for sailcdn's CA).
func issuerName(c *x509.Certificate) string {
	if len(c.Issuer.Organization) > 0 {
		return c.Issuer.Organization[0]
	}
	return c.Issuer.CommonName
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// lookupCNAME asks server (host:port; "" = the system's first nameserver) for name's CNAME record.
func lookupCNAME(ctx context.Context, server, name string) (string, error) {
	if server == "" {
		conf, err := dns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil || len(conf.Servers) == 0 {
			return "", fmt.Errorf("no DNS resolver: %v", err)
		}
		server = conf.Servers[0] + ":" + conf.Port
	}
	q := new(dns.Msg)
	q.SetQuestion(dns.Fqdn(name), dns.TypeCNAME)
	c := &dns.Client{Timeout: 5 * time.Second}
	in, _, err := c.ExchangeContext(ctx, q, server)
	if err == nil && in.Truncated {
		c.Net = "tcp"
		in, _, err = c.ExchangeContext(ctx, q, server)
	}
	if err != nil {
		return "", err
	}
	for _, rr := range in.Answer {
		if cn, ok := rr.(*dns.CNAME); ok && strings.EqualFold(cn.Hdr.Name, dns.Fqdn(name)) {
			return cn.Target, nil
		}
	}
	return "", fmt.Errorf("%s has no CNAME record (rcode %s)", name, dns.RcodeToString[in.Rcode])
}

func jsonBytes(v any) ([]byte, error) { return json.Marshal(v) }
