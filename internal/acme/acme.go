// Package acme issues certificates from an ACME CA (Let's Encrypt, or any RFC 8555 server) with
// DNS-01 challenges answered by sailcdn itself, and serves those answers.
//
// The delegation pattern of acme-dns: each name's validation record, which the user creates once, is
// a CNAME _acme-challenge.<name> → <label>.<zone>, where <zone> is delegated to sailcdn's DNS responder
// (Responder, --acme-dns-addr). To issue or renew, sailcdn publishes the challenge's TXT value under
// <label>.<zone> (in the store, so any process's responder answers) and the CA, following the CNAME,
// reads it there. The ACME protocol itself is lego's (github.com/go-acme/lego/v5); this package only
// provides lego's DNS provider and the responder.
package acme

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	legoacme "github.com/go-acme/lego/v5/acme"
	"github.com/go-acme/lego/v5/certificate"
	"github.com/go-acme/lego/v5/challenge/dns01"
	"github.com/go-acme/lego/v5/lego"
	legolog "github.com/go-acme/lego/v5/log"
	"github.com/go-acme/lego/v5/registration"

	"github.com/sailcdn/sailcdn/internal/ca"
	"github.com/sailcdn/sailcdn/internal/store"
)

// Config configures an Issuer.
type Config struct {
	Store  *store.DB
	Sealer *ca.Sealer
	// Directory is the ACME directory URL (Let's Encrypt: https://acme-v02.api.letsencrypt.org/directory).
	Directory string
	// Email is the account's contact address ("" for none).
	Email string
	// Zone is the DNS zone delegated to the Responder, under which validation labels live.
	Zone string
	// HTTPClient talks to the CA; nil: lego's default (the system's roots).
	HTTPClient *http.Client
	// Resolver (host:port) is the recursive resolver lego's own DNS lookups use; "" = the system's.
	Resolver string
	Logger   *slog.Logger
	// Now is the wall clock (challenge answers expire by it); nil = time.Now.
	Now func() time.Time
}

// challengeTTL bounds how long a published challenge answer is served if its order never cleans up.
const challengeTTL = time.Hour

// Issuer issues certificates through an ACME CA. Orders run one at a time.
type Issuer struct {
	cfg Config

	mu     sync.Mutex // serialises orders; guards client and labels
	client *lego.Client
	labels map[string]string // the current order's name → validation label
}

var _ ca.Issuer = (*Issuer)(nil)

// NewIssuer returns an Issuer. The account is registered (or found, by its key) at the first order.
func NewIssuer(cfg Config) (*Issuer, error) {
	if cfg.Store == nil || cfg.Sealer == nil || cfg.Directory == "" || cfg.Zone == "" {
		return nil, errors.New("acme: Store, Sealer, Directory and Zone are required")
	}
	cfg.Zone = strings.TrimSuffix(strings.ToLower(cfg.Zone), ".")
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Resolver != "" {
		// lego resolves through its package-level client; there is one ACME configuration per process.
		dns01.SetDefaultClient(dns01.NewClient(&dns01.Options{RecursiveNameservers: []string{cfg.Resolver}, Timeout: 5 * time.Second}))
	}
	legolog.SetDefault(cfg.Logger.With("component", "acme"))
	return &Issuer{cfg: cfg}, nil
}

// user is the ACME account as lego sees it.
type user struct {
	email string
	key   crypto.Signer
	reg   *legoacme.ExtendedAccount
}

func (u *user) GetEmail() string                           { return u.email }
func (u *user) GetRegistration() *legoacme.ExtendedAccount { return u.reg }
func (u *user) GetPrivateKey() crypto.Signer               { return u.key }

// accountKey loads the account's key from the store (sealed, like every key), creating it at first
// use; every process sharing the store uses the same account.
func (i *Issuer) accountKey(ctx context.Context) (crypto.Signer, error) {
	name := "acme-account " + i.cfg.Directory
	aad := "sailcdn pki " + name
	e, err := i.cfg.Store.GetPKI(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		key, gerr := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if gerr != nil {
			return nil, gerr
		}
		sealed, serr := i.cfg.Sealer.Seal(key, aad)
		if serr != nil {
			return nil, serr
		}
		now := i.cfg.Now()
		if err := i.cfg.Store.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.InsertPKIIfAbsent(ctx, &store.PKIEntry{Name: name, SealedKey: sealed, IssuedAt: now, UpdatedAt: now})
			return err
		}); err != nil {
			return nil, err
		}
		e, err = i.cfg.Store.GetPKI(ctx, name)
	}
	if err != nil {
		return nil, err
	}
	return i.cfg.Sealer.Open(e.SealedKey, aad)
}

// legoClient returns the registered client, making it at the first call.
func (i *Issuer) legoClient(ctx context.Context) (*lego.Client, error) {
	if i.client != nil {
		return i.client, nil
	}
	key, err := i.accountKey(ctx)
	if err != nil {
		return nil, err
	}
	u := &user{email: i.cfg.Email, key: key}
	lc := lego.NewConfig(u)
	lc.CADirURL = i.cfg.Directory
	lc.Certificate.Timeout = 2 * time.Minute
	if i.cfg.HTTPClient != nil {
		lc.HTTPClient = i.cfg.HTTPClient
	}
	client, err := lego.NewClient(lc)
	if err != nil {
		return nil, fmt.Errorf("acme: %w", err)
	}
	// sailcdn's responder is authoritative for the zone and answers from the store as soon as
	// Present has returned, so there is no propagation to wait for.
	err = client.Challenge.SetDNS01Provider(provider{i}, dns01.WrapPreCheck(func(context.Context, string, string, string, dns01.PreCheckFunc) (bool, error) {
		return true, nil
	}))
	if err != nil {
		return nil, err
	}
	reg, err := client.Registration.Register(ctx, registration.RegisterOptions{TermsOfServiceAgreed: true})
	if err != nil {
		return nil, fmt.Errorf("acme: register account: %w", err)
	}
	u.reg = reg
	i.client = client
	return client, nil
}

// Issue orders a certificate for req.Names with a new ECDSA P-256 key; each name's challenge is
// answered under req.ValidationLabels[name].
func (i *Issuer) Issue(ctx context.Context, req ca.IssueRequest) (*ca.Issued, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, n := range req.Names {
		if req.ValidationLabels[n] == "" {
			return nil, fmt.Errorf("acme: no validation label for %s", n)
		}
	}
	client, err := i.legoClient(ctx)
	if err != nil {
		return nil, err
	}
	i.labels = req.ValidationLabels
	defer func() { i.labels = nil }()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	res, err := client.Certificate.Obtain(ctx, certificate.ObtainRequest{Domains: req.Names, PrivateKey: key, Bundle: true})
	if err != nil {
		return nil, fmt.Errorf("acme: %w", err)
	}
	chain, err := ca.ParseChain(res.Certificate)
	if err != nil {
		return nil, fmt.Errorf("acme: issued chain: %w", err)
	}
	return &ca.Issued{ChainPEM: res.Certificate, Key: key, Leaf: chain[0]}, nil
}

// provider is lego's DNS-01 provider: it publishes challenge answers for the responder.
type provider struct{ i *Issuer }

func (p provider) fqdn(domain string) (string, error) {
	label := p.i.labels[strings.TrimSuffix(strings.ToLower(domain), ".")]
	if label == "" {
		return "", fmt.Errorf("acme: no validation label for %s", domain)
	}
	return label + "." + p.i.cfg.Zone + ".", nil
}

func (p provider) Present(ctx context.Context, domain, _, keyAuth string) error {
	fqdn, err := p.fqdn(domain)
	if err != nil {
		return err
	}
	value := dns01.GetChallengeInfo(ctx, domain, keyAuth).Value
	return p.i.cfg.Store.PutACMEChallenge(ctx, fqdn, value, p.i.cfg.Now().Add(challengeTTL))
}

func (p provider) CleanUp(ctx context.Context, domain, _, keyAuth string) error {
	fqdn, err := p.fqdn(domain)
	if err != nil {
		return err
	}
	return p.i.cfg.Store.DeleteACMEChallenge(ctx, fqdn, dns01.GetChallengeInfo(ctx, domain, keyAuth).Value)
}

// Timeout makes lego check (immediately true, see legoClient) every 100 ms instead of its default 2 s.
func (p provider) Timeout() (timeout, interval time.Duration) {
	return time.Minute, 100 * time.Millisecond
}
