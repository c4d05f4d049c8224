// Package ca is sailcdn's certificate authority and the home of issued key material: the root
// (created at first start and kept in the store, so every process of a shared database signs with
// the same one), leaf issuance (ECDSA P-256), the distributions' default-domain certificate, the
// sealing of private keys at rest (Sealer), and the *tls.Certificate values the edge serves
// (Certificates). ACME issuance lives in internal/acme and produces the same Issued values.
//
// Validity is written in wall-clock time: a certificate is checked by viewers against their own
// clocks, whatever the server clock (moved in --dev to reach another billing cycle) says. Schedules
// (renewal at two thirds of the lifetime) run on the server clock, measured from when the
// certificate was issued on that clock, so moving it forward makes renewals due.
package ca

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/sailcdn/sailcdn/internal/store"
)

// Lifetimes of what the CA signs.
const (
	RootLifetime = 10 * 365 * 24 * time.Hour
	// LeafLifetime matches Let's Encrypt's 90 days, so renewal is exercised as it would be with ACME.
	LeafLifetime = 90 * 24 * time.Hour
	// backdate covers viewers whose clocks run a little behind.
	backdate = time.Hour
)

// rootName is the pki row of the root.
const rootName = "root"

// IssueRequest asks an issuer for a certificate.
type IssueRequest struct {
	// Names are the DNS names, the first one the subject's common name.
	Names []string
	// ValidationLabels maps each name to the label its ACME challenge is answered under (ACME only).
	ValidationLabels map[string]string
}

// Issued is an issued certificate: the chain (leaf first), its key and the parsed leaf.
type Issued struct {
	ChainPEM []byte
	Key      crypto.Signer
	Leaf     *x509.Certificate
}

// Issuer issues certificates: the Authority itself, or an ACME client (internal/acme).
type Issuer interface {
	Issue(ctx context.Context, req IssueRequest) (*Issued, error)
}

// Authority is sailcdn's own CA.
type Authority struct {
	db      *store.DB
	sealer  *Sealer
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
	wall    func() time.Time
}

var _ Issuer = (*Authority)(nil)

// Config configures Open.
type Config struct {
	Store  *store.DB
	Sealer *Sealer
	// Wall is the clock validity is written in; nil = time.Now.
	Wall func() time.Time
	// Now is the server clock, recorded as the root's issue time; nil = Wall.
	Now func() time.Time
}

// Open loads the root from the store, creating it when there is none. Processes starting together
// race to insert; the first insert wins and every process uses that root.
func Open(ctx context.Context, cfg Config) (*Authority, error) {
	if cfg.Store == nil || cfg.Sealer == nil {
		return nil, errors.New("ca: Store and Sealer are required")
	}
	wall := cfg.Wall
	if wall == nil {
		wall = time.Now
	}
	now := cfg.Now
	if now == nil {
		now = wall
	}
	if _, err := cfg.Store.GetPKI(ctx, rootName); errors.Is(err, store.ErrNotFound) {
		entry, err := newRoot(cfg.Sealer, wall(), now())
		if err != nil {
			return nil, err
		}
		if err := cfg.Store.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.InsertPKIIfAbsent(ctx, entry)
			return err
		}); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	entry, err := cfg.Store.GetPKI(ctx, rootName)
	if err != nil {
		return nil, err
	}
	leaf, err := parseChain([]byte(entry.ChainPEM))
	if err != nil {
		return nil, fmt.Errorf("ca: stored root: %w", err)
	}
	key, err := cfg.Sealer.Open(entry.SealedKey, pkiAAD(rootName))
	if err != nil {
		return nil, err
	}
	return &Authority{db: cfg.Store, sealer: cfg.Sealer, cert: leaf[0], certPEM: []byte(entry.ChainPEM), key: key, wall: wall}, nil
}

func pkiAAD(name string) string { return "sailcdn pki " + name }

// CertificateAAD is the additional data a Lightsail certificate's key is sealed with.
func CertificateAAD(id string) string { return "sailcdn certificate " + id }

func newRoot(s *Sealer, wall, now time.Time) (*store.PKIEntry, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	ski := sha256.Sum256(pub)
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		// The short id tells two installations' roots apart in a trust store.
		Subject:               pkix.Name{Organization: []string{"sailcdn"}, CommonName: "sailcdn root CA " + hex.EncodeToString(ski[:4])},
		NotBefore:             wall.Add(-backdate),
		NotAfter:              wall.Add(RootLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // it signs leaves only
		SubjectKeyId:          ski[:20],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	sealed, err := s.Seal(key, pkiAAD(rootName))
	if err != nil {
		return nil, err
	}
	return &store.PKIEntry{Name: rootName, ChainPEM: string(pemCert(der)), SealedKey: sealed, IssuedAt: now, UpdatedAt: now}, nil
}

// RootPEM is the root certificate, PEM-encoded: public, for viewers' trust stores.
func (a *Authority) RootPEM() []byte { return a.certPEM }

// Root is the parsed root certificate.
func (a *Authority) Root() *x509.Certificate { return a.cert }

// Issue signs a new ECDSA P-256 key for the names, valid for LeafLifetime from now (wall clock).
func (a *Authority) Issue(_ context.Context, req IssueRequest) (*Issued, error) {
	if len(req.Names) == 0 {
		return nil, errors.New("ca: a certificate needs at least one name")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := a.wall()
	tmpl := &x509.Certificate{
		SerialNumber:   randomSerial(),
		Subject:        pkix.Name{CommonName: req.Names[0]},
		DNSNames:       req.Names,
		NotBefore:      now.Add(-backdate),
		NotAfter:       now.Add(-backdate).Add(LeafLifetime),
		KeyUsage:       x509.KeyUsageDigitalSignature,
		ExtKeyUsage:    []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		AuthorityKeyId: a.cert.SubjectKeyId,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, fmt.Errorf("ca: sign: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Issued{ChainPEM: pemCert(der), Key: key, Leaf: leaf}, nil
}

// randomSerial is a positive 128-bit serial (CA/B Forum: at least 64 bits from a CSPRNG).
func randomSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n.Add(n, big.NewInt(1))
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// parseChain parses every CERTIFICATE block of a PEM chain.
func parseChain(chainPEM []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for rest := chainPEM; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no certificate in the chain")
	}
	return out, nil
}

// ParseChain parses a PEM chain, leaf first.
func ParseChain(chainPEM []byte) ([]*x509.Certificate, error) { return parseChain(chainPEM) }

// RenewalDue is when a certificate issued at issuedAt (server clock) with the leaf's lifetime is
// renewed: at two thirds of its lifetime.
func RenewalDue(issuedAt time.Time, leaf *x509.Certificate) time.Time {
	return issuedAt.Add(leaf.NotAfter.Sub(leaf.NotBefore) * 2 / 3)
}

// RootPEMFromStore reads the root certificate (public) from the store without opening its key.
func RootPEMFromStore(ctx context.Context, db *store.DB) ([]byte, error) {
	e, err := db.GetPKI(ctx, rootName)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("ca: this store has no certificate authority yet: start sailcdn serve once")
	}
	if err != nil {
		return nil, err
	}
	return []byte(e.ChainPEM), nil
}
