package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Distribution is one Lightsail CDN distribution. Times are UTC, microsecond precision.
type Distribution struct {
	ID         string // uuid; also the ARN suffix. InsertDistribution fills it when empty.
	AccountID  string
	Name       string // unique per account among live (not deleted) rows -> ErrExists
	DomainName string // unique among live rows, across accounts -> ErrExists
	BundleID   string
	// BundleChangedCycle is the billing cycle ("YYYY-MM") of the last UpdateDistributionBundle; "" if
	// never. Lightsail allows one bundle change per cycle (reference §5.6); control checks it inside
	// DB.Tx after GetDistributionForUpdate.
	BundleChangedCycle string
	IsEnabled          bool
	CreatedAt          time.Time
	UpdatedAt          time.Time
	DeployedAt         time.Time // status is InProgress before this instant, Deployed after (control decides)
	CacheResetAt       time.Time // zero if never reset; the edge purges objects older than this
	Config             []byte    // JSON owned by the control plane (origin, behaviours, tags, ...); opaque here; empty reads back as nil
	Version            int64     // 1 after insert; incremented by every UpdateDistribution and DeleteDistribution
	DeletedAt          *time.Time
	// DeployGeneration is the configuration generation that carries the change Status reports on:
	// the insert, or the last update that moved DeployedAt. Edges serving it (or a newer one) serve
	// the change. The store sets it when the transaction commits; writes ignore the field.
	DeployGeneration int64
}

const distributionColumns = `id, account_id, name, domain_name, bundle_id, bundle_changed_cycle, is_enabled,
	created_at, updated_at, deployed_at, cache_reset_at, config, version, deleted_at, deploy_generation`

func scanDistribution(s scanner) (Distribution, error) {
	var (
		d                                   Distribution
		created, updated, deployed, resetAt int64
		config                              string
		deleted                             sql.NullInt64
	)
	err := s.Scan(&d.ID, &d.AccountID, &d.Name, &d.DomainName, &d.BundleID, &d.BundleChangedCycle, &d.IsEnabled,
		&created, &updated, &deployed, &resetAt, &config, &d.Version, &deleted, &d.DeployGeneration)
	if err != nil {
		return Distribution{}, err
	}
	d.CreatedAt, d.UpdatedAt = fromMicros(created), fromMicros(updated)
	d.DeployedAt, d.CacheResetAt = fromMicros(deployed), fromMicros(resetAt)
	d.Config = configBytes(config)
	d.DeletedAt = fromNullMicros(deleted)
	return d, nil
}

// GetDistribution returns the live distribution named name in the account, or ErrNotFound.
func (r queries) GetDistribution(ctx context.Context, accountID, name string) (*Distribution, error) {
	return r.getDistribution(ctx, accountID, name, "")
}

func (r queries) getDistribution(ctx context.Context, accountID, name, lock string) (*Distribution, error) {
	row := r.queryRow(ctx, "SELECT "+distributionColumns+" FROM distributions"+
		" WHERE account_id = ? AND name = ? AND deleted_at IS NULL"+lock, accountID, name)
	return one(row, scanDistribution, "distribution", name)
}

// GetDistributionForUpdate is GetDistribution for a row the transaction is going to change, or whose
// state a rule depends on. On PostgreSQL it locks the row (SELECT ... FOR UPDATE): a concurrent
// transaction doing the same waits until this one ends and then reads the committed row. On SQLite
// it is a plain read; the IMMEDIATE transaction already excludes every other writer.
func (tx *Tx) GetDistributionForUpdate(ctx context.Context, accountID, name string) (*Distribution, error) {
	return tx.getDistribution(ctx, accountID, name, tx.d.forUpdate())
}

// GetDistributionByID returns the distribution with the id, live or deleted, or ErrNotFound.
func (r queries) GetDistributionByID(ctx context.Context, id string) (*Distribution, error) {
	return r.getDistributionByID(ctx, id, "")
}

func (r queries) getDistributionByID(ctx context.Context, id, lock string) (*Distribution, error) {
	row := r.queryRow(ctx, "SELECT "+distributionColumns+" FROM distributions WHERE id = ?"+lock, id)
	return one(row, scanDistribution, "distribution id", id)
}

// GetDistributionByIDForUpdate is GetDistributionByID with GetDistributionForUpdate's row lock.
func (tx *Tx) GetDistributionByIDForUpdate(ctx context.Context, id string) (*Distribution, error) {
	return tx.getDistributionByID(ctx, id, tx.d.forUpdate())
}

// ListDistributions returns the account's live distributions with a name greater than afterName
// ("" = from the start), ordered by name (bytewise on both engines), at most limit (<= 0: all).
func (r queries) ListDistributions(ctx context.Context, accountID, afterName string, limit int) ([]Distribution, error) {
	q, args := withLimit("SELECT "+distributionColumns+" FROM distributions"+
		" WHERE account_id = ? AND deleted_at IS NULL AND name > ? ORDER BY name",
		[]any{accountID, afterName}, limit)
	rows, err := r.query(ctx, q, args...)
	return all(rows, err, scanDistribution, "list distributions")
}

// CountDistributions counts the account's live distributions (for quotas).
func (r queries) CountDistributions(ctx context.Context, accountID string) (int, error) {
	var n int
	err := r.queryRow(ctx, "SELECT COUNT(*) FROM distributions WHERE account_id = ? AND deleted_at IS NULL", accountID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count distributions: %w", err)
	}
	return n, nil
}

// ListLiveDistributions returns every live distribution of every account, ordered by account and
// name. The edge loads this (see also DB.LiveDistributions).
func (r queries) ListLiveDistributions(ctx context.Context) ([]Distribution, error) {
	rows, err := r.query(ctx, "SELECT "+distributionColumns+" FROM distributions"+
		" WHERE deleted_at IS NULL ORDER BY account_id, name")
	return all(rows, err, scanDistribution, "list live distributions")
}

// ListAllDistributions returns the account's distributions including deleted ones (billing needs
// them), ordered by account, creation time and id; accountID "" means every account.
func (r queries) ListAllDistributions(ctx context.Context, accountID string) ([]Distribution, error) {
	q, args := "SELECT "+distributionColumns+" FROM distributions", []any(nil)
	if accountID != "" {
		q, args = q+" WHERE account_id = ?", append(args, accountID)
	}
	rows, err := r.query(ctx, q+" ORDER BY account_id, created_at, id", args...)
	return all(rows, err, scanDistribution, "list all distributions")
}

// checkDistributionUnique is the pre-check behind ErrExists: it names the clashing field, which the
// unique-violation mapping (the backstop for a concurrent insert) cannot.
func (tx *Tx) checkDistributionUnique(ctx context.Context, d *Distribution) error {
	var account, name, domain string
	err := tx.queryRow(ctx, "SELECT account_id, name, domain_name FROM distributions"+
		" WHERE deleted_at IS NULL AND id <> ? AND ((account_id = ? AND name = ?) OR domain_name = ?)",
		d.ID, d.AccountID, d.Name, d.DomainName).Scan(&account, &name, &domain)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("store: check distribution %q: %w", d.Name, err)
	case account == d.AccountID && name == d.Name:
		return fmt.Errorf("store: distribution name %q: %w", d.Name, ErrExists)
	default:
		return fmt.Errorf("store: distribution domain %q: %w", d.DomainName, ErrExists)
	}
}

// InsertDistribution inserts d, filling d.ID when empty, setting d.Version to 1 and normalising d's
// times to what a read returns. ErrExists when a live distribution of the account has the name, or any
// live distribution has the domain name.
func (tx *Tx) InsertDistribution(ctx context.Context, d *Distribution) error {
	if d.ID == "" {
		d.ID = uuid.NewString()
	}
	if d.DeletedAt == nil {
		if err := tx.checkDistributionUnique(ctx, d); err != nil {
			return err
		}
	}
	normalizeDistribution(d)
	_, err := tx.execGuarded(ctx, fmt.Sprintf("insert distribution %q", d.Name),
		"INSERT INTO distributions ("+distributionColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		d.ID, d.AccountID, d.Name, d.DomainName, d.BundleID, d.BundleChangedCycle, d.IsEnabled,
		toMicros(d.CreatedAt), toMicros(d.UpdatedAt), toMicros(d.DeployedAt), toMicros(d.CacheResetAt),
		configText(d.Config), int64(1), toNullMicros(d.DeletedAt), int64(pendingGeneration))
	if err != nil {
		return err
	}
	d.Version = 1
	tx.servedChanged(deployStamp(d))
	return nil
}

// UpdateDistribution writes every mutable field of d (all but ID, AccountID, CreatedAt, DeletedAt and
// DeployGeneration) to the live row with d.ID, provided the row is still at d.Version; it then
// increments Version in the row and in d. When DeployedAt moves, the change is one the edges must
// deploy: DeployGeneration becomes the transaction's generation at commit. ErrNotFound if the row is missing or deleted; ErrExists on a name/domain clash;
// ErrConflict if another transaction updated the row since d was read (DB.Tx then retries fn, which
// reads again — read with GetDistributionForUpdate and this never happens).
func (tx *Tx) UpdateDistribution(ctx context.Context, d *Distribution) error {
	if err := tx.checkDistributionUnique(ctx, d); err != nil {
		return err
	}
	normalizeDistribution(d)
	res, err := tx.execGuarded(ctx, fmt.Sprintf("update distribution %q", d.Name),
		// SET expressions read the row as it was (both engines), so the CASE compares with the old
		// deployed_at.
		"UPDATE distributions SET name = ?, domain_name = ?, bundle_id = ?, bundle_changed_cycle = ?, is_enabled = ?,"+
			" updated_at = ?, deploy_generation = CASE WHEN deployed_at <> ? THEN ? ELSE deploy_generation END,"+
			" deployed_at = ?, cache_reset_at = ?, config = ?, version = version + 1"+
			" WHERE id = ? AND version = ? AND deleted_at IS NULL",
		d.Name, d.DomainName, d.BundleID, d.BundleChangedCycle, d.IsEnabled,
		toMicros(d.UpdatedAt), toMicros(d.DeployedAt), int64(pendingGeneration),
		toMicros(d.DeployedAt), toMicros(d.CacheResetAt), configText(d.Config),
		d.ID, d.Version)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return tx.explainMissedUpdate(ctx, d, err)
	}
	d.Version++
	tx.servedChanged(deployStamp(d))
	return nil
}

// deployStamp fills d's deploy_generation if its write left it pending.
func deployStamp(d *Distribution) stamp {
	return stamp{
		query: "UPDATE distributions SET deploy_generation = ? WHERE id = ? AND deploy_generation = -1",
		key:   d.ID, into: &d.DeployGeneration,
	}
}

// explainMissedUpdate tells ErrNotFound from a version conflict after an UPDATE matched no row.
func (tx *Tx) explainMissedUpdate(ctx context.Context, d *Distribution, err error) error {
	if err != nil {
		return fmt.Errorf("store: update distribution %q: %w", d.Name, err)
	}
	cur, err := tx.GetDistributionByID(ctx, d.ID)
	if err != nil {
		return err
	}
	if cur.DeletedAt != nil {
		return fmt.Errorf("store: update distribution %q: deleted: %w", d.Name, ErrNotFound)
	}
	return &versionConflict{what: "distribution", id: d.ID, version: d.Version, actual: cur.Version}
}

// DeleteDistribution soft-deletes the live distribution with the id at the given time (billing still
// reads deleted rows); its name and domain become free. ErrNotFound if no live row has the id.
func (tx *Tx) DeleteDistribution(ctx context.Context, id string, at time.Time) error {
	res, err := tx.exec(ctx, "UPDATE distributions SET deleted_at = ?, updated_at = ?, version = version + 1"+
		" WHERE id = ? AND deleted_at IS NULL", toMicros(at), toMicros(at), id)
	if err != nil {
		return fmt.Errorf("store: delete distribution %q: %w", id, err)
	}
	if err := requireRow(res, fmt.Sprintf("delete distribution %q", id)); err != nil {
		return err
	}
	tx.servedChanged()
	return nil
}

func normalizeDistribution(d *Distribution) {
	d.CreatedAt, d.UpdatedAt = normalize(d.CreatedAt), normalize(d.UpdatedAt)
	d.DeployedAt, d.CacheResetAt = normalize(d.DeployedAt), normalize(d.CacheResetAt)
	d.DeletedAt = normalizePtr(d.DeletedAt)
}
