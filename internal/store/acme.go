package store

import (
	"context"
	"fmt"
	"time"
)

// PutACMEChallenge publishes a DNS-01 TXT value for fqdn (lower case, with the trailing dot) until
// expires. Putting the same pair again moves its expiry.
func (db *DB) PutACMEChallenge(ctx context.Context, fqdn, value string, expires time.Time) error {
	return db.Tx(ctx, func(tx *Tx) error {
		// Expired answers of earlier orders are dropped on the way.
		if _, err := tx.exec(ctx, "DELETE FROM acme_challenges WHERE expires_at < ?", toMicros(time.Now())); err != nil {
			return fmt.Errorf("store: prune acme challenges: %w", err)
		}
		_, err := tx.exec(ctx, "INSERT INTO acme_challenges (fqdn, value, expires_at) VALUES (?, ?, ?)"+
			" ON CONFLICT (fqdn, value) DO UPDATE SET expires_at = excluded.expires_at", fqdn, value, toMicros(expires))
		if err != nil {
			return fmt.Errorf("store: put acme challenge: %w", err)
		}
		return nil
	})
}

// DeleteACMEChallenge withdraws a DNS-01 TXT value.
func (db *DB) DeleteACMEChallenge(ctx context.Context, fqdn, value string) error {
	return db.Tx(ctx, func(tx *Tx) error {
		if _, err := tx.exec(ctx, "DELETE FROM acme_challenges WHERE fqdn = ? AND value = ?", fqdn, value); err != nil {
			return fmt.Errorf("store: delete acme challenge: %w", err)
		}
		return nil
	})
}

// ACMEChallenges returns the TXT values published for fqdn that have not expired at now.
func (r queries) ACMEChallenges(ctx context.Context, fqdn string, now time.Time) ([]string, error) {
	rows, err := r.query(ctx, "SELECT value FROM acme_challenges WHERE fqdn = ? AND expires_at >= ? ORDER BY value", fqdn, toMicros(now))
	if err != nil {
		return nil, fmt.Errorf("store: acme challenges: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("store: acme challenges: %w", err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
