package control_test

import (
	"crypto/x509"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"

	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/ca"
	"github.com/sailcdn/sailcdn/internal/control"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// TestCertificates runs the certificate API through the real aws-sdk-go-v2 client on every backend.
func TestCertificates(t *testing.T) {
	tests := []struct {
		name string
		fn   func(*testing.T, sailtest.Backend)
	}{
		{"FlowDevValidation", testCertificateFlow},
		{"Refusals", testCertificateRefusals},
		{"DNSValidation", testCertificateDNSValidation},
		{"ValidationTimesOut", testCertificateValidationTimesOut},
		{"Renewal", testCertificateRenewal},
		{"CertificateNameOnDistributions", testCertificateNameOnDistributions},
		{"TerraformCertificateSequence", testTerraformCertificateSequence},
	}
	for _, b := range sailtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
			}
		})
	}
}

func getCertificate(t *testing.T, c *ls.Client, name string) *types.Certificate {
	t.Helper()
	out, err := c.GetCertificates(ctx, &ls.GetCertificatesInput{CertificateName: aws.String(name)})
	if err != nil {
		t.Fatalf("GetCertificates(%s): %v", name, err)
	}
	if len(out.Certificates) != 1 || out.Certificates[0].CertificateDetail == nil {
		t.Fatalf("GetCertificates(%s) = %+v", name, out.Certificates)
	}
	return out.Certificates[0].CertificateDetail
}

// waitStatus waits until the certificate reaches status.
func waitStatus(t *testing.T, c *ls.Client, name string, status types.CertificateStatus) *types.Certificate {
	t.Helper()
	var got *types.Certificate
	wait.Until(t, 15*time.Second, "certificate "+name+" "+string(status), func() bool {
		got = getCertificate(t, c, name)
		return got.Status == status
	})
	return got
}

func createCertificate(t *testing.T, c *ls.Client, name, domain string, sans ...string) *ls.CreateCertificateOutput {
	t.Helper()
	out, err := c.CreateCertificate(ctx, &ls.CreateCertificateInput{CertificateName: aws.String(name), DomainName: aws.String(domain),
		SubjectAlternativeNames: sans, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}}})
	if err != nil {
		t.Fatalf("CreateCertificate(%s): %v", name, err)
	}
	return out
}

func testCertificateFlow(t *testing.T, b sailtest.Backend) {
	e, c := newEnv(t, b)
	mustCreate(t, c, "site")
	out := createCertificate(t, c, "site-cert", "www.example.com", "example.com", "WWW.example.com")
	if len(out.Operations) != 1 || out.Operations[0].OperationType != types.OperationTypeCreateCertificate ||
		out.Operations[0].ResourceType != types.ResourceTypeCertificate || aws.ToString(out.Operations[0].ResourceName) != "site-cert" {
		t.Fatalf("operations = %+v", out.Operations)
	}
	sum := out.Certificate
	if !strings.HasPrefix(aws.ToString(sum.CertificateArn), "arn:aws:lightsail:us-east-1:111111111111:Certificate/") || aws.ToString(sum.DomainName) != "www.example.com" {
		t.Fatalf("summary = %+v", sum)
	}
	d := sum.CertificateDetail
	if d.Status != types.CertificateStatusPendingValidation || !slices.Equal(d.SubjectAlternativeNames, []string{"www.example.com", "example.com"}) {
		t.Fatalf("new certificate: status %s, names %v", d.Status, d.SubjectAlternativeNames)
	}
	if len(d.DomainValidationRecords) != 2 {
		t.Fatalf("validation records = %+v", d.DomainValidationRecords)
	}
	for _, r := range d.DomainValidationRecords {
		rr := r.ResourceRecord
		if aws.ToString(rr.Type) != "CNAME" || !strings.HasSuffix(aws.ToString(rr.Name), "."+aws.ToString(r.DomainName)+".") ||
			!strings.HasPrefix(aws.ToString(rr.Name), "_") || aws.ToString(rr.Value) == "" || r.ValidationStatus != types.CertificateDomainValidationStatusPendingValidation {
			t.Errorf("record %+v / %+v", r, rr)
		}
	}
	if aws.ToString(d.Tags[0].Key) != "team" || aws.ToString(d.SerialNumber) != "" {
		t.Errorf("tags %+v serial %q", d.Tags, aws.ToString(d.SerialNumber))
	}

	// Only ISSUED certificates attach.
	_, err := c.AttachCertificateToDistribution(ctx, &ls.AttachCertificateToDistributionInput{DistributionName: aws.String("site"), CertificateName: aws.String("site-cert")})
	wantAPIError[*types.InvalidInputException](t, err, http.StatusBadRequest, "CertificateNotIssued")

	issued := waitStatus(t, c, "site-cert", types.CertificateStatusIssued)
	// certificateDetail is read from the issued certificate itself.
	row, err := e.Store.GetCertificate(ctx, "111111111111", "site-cert")
	if err != nil {
		t.Fatal(err)
	}
	chain, err := ca.ParseChain([]byte(row.ChainPEM))
	if err != nil {
		t.Fatal(err)
	}
	leaf := chain[0]
	pool := x509.NewCertPool()
	pool.AddCert(e.CA.Root())
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "example.com"}); err != nil {
		t.Fatalf("issued certificate does not verify: %v", err)
	}
	serial := leaf.SerialNumber.Text(16)
	if got := strings.ReplaceAll(aws.ToString(issued.SerialNumber), ":", ""); strings.TrimLeft(got, "0") != serial {
		t.Errorf("serialNumber %q, certificate's %s", aws.ToString(issued.SerialNumber), serial)
	}
	if !aws.ToTime(issued.NotBefore).Equal(leaf.NotBefore) || !aws.ToTime(issued.NotAfter).Equal(leaf.NotAfter) {
		t.Errorf("notBefore/notAfter %v %v, certificate's %v %v", aws.ToTime(issued.NotBefore), aws.ToTime(issued.NotAfter), leaf.NotBefore, leaf.NotAfter)
	}
	if aws.ToString(issued.KeyAlgorithm) != "EC-prime256v1" || aws.ToString(issued.IssuerCA) != "sailcdn" || aws.ToString(issued.EligibleToRenew) != "ELIGIBLE" || issued.IssuedAt == nil {
		t.Errorf("keyAlgorithm %q issuerCA %q eligibleToRenew %q issuedAt %v", aws.ToString(issued.KeyAlgorithm), aws.ToString(issued.IssuerCA), aws.ToString(issued.EligibleToRenew), issued.IssuedAt)
	}
	for _, r := range issued.DomainValidationRecords {
		if r.ValidationStatus != types.CertificateDomainValidationStatusSuccess {
			t.Errorf("record %s still %s", aws.ToString(r.DomainName), r.ValidationStatus)
		}
	}
	if strings.Contains(string(row.Config), "PRIVATE") || !strings.HasPrefix(row.SealedKey, "v1:") {
		t.Error("key material is not sealed")
	}
	// Key material never leaves through the API: not the key, sealed or not, and not the chain
	// either (Lightsail has no operation that returns it). Read raw, so that members the SDK would
	// drop are seen too.
	for _, call := range []struct{ op, body string }{
		{"GetCertificates", `{"includeCertificateDetails": true}`},
		{"GetCertificates", `{"certificateName": "site-cert"}`},
		{"GetDistributions", `{}`},
	} {
		r := e.Call(&sailtest.Alice, "us-east-1", call.op, []byte(call.body))
		body := string(r.Body)
		if r.Status != http.StatusOK || strings.Contains(body, "BEGIN") || strings.Contains(body, "PRIVATE") ||
			strings.Contains(body, row.SealedKey[3:40]) || strings.Contains(body, strings.Split(row.ChainPEM, "\n")[1]) {
			t.Errorf("%s %s answers %d with key material or the chain: %s", call.op, call.body, r.Status, body)
		}
	}

	att, err := c.AttachCertificateToDistribution(ctx, &ls.AttachCertificateToDistributionInput{DistributionName: aws.String("site"), CertificateName: aws.String("site-cert")})
	if err != nil {
		t.Fatal(err)
	}
	if att.Operation.OperationType != types.OperationTypeAttachCertificateToDistribution {
		t.Errorf("operation %s", att.Operation.OperationType)
	}
	dist := getOne(t, c, "site")
	if aws.ToString(dist.CertificateName) != "site-cert" || !slices.Equal(dist.AlternativeDomainNames, []string{"www.example.com", "example.com"}) {
		t.Fatalf("after attach: certificateName %q alternativeDomainNames %v", aws.ToString(dist.CertificateName), dist.AlternativeDomainNames)
	}
	if n := getCertificate(t, c, "site-cert").InUseResourceCount; n != 1 {
		t.Errorf("inUseResourceCount %d, want 1", n)
	}
	_, err = c.DeleteCertificate(ctx, &ls.DeleteCertificateInput{CertificateName: aws.String("site-cert")})
	wantAPIError[*types.InvalidInputException](t, err, http.StatusBadRequest, "ResourceInUse")

	det, err := c.DetachCertificateFromDistribution(ctx, &ls.DetachCertificateFromDistributionInput{DistributionName: aws.String("site")})
	if err != nil || det.Operation.OperationType != types.OperationTypeDetachCertificateFromDistribution {
		t.Fatalf("detach: %v", err)
	}
	dist = getOne(t, c, "site")
	if dist.CertificateName != nil || len(dist.AlternativeDomainNames) != 0 {
		t.Fatalf("after detach: %q %v", aws.ToString(dist.CertificateName), dist.AlternativeDomainNames)
	}
	del, err := c.DeleteCertificate(ctx, &ls.DeleteCertificateInput{CertificateName: aws.String("site-cert")})
	if err != nil || del.Operations[0].OperationType != types.OperationTypeDeleteCertificate {
		t.Fatalf("delete: %v", err)
	}
	if out, err := c.GetCertificates(ctx, &ls.GetCertificatesInput{CertificateName: aws.String("site-cert")}); err != nil || len(out.Certificates) != 0 {
		t.Fatalf("GetCertificates after delete: %+v, %v", out, err)
	}
}

func testCertificateRefusals(t *testing.T, b sailtest.Backend) {
	_, c := newEnv(t, b)
	bad := []struct {
		name   string
		domain string
		sans   []string
		code   string
	}{
		{"wildcard", "*.example.com", nil, "InvalidDomainName"},
		{"wildcard SAN", "example.com", []string{"*.example.com"}, "InvalidDomainName"},
		{"not a DNS name", "exa mple.com", nil, "InvalidDomainName"},
		{"one label", "localhost", nil, "InvalidDomainName"},
		{"edge domain", "dabc.cdn.localhost", nil, "InvalidDomainName"},
		{"eleven names", "a.example.com", []string{"b.example.com", "c.example.com", "d.example.com", "e.example.com", "f.example.com",
			"g.example.com", "h.example.com", "i.example.com", "j.example.com", "k.example.com"}, "TooManyDomainNames"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.CreateCertificate(ctx, &ls.CreateCertificateInput{CertificateName: aws.String("c-" + strings.ReplaceAll(tc.name, " ", "-")),
				DomainName: aws.String(tc.domain), SubjectAlternativeNames: tc.sans})
			wantAPIError[*types.InvalidInputException](t, err, http.StatusBadRequest, tc.code)
		})
	}
	// Ten names (the domain and nine more) are fine.
	createCertificate(t, c, "ten", "a.example.com", "b.example.com", "c.example.com", "d.example.com", "e.example.com",
		"f.example.com", "g.example.com", "h.example.com", "i.example.com", "j.example.com")
	_, err := c.CreateCertificate(ctx, &ls.CreateCertificateInput{CertificateName: aws.String("ten"), DomainName: aws.String("x.example.com")})
	wantAPIError[*types.InvalidInputException](t, err, http.StatusBadRequest, "AlreadyExists")

	_, err = e2eClient(t, b).CreateCertificate(ctx, &ls.CreateCertificateInput{CertificateName: aws.String("eu"), DomainName: aws.String("eu.example.com")})
	wantAPIError[*types.InvalidInputException](t, err, http.StatusBadRequest, "UnsupportedOperation")

	_, err = c.GetCertificates(ctx, &ls.GetCertificatesInput{CertificateStatuses: []types.CertificateStatus{"BOGUS"}})
	wantAPIError[*types.InvalidInputException](t, err, http.StatusBadRequest, "ValidationError")
	_, err = c.DeleteCertificate(ctx, &ls.DeleteCertificateInput{CertificateName: aws.String("nope")})
	wantAPIError[*types.NotFoundException](t, err, http.StatusNotFound, "DoesNotExist")

	// Filter by status; without details the summary has no certificateDetail.
	out, err := c.GetCertificates(ctx, &ls.GetCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusPendingValidation, types.CertificateStatusIssued}})
	if err != nil || len(out.Certificates) != 1 || out.Certificates[0].CertificateDetail != nil {
		t.Fatalf("list = %+v, %v", out, err)
	}
	out, err = c.GetCertificates(ctx, &ls.GetCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusFailed}, IncludeCertificateDetails: true})
	if err != nil || len(out.Certificates) != 0 {
		t.Fatalf("FAILED filter = %+v, %v", out, err)
	}

	// A name another account's distribution serves cannot be attached.
	e := e2eEnv(t)
	alice, bob := e.Client(sailtest.Alice, "us-east-1"), e.Client(sailtest.Bob, "us-east-1")
	mustCreate(t, alice, "alice-site")
	mustCreate(t, bob, "bob-site")
	createCertificate(t, alice, "shop", "shop.example.com")
	createCertificate(t, bob, "shop", "shop.example.com", "other.example.com")
	waitStatus(t, alice, "shop", types.CertificateStatusIssued)
	waitStatus(t, bob, "shop", types.CertificateStatusIssued)
	if _, err := alice.AttachCertificateToDistribution(ctx, &ls.AttachCertificateToDistributionInput{DistributionName: aws.String("alice-site"), CertificateName: aws.String("shop")}); err != nil {
		t.Fatal(err)
	}
	_, err = bob.AttachCertificateToDistribution(ctx, &ls.AttachCertificateToDistributionInput{DistributionName: aws.String("bob-site"), CertificateName: aws.String("shop")})
	wantAPIError[*types.InvalidInputException](t, err, http.StatusBadRequest, "DomainNameInUse")
	// Bob cannot see or use Alice's certificate by name: his own "shop" is the one that is refused.
	_, err = bob.AttachCertificateToDistribution(ctx, &ls.AttachCertificateToDistributionInput{DistributionName: aws.String("alice-site"), CertificateName: aws.String("shop")})
	wantAPIError[*types.NotFoundException](t, err, http.StatusNotFound, "DoesNotExist")
	// Deleting Alice's distribution frees the name.
	if _, err := alice.DeleteDistribution(ctx, &ls.DeleteDistributionInput{DistributionName: aws.String("alice-site")}); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.AttachCertificateToDistribution(ctx, &ls.AttachCertificateToDistributionInput{DistributionName: aws.String("bob-site"), CertificateName: aws.String("shop")}); err != nil {
		t.Fatalf("attach after the other distribution is gone: %v", err)
	}
}

// e2eEnv is a fresh env on the default backend, for checks that need a second account.
func e2eEnv(t *testing.T) *sailtest.Env {
	e := sailtest.New(t)
	e.AddOrigin("web-1", "http://127.0.0.1:9/", "Instance", "us-east-1")
	return e
}

func e2eClient(t *testing.T, b sailtest.Backend) *ls.Client {
	e, _ := newEnv(t, b)
	return e.Client(sailtest.Alice, "eu-west-1")
}

func testCertificateDNSValidation(t *testing.T, b sailtest.Backend) {
	resolver := sailtest.StartDNS(t)
	e, c := newEnv(t, b, sailtest.WithCertificates(func(cc *app.CertificatesConfig) {
		cc.Validation, cc.Resolver = control.ValidationDNS, resolver.Addr
	}))
	out := createCertificate(t, c, "dns-cert", "dns.example.com", "www.dns.example.com")
	recs := out.Certificate.CertificateDetail.DomainValidationRecords
	// One record in place: still pending, that name validated.
	resolver.SetCNAME(aws.ToString(recs[0].ResourceRecord.Name), aws.ToString(recs[0].ResourceRecord.Value))
	wait.Until(t, 10*time.Second, "first name validated", func() bool {
		d := getCertificate(t, c, "dns-cert")
		return d.DomainValidationRecords[0].ValidationStatus == types.CertificateDomainValidationStatusSuccess
	})
	if d := getCertificate(t, c, "dns-cert"); d.Status != types.CertificateStatusPendingValidation ||
		d.DomainValidationRecords[1].ValidationStatus != types.CertificateDomainValidationStatusPendingValidation {
		t.Fatalf("with one record missing: %s, %s", d.Status, d.DomainValidationRecords[1].ValidationStatus)
	}
	// A record pointing elsewhere does not count.
	resolver.SetCNAME(aws.ToString(recs[1].ResourceRecord.Name), "_elsewhere.example.net.")
	mustProcess(t, e)
	if d := getCertificate(t, c, "dns-cert"); d.DomainValidationRecords[1].ValidationStatus != types.CertificateDomainValidationStatusPendingValidation {
		t.Fatal("a CNAME pointing elsewhere validated the name")
	}
	resolver.SetCNAME(aws.ToString(recs[1].ResourceRecord.Name), aws.ToString(recs[1].ResourceRecord.Value))
	waitStatus(t, c, "dns-cert", types.CertificateStatusIssued)
}

func testCertificateValidationTimesOut(t *testing.T, b sailtest.Backend) {
	resolver := sailtest.StartDNS(t)
	e, c := newEnv(t, b, sailtest.WithCertificates(func(cc *app.CertificatesConfig) {
		cc.Validation, cc.Resolver = control.ValidationDNS, resolver.Addr
	}))
	createCertificate(t, c, "never", "never.example.com")
	e.Clock.Set(e.Clock.Now().Add(71 * time.Hour))
	mustProcess(t, e)
	if d := getCertificate(t, c, "never"); d.Status != types.CertificateStatusPendingValidation {
		t.Fatalf("after 71 h: %s", d.Status)
	}
	e.Clock.Set(e.Clock.Now().Add(2 * time.Hour))
	d := waitStatus(t, c, "never", types.CertificateStatusValidationTimedOut)
	if d.DomainValidationRecords[0].ValidationStatus != types.CertificateDomainValidationStatusFailed {
		t.Errorf("record %s, want FAILED", d.DomainValidationRecords[0].ValidationStatus)
	}
	// Creating the record now changes nothing.
	resolver.SetCNAME(aws.ToString(d.DomainValidationRecords[0].ResourceRecord.Name), aws.ToString(d.DomainValidationRecords[0].ResourceRecord.Value))
	e.Clock.Set(e.Clock.Now().Add(time.Hour))
	mustProcess(t, e)
	if d := getCertificate(t, c, "never"); d.Status != types.CertificateStatusValidationTimedOut {
		t.Fatalf("a timed-out certificate became %s", d.Status)
	}
}

func testCertificateRenewal(t *testing.T, b sailtest.Backend) {
	e, c := newEnv(t, b)
	createCertificate(t, c, "renew", "renew.example.com")
	first := waitStatus(t, c, "renew", types.CertificateStatusIssued)
	if first.RenewalSummary != nil {
		t.Fatalf("renewalSummary before any renewal: %+v", first.RenewalSummary)
	}
	// Two thirds of 90 days is 60 days.
	e.Clock.Set(e.Clock.Now().Add(59 * 24 * time.Hour))
	mustProcess(t, e)
	if d := getCertificate(t, c, "renew"); aws.ToString(d.SerialNumber) != aws.ToString(first.SerialNumber) {
		t.Fatal("renewed before two thirds of the lifetime")
	}
	e.Clock.Set(e.Clock.Now().Add(2 * 24 * time.Hour))
	var d *types.Certificate
	wait.Until(t, 10*time.Second, "renewal", func() bool {
		d = getCertificate(t, c, "renew")
		return d.RenewalSummary != nil && d.RenewalSummary.RenewalStatus == types.RenewalStatusSuccess
	})
	if aws.ToString(d.SerialNumber) == aws.ToString(first.SerialNumber) || d.Status != types.CertificateStatusIssued || d.RenewalSummary.UpdatedAt == nil {
		t.Fatalf("after renewal: serial %q (was %q), status %s, %+v", aws.ToString(d.SerialNumber), aws.ToString(first.SerialNumber), d.Status, d.RenewalSummary)
	}
}

func testCertificateNameOnDistributions(t *testing.T, b sailtest.Backend) {
	_, c := newEnv(t, b)
	createCertificate(t, c, "blog", "blog.example.com")
	in := createInput("blog-site")
	in.CertificateName = aws.String("blog")
	_, err := c.CreateDistribution(ctx, in)
	wantAPIError[*types.InvalidInputException](t, err, http.StatusBadRequest, "CertificateNotIssued")
	if out, _ := c.GetDistributions(ctx, &ls.GetDistributionsInput{}); len(out.Distributions) != 0 {
		t.Fatal("a refused create left a distribution")
	}
	waitStatus(t, c, "blog", types.CertificateStatusIssued)
	out, err := c.CreateDistribution(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Distribution.CertificateName) != "blog" || !slices.Equal(out.Distribution.AlternativeDomainNames, []string{"blog.example.com"}) {
		t.Fatalf("created with a certificate: %q %v", aws.ToString(out.Distribution.CertificateName), out.Distribution.AlternativeDomainNames)
	}
	mustCreate(t, c, "plain")
	upd := &ls.UpdateDistributionInput{DistributionName: aws.String("plain"), CertificateName: aws.String("blog")}
	_, err = c.UpdateDistribution(ctx, upd)
	wantAPIError[*types.InvalidInputException](t, err, http.StatusBadRequest, "DomainNameInUse")

	_, err = c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("blog-site"), CertificateName: aws.String("blog"), UseDefaultCertificate: aws.Bool(true)})
	wantAPIError[*types.InvalidInputException](t, err, http.StatusBadRequest, "InvalidCertificateSettings")
	if _, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("blog-site"), UseDefaultCertificate: aws.Bool(true),
		ViewerMinimumTlsProtocolVersion: types.ViewerMinimumTlsProtocolVersionEnumTLSv112016}); err != nil {
		t.Fatal(err)
	}
	d := getOne(t, c, "blog-site")
	if d.CertificateName != nil || len(d.AlternativeDomainNames) != 0 || aws.ToString(d.ViewerMinimumTlsProtocolVersion) != "TLSv1.1_2016" {
		t.Fatalf("after useDefaultCertificate: %q %v %q", aws.ToString(d.CertificateName), d.AlternativeDomainNames, aws.ToString(d.ViewerMinimumTlsProtocolVersion))
	}
	if _, err := c.UpdateDistribution(ctx, upd); err != nil {
		t.Fatalf("UpdateDistribution certificateName: %v", err)
	}
	if d := getOne(t, c, "plain"); aws.ToString(d.CertificateName) != "blog" || !slices.Equal(d.AlternativeDomainNames, []string{"blog.example.com"}) {
		t.Fatalf("after UpdateDistribution certificateName: %q %v", aws.ToString(d.CertificateName), d.AlternativeDomainNames)
	}
	_, err = c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("plain"), ViewerMinimumTlsProtocolVersion: "TLSv1.0"})
	wantAPIError[*types.InvalidInputException](t, err, http.StatusBadRequest, "")
}

// mustProcess runs one lifecycle pass now (besides the env's worker), so that a test can assert what
// did not happen.
func mustProcess(t *testing.T, e *sailtest.Env) {
	t.Helper()
	if err := e.Node.Control.ProcessCertificates(ctx); err != nil {
		t.Fatal(err)
	}
}

// testTerraformCertificateSequence replays terraform-provider-aws: aws_lightsail_certificate
// (internal/service/lightsail/certificate.go: CreateCertificate, wait on operations[0], read through
// GetCertificates(name).certificates[0].certificateDetail, tags through TagResource/UntagResource by
// name, DeleteCertificate tolerating NotFoundException) and aws_lightsail_distribution's
// certificate_name (distribution.go: sent on CreateDistribution; a change is one UpdateDistribution with
// certificateName, "" when it is removed; read back from GetDistributions).
func testTerraformCertificateSequence(t *testing.T, b sailtest.Backend) {
	_, c := newEnv(t, b)
	read := func(name string) *types.Certificate {
		t.Helper()
		out, err := c.GetCertificates(ctx, &ls.GetCertificatesInput{CertificateName: aws.String(name)})
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(out.Certificates) == 0 {
			return nil // Terraform: NewEmptyResultError, the resource is gone
		}
		return out.Certificates[0].CertificateDetail
	}
	// Terraform adds domain_name to subject_alternative_names itself (its CustomizeDiff), so it sends it.
	created, err := c.CreateCertificate(ctx, &ls.CreateCertificateInput{CertificateName: aws.String("tf-cert"), DomainName: aws.String("tf.example.com"),
		SubjectAlternativeNames: []string{"tf.example.com", "www.tf.example.com"}, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("tf")}}})
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, created.Operations[0].Id)
	d := read("tf-cert")
	if d == nil || d.Arn == nil || d.CreatedAt == nil || aws.ToString(d.DomainName) != "tf.example.com" || len(d.DomainValidationRecords) != 2 ||
		len(d.SubjectAlternativeNames) != 2 || len(d.Tags) != 1 {
		t.Fatalf("read after create: %+v", d)
	}
	for _, r := range d.DomainValidationRecords {
		if r.ResourceRecord == nil || aws.ToString(r.ResourceRecord.Name) == "" || aws.ToString(r.ResourceRecord.Type) != "CNAME" || aws.ToString(r.ResourceRecord.Value) == "" {
			t.Fatalf("domain_validation_options from %+v", r)
		}
	}
	// Tag changes (@Tags(identifierAttribute="id")): by name.
	tag, err := c.TagResource(ctx, &ls.TagResourceInput{ResourceName: aws.String("tf-cert"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}})
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, tag.Operations[0].Id)
	untag, err := c.UntagResource(ctx, &ls.UntagResourceInput{ResourceName: aws.String("tf-cert"), TagKeys: []string{"Name"}})
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, untag.Operations[0].Id)
	if d := read("tf-cert"); len(d.Tags) != 1 || aws.ToString(d.Tags[0].Key) != "env" {
		t.Fatalf("tags after TagResource/UntagResource: %+v", d.Tags)
	}
	if _, err := c.TagResource(ctx, &ls.TagResourceInput{ResourceName: aws.String("tf-cert"), ResourceArn: aws.String(aws.ToString(d.Arn)),
		Tags: []types.Tag{{Key: aws.String("by-arn"), Value: aws.String("1")}}}); err != nil {
		t.Fatalf("TagResource with the certificate's ARN: %v", err)
	}
	waitStatus(t, c, "tf-cert", types.CertificateStatusIssued)

	// aws_lightsail_distribution with certificate_name.
	in := createInput("tf-site")
	in.CertificateName = aws.String("tf-cert")
	out, err := c.CreateDistribution(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, out.Operation.Id)
	if dist := getOne(t, c, "tf-site"); aws.ToString(dist.CertificateName) != "tf-cert" || len(dist.AlternativeDomainNames) != 2 {
		t.Fatalf("read: certificate_name %q alternative_domain_names %v", aws.ToString(dist.CertificateName), dist.AlternativeDomainNames)
	}
	// certificate_name removed from the configuration: Terraform sends certificateName "", which the
	// model's ResourceName pattern refuses (as AWS does: the apply fails and changes nothing); the
	// documented ways out are useDefaultCertificate and DetachCertificateFromDistribution.
	_, err = c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("tf-site"), CertificateName: aws.String("")})
	wantAPIError[*types.InvalidInputException](t, err, 400, "ValidationError")
	if dist := getOne(t, c, "tf-site"); aws.ToString(dist.CertificateName) != "tf-cert" {
		t.Fatal("a refused update changed the certificate")
	}
	upd, err := c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("tf-site"), UseDefaultCertificate: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, upd.Operation.Id)
	if dist := getOne(t, c, "tf-site"); dist.CertificateName != nil || len(dist.AlternativeDomainNames) != 0 {
		t.Fatalf("after removing certificate_name: %q %v", aws.ToString(dist.CertificateName), dist.AlternativeDomainNames)
	}
	// …and set again.
	upd, err = c.UpdateDistribution(ctx, &ls.UpdateDistributionInput{DistributionName: aws.String("tf-site"), CertificateName: aws.String("tf-cert")})
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, upd.Operation.Id)
	if dist := getOne(t, c, "tf-site"); aws.ToString(dist.CertificateName) != "tf-cert" {
		t.Fatalf("after setting certificate_name again: %q", aws.ToString(dist.CertificateName))
	}

	// Destroy: the distribution first (it depends on the certificate), then the certificate; a second
	// delete (a retried destroy) is NotFoundException, which Terraform treats as done.
	del, err := c.DeleteDistribution(ctx, &ls.DeleteDistributionInput{DistributionName: aws.String("tf-site")})
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, del.Operation.Id)
	delCert, err := c.DeleteCertificate(ctx, &ls.DeleteCertificateInput{CertificateName: aws.String("tf-cert")})
	if err != nil {
		t.Fatal(err)
	}
	waitOperation(t, c, delCert.Operations[0].Id)
	_, err = c.DeleteCertificate(ctx, &ls.DeleteCertificateInput{CertificateName: aws.String("tf-cert")})
	wantAPIError[*types.NotFoundException](t, err, 404, "DoesNotExist")
	if read("tf-cert") != nil {
		t.Fatal("certificate still read after delete")
	}
}
