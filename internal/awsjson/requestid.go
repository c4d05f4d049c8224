package awsjson

import "context"

type ctxKey int

const (
	requestIDKey ctxKey = iota
	operationKey
)

// RequestID returns the id of the request being served (the x-amzn-RequestId response header), or
// "" outside a request. Log it with anything worth correlating with a client's report: SDKs print it
// in every error.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Operation returns the operation name (from X-Amz-Target) of the request being served, or "" before
// routing.
func Operation(ctx context.Context) string {
	op, _ := ctx.Value(operationKey).(string)
	return op
}

func withRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey, id)
}

func withOperation(ctx context.Context, op string) context.Context {
	return context.WithValue(ctx, operationKey, op)
}
