package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Certificate statuses (CertificateStatus) and per-name validation statuses
// (CertificateDomainValidationStatus) of the model.
const (
	CertPendingValidation  = "PENDING_VALIDATION"
	CertIssued             = "ISSUED"
	CertExpired            = "EXPIRED"
	CertValidationTimedOut = "VALIDATION_TIMED_OUT"
	CertFailed             = "FAILED"

	validationPending = "PENDING_VALIDATION"
	validationSuccess = "SUCCESS"
	validationFailed  = "FAILED"
)

// maxCertificateNames: the primary domain plus 9 subject alternative names (reference §5.8).
const maxCertificateNames = 10

// certState is the stored configuration of a certificate (store.Certificate.Config): what the
// request asked for, the validation records and what was issued. Key material is not here: it
// lives in the row's own columns and is never part of any API answer.
type certState struct {
	SANs    []string           `json:"subjectAlternativeNames"`
	Tags    []lightsail.Tag    `json:"tags"`
	Records []validationRecord `json:"records"`
	// Checks counts validation (or issuance) attempts, for the backoff between them.
	Checks        int           `json:"checks,omitempty"`
	Issued        *issuedDetail `json:"issued,omitempty"`
	Renewal       *renewalState `json:"renewal,omitempty"`
	FailureReason string        `json:"failureReason,omitempty"`
}

// validationRecord is one name's DNS validation record: a CNAME the user creates.
type validationRecord struct {
	Domain string `json:"domain"`
	Name   string `json:"name"`
	Value  string `json:"value"`
	// Label is the name under the ACME DNS zone that answers this name's DNS-01 challenge (ACME only).
	Label  string `json:"label,omitempty"`
	Status string `json:"status"`
}

// issuedDetail is read from the issued certificate.
type issuedDetail struct {
	Serial       string    `json:"serial"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	IssuedAt     time.Time `json:"issuedAt"` // server clock; renewal is measured from it
	KeyAlgorithm string    `json:"keyAlgorithm"`
	IssuerCA     string    `json:"issuerCA"`
	RenewalDue   time.Time `json:"renewalDue"`
}

type renewalState struct {
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
	Checks    int       `json:"checks,omitempty"`
}

func loadCertState(c *store.Certificate) (*certState, error) {
	st := new(certState)
	if len(c.Config) > 0 {
		if err := json.Unmarshal(c.Config, st); err != nil {
			return nil, fmt.Errorf("certificate %s: stored config: %w", c.ID, err)
		}
	}
	return st, nil
}

func certificateARN(account, id string) string {
	return "arn:aws:lightsail:" + HomeRegion + ":" + account + ":Certificate/" + id
}

func notFoundCertificate(name string) *lightsail.Error {
	return lightsail.Errorf(lightsail.NotFound, "DoesNotExist", "The certificate %s does not exist.", quoteName(name)).
		WithTip("GetCertificates lists the certificates of this account.")
}

// certificateCaller gates certificate APIs to us-east-1: sailcdn's certificates exist only to be
// attached to distributions, and only us-east-1 certificates can be (reference §5.1).
func certificateCaller(ctx context.Context) (Caller, error) {
	c, err := caller(ctx)
	if err != nil {
		return c, err
	}
	if c.Region != HomeRegion {
		return c, lightsail.Errorf(lightsail.InvalidInput, "UnsupportedOperation",
			"Certificates for distributions are only available in the us-east-1 Region. Please set your Region configuration to us-east-1 to create, view, or edit certificate resources.").
			WithTip("Use region us-east-1 for certificates that distributions use.")
	}
	return c, nil
}

// certificateTarget is the common start of an operation on one named certificate: the caller, gated
// to us-east-1, and a certificateName (the model leaves it unconstrained).
func certificateTarget(ctx context.Context, name *string) (Caller, string, error) {
	c, err := certificateCaller(ctx)
	if err != nil {
		return c, "", err
	}
	if deref(name) == "" {
		return c, "", invalid("MissingParameter", "The certificateName parameter is required.")
	}
	return c, *name, nil
}

// checkDomainName applies the DNS rules to a requested name (RFC 1035 §2.3.4 lengths, RFC 1123
// letters-digits-hyphen labels) and returns it lower-cased without a trailing dot. Wildcards are
// refused (reference §5.8), and so are names under the edge domain: those are the distributions'
// own domain names, served by sailcdn's wildcard certificate.
func (s *Service) checkDomainName(member, name string) (string, error) {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	if strings.Contains(n, "*") {
		return "", invalid("InvalidDomainName", "%s %q is a wildcard name; certificates for distributions cannot contain wildcards.", member, name)
	}
	bad := func(why string) error {
		return invalid("InvalidDomainName", "%s %q is not a valid domain name: %s.", member, name, why)
	}
	if n == "" || len(n) > 253 {
		return "", bad("it must be 1 to 253 characters long")
	}
	labels := strings.Split(n, ".")
	if len(labels) < 2 {
		return "", bad("it needs at least two labels, such as example.com")
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 {
			return "", bad("every label must be 1 to 63 characters long")
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", bad("a label cannot start or end with a hyphen")
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", bad("only letters, digits and hyphens are allowed")
			}
		}
	}
	if n == s.edgeDomain || strings.HasSuffix(n, "."+s.edgeDomain) {
		return "", invalid("InvalidDomainName", "%s %q is under %s, the domain of the distributions' own names, which sailcdn already serves over HTTPS.", member, name, s.edgeDomain)
	}
	return n, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// newValidationRecord is the CNAME a user creates to prove control of domain. With sailcdn's own CA:
// _<random>.<domain> → _<random>.<validation zone>, the shape of ACM's records. With ACME:
// _acme-challenge.<domain> → <label>.<ACME DNS zone>, the acme-dns delegation: the ACME CA follows the
// CNAME and reads the DNS-01 TXT record that sailcdn's own DNS responder serves for <label>.
func (s *Service) newValidationRecord(domain string) validationRecord {
	if s.certs.ACMEZone != "" {
		label := randomHex(16)
		return validationRecord{Domain: domain, Name: "_acme-challenge." + domain + ".", Value: label + "." + s.certs.ACMEZone + ".",
			Label: label, Status: validationPending}
	}
	return validationRecord{Domain: domain, Name: "_" + randomHex(16) + "." + domain + ".",
		Value: "_" + randomHex(16) + "." + s.certs.validationZone(s.edgeDomain) + ".", Status: validationPending}
}

// CreateCertificate requests a certificate: it starts PENDING_VALIDATION with one CNAME record per
// name; the lifecycle worker (RunCertificates) validates, issues and later renews it.
func (s *Service) CreateCertificate(ctx context.Context, in *lightsail.CreateCertificateRequest) (*lightsail.CreateCertificateResult, error) {
	c, name, err := certificateTarget(ctx, in.CertificateName)
	if err != nil {
		return nil, err
	}
	if err := checkResourceName("certificate", name); err != nil {
		return nil, err
	}
	if deref(in.DomainName) == "" {
		return nil, invalid("MissingParameter", "The domainName parameter is required.")
	}
	domain, err := s.checkDomainName("domainName", *in.DomainName)
	if err != nil {
		return nil, err
	}
	// Lightsail adds domainName to the subject alternative names (reference §5.8); duplicates collapse.
	names := []string{domain}
	for _, san := range in.SubjectAlternativeNames {
		n, err := s.checkDomainName("subjectAlternativeNames", san)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	if len(names) > maxCertificateNames {
		return nil, invalid("TooManyDomainNames", "A certificate can have at most %d domain names (domainName plus 9 subjectAlternativeNames); this request has %d.", maxCertificateNames, len(names))
	}
	if err := checkTags(in.Tags, true); err != nil {
		return nil, err
	}
	now := s.clock.Now()
	st := &certState{SANs: names, Tags: nonNil(in.Tags)}
	for _, n := range names {
		st.Records = append(st.Records, s.newValidationRecord(n))
	}
	raw, err := json.Marshal(st)
	if err != nil {
		return nil, err
	}
	row := &store.Certificate{
		ID: uuid.NewString(), AccountID: c.AccountID, Name: name, DomainName: domain, Status: CertPendingValidation,
		CreatedAt: now, Config: raw, NextCheckAt: now,
	}
	var op *store.Operation
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := tx.LockAccount(ctx, c.AccountID); err != nil {
			return err
		}
		if err := tx.InsertCertificate(ctx, row); err != nil {
			if errors.Is(err, store.ErrExists) {
				return invalid("AlreadyExists", "The certificate name %s is already in use in this account.", quoteName(name))
			}
			return err
		}
		op, err = s.succeeded(ctx, tx, c, opRecord{opType: "CreateCertificate", resourceType: "Certificate", resourceName: name}, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	detail := s.certificateView(row, st, 0)
	return &lightsail.CreateCertificateResult{
		Certificate: &lightsail.CertificateSummary{
			CertificateArn: detail.Arn, CertificateName: detail.Name, DomainName: detail.DomainName,
			CertificateDetail: detail, Tags: detail.Tags,
		},
		Operations: []lightsail.Operation{*opView(op)},
	}, nil
}

// certificateView renders a stored certificate as the API's Certificate.
func (s *Service) certificateView(row *store.Certificate, st *certState, inUse int64) *lightsail.Certificate {
	v := &lightsail.Certificate{
		Arn:                     ptr(certificateARN(row.AccountID, row.ID)),
		Name:                    ptr(row.Name),
		DomainName:              ptr(row.DomainName),
		Status:                  ptr(row.Status),
		CreatedAt:               lightsail.NewTimestamp(row.CreatedAt),
		SubjectAlternativeNames: nonNil(st.SANs),
		InUseResourceCount:      ptr(inUse),
		Tags:                    nonNil(st.Tags),
		SupportCode:             ptr(row.AccountID + "/" + row.ID),
		EligibleToRenew:         ptr("INELIGIBLE"),
	}
	for _, r := range st.Records {
		v.DomainValidationRecords = append(v.DomainValidationRecords, lightsail.DomainValidationRecord{
			DomainName:       ptr(r.Domain),
			ResourceRecord:   &lightsail.ResourceRecord{Name: ptr(r.Name), Type: ptr("CNAME"), Value: ptr(r.Value)},
			ValidationStatus: ptr(r.Status),
		})
	}
	if d := st.Issued; d != nil {
		v.SerialNumber = ptr(d.Serial)
		v.NotBefore, v.NotAfter, v.IssuedAt = lightsail.NewTimestamp(d.NotBefore), lightsail.NewTimestamp(d.NotAfter), lightsail.NewTimestamp(d.IssuedAt)
		v.KeyAlgorithm, v.IssuerCA = ptr(d.KeyAlgorithm), ptr(d.IssuerCA)
		if row.Status == CertIssued {
			v.EligibleToRenew = ptr("ELIGIBLE") // sailcdn renews every issued certificate, attached or not
		}
	}
	if r := st.Renewal; r != nil {
		v.RenewalSummary = &lightsail.RenewalSummary{
			RenewalStatus:           ptr(r.Status),
			UpdatedAt:               lightsail.NewTimestamp(r.UpdatedAt),
			DomainValidationRecords: v.DomainValidationRecords,
		}
		if r.Reason != "" {
			v.RenewalSummary.RenewalStatusReason = ptr(r.Reason)
		}
	}
	if st.FailureReason != "" {
		v.RequestFailureReason = ptr(st.FailureReason)
	}
	return v
}

// certificateUse counts, per certificate name, the account's distributions that use it.
func certificateUse(ctx context.Context, r store.Reader, accountID string) (map[string]int64, error) {
	ds, err := r.ListDistributions(ctx, accountID, "", 0)
	if err != nil {
		return nil, err
	}
	use := map[string]int64{}
	for i := range ds {
		cfg, err := loadConfig(&ds[i])
		if err != nil {
			return nil, err
		}
		if n := deref(cfg.CertificateName); n != "" {
			use[n]++
		}
	}
	return use, nil
}

// GetCertificates lists the caller's certificates, or the one named (an unknown name is an empty
// list, as on AWS: reference §5.7). Details come with includeCertificateDetails, or whenever a name is
// given (Terraform reads certificateDetail after asking by name without the flag, reference §5.8).
func (s *Service) GetCertificates(ctx context.Context, in *lightsail.GetCertificatesRequest) (*lightsail.GetCertificatesResult, error) {
	c, err := certificateCaller(ctx)
	if err != nil {
		return nil, err
	}
	// certificateStatuses values are checked against the model's enum before the operation runs.
	details := deref(in.IncludeCertificateDetails) || in.CertificateName != nil
	var rows []store.Certificate
	out := &lightsail.GetCertificatesResult{Certificates: []lightsail.CertificateSummary{}}
	if in.CertificateName != nil {
		row, err := s.db.GetCertificate(ctx, c.AccountID, *in.CertificateName)
		if errors.Is(err, store.ErrNotFound) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		rows = []store.Certificate{*row}
	} else {
		after, err := decodeToken("c", in.PageToken)
		if err != nil {
			return nil, err
		}
		// Filtering happens after paging, so a page can hold fewer than pageSize items; the token still
		// moves on by name, which is what AWS's docs ask (keep the other arguments unchanged).
		if rows, err = s.db.ListCertificates(ctx, c.AccountID, after, s.pageSize+1); err != nil {
			return nil, err
		}
		if len(rows) > s.pageSize {
			rows = rows[:s.pageSize]
			out.NextPageToken = ptr(encodeToken("c", rows[len(rows)-1].Name))
		}
	}
	use, err := certificateUse(ctx, s.db, c.AccountID)
	if err != nil {
		return nil, err
	}
	for i := range rows {
		row := &rows[i]
		if len(in.CertificateStatuses) > 0 && !slices.Contains(in.CertificateStatuses, row.Status) {
			continue
		}
		st, err := loadCertState(row)
		if err != nil {
			return nil, err
		}
		v := s.certificateView(row, st, use[row.Name])
		sum := lightsail.CertificateSummary{CertificateArn: v.Arn, CertificateName: v.Name, DomainName: v.DomainName, Tags: v.Tags}
		if details {
			sum.CertificateDetail = v
		}
		out.Certificates = append(out.Certificates, sum)
	}
	return out, nil
}

// DeleteCertificate deletes a certificate no distribution uses.
func (s *Service) DeleteCertificate(ctx context.Context, in *lightsail.DeleteCertificateRequest) (*lightsail.DeleteCertificateResult, error) {
	c, name, err := certificateTarget(ctx, in.CertificateName)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var op *store.Operation
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// The account lock orders this against an attach in the same account (which takes it too).
		if err := tx.LockAccount(ctx, c.AccountID); err != nil {
			return err
		}
		row, err := tx.GetCertificateForUpdate(ctx, c.AccountID, name)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundCertificate(name)
		}
		if err != nil {
			return err
		}
		use, err := certificateUse(ctx, tx, c.AccountID)
		if err != nil {
			return err
		}
		if n := use[name]; n > 0 {
			return invalid("ResourceInUse", "The certificate %s is attached to %d distribution(s); detach it first.", quoteName(name), n).
				WithTip("DetachCertificateFromDistribution, then delete the certificate.")
		}
		if err := tx.DeleteCertificate(ctx, row.ID, now); err != nil {
			return err
		}
		op, err = s.succeeded(ctx, tx, c, opRecord{opType: "DeleteCertificate", resourceType: "Certificate", resourceName: name}, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &lightsail.DeleteCertificateResult{Operations: []lightsail.Operation{*opView(op)}}, nil
}

// attachCertificate installs the account's certificate named certName on the distribution d (cfg is
// its configuration): the certificate must be ISSUED, and none of its names may be served by another
// distribution, in any account. The distribution then answers to the certificate's names
// (alternativeDomainNames). Call it inside the transaction that writes d, after LockAccount.
func (s *Service) attachCertificate(ctx context.Context, tx *store.Tx, d *store.Distribution, cfg *lightsail.LightsailDistribution, certName string) error {
	row, err := tx.GetCertificateForUpdate(ctx, d.AccountID, certName)
	if errors.Is(err, store.ErrNotFound) {
		return notFoundCertificate(certName)
	}
	if err != nil {
		return err
	}
	if row.Status != CertIssued {
		return invalid("CertificateNotIssued", "The certificate %s is %s; only ISSUED certificates can be attached to a distribution.", quoteName(certName), row.Status).
			WithTip("Create the DNS validation records the certificate lists, and wait until GetCertificates reports it ISSUED.")
	}
	st, err := loadCertState(row)
	if err != nil {
		return err
	}
	if err := tx.LockAlternativeDomainNames(ctx); err != nil {
		return err
	}
	live, err := tx.ListLiveDistributions(ctx)
	if err != nil {
		return err
	}
	for i := range live {
		other := &live[i]
		if other.ID == d.ID {
			continue
		}
		ocfg, err := loadConfig(other)
		if err != nil {
			return err
		}
		for _, alt := range ocfg.AlternativeDomainNames {
			if slices.Contains(st.SANs, strings.ToLower(alt)) {
				// Another account's distribution is not named: its existence is all the caller learns.
				return invalid("DomainNameInUse", "The domain name %s is already served by another distribution.", alt).
					WithTip("A domain name can be served by one distribution only; detach the certificate from the distribution that serves it first.")
			}
		}
	}
	cfg.CertificateName = ptr(certName)
	cfg.AlternativeDomainNames = slices.Clone(st.SANs)
	return nil
}

// detachCertificate returns d to its default domain name only.
func detachCertificate(cfg *lightsail.LightsailDistribution) {
	cfg.CertificateName = nil
	cfg.AlternativeDomainNames = []string{}
}

// AttachCertificateToDistribution installs an ISSUED certificate on a distribution, replacing the one
// it had: the distribution then serves HTTPS for the certificate's names.
func (s *Service) AttachCertificateToDistribution(ctx context.Context, in *lightsail.AttachCertificateToDistributionRequest) (*lightsail.AttachCertificateToDistributionResult, error) {
	c, name, err := distributionTarget(ctx, in.DistributionName)
	if err != nil {
		return nil, err
	}
	certName := deref(in.CertificateName)
	if certName == "" {
		return nil, invalid("MissingParameter", "The certificateName parameter is required.")
	}
	_, op, err := s.mutateLocked(ctx, c, name, "AttachCertificateToDistribution", func(tx *store.Tx, d *store.Distribution, cfg *lightsail.LightsailDistribution, now time.Time) error {
		if err := s.attachCertificate(ctx, tx, d, cfg, certName); err != nil {
			return err
		}
		d.DeployedAt = now.Add(s.deployDelay)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &lightsail.AttachCertificateToDistributionResult{Operation: opView(op)}, nil
}

// DetachCertificateFromDistribution returns a distribution to its default domain name only. Detaching
// from a distribution without a certificate succeeds and changes nothing, so a retried call whose
// answer was lost does not fail.
func (s *Service) DetachCertificateFromDistribution(ctx context.Context, in *lightsail.DetachCertificateFromDistributionRequest) (*lightsail.DetachCertificateFromDistributionResult, error) {
	c, name, err := distributionTarget(ctx, in.DistributionName)
	if err != nil {
		return nil, err
	}
	_, op, err := s.mutateLocked(ctx, c, name, "DetachCertificateFromDistribution", func(_ *store.Tx, d *store.Distribution, cfg *lightsail.LightsailDistribution, now time.Time) error {
		if cfg.CertificateName != nil {
			detachCertificate(cfg)
			d.DeployedAt = now.Add(s.deployDelay)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &lightsail.DetachCertificateFromDistributionResult{Operation: opView(op)}, nil
}

// mutateCertificate runs fn on the named certificate's state inside one transaction, with the row
// locked, writes it back and records a succeeded operation of type opType.
func (s *Service) mutateCertificate(ctx context.Context, c Caller, name, opType string, fn func(st *certState) error) (*store.Operation, error) {
	now := s.clock.Now()
	var op *store.Operation
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		row, err := tx.GetCertificateForUpdate(ctx, c.AccountID, name)
		if errors.Is(err, store.ErrNotFound) {
			return notFoundCertificate(name)
		}
		if err != nil {
			return err
		}
		st, err := loadCertState(row)
		if err != nil {
			return err
		}
		if err := fn(st); err != nil {
			return err
		}
		if row.Config, err = json.Marshal(st); err != nil {
			return err
		}
		if err := tx.UpdateCertificate(ctx, row); err != nil {
			return err
		}
		op, err = s.succeeded(ctx, tx, c, opRecord{opType: opType, resourceType: "Certificate", resourceName: name}, now)
		return err
	})
	return op, err
}

// mutateLocked is mutate with the account locked first, for changes that read the account's
// certificates: the lock order (account, then rows) is the one DeleteCertificate uses.
func (s *Service) mutateLocked(ctx context.Context, c Caller, name, opType string, fn func(tx *store.Tx, d *store.Distribution, cfg *lightsail.LightsailDistribution, now time.Time) error) (*store.Distribution, *store.Operation, error) {
	return s.mutate(ctx, c, name, opType, func(tx *store.Tx, d *store.Distribution, cfg *lightsail.LightsailDistribution, now time.Time) error {
		if err := tx.LockAccount(ctx, c.AccountID); err != nil {
			return err
		}
		return fn(tx, d, cfg, now)
	})
}
