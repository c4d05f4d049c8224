package control

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/sailcdn/sailcdn/internal/lightsail"
	"github.com/sailcdn/sailcdn/internal/store"
)

// operationsPageSize: GetOperations returns at most 200 operations per call (API doc).
const operationsPageSize = 200

// opRecord names an operation: its type (the API name) and the resource it acted on.
type opRecord struct {
	opType, resourceType, resourceName string
}

// onDistribution is the opRecord of opType acting on the named distribution.
func onDistribution(opType, name string) opRecord {
	return opRecord{opType: opType, resourceType: "Distribution", resourceName: name}
}

// succeeded records an operation that completed with the change it describes. sailcdn applies changes
// within the transaction that records them, so operations are born "Succeeded" and terminal: never
// "NotStarted", on which Terraform's waiter aborts (reference §5.9).
func (s *Service) succeeded(ctx context.Context, tx *store.Tx, c Caller, what opRecord, now time.Time) (*store.Operation, error) {
	op := &store.Operation{
		ID:               uuid.NewString(),
		AccountID:        c.AccountID,
		ResourceName:     what.resourceName,
		ResourceType:     what.resourceType,
		OperationType:    what.opType,
		Status:           "Succeeded",
		RegionName:       c.Region,
		AvailabilityZone: "all",
		IsTerminal:       true,
		CreatedAt:        now,
		StatusChangedAt:  now,
	}
	if err := tx.InsertOperation(ctx, op); err != nil {
		return nil, err
	}
	return op, nil
}

func opView(op *store.Operation) *lightsail.Operation {
	if op == nil {
		return nil
	}
	v := &lightsail.Operation{
		Id:              ptr(op.ID),
		ResourceName:    ptr(op.ResourceName),
		ResourceType:    ptr(op.ResourceType),
		CreatedAt:       lightsail.NewTimestamp(op.CreatedAt),
		Location:        &lightsail.ResourceLocation{AvailabilityZone: ptr(op.AvailabilityZone), RegionName: ptr(op.RegionName)},
		IsTerminal:      ptr(op.IsTerminal),
		OperationType:   ptr(op.OperationType),
		Status:          ptr(op.Status),
		StatusChangedAt: lightsail.NewTimestamp(op.StatusChangedAt),
	}
	if op.OperationDetails != "" {
		v.OperationDetails = ptr(op.OperationDetails)
	}
	if op.ErrorCode != "" {
		v.ErrorCode, v.ErrorDetails = ptr(op.ErrorCode), ptr(op.ErrorDetails)
	}
	return v
}

func opViews(ops []store.Operation) []lightsail.Operation {
	out := make([]lightsail.Operation, 0, len(ops))
	for i := range ops {
		out = append(out, *opView(&ops[i]))
	}
	return out
}

// operationsPage turns up to operationsPageSize+1 rows (one more than a page, to learn whether
// another page follows) into a page and the token of the next one.
func operationsPage(ops []store.Operation) ([]lightsail.Operation, *string) {
	var next *string
	if len(ops) > operationsPageSize {
		ops = ops[:operationsPageSize]
		next = ptr(encodeToken("o", strconv.FormatInt(ops[len(ops)-1].Seq, 10)))
	}
	return opViews(ops), next
}

// place is where the caller's operations are: its account, in the Region it calls.
func (c Caller) place() store.Place { return store.Place{AccountID: c.AccountID, Region: c.Region} }

// GetOperation answers for every operation id ever issued to the caller's account in the caller's
// Region (operations are regional, as the calls that record them).
func (s *Service) GetOperation(ctx context.Context, in *lightsail.GetOperationRequest) (*lightsail.GetOperationResult, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	op, err := s.db.GetOperation(ctx, c.place(), deref(in.OperationId))
	if errors.Is(err, store.ErrNotFound) {
		return nil, lightsail.Errorf(lightsail.NotFound, "DoesNotExist", "The operation %q does not exist.", deref(in.OperationId))
	}
	if err != nil {
		return nil, err
	}
	return &lightsail.GetOperationResult{Operation: opView(op)}, nil
}

// GetOperations lists the account's operations in the caller's Region oldest to newest, at most 200
// at a time.
func (s *Service) GetOperations(ctx context.Context, in *lightsail.GetOperationsRequest) (*lightsail.GetOperationsResult, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	after, err := decodeSeqToken(in.PageToken)
	if err != nil {
		return nil, err
	}
	ops, err := s.db.ListOperations(ctx, c.place(), after, operationsPageSize+1)
	if err != nil {
		return nil, err
	}
	views, next := operationsPage(ops)
	return &lightsail.GetOperationsResult{Operations: views, NextPageToken: next}, nil
}

// GetOperationsForResource lists the operations on one named resource, oldest to newest. The deprecated
// nextPageCount is never set (API doc: it has returned null since 2017).
func (s *Service) GetOperationsForResource(ctx context.Context, in *lightsail.GetOperationsForResourceRequest) (*lightsail.GetOperationsForResourceResult, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	name := deref(in.ResourceName)
	after, err := decodeSeqToken(in.PageToken)
	if err != nil {
		return nil, err
	}
	ops, err := s.db.ListOperationsForResource(ctx, c.place(), name, after, operationsPageSize+1)
	if err != nil {
		return nil, err
	}
	if len(ops) == 0 && after == 0 {
		return nil, lightsail.Errorf(lightsail.NotFound, "DoesNotExist", "The resource %s does not exist.", quoteName(name))
	}
	views, next := operationsPage(ops)
	return &lightsail.GetOperationsForResourceResult{Operations: views, NextPageToken: next}, nil
}
