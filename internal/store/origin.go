package store

import (
	"context"
	"fmt"
	"time"
)

// Origin is a backend a distribution can pull from, registered through the admin endpoint. Origins
// are global, not per account, keyed by (RegionName, Name) — the pair a distribution's origin names.
type Origin struct {
	Name, RegionName, ResourceType, URL string
	CreatedAt                           time.Time
}

const originColumns = "name, region_name, resource_type, url, created_at"

func scanOrigin(s scanner) (Origin, error) {
	var (
		o       Origin
		created int64
	)
	if err := s.Scan(&o.Name, &o.RegionName, &o.ResourceType, &o.URL, &created); err != nil {
		return Origin{}, err
	}
	o.CreatedAt = fromMicros(created)
	return o, nil
}

// GetOrigin returns the origin, or ErrNotFound.
func (r queries) GetOrigin(ctx context.Context, region, name string) (*Origin, error) {
	row := r.queryRow(ctx, "SELECT "+originColumns+" FROM origins WHERE region_name = ? AND name = ?", region, name)
	return one(row, scanOrigin, "origin", region+"/"+name)
}

// ListOrigins returns every origin ordered by Region and name.
func (r queries) ListOrigins(ctx context.Context) ([]Origin, error) {
	rows, err := r.query(ctx, "SELECT "+originColumns+" FROM origins ORDER BY region_name, name")
	return all(rows, err, scanOrigin, "list origins")
}

// PutOrigin creates the origin or, if (RegionName, Name) exists, replaces its ResourceType and URL;
// CreatedAt stays that of the first Put. It runs in its own transaction, which changes what edges
// serve (a new configuration generation) only when the row changed: every node registers its
// --origin flags at start.
func (db *DB) PutOrigin(ctx context.Context, o Origin) error {
	return db.Tx(ctx, func(tx *Tx) error {
		res, err := tx.exec(ctx, "INSERT INTO origins ("+originColumns+") VALUES (?, ?, ?, ?, ?)"+
			" ON CONFLICT (region_name, name) DO UPDATE SET resource_type = excluded.resource_type, url = excluded.url"+
			" WHERE origins.resource_type <> excluded.resource_type OR origins.url <> excluded.url",
			o.Name, o.RegionName, o.ResourceType, o.URL, toMicros(o.CreatedAt))
		if err != nil {
			return fmt.Errorf("store: put origin %s/%s: %w", o.RegionName, o.Name, err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("store: put origin %s/%s: %w", o.RegionName, o.Name, err)
		} else if n > 0 {
			tx.servedChanged()
		}
		return nil
	})
}
