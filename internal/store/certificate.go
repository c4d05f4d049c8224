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
}

const certificateColumns = "id, account_id, name, domain_name, status, created_at, config, deleted_at"

func scanCertificate(s scanner) (Certificate, error) {
	var (
		c       Certificate
		created int64
		config  string
		deleted sql.NullInt64
	)
	if err := s.Scan(&c.ID, &c.AccountID, &c.Name, &c.DomainName, &c.Status, &created, &config, &deleted); err != nil {
		return Certificate{}, err
	}
	c.CreatedAt = fromMicros(created)
	c.Config = configBytes(config)
	c.DeletedAt = fromNullMicros(deleted)
	return c, nil
}

// GetCertificate returns the account's live certificate with the name, or ErrNotFound.
func (r queries) GetCertificate(ctx context.Context, accountID, name string) (*Certificate, error) {
	row := r.queryRow(ctx, "SELECT "+certificateColumns+" FROM certificates"+
		" WHERE account_id = ? AND name = ? AND deleted_at IS NULL", accountID, name)
	return one(row, scanCertificate, fmt.Sprintf("certificate %q", name))
}

// ListCertificates returns the account's live certificates ordered by name.
func (r queries) ListCertificates(ctx context.Context, accountID string) ([]Certificate, error) {
	rows, err := r.query(ctx, "SELECT "+certificateColumns+" FROM certificates"+
		" WHERE account_id = ? AND deleted_at IS NULL ORDER BY name", accountID)
	return all(rows, err, scanCertificate, "list certificates")
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
	c.CreatedAt, c.DeletedAt = normalize(c.CreatedAt), normalizePtr(c.DeletedAt)
	_, err := tx.execGuarded(ctx, fmt.Sprintf("insert certificate %q", c.Name),
		"INSERT INTO certificates ("+certificateColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		c.ID, c.AccountID, c.Name, c.DomainName, c.Status, toMicros(c.CreatedAt), configText(c.Config), toNullMicros(c.DeletedAt))
	return err
}

// UpdateCertificate writes DomainName, Status and Config to the live certificate with c.ID.
// ErrNotFound if there is none.
func (tx *Tx) UpdateCertificate(ctx context.Context, c *Certificate) error {
	res, err := tx.exec(ctx, "UPDATE certificates SET domain_name = ?, status = ?, config = ? WHERE id = ? AND deleted_at IS NULL",
		c.DomainName, c.Status, configText(c.Config), c.ID)
	if err != nil {
		return fmt.Errorf("store: update certificate %q: %w", c.Name, err)
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
	return requireRow(res, fmt.Sprintf("delete certificate %q", id))
}
