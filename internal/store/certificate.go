package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Certificate is a Lightsail certificate (reference §5.8). Name is unique per account among live rows.
type Certificate struct {
	ID, AccountID, Name, DomainName, Status string
	CreatedAt                               time.Time
	Config                                  []byte // JSON owned by the control plane; opaque here
	DeletedAt                               *time.Time

	// ChainPEM is the issued certificate chain, leaf first ("" until issued). SealedKey is its private
	// key sealed by internal/ca (never the key itself). The control plane never returns either.
	ChainPEM, SealedKey string
	// NextCheckAt is when the lifecycle worker looks at the certificate next (server clock); see
	// DueCertificates.
	NextCheckAt time.Time
}

const certificateColumns = "id, account_id, name, domain_name, status, created_at, config, deleted_at, chain_pem, sealed_key, next_check_at"

func scanCertificate(s scanner) (Certificate, error) {
	var (
		c                Certificate
		created, checkAt int64
		config           string
		deleted          sql.NullInt64
	)
	if err := s.Scan(&c.ID, &c.AccountID, &c.Name, &c.DomainName, &c.Status, &created, &config, &deleted,
		&c.ChainPEM, &c.SealedKey, &checkAt); err != nil {
		return Certificate{}, err
	}
	c.CreatedAt = fromMicros(created)
	c.Config = configBytes(config)
	c.DeletedAt = fromNullMicros(deleted)
	c.NextCheckAt = fromMicros(checkAt)
	return c, nil
}

// GetCertificate returns the account's live certificate with the name, or ErrNotFound.
func (r queries) GetCertificate(ctx context.Context, accountID, name string) (*Certificate, error) {
	return r.getCertificate(ctx, accountID, name, "")
}

func (r queries) getCertificate(ctx context.Context, accountID, name, lock string) (*Certificate, error) {
	row := r.queryRow(ctx, "SELECT "+certificateColumns+" FROM certificates"+
		" WHERE account_id = ? AND name = ? AND deleted_at IS NULL"+lock, accountID, name)
	return one(row, scanCertificate, "certificate", name)
}

// GetCertificateForUpdate is GetCertificate with GetDistributionForUpdate's row lock (PostgreSQL).
func (tx *Tx) GetCertificateForUpdate(ctx context.Context, accountID, name string) (*Certificate, error) {
	return tx.getCertificate(ctx, accountID, name, tx.d.forUpdate())
}

// GetCertificateByIDForUpdate returns the live certificate with the id, row locked, or ErrNotFound.
func (tx *Tx) GetCertificateByIDForUpdate(ctx context.Context, id string) (*Certificate, error) {
	row := tx.queryRow(ctx, "SELECT "+certificateColumns+" FROM certificates WHERE id = ? AND deleted_at IS NULL"+tx.d.forUpdate(), id)
	return one(row, scanCertificate, "certificate id", id)
}

// ListCertificates returns the account's live certificates with a name greater than afterName ("" =
// from the start), ordered by name (bytewise on both engines), at most limit (<= 0: all).
func (r queries) ListCertificates(ctx context.Context, accountID, afterName string, limit int) ([]Certificate, error) {
	q, args := withLimit("SELECT "+certificateColumns+" FROM certificates"+
		" WHERE account_id = ? AND deleted_at IS NULL AND name > ? ORDER BY name", []any{accountID, afterName}, limit)
	rows, err := r.query(ctx, q, args...)
	return all(rows, err, scanCertificate, "list certificates")
}

// DueCertificates returns live certificates of every account whose NextCheckAt is not after now,
// earliest first, at most limit.
func (r queries) DueCertificates(ctx context.Context, now time.Time, limit int) ([]Certificate, error) {
	q, args := withLimit("SELECT "+certificateColumns+" FROM certificates"+
		" WHERE deleted_at IS NULL AND next_check_at <= ? ORDER BY next_check_at, id", []any{toMicros(now)}, limit)
	rows, err := r.query(ctx, q, args...)
	return all(rows, err, scanCertificate, "due certificates")
}

// InsertCertificate inserts c, filling c.ID when empty and normalising its times. ErrExists if a live
// certificate of the account has the name.
func (tx *Tx) InsertCertificate(ctx context.Context, c *Certificate) error {
	if c.ID == "" {
		c.ID = uuid.NewString()
	}
	if c.DeletedAt == nil {
		var id string
		err := tx.queryRow(ctx, "SELECT id FROM certificates WHERE account_id = ? AND name = ? AND deleted_at IS NULL",
			c.AccountID, c.Name).Scan(&id)
		switch {
		case err == nil:
			return fmt.Errorf("store: certificate name %q: %w", c.Name, ErrExists)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("store: check certificate %q: %w", c.Name, err)
		}
	}
	c.CreatedAt, c.DeletedAt, c.NextCheckAt = normalize(c.CreatedAt), normalizePtr(c.DeletedAt), normalize(c.NextCheckAt)
	_, err := tx.execGuarded(ctx, fmt.Sprintf("insert certificate %q", c.Name),
		"INSERT INTO certificates ("+certificateColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		c.ID, c.AccountID, c.Name, c.DomainName, c.Status, toMicros(c.CreatedAt), configText(c.Config), toNullMicros(c.DeletedAt),
		c.ChainPEM, c.SealedKey, toMicros(c.NextCheckAt))
	return err
}

// UpdateCertificate writes DomainName, Status, Config, ChainPEM, SealedKey and NextCheckAt to the live
// certificate with c.ID. ErrNotFound if there is none. When the chain changes the commit bumps the
// configuration generation, so every edge serving the certificate swaps it in.
func (tx *Tx) UpdateCertificate(ctx context.Context, c *Certificate) error {
	c.NextCheckAt = normalize(c.NextCheckAt)
	var before string
	err := tx.queryRow(ctx, "SELECT chain_pem FROM certificates WHERE id = ? AND deleted_at IS NULL", c.ID).Scan(&before)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: update certificate %q: %w", c.Name, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: update certificate %q: %w", c.Name, err)
	}
	res, err := tx.exec(ctx, "UPDATE certificates SET domain_name = ?, status = ?, config = ?, chain_pem = ?, sealed_key = ?, next_check_at = ?"+
		" WHERE id = ? AND deleted_at IS NULL",
		c.DomainName, c.Status, configText(c.Config), c.ChainPEM, c.SealedKey, toMicros(c.NextCheckAt), c.ID)
	if err != nil {
		return fmt.Errorf("store: update certificate %q: %w", c.Name, err)
	}
	if before != c.ChainPEM {
		tx.servedChanged()
	}
	return requireRow(res, fmt.Sprintf("update certificate %q", c.Name))
}

// DeleteCertificate soft-deletes the live certificate with the id; its name becomes free.
// ErrNotFound if there is none.
func (tx *Tx) DeleteCertificate(ctx context.Context, id string, at time.Time) error {
	res, err := tx.exec(ctx, "UPDATE certificates SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL", toMicros(at), id)
	if err != nil {
		return fmt.Errorf("store: delete certificate %q: %w", id, err)
	}
	if err := requireRow(res, fmt.Sprintf("delete certificate %q", id)); err != nil {
		return err
	}
	tx.servedChanged()
	return nil
}

// PKIEntry is installation-wide key material (the pki table): the CA root, the edge's default
// certificate. SealedKey is sealed by internal/ca.
type PKIEntry struct {
	Name, ChainPEM, SealedKey string
	IssuedAt, UpdatedAt       time.Time
}

// GetPKI returns the entry with the name, or ErrNotFound.
func (r queries) GetPKI(ctx context.Context, name string) (*PKIEntry, error) {
	return r.getPKI(ctx, name, "")
}

// GetPKIForUpdate is GetPKI with the row locked until the transaction ends (PostgreSQL), for a
// renewal that must happen once however many processes find it due.
func (tx *Tx) GetPKIForUpdate(ctx context.Context, name string) (*PKIEntry, error) {
	return tx.getPKI(ctx, name, tx.d.forUpdate())
}

func (r queries) getPKI(ctx context.Context, name, lock string) (*PKIEntry, error) {
	row := r.queryRow(ctx, "SELECT name, chain_pem, sealed_key, issued_at, updated_at FROM pki WHERE name = ?"+lock, name)
	return one(row, func(s scanner) (PKIEntry, error) {
		var e PKIEntry
		var issued, updated int64
		err := s.Scan(&e.Name, &e.ChainPEM, &e.SealedKey, &issued, &updated)
		e.IssuedAt, e.UpdatedAt = fromMicros(issued), fromMicros(updated)
		return e, err
	}, "pki", name)
}

// InsertPKIIfAbsent inserts the entry unless one with the name exists, and reports whether it did.
// Processes starting together on one database each try; exactly one entry wins and all read it back.
func (tx *Tx) InsertPKIIfAbsent(ctx context.Context, e *PKIEntry) (bool, error) {
	e.IssuedAt, e.UpdatedAt = normalize(e.IssuedAt), normalize(e.UpdatedAt)
	res, err := tx.exec(ctx, "INSERT INTO pki (name, chain_pem, sealed_key, issued_at, updated_at) VALUES (?, ?, ?, ?, ?)"+
		" ON CONFLICT (name) DO NOTHING",
		e.Name, e.ChainPEM, e.SealedKey, toMicros(e.IssuedAt), toMicros(e.UpdatedAt))
	if err != nil {
		return false, fmt.Errorf("store: insert pki %q: %w", e.Name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: insert pki %q: %w", e.Name, err)
	}
	if n > 0 {
		tx.servedChanged()
	}
	return n > 0, nil
}

// PutPKI inserts or replaces the entry. Replacing an entry bumps the configuration generation (the
// edge serves the default certificate from it).
func (tx *Tx) PutPKI(ctx context.Context, e *PKIEntry) error {
	e.IssuedAt, e.UpdatedAt = normalize(e.IssuedAt), normalize(e.UpdatedAt)
	_, err := tx.exec(ctx, "INSERT INTO pki (name, chain_pem, sealed_key, issued_at, updated_at) VALUES (?, ?, ?, ?, ?)"+
		" ON CONFLICT (name) DO UPDATE SET chain_pem = excluded.chain_pem, sealed_key = excluded.sealed_key,"+
		" issued_at = excluded.issued_at, updated_at = excluded.updated_at",
		e.Name, e.ChainPEM, e.SealedKey, toMicros(e.IssuedAt), toMicros(e.UpdatedAt))
	if err != nil {
		return fmt.Errorf("store: put pki %q: %w", e.Name, err)
	}
	tx.servedChanged()
	return nil
}
