package sampler

import (
	"fmt"
	"math"
)

// Plan is one epoch's work: dataset indices in the order to visit them, and
// per-position weights for the batch cost.
type Plan struct {
	// Indices are dataset indices; with replacement in steady-state
	// epochs of a Schedule, so an index may repeat.
	Indices []int
	// Weights, when not nil, has len(Indices) entries: Weights[k] is the
	// weight of the loss of sample Indices[k] in the batch cost Σ w·L.
	// Nil means every sample gets 1/B.
	Weights []float64
}

// Stats describes the last plan of an order, for metrics.
type Stats struct {
	Epoch     int  // epoch of the plan (0 before the first)
	Kept      int  // size of the kept set the plan drew from
	Drawn     int  // len(Plan.Indices)
	Distinct  int  // distinct dataset indices in the plan
	Unscored  int  // kept samples without a recorded score (imputed)
	Transient bool // uniform shuffled epoch (all orders but a steady-state Schedule)
	Uniform   bool // steady-state plan fell back to uniform: no score recorded, or zero sum
}

// Order is what the trainer asks for each epoch. Epochs are 1-based; Plan is
// called once at the start of each epoch, Record after every step, EndEpoch
// at the end of each epoch.
//
// Plans are owned by the caller: an order does not keep or reuse the
// returned slices.
type Order interface {
	// Plan returns the work of an epoch.
	Plan(epoch int) (Plan, error)
	// Record stores per-sample scores (losses) of a step: scores[k] is the
	// score of dataset index indices[k]. It does not allocate.
	Record(indices []int, scores []float32)
	// EndEpoch closes an epoch.
	EndEpoch(epoch int) error
	// State saves the order; Restore resumes a saved order.
	State() ([]byte, error)
	Restore(data []byte) error
	// KeptSize is the number of samples the next plan draws from.
	KeptSize() int
	// Stats describes the last plan.
	Stats() Stats
}

var (
	_ Order = (*Sequential)(nil)
	_ Order = (*Shuffled)(nil)
	_ Order = (*Schedule)(nil)
)

// checkLen reports an invalid data set size.
func checkLen(n int) error {
	if n < 1 || n > math.MaxInt32 {
		return fmt.Errorf("%w: data set size %d, want 1 ≤ N ≤ %d", ErrBadConfig, n, math.MaxInt32)
	}
	return nil
}

// checkEpoch reports an epoch number below 1.
func checkEpoch(epoch int) error {
	if epoch < 1 {
		return fmt.Errorf("%w: epoch %d, epochs are 1-based", ErrEpoch, epoch)
	}
	return nil
}

// uniformStats returns the stats of a plan visiting every sample once.
func uniformStats(epoch, n int) Stats {
	return Stats{Epoch: epoch, Kept: n, Drawn: n, Distinct: n, Transient: true}
}

// Sequential visits samples 0, 1, …, N−1 in every epoch, each with weight
// 1/B. It ignores scores.
type Sequential struct {
	n     int
	stats Stats
}

// NewSequential returns the sequential order over n samples; n must be in
// [1, math.MaxInt32].
func NewSequential(n int) (*Sequential, error) {
	if err := checkLen(n); err != nil {
		return nil, err
	}
	return &Sequential{n: n}, nil
}

// Plan returns Indices = 0, 1, …, N−1 and nil Weights.
func (o *Sequential) Plan(epoch int) (Plan, error) {
	if err := checkEpoch(epoch); err != nil {
		return Plan{}, err
	}
	idx := make([]int, o.n)
	for i := range idx {
		idx[i] = i
	}
	o.stats = uniformStats(epoch, o.n)
	return Plan{Indices: idx}, nil
}

// Record does nothing: the order does not depend on scores.
func (o *Sequential) Record(indices []int, scores []float32) {}

// EndEpoch does nothing but check the epoch number.
func (o *Sequential) EndEpoch(epoch int) error { return checkEpoch(epoch) }

// KeptSize returns N.
func (o *Sequential) KeptSize() int { return o.n }

// Stats describes the last plan.
func (o *Sequential) Stats() Stats { return o.stats }

// State saves N.
func (o *Sequential) State() ([]byte, error) {
	e := newEncoder(kindSequential, 8)
	e.u64(uint64(o.n))
	return e.finish(), nil
}

// Restore checks that data was saved by a Sequential over the same N.
func (o *Sequential) Restore(data []byte) error {
	d, err := openState(data, kindSequential)
	if err != nil {
		return err
	}
	n := d.count("N", math.MaxInt32)
	if err := d.close(); err != nil {
		return err
	}
	return checkN(kindSequential, n, o.n)
}

// Shuffled visits every sample once per epoch in a fresh seeded random order,
// each with weight 1/B. The order of epoch e is a uniformly random
// permutation drawn from a PCG stream selected by (seed, e), so it depends
// only on the seed and the epoch (and equals the transient order of a
// Schedule with the same seed and N). It ignores scores.
type Shuffled struct {
	n     int
	seed  uint64
	rs    *stream
	stats Stats
}

// NewShuffled returns the shuffled order over n samples; n must be in
// [1, math.MaxInt32].
func NewShuffled(n int, seed uint64) (*Shuffled, error) {
	if err := checkLen(n); err != nil {
		return nil, err
	}
	return &Shuffled{n: n, seed: seed, rs: newStream()}, nil
}

// Plan returns a fresh permutation of 0, …, N−1 and nil Weights.
func (o *Shuffled) Plan(epoch int) (Plan, error) {
	if err := checkEpoch(epoch); err != nil {
		return Plan{}, err
	}
	idx := make([]int, o.n)
	permute(idx, o.rs.at(o.seed, purposeShuffle, epoch))
	o.stats = uniformStats(epoch, o.n)
	return Plan{Indices: idx}, nil
}

// Record does nothing: the order does not depend on scores.
func (o *Shuffled) Record(indices []int, scores []float32) {}

// EndEpoch does nothing but check the epoch number.
func (o *Shuffled) EndEpoch(epoch int) error { return checkEpoch(epoch) }

// KeptSize returns N.
func (o *Shuffled) KeptSize() int { return o.n }

// Stats describes the last plan.
func (o *Shuffled) Stats() Stats { return o.stats }

// State saves N and the seed, which with the epoch number determine every
// plan (each epoch's generator is derived from them).
func (o *Shuffled) State() ([]byte, error) {
	return newSeededEncoder(kindShuffled, o.n, o.seed, 0).finish(), nil
}

// Restore resumes a Shuffled saved over the same N; the saved seed replaces
// the receiver's.
func (o *Shuffled) Restore(data []byte) error {
	d, _, seed, err := openSeeded(data, kindShuffled, o.n)
	if err != nil {
		return err
	}
	if err := d.close(); err != nil {
		return err
	}
	o.seed = seed
	return nil
}
