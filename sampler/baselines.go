package sampler

import (
	"fmt"
	"math"
)

// The baselines a fair comparison needs beside SGD-S (docs/METHOD.md §7):
// uniform draws with replacement, and RS2, a fresh random subset of a fixed
// fraction of the data per epoch (Okanovic et al., ICLR 2024).

var (
	_ full = (*WithReplacement)(nil)
	_ full = (*RS2)(nil)
)

// WithReplacement draws N dataset indices per epoch uniformly with
// replacement, each with weight 1/B: the order SGD's convergence proofs
// assume. The draws of epoch e come from a PCG stream selected by (seed, e).
type WithReplacement struct {
	n     int
	seed  uint64
	rs    *stream
	stats Stats
}

// NewWithReplacement returns the with-replacement order over n samples.
func NewWithReplacement(n int, seed uint64) (*WithReplacement, error) {
	if err := checkLen(n); err != nil {
		return nil, err
	}
	return &WithReplacement{n: n, seed: seed, rs: newStream()}, nil
}

// Plan returns N indices drawn uniformly from [0, N) and nil Weights.
func (o *WithReplacement) Plan(epoch int) (Plan, error) {
	if err := checkEpoch(epoch); err != nil {
		return Plan{}, err
	}
	r := o.rs.at(o.seed, purposeWithReplacement, epoch)
	idx := make([]int, o.n)
	for i := range idx {
		idx[i] = int(r.Uint64N(uint64(o.n)))
	}
	o.stats = Stats{Epoch: epoch, Kept: o.n, Drawn: o.n, Distinct: distinct(idx, o.n), Transient: true}
	return Plan{Indices: idx}, nil
}

// Record only checks its arguments: the order does not depend on scores.
func (o *WithReplacement) Record(indices []int, scores []float32) error {
	return checkRecord(o.n, indices, scores)
}

// EndEpoch does nothing but check the epoch number.
func (o *WithReplacement) EndEpoch(epoch int) error { return checkEpoch(epoch) }

// KeptSize returns N.
func (o *WithReplacement) KeptSize() int { return o.n }

// Stats describes the last plan.
func (o *WithReplacement) Stats() Stats { return o.stats }

// State saves N and the seed.
func (o *WithReplacement) State() ([]byte, error) {
	return seededState(kindWithReplacement, o.n, o.seed, 0)
}

// Restore resumes an order saved over the same N.
func (o *WithReplacement) Restore(data []byte) error {
	seed, _, err := restoreSeeded(data, kindWithReplacement, o.n)
	if err == nil {
		o.seed = seed
	}
	return err
}

// RS2 ("repeated sampling of random subsets") visits, in every epoch, a
// fresh uniformly random subset of K = max(1, round(Frac·N)) distinct
// samples in random order, each with weight 1/B: the equal-budget baseline
// of a method that trains on a fraction of the data per epoch. The subset of
// epoch e is the first K entries of a partial Fisher–Yates shuffle drawn
// from a PCG stream selected by (seed, e), so every K-subset is equally
// likely and epochs are independent.
type RS2 struct {
	n, k  int
	frac  float64
	seed  uint64
	rs    *stream
	perm  []int
	stats Stats
}

// NewRS2 returns the RS2 order over n samples with fraction frac ∈ (0, 1].
func NewRS2(n int, frac float64, seed uint64) (*RS2, error) {
	if err := checkLen(n); err != nil {
		return nil, err
	}
	if !(frac > 0 && frac <= 1) {
		return nil, fmt.Errorf("%w: rs2 fraction %v, want 0 < frac ≤ 1", ErrBadConfig, frac)
	}
	k := max(1, int(math.Round(frac*float64(n))))
	return &RS2{n: n, k: k, frac: frac, seed: seed, rs: newStream()}, nil
}

// Plan returns K distinct indices of [0, N) and nil Weights.
func (o *RS2) Plan(epoch int) (Plan, error) {
	if err := checkEpoch(epoch); err != nil {
		return Plan{}, err
	}
	r := o.rs.at(o.seed, purposeRS2, epoch)
	if o.perm == nil {
		o.perm = make([]int, o.n)
	}
	for i := range o.perm {
		o.perm[i] = i
	}
	for i := 0; i < o.k; i++ {
		j := i + int(r.Uint64N(uint64(o.n-i)))
		o.perm[i], o.perm[j] = o.perm[j], o.perm[i]
	}
	idx := append([]int(nil), o.perm[:o.k]...)
	o.stats = Stats{Epoch: epoch, Kept: o.n, Drawn: o.k, Distinct: o.k}
	return Plan{Indices: idx}, nil
}

// Record only checks its arguments: the order does not depend on scores.
func (o *RS2) Record(indices []int, scores []float32) error {
	return checkRecord(o.n, indices, scores)
}

// EndEpoch does nothing but check the epoch number.
func (o *RS2) EndEpoch(epoch int) error { return checkEpoch(epoch) }

// KeptSize returns K, the samples of each epoch.
func (o *RS2) KeptSize() int { return o.k }

// Stats describes the last plan.
func (o *RS2) Stats() Stats { return o.stats }

// State saves N, the seed and the fraction.
func (o *RS2) State() ([]byte, error) { return seededState(kindRS2, o.n, o.seed, o.frac) }

// Restore resumes an RS2 order saved over the same N and fraction.
func (o *RS2) Restore(data []byte) error {
	seed, frac, err := restoreSeeded(data, kindRS2, o.n)
	if err != nil {
		return err
	}
	if frac != o.frac {
		return fmt.Errorf("%w: RS2 state for fraction %v, receiver has %v", ErrStateMismatch, frac, o.frac)
	}
	o.seed = seed
	return nil
}

// seededState saves an order defined by N, a seed and one parameter.
func seededState(kind byte, n int, seed uint64, param float64) ([]byte, error) {
	e := newSeededEncoder(kind, n, seed, 8)
	e.f64(param)
	return e.finish(), nil
}

// restoreSeeded reads what seededState saved and checks N.
func restoreSeeded(data []byte, kind byte, have int) (seed uint64, param float64, err error) {
	d, _, seed, err := openSeeded(data, kind, have)
	if err != nil {
		return 0, 0, err
	}
	param = d.f64()
	if err := d.close(); err != nil {
		return 0, 0, err
	}
	return seed, param, nil
}

// distinct counts the distinct values of idx, all in [0, n).
func distinct(idx []int, n int) int {
	seen := make([]bool, n)
	c := 0
	for _, i := range idx {
		if !seen[i] {
			seen[i] = true
			c++
		}
	}
	return c
}
