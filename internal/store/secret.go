package store

import (
	"context"
	"crypto/rand"
	"fmt"
)

// Secret returns the store's secret with the name, drawing it at random (256 bits, text) the first time
// any node asks: every node sharing the store then knows it and nobody else does. Concurrent first
// calls from several processes agree, because only the first insert wins.
func (db *DB) Secret(ctx context.Context, name string) (string, error) {
	_, err := db.write.ExecContext(ctx, db.dialect.rebind("INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING"),
		name, rand.Text()+rand.Text())
	if err != nil {
		return "", fmt.Errorf("store: secret %s: %w", name, err)
	}
	var v string
	if err := db.read.QueryRowContext(ctx, db.dialect.rebind("SELECT value FROM secrets WHERE name = ?"), name).Scan(&v); err != nil {
		return "", fmt.Errorf("store: secret %s: %w", name, err)
	}
	return v, nil
}
