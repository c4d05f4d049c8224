package ca_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/sailcdn/sailcdn/internal/ca"
	"github.com/sailcdn/sailcdn/internal/sailtest"
	"github.com/sailcdn/sailcdn/internal/store"
)

func newSealer(t *testing.T, fill byte) *ca.Sealer {
	t.Helper()
	kek := make([]byte, ca.KeySize)
	for i := range kek {
		kek[i] = fill
	}
	s, err := ca.NewSealer(kek)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealerProtectsKeysAtRest(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), nil)
	if err != nil {
		t.Fatal(err)
	}
	s := newSealer(t, 1)
	sealed, err := s.Seal(key, "row a")
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	if len(sealed) < len(der) || string(sealed[:3]) != "v1:" {
		t.Fatalf("sealed form %q", sealed)
	}
	got, err := s.Open(sealed, "row a")
	if err != nil || !got.(*ecdsa.PrivateKey).Equal(key) {
		t.Fatalf("Open = %v, %v", got, err)
	}
	if _, err := s.Open(sealed, "row b"); !errors.Is(err, ca.ErrWrongKEK) {
		t.Errorf("opened for another row: %v", err)
	}
	if _, err := newSealer(t, 2).Open(sealed, "row a"); !errors.Is(err, ca.ErrWrongKEK) {
		t.Errorf("opened with another KEK: %v", err)
	}
}

func TestLoadOrCreateKEK(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "kek")
	a, err := ca.LoadOrCreateKEK(path)
	if err != nil || len(a) != ca.KeySize {
		t.Fatalf("create: %d bytes, %v", len(a), err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode(), err)
	}
	b, err := ca.LoadOrCreateKEK(path)
	if err != nil || string(a) != string(b) {
		t.Fatal("a second load returned another key")
	}
	bad := filepath.Join(t.TempDir(), "bad")
	_ = os.WriteFile(bad, []byte("short"), 0o600)
	if _, err := ca.LoadOrCreateKEK(bad); err == nil {
		t.Error("a malformed key file was accepted")
	}
}

// Nodes starting together on one data directory all ask for the key at once: each gets the same key,
// none reads a file another is still writing.
func TestLoadOrCreateKEKConcurrently(t *testing.T) {
	for round := range 20 {
		path := filepath.Join(t.TempDir(), "kek")
		keys := make([][]byte, 8)
		errs := make([]error, len(keys))
		var wg sync.WaitGroup
		for i := range keys {
			wg.Go(func() { keys[i], errs[i] = ca.LoadOrCreateKEK(path) })
		}
		wg.Wait()
		for i := range keys {
			if errs[i] != nil || string(keys[i]) != string(keys[0]) {
				t.Fatalf("round %d, caller %d: %v (same key as the first: %v)", round, i, errs[i], string(keys[i]) == string(keys[0]))
			}
		}
	}
}

func openStore(t *testing.T, b sailtest.Backend) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), b.Config(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAuthority(t *testing.T) {
	for _, b := range sailtest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			db := openStore(t, b)
			s := newSealer(t, 7)
			wall := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
			server := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
			cfg := ca.Config{Store: db, Sealer: s, Wall: func() time.Time { return wall }, Now: func() time.Time { return server }}
			a1, err := ca.Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			a2, err := ca.Open(ctx, cfg) // a second process on the same store
			if err != nil {
				t.Fatal(err)
			}
			if string(a1.RootPEM()) != string(a2.RootPEM()) {
				t.Fatal("two Opens on one store made two roots")
			}
			if _, err := ca.Open(ctx, ca.Config{Store: db, Sealer: newSealer(t, 8)}); !errors.Is(err, ca.ErrWrongKEK) {
				t.Fatalf("Open with another KEK: %v, want ErrWrongKEK", err)
			}

			iss, err := a2.Issue(ctx, ca.IssueRequest{Names: []string{"www.example.com", "example.com"}})
			if err != nil {
				t.Fatal(err)
			}
			pool := x509.NewCertPool()
			pool.AddCert(a1.Root())
			for _, name := range []string{"www.example.com", "example.com"} {
				if _, err := iss.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name, CurrentTime: wall}); err != nil {
					t.Errorf("leaf does not verify for %s: %v", name, err)
				}
			}
			if _, ok := iss.Key.(*ecdsa.PrivateKey); !ok || iss.Leaf.PublicKeyAlgorithm != x509.ECDSA {
				t.Errorf("leaf key %T, want ECDSA P-256", iss.Key)
			}
			if got := iss.Leaf.NotAfter.Sub(iss.Leaf.NotBefore); got != ca.LeafLifetime {
				t.Errorf("lifetime %v", got)
			}

			// The default-domain certificate: issued once, renewed at two thirds of its lifetime.
			certs := ca.NewCertificates(db, s, "cdn.localhost")
			if _, err := certs.Default(ctx); !errors.Is(err, ca.ErrNoCertificate) {
				t.Fatalf("Default before issuance: %v", err)
			}
			if issued, err := a1.EnsureEdgeCertificate(ctx, "cdn.localhost", server); err != nil || !issued {
				t.Fatalf("first Ensure: %v, %v", issued, err)
			}
			first, err := certs.Default(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := first.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "d1234567890abc.cdn.localhost", CurrentTime: wall}); err != nil {
				t.Fatalf("default certificate does not cover a distribution domain: %v", err)
			}
			if issued, err := a2.EnsureEdgeCertificate(ctx, "cdn.localhost", server.Add(59*24*time.Hour)); err != nil || issued {
				t.Fatalf("Ensure before renewal is due: %v, %v", issued, err)
			}
			if again, _ := certs.Default(ctx); again != first {
				t.Error("an unchanged chain was parsed again")
			}
			if issued, err := a2.EnsureEdgeCertificate(ctx, "cdn.localhost", server.Add(61*24*time.Hour)); err != nil || !issued {
				t.Fatalf("Ensure after two thirds of the lifetime: %v, %v", issued, err)
			}
			renewed, err := certs.Default(ctx)
			if err != nil || renewed.Leaf.SerialNumber.Cmp(first.Leaf.SerialNumber) == 0 {
				t.Fatalf("renewal served the same serial: %v", err)
			}
		})
	}
}
