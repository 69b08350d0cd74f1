package sampler

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these, so that
// callers can test them with errors.Is.
var (
	// ErrBadWeights reports weights an alias table cannot be built from:
	// none, all zero, or one that is NaN, infinite or negative.
	ErrBadWeights = errors.New("sampler: bad weights")
	// ErrBadScore reports a recorded score that is NaN, infinite or
	// negative.
	ErrBadScore = errors.New("sampler: bad score")
	// ErrBadConfig reports an invalid argument to a constructor or an
	// invalid ScheduleConfig.
	ErrBadConfig = errors.New("sampler: bad config")
	// ErrBadIndex reports a dataset index an order does not know (outside
	// [0, N)), or a Record whose indices and scores differ in length.
	ErrBadIndex = errors.New("sampler: bad index")
	// ErrEpoch reports an epoch number out of sequence.
	ErrEpoch = errors.New("sampler: epoch out of sequence")
	// ErrCorruptState reports a saved state that cannot be decoded:
	// truncated, with a wrong checksum, an unknown version, or
	// inconsistent contents.
	ErrCorruptState = errors.New("sampler: corrupt state")
	// ErrStateMismatch reports a well-formed saved state that belongs to a
	// different kind of order or to a data set of a different size.
	ErrStateMismatch = errors.New("sampler: state does not match")
)
