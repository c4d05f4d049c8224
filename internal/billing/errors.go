package billing

import "errors"

// Sentinel errors. Every error this package returns wraps exactly one of them (ParseCatalog errors
// about a bad amount wrap both ErrInvalidCatalog and ErrInvalidAmount); match with errors.Is, never
// on the text, which is for people.
var (
	// ErrInvalidAmount: a money amount is not a non-negative decimal representable in Micros.
	ErrInvalidAmount = errors.New("billing: invalid amount")
	// ErrInvalidCatalog: the bundle catalog is malformed or breaks a catalog rule.
	ErrInvalidCatalog = errors.New("billing: invalid bundle catalog")
	// ErrUnknownBundle: a bundle id is not in the catalog.
	ErrUnknownBundle = errors.New("billing: unknown bundle")
	// ErrInvalidPeriods: the bundle history of a distribution is not one contiguous life.
	ErrInvalidPeriods = errors.New("billing: invalid bundle periods")
	// ErrInvalidUsage: a usage sample is negative or lies after the distribution was deleted.
	ErrInvalidUsage = errors.New("billing: invalid usage sample")
	// ErrInvalidWindow: an estimate window is empty or reversed.
	ErrInvalidWindow = errors.New("billing: invalid time window")
	// ErrOverflow: a total does not fit in an int64 (about 9.2 EB or 9.2 trillion dollars).
	ErrOverflow = errors.New("billing: amount out of range")
)
