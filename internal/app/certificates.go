package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sailcdn/sailcdn/internal/acme"
	"github.com/sailcdn/sailcdn/internal/ca"
	"github.com/sailcdn/sailcdn/internal/clock"
	"github.com/sailcdn/sailcdn/internal/control"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Certificate issuers (--cert-issuer).
const (
	IssuerCA   = "ca"
	IssuerACME = "acme"
)

// CertificatesConfig is how a node validates, issues and protects certificates.
type CertificatesConfig struct {
	// KEK is the key-encryption key that seals private keys in the store (--key-encryption-key;
	// ca.LoadOrCreateKEK). Every node sharing a store needs the same one. nil: a random key for
	// this process only (tests), with which a restarted node could not open the keys it sealed.
	KEK []byte
	// Validation is control.ValidationDev or control.ValidationDNS; ValidationDelay applies to dev;
	// Resolver (host:port, "" = the system's) is asked in dns mode and by the ACME client.
	Validation      string
	ValidationDelay time.Duration
	Resolver        string
	// Issuer is IssuerCA (sailcdn's own CA) or IssuerACME.
	Issuer string
	// ACME settings: the directory URL, the account's e-mail, the zone delegated to sailcdn's DNS
	// responder and the address it listens on (UDP and TCP).
	ACMEDirectory, ACMEEmail, ACMEZone, ACMEDNSAddr string
	// NewIssuer, when set, replaces the issuer (tests: an ACME client against pebble); it gets the
	// node's store and sealer.
	NewIssuer func(*store.DB, *ca.Sealer) (ca.Issuer, error)
	// Poll is how often the lifecycle worker looks for due certificates. Default 1s.
	Poll time.Duration
}

// Certificates is the assembled certificate machinery: the CA, the issuer the control plane uses,
// the edge's certificate source and, with ACME, the DNS responder.
type Certificates struct {
	Authority *ca.Authority
	// Control is what app.Config.Certificates takes.
	Control control.CertificateConfig
	// Edge is what edge.Config.Certificates takes.
	Edge *ca.Certificates

	domain    string
	clock     clock.Clock
	log       *slog.Logger
	responder *acme.Responder
}

// openCertificates opens (or, at first start, creates) the CA in the store, makes sure the default
// certificate for edgeDomain exists, and sets up the issuer; with acmeDNS (the nodes that run the
// certificate lifecycle) also the ACME DNS responder.
func openCertificates(ctx context.Context, db *store.DB, clk clock.Clock, o CertificatesConfig, edgeDomain string, acmeDNS bool, log *slog.Logger) (*Certificates, error) {
	kek := o.KEK
	if kek == nil {
		kek = make([]byte, ca.KeySize)
		_, _ = rand.Read(kek)
	}
	sealer, err := ca.NewSealer(kek)
	if err != nil {
		return nil, err
	}
	authority, err := ca.Open(ctx, ca.Config{Store: db, Sealer: sealer, Now: clk.Now})
	if err != nil {
		return nil, err
	}
	c := &Certificates{
		Authority: authority,
		Edge:      ca.NewCertificates(db, sealer, edgeDomain),
		domain:    edgeDomain, clock: clk, log: log,
		Control: control.CertificateConfig{
			Issuer: authority, Sealer: sealer, Poll: o.Poll,
			Validation: o.Validation, ValidationDelay: o.ValidationDelay, Resolver: o.Resolver, ACMEZone: o.ACMEZone,
		},
	}
	if _, err := authority.EnsureEdgeCertificate(ctx, edgeDomain, clk.Now()); err != nil {
		return nil, fmt.Errorf("default certificate: %w", err)
	}
	switch o.Issuer {
	case "", IssuerCA:
	case IssuerACME:
		if o.ACMEDirectory == "" || o.ACMEZone == "" || o.ACMEDNSAddr == "" {
			return nil, errors.New("--cert-issuer acme needs --acme-directory, --acme-dns-zone and --acme-dns-addr")
		}
		issuer, err := acme.NewIssuer(acme.Config{Store: db, Sealer: sealer, Directory: o.ACMEDirectory, Email: o.ACMEEmail,
			Zone: o.ACMEZone, Resolver: o.Resolver, Logger: log})
		if err != nil {
			return nil, err
		}
		c.Control.Issuer = issuer
		if acmeDNS {
			if c.responder, err = acme.StartResponder(db, o.ACMEZone, o.ACMEDNSAddr, log); err != nil {
				return nil, fmt.Errorf("--acme-dns-addr: %w", err)
			}
			log.Info("ACME issuance", "directory", o.ACMEDirectory, "zone", o.ACMEZone, "dns", c.responder.UDPAddr.String())
		}
	default:
		return nil, fmt.Errorf("--cert-issuer %q is not %s or %s", o.Issuer, IssuerCA, IssuerACME)
	}
	if o.NewIssuer != nil {
		if c.Control.Issuer, err = o.NewIssuer(db, sealer); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// edgeCertificateCheck is how often the default certificate's renewal is checked.
const edgeCertificateCheck = time.Minute

// Run keeps the default certificate renewed until ctx ends.
func (c *Certificates) Run(ctx context.Context) {
	t := time.NewTicker(edgeCertificateCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if issued, err := c.Authority.EnsureEdgeCertificate(ctx, c.domain, c.clock.Now()); err != nil && ctx.Err() == nil {
			c.log.Warn("default certificate renewal failed; retrying", "err", err)
		} else if issued {
			c.log.Info("default certificate renewed", "domain", "*."+c.domain)
		}
	}
}

// Close stops the DNS responder, if any.
func (c *Certificates) Close() error {
	if c.responder != nil {
		return c.responder.Close()
	}
	return nil
}
