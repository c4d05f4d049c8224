package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Operation is one Lightsail operation record (reference §5.9). GetOperation must keep finding every
// id ever issued, so operations are never deleted.
type Operation struct {
	ID, AccountID, ResourceName, ResourceType, OperationType, Status        string
	RegionName, AvailabilityZone, OperationDetails, ErrorCode, ErrorDetails string
	IsTerminal                                                              bool
	CreatedAt, StatusChangedAt                                              time.Time
	// Seq is assigned by InsertOperation. It increases in commit order, so it orders operations
	// oldest→newest and is a safe paging cursor.
	Seq int64
}

const operationColumns = `id, seq, account_id, resource_name, resource_type, operation_type, status,
	region_name, availability_zone, operation_details, error_code, error_details, is_terminal,
	created_at, status_changed_at`

func scanOperation(s scanner) (Operation, error) {
	var (
		o                Operation
		created, changed int64
	)
	err := s.Scan(&o.ID, &o.Seq, &o.AccountID, &o.ResourceName, &o.ResourceType, &o.OperationType, &o.Status,
		&o.RegionName, &o.AvailabilityZone, &o.OperationDetails, &o.ErrorCode, &o.ErrorDetails, &o.IsTerminal,
		&created, &changed)
	if err != nil {
		return Operation{}, err
	}
	o.CreatedAt, o.StatusChangedAt = fromMicros(created), fromMicros(changed)
	return o, nil
}

// Place is where an operation was recorded: the account and the Region of the call that recorded it.
// Lightsail's operations are regional, like every resource: each Region's endpoint knows only its own.
type Place struct {
	AccountID, Region string
}

// GetOperation returns the operation with the id recorded at p, or ErrNotFound.
func (r queries) GetOperation(ctx context.Context, p Place, id string) (*Operation, error) {
	row := r.queryRow(ctx, "SELECT "+operationColumns+" FROM operations WHERE account_id = ? AND region_name = ? AND id = ?",
		p.AccountID, p.Region, id)
	return one(row, scanOperation, "operation", id)
}

// ListOperations returns the operations recorded at p with Seq > afterSeq, oldest→newest, at most
// limit (<= 0: all).
func (r queries) ListOperations(ctx context.Context, p Place, afterSeq int64, limit int) ([]Operation, error) {
	q, args := withLimit("SELECT "+operationColumns+" FROM operations WHERE account_id = ? AND region_name = ? AND seq > ? ORDER BY seq",
		[]any{p.AccountID, p.Region, afterSeq}, limit)
	rows, err := r.query(ctx, q, args...)
	return all(rows, err, scanOperation, "list operations")
}

// ListOperationsForResource is ListOperations restricted to one resource name.
func (r queries) ListOperationsForResource(ctx context.Context, p Place, resourceName string, afterSeq int64, limit int) ([]Operation, error) {
	q, args := withLimit("SELECT "+operationColumns+" FROM operations"+
		" WHERE account_id = ? AND region_name = ? AND resource_name = ? AND seq > ? ORDER BY seq",
		[]any{p.AccountID, p.Region, resourceName, afterSeq}, limit)
	rows, err := r.query(ctx, q, args...)
	return all(rows, err, scanOperation, "list operations for resource")
}

// InsertOperation inserts o, filling o.ID when empty, assigning o.Seq and normalising o's times.
// ErrExists if the id is taken.
//
// On PostgreSQL the sequence counter stays locked until commit (that is what makes Seq follow commit
// order), so insert operations AFTER taking the transaction's row locks (GetDistributionForUpdate):
// the other order can deadlock with a transaction doing it the right way round (DB.Tx then retries,
// but only after PostgreSQL's deadlock_timeout, 1 s by default).
func (tx *Tx) InsertOperation(ctx context.Context, o *Operation) error {
	if o.ID == "" {
		o.ID = uuid.NewString()
	}
	seq, err := tx.nextSeq(ctx, metaOperationSeq)
	if err != nil {
		return err
	}
	o.CreatedAt, o.StatusChangedAt = normalize(o.CreatedAt), normalize(o.StatusChangedAt)
	_, err = tx.execGuarded(ctx, fmt.Sprintf("insert operation %q", o.ID),
		"INSERT INTO operations ("+operationColumns+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		o.ID, seq, o.AccountID, o.ResourceName, o.ResourceType, o.OperationType, o.Status,
		o.RegionName, o.AvailabilityZone, o.OperationDetails, o.ErrorCode, o.ErrorDetails, o.IsTerminal,
		toMicros(o.CreatedAt), toMicros(o.StatusChangedAt))
	if err != nil {
		return err
	}
	o.Seq = seq
	return nil
}

// UpdateOperation writes o's status fields (Status, IsTerminal, StatusChangedAt, OperationDetails,
// ErrorCode, ErrorDetails) to the operation with o.ID. ErrNotFound if there is none.
func (tx *Tx) UpdateOperation(ctx context.Context, o *Operation) error {
	o.StatusChangedAt = normalize(o.StatusChangedAt)
	res, err := tx.exec(ctx, "UPDATE operations SET status = ?, is_terminal = ?, status_changed_at = ?,"+
		" operation_details = ?, error_code = ?, error_details = ? WHERE id = ?",
		o.Status, o.IsTerminal, toMicros(o.StatusChangedAt), o.OperationDetails, o.ErrorCode, o.ErrorDetails, o.ID)
	if err != nil {
		return fmt.Errorf("store: update operation %q: %w", o.ID, err)
	}
	return requireRow(res, fmt.Sprintf("update operation %q", o.ID))
}
