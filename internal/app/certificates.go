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
	// Authority is sailcdn's CA, with its private key: nil on edge nodes (role edge), which face the
	// internet and only need the keys of the certificates they serve. Whoever holds the root key can
	// mint a certificate for any name that viewers who trust the root accept.
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

// openCertificates sets up a node's certificates. A node that issues (issues: the API roles, which
// run the certificate lifecycle) opens — at the first start of a store, creates — the CA, makes sure
// the default certificate for edgeDomain exists, sets up the issuer and, with ACME, the DNS
// responder. Any other node (role edge) only opens the certificates it serves: it never unseals the
// CA's key, and serves the default domain names once an API node has issued their certificate.
func openCertificates(ctx context.Context, db *store.DB, clk clock.Clock, o CertificatesConfig, edgeDomain string, issues bool, log *slog.Logger) (*Certificates, error) {
	kek := o.KEK
	if kek == nil {
		kek = make([]byte, ca.KeySize)
		_, _ = rand.Read(kek)
	}
	sealer, err := ca.NewSealer(kek)
	if err != nil {
		return nil, err
	}
	if !issues {
		return &Certificates{Edge: ca.NewCertificates(db, sealer, edgeDomain), domain: edgeDomain, clock: clk, log: log}, nil
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
		if c.responder, err = acme.StartResponder(db, o.ACMEZone, o.ACMEDNSAddr, log); err != nil {
			return nil, fmt.Errorf("--acme-dns-addr: %w", err)
		}
		log.Info("ACME issuance", "directory", o.ACMEDirectory, "zone", o.ACMEZone, "dns", c.responder.UDPAddr.String())
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

// Run keeps the default certificate renewed until ctx ends; on a node without the CA it returns at once.
func (c *Certificates) Run(ctx context.Context) {
	if c.Authority == nil {
		return
	}
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
