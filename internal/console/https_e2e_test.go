package console_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ls "github.com/aws/aws-sdk-go-v2/service/lightsail"
	"github.com/aws/aws-sdk-go-v2/service/lightsail/types"
	"github.com/chromedp/chromedp"

	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/control"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/sailtest/wait"
)

// The distribution view shows its HTTPS URLs, its certificate, and the DNS records a pending
// certificate waits for, to copy.
func TestConsoleShowsHTTPS(t *testing.T) {
	ctx := browser(t)
	bg := context.Background()
	resolver := sailtest.StartDNS(t)
	e := sailtest.New(t,
		sailtest.WithCertificates(func(c *app.CertificatesConfig) { c.Validation, c.Resolver = control.ValidationDNS, resolver.Addr }))
	e.AddOrigin("web-1", "http://127.0.0.1:9", "Instance", "us-east-1")
	c := e.Client(sailtest.Alice, "us-east-1")
	d, err := c.CreateDistribution(bg, &ls.CreateDistributionInput{
		DistributionName: aws.String("site"), BundleId: aws.String("small_1_0"),
		Origin:               &types.InputOrigin{Name: aws.String("web-1"), RegionName: "us-east-1"},
		DefaultCacheBehavior: &types.CacheBehavior{Behavior: "cache"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := c.CreateCertificate(bg, &ls.CreateCertificateInput{CertificateName: aws.String("shop"), DomainName: aws.String("shop.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	rec := cert.Certificate.CertificateDetail.DomainValidationRecords[0].ResourceRecord
	_, tlsPort, _ := net.SplitHostPort(e.EdgeTLSAddr) // the console links to the edge's HTTPS port

	p := page{t: t, ctx: ctx}
	p.do("sign in", chromedp.Navigate(e.API.URL+"/console/"), chromedp.WaitVisible(chromedp.ID("sign-in-form")),
		chromedp.SendKeys(chromedp.ID("access-key-id"), sailtest.Alice.AccessKeyID),
		chromedp.SendKeys(chromedp.ID("secret-access-key"), sailtest.Alice.Secret),
		chromedp.Click(chromedp.ID("sign-in-button")),
		chromedp.WaitVisible(chromedp.ID("pick-site")))
	p.waitText("https-urls", "https://"+aws.ToString(d.Distribution.DomainName)+":"+tlsPort+"/")
	p.waitText("certificate-name", "default")
	// The pending certificate's record, to copy into DNS.
	p.waitText("certificate-shop", "PENDING_VALIDATION")
	p.waitText("record-shop-0", aws.ToString(rec.Name))
	p.waitText("record-shop-0", aws.ToString(rec.Value))
	if n := eval[int](p, `document.querySelectorAll("#record-shop-0 button.copy").length`); n != 2 {
		t.Errorf("%d copy buttons on the record, want 2 (name and value)", n)
	}
	p.screenshot("https-pending.png")

	// The user creates the record; the certificate is issued and attached.
	resolver.SetCNAME(aws.ToString(rec.Name), aws.ToString(rec.Value))
	wait.For(t, 15*time.Second, "certificate attached", func() error {
		_, err := c.AttachCertificateToDistribution(bg, &ls.AttachCertificateToDistributionInput{DistributionName: aws.String("site"), CertificateName: aws.String("shop")})
		return err
	})
	p.do("refresh", chromedp.Click(chromedp.ID("refresh")))
	p.waitText("certificate-name", "shop")
	p.waitText("https-urls", "https://shop.example.com:"+tlsPort+"/")
	p.waitText("certificate-shop", "attached")
	p.waitText("certificate-shop", "ISSUED")
	if txt := p.text("certificate-shop"); !strings.Contains(txt, "valid until") {
		t.Errorf("attached certificate shows no expiry: %q", txt)
	}
}
