package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/sailcdn/sailcdn/internal/app"
	"github.com/sailcdn/sailcdn/internal/ca"
	"github.com/sailcdn/sailcdn/internal/control"
	"github.com/sailcdn/sailcdn/internal/edge"
	"github.com/sailcdn/sailcdn/internal/store"
)

// certFlags are the serve flags of HTTPS that need more than a one-to-one mapping: the TLS port that
// "" disables, the key file, the validation mode's default.
type certFlags struct {
	tlsAddr string
	keyFile string
}

func (f *certFlags) register(fs *flag.FlagSet, c *app.Config) {
	fs.StringVar(&f.tlsAddr, "edge-tls-addr", app.DefaultEdgeTLSAddr, "listen address of the edge's HTTPS port (roles all, edge); empty: no HTTPS")
	fs.StringVar(&c.Edge.HTTPRedirect, "http-redirect", edge.RedirectCertificate, "plain-HTTP requests redirected to HTTPS: certificate (distributions with a certificate attached), always, never")
	fs.StringVar(&f.keyFile, "key-encryption-key", "", "file holding the 32-byte key (base64) that seals private keys in the store; default DATA/key-encryption.key, created at first start (required with --database-url outside --dev: every node needs the same one)")
	fs.StringVar(&c.Certificates.Validation, "cert-validation", "", "dev (every name validates after --cert-validation-delay) or dns (the validation CNAME must resolve); default dev with --dev, else dns")
	fs.DurationVar(&c.Certificates.ValidationDelay, "cert-validation-delay", 2*time.Second, "how long dev validation takes")
	fs.StringVar(&c.Certificates.Resolver, "dns-resolver", "", "DNS server HOST:PORT for validation lookups and the ACME client (default: the first nameserver of /etc/resolv.conf)")
	fs.StringVar(&c.Certificates.Issuer, "cert-issuer", app.IssuerCA, "who issues certificates: ca (sailcdn's own CA) or acme")
	fs.StringVar(&c.Certificates.ACMEDirectory, "acme-directory", "", "ACME directory URL (Let's Encrypt: https://acme-v02.api.letsencrypt.org/directory)")
	fs.StringVar(&c.Certificates.ACMEEmail, "acme-email", "", "contact e-mail of the ACME account")
	fs.StringVar(&c.Certificates.ACMEZone, "acme-dns-zone", "", "DNS zone delegated to sailcdn's DNS responder; validation records are CNAMEs _acme-challenge.NAME → LABEL.ZONE")
	fs.StringVar(&c.Certificates.ACMEDNSAddr, "acme-dns-addr", "", "listen address (UDP and TCP) of the DNS responder for --acme-dns-zone, e.g. :53 (roles all, api)")
}

// apply maps the flags onto c once parsed; dataDir is --data.
func (f *certFlags) apply(c *app.Config, dataDir string) error {
	c.Edge.TLSAddr, c.Edge.NoTLS = f.tlsAddr, f.tlsAddr == ""
	switch c.Certificates.Validation {
	case "":
		c.Certificates.Validation = control.ValidationDNS
		if c.Dev {
			c.Certificates.Validation = control.ValidationDev
		}
	case control.ValidationDev, control.ValidationDNS:
	default:
		return fmt.Errorf("--cert-validation %q is not dev or dns", c.Certificates.Validation)
	}
	switch c.Certificates.Issuer {
	case app.IssuerCA, app.IssuerACME:
	default:
		return fmt.Errorf("--cert-issuer %q is not %s or %s", c.Certificates.Issuer, app.IssuerCA, app.IssuerACME)
	}
	path := f.keyFile
	if path == "" {
		if c.Store.Driver == store.DriverPostgres && !c.Dev {
			return errors.New("--database-url needs --key-encryption-key FILE: every node sharing the database must seal and open private keys with the same key (create one with: head -c 32 /dev/urandom | base64 > FILE)")
		}
		path = filepath.Join(dataDir, "key-encryption.key")
	}
	kek, err := ca.LoadOrCreateKEK(path)
	if err != nil {
		return fmt.Errorf("--key-encryption-key: %w", err)
	}
	c.Certificates.KEK = kek
	return nil
}

// caCmd is `sailcdn ca export`: it prints the root certificate of sailcdn's CA from the store (the
// same --data or --database-url as serve), for viewers' trust stores.
func caCmd(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		return errors.New("usage: sailcdn ca export [--data DIR | --database-url URL]")
	}
	fs := flag.NewFlagSet("ca export", flag.ContinueOnError)
	dataDir := fs.String("data", envOr("SAILCDN_DATA", "./sailcdn-data"), "directory of the embedded SQLite database")
	databaseURL := fs.String("database-url", os.Getenv("SAILCDN_DATABASE_URL"), "PostgreSQL URL instead of SQLite")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg := store.Config{Driver: store.DriverSQLite, DSN: filepath.Join(*dataDir, "sailcdn.db")}
	if *databaseURL != "" {
		cfg = store.Config{Driver: store.DriverPostgres, DSN: *databaseURL}
	} else if _, err := os.Stat(cfg.DSN); err != nil {
		return fmt.Errorf("no sailcdn database in %s (start sailcdn serve once): %w", *dataDir, err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	pem, err := ca.RootPEMFromStore(ctx, db)
	if err != nil {
		return err
	}
	_, err = out.Write(pem)
	return err
}
