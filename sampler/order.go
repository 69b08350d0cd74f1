package sampler

import (
	"fmt"
	"iter"
	"math"
)

// Plan is one epoch's work: dataset indices in the order to visit them, and
// per-position weights for the batch cost. Train on it batch by batch with
// [Plan.Batches], which hands out the weights either way.
type Plan struct {
	// Indices are dataset indices; with replacement in steady-state
	// epochs of a Schedule, so an index may repeat.
	Indices []int
	// Weights, when not nil, has len(Indices) entries: Weights[k] is the
	// weight of the loss of sample Indices[k] in the batch cost Σ w·L.
	// Nil means every sample gets 1/B.
	//
	// Which plans set them: a [Schedule] sets them in every steady-state
	// epoch with its default configuration (Debias β = 0.75, see
	// [ScheduleConfig.Debias]) and with Unbiased, and leaves them nil only
	// in its uniform epochs (transient and annealing) and with β = 0 (the
	// biased variant); [InfoBatch] sets them in the epochs it prunes.
	// Ignoring them trains a different method (the biased one).
	Weights []float64
}

// Batches returns an iterator over the plan's batches of b positions (the
// last one may be shorter), in order: each yields the batch's dataset
// indices and their loss weights, the plan's Weights at those positions or,
// when Weights is nil, 1/b for every sample (also in a short last batch,
// as the engine weighs it). Train each batch on Σ_k w_k·L(idx_k), then
// Record the losses under the same indices. The yielded slices alias the
// plan (the 1/b weights share one slice): read them, do not modify them.
// Batches panics if b < 1 or if Weights is set with a length other than
// len(Indices).
func (p Plan) Batches(b int) iter.Seq2[[]int, []float64] {
	if b < 1 {
		panic(fmt.Sprintf("sampler: Batches of %d samples", b))
	}
	if p.Weights != nil && len(p.Weights) != len(p.Indices) {
		panic(fmt.Sprintf("sampler: plan with %d indices and %d weights", len(p.Indices), len(p.Weights)))
	}
	return func(yield func([]int, []float64) bool) {
		var plain []float64
		if p.Weights == nil {
			plain = make([]float64, min(b, len(p.Indices)))
			for k := range plain {
				plain[k] = 1 / float64(b)
			}
		}
		for start := 0; start < len(p.Indices); start += b {
			end := min(start+b, len(p.Indices))
			var w []float64
			if p.Weights != nil {
				w = p.Weights[start:end:end]
			} else {
				w = plain[: end-start : end-start]
			}
			if !yield(p.Indices[start:end:end], w) {
				return
			}
		}
	}
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

// Order is what the trainer asks for each epoch: the one order contract
// of sgds, which every order of this package and the training package's
// peer orders implement, and which the trainer (package training) drives.
// Epochs are 1-based; Plan is called once at the start of each epoch,
// Record after every step, EndEpoch at the end of each epoch.
//
// Plans are owned by the caller: an order does not keep or reuse the
// returned slices.
//
// An order may also save its state ([Stateful]) and report the statistics
// of its last plan ([StatsReporter]); every order of this package does
// both, and has a KeptSize.
type Order interface {
	// Plan returns the work of an epoch: the dataset indices of epoch
	// (1-based) in visiting order, and optional per-position cost weights
	// (nil means 1/B).
	Plan(epoch int) (Plan, error)
	// Record stores per-sample scores (losses) of a step: scores[k] is the
	// score of dataset index indices[k]. It does not allocate. It returns
	// an error wrapping [ErrBadIndex], and records nothing, when the
	// slices differ in length or an index is outside [0, N); the scores
	// themselves are checked by Plan and EndEpoch ([ErrBadScore]).
	Record(indices []int, scores []float32) error
	// EndEpoch closes an epoch: the order may update itself after it.
	EndEpoch(epoch int) error
}

// Stateful orders can save and restore their state (scores, kept set,
// generator) so that a resumed run draws the same samples: State saves the
// order; Restore resumes a saved order.
type Stateful interface {
	State() ([]byte, error)
	Restore(data []byte) error
}

// StatsReporter is implemented by orders that report kept-set statistics:
// Stats describes the last plan.
type StatsReporter interface {
	Stats() Stats
}

// full is what every order of this package implements.
type full interface {
	Order
	Stateful
	StatsReporter
	// KeptSize is the number of samples the next plan draws from.
	KeptSize() int
}

var (
	_ full = (*Sequential)(nil)
	_ full = (*Shuffled)(nil)
	_ full = (*Schedule)(nil)
)

// checkLen reports an invalid data set size.
func checkLen(n int) error {
	if n < 1 || n > math.MaxInt32 {
		return fmt.Errorf("%w: data set size %d, want 1 ≤ N ≤ %d", ErrBadConfig, n, math.MaxInt32)
	}
	return nil
}

// checkRecord reports a Record whose slices differ in length or that
// names an index outside [0, n).
func checkRecord(n int, indices []int, scores []float32) error {
	if len(indices) != len(scores) {
		return fmt.Errorf("%w: Record with %d indices and %d scores", ErrBadIndex, len(indices), len(scores))
	}
	for _, i := range indices {
		if i < 0 || i >= n {
			return fmt.Errorf("%w: Record of dataset index %d, want 0 ≤ i < %d", ErrBadIndex, i, n)
		}
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

// Record only checks its arguments: the order does not depend on scores.
func (o *Sequential) Record(indices []int, scores []float32) error {
	return checkRecord(o.n, indices, scores)
}

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

// Record only checks its arguments: the order does not depend on scores.
func (o *Shuffled) Record(indices []int, scores []float32) error {
	return checkRecord(o.n, indices, scores)
}

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
