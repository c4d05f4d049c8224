package ca

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sailcdn/sailcdn/internal/store"
)

func edgeEntryName(domain string) string { return "edge:" + domain }

// EnsureEdgeCertificate makes sure the distributions' default domain names (every d….<domain>) have
// a certificate from this CA — one wildcard, *.<domain> — that is not due for renewal at now (server
// clock), issuing a new one otherwise. Safe to call from every process: the row is locked while it is
// checked and replaced, so one renewal happens however many processes find it due. It reports
// whether it issued.
func (a *Authority) EnsureEdgeCertificate(ctx context.Context, domain string, now time.Time) (bool, error) {
	name := edgeEntryName(domain)
	issuedOne := false
	err := a.db.Tx(ctx, func(tx *store.Tx) error {
		issuedOne = false
		e, err := tx.GetPKIForUpdate(ctx, name)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		default:
			chain, perr := parseChain([]byte(e.ChainPEM))
			if perr == nil && now.Before(RenewalDue(e.IssuedAt, chain[0])) && !a.wall().After(chain[0].NotAfter) {
				return nil
			}
		}
		iss, err := a.Issue(ctx, IssueRequest{Names: []string{"*." + domain}})
		if err != nil {
			return err
		}
		sealed, err := a.sealer.Seal(iss.Key, pkiAAD(name))
		if err != nil {
			return err
		}
		issuedOne = true
		return tx.PutPKI(ctx, &store.PKIEntry{Name: name, ChainPEM: string(iss.ChainPEM), SealedKey: sealed, IssuedAt: now, UpdatedAt: now})
	})
	return issuedOne, err
}

// ErrNoCertificate is returned by Certificates when the certificate asked for has no issued material.
var ErrNoCertificate = errors.New("ca: no issued certificate")

// Certificates gives the edge the certificates it serves as *tls.Certificate values, decrypting each
// key once per issued chain (a reload that finds the same chain reuses the parsed value).
type Certificates struct {
	db     *store.DB
	sealer *Sealer
	domain string

	mu    sync.Mutex        // guards cache
	cache map[string]parsed // pki name or certificate id → last parsed chain
}

type parsed struct {
	chain string
	cert  *tls.Certificate
}

// NewCertificates returns the edge's source of certificates for the edge domain.
func NewCertificates(db *store.DB, sealer *Sealer, edgeDomain string) *Certificates {
	return &Certificates{db: db, sealer: sealer, domain: edgeDomain, cache: map[string]parsed{}}
}

// Default is the certificate of the distributions' default domain names.
func (c *Certificates) Default(ctx context.Context) (*tls.Certificate, error) {
	name := edgeEntryName(c.domain)
	e, err := c.db.GetPKI(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoCertificate
	}
	if err != nil {
		return nil, err
	}
	return c.parse(name, e.ChainPEM, e.SealedKey, pkiAAD(name))
}

// Certificate is the issued certificate named name in the account; ErrNoCertificate when there is no
// such certificate or it was never issued.
func (c *Certificates) Certificate(ctx context.Context, accountID, name string) (*tls.Certificate, error) {
	row, err := c.db.GetCertificate(ctx, accountID, name)
	if errors.Is(err, store.ErrNotFound) || (err == nil && row.ChainPEM == "") {
		return nil, ErrNoCertificate
	}
	if err != nil {
		return nil, err
	}
	return c.parse(row.ID, row.ChainPEM, row.SealedKey, CertificateAAD(row.ID))
}

func (c *Certificates) parse(key, chain, sealed, aad string) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.cache[key]; ok && p.chain == chain {
		return p.cert, nil
	}
	cert, err := TLSCertificate([]byte(chain), sealed, aad, c.sealer)
	if err != nil {
		return nil, err
	}
	c.cache[key] = parsed{chain: chain, cert: cert}
	return cert, nil
}

// TLSCertificate assembles a chain and its sealed key into a *tls.Certificate.
func TLSCertificate(chainPEM []byte, sealedKey, aad string, s *Sealer) (*tls.Certificate, error) {
	chain, err := parseChain(chainPEM)
	if err != nil {
		return nil, err
	}
	key, err := s.Open(sealedKey, aad)
	if err != nil {
		return nil, err
	}
	out := &tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, cert := range chain {
		out.Certificate = append(out.Certificate, cert.Raw)
	}
	if !publicKeysMatch(chain[0], key) {
		return nil, fmt.Errorf("ca: the key does not belong to the certificate %s", chain[0].SerialNumber)
	}
	return out, nil
}

func publicKeysMatch(cert *x509.Certificate, key crypto.Signer) bool {
	pub, ok := cert.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(key.Public())
}
