package sampler

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

var _ full = (*Kakurenbo)(nil)

// KakurenboConfig holds the knobs of [Kakurenbo]. Its JSON form holds the
// knobs a user sets (hide, tau); BatchSize comes from the run.
type KakurenboConfig struct {
	// BatchSize B enters the weights 1/((1−h)·B). Must be ≥ 1.
	BatchSize int `json:"-"`
	// MaxHide is F: at most ⌊F·N⌋ samples are hidden per epoch. In
	// [0, 1).
	MaxHide float64 `json:"hide"`
	// Confidence is τ: a sample is confidently learned when its latest
	// loss L_i ≤ −ln τ. In (0, 1].
	Confidence float64 `json:"tau"`
}

// DefaultKakurenboConfig returns the paper's defaults: batch 64, F = 0.3,
// τ = 0.7.
func DefaultKakurenboConfig() KakurenboConfig {
	return KakurenboConfig{BatchSize: 64, MaxHide: 0.3, Confidence: 0.7}
}

// Validate reports the first invalid field, wrapping [ErrBadConfig].
func (c KakurenboConfig) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: kakurenbo "+format, append([]any{ErrBadConfig}, args...)...)
	}
	switch {
	case c.BatchSize < 1 || c.BatchSize > math.MaxInt32:
		return bad("BatchSize is %d, want 1 ≤ BatchSize ≤ %d", c.BatchSize, math.MaxInt32)
	case !(c.MaxHide >= 0 && c.MaxHide < 1):
		return bad("MaxHide is %v, want 0 ≤ MaxHide < 1", c.MaxHide)
	case !(c.Confidence > 0 && c.Confidence <= 1):
		return bad("Confidence is %v, want 0 < Confidence ≤ 1", c.Confidence)
	}
	return nil
}

// LossThreshold returns −ln τ, the largest loss of a confidently learned
// sample.
func (c KakurenboConfig) LossThreshold() float64 { return -math.Log(c.Confidence) }

// Kakurenbo is the order of "KAKURENBO: Adaptively Hiding Samples in Deep
// Neural Network Training" (Nguyen et al., NeurIPS 2023): each epoch hides
// the best-learned samples, trains on the rest without replacement, and
// brings back hidden samples the model no longer predicts confidently.
//
// A sample is confidently learned when its latest recorded loss satisfies
// L_i ≤ −ln τ. For a negative log-likelihood, exp(−L_i) is the probability
// the model gives the true class, so L_i ≤ −ln τ means that probability is
// at least τ, and with τ > 0.5 the true class is also the predicted one
// (the paper's two conditions, correct and confident, in one). Epoch e
// hides
//
//	H = min(⌊F·N⌋, |C|)
//
// samples of the confident set C: those with the lowest losses, ties broken
// by a random key per sample drawn from a PCG stream selected by (seed, e).
// The plan visits the other N − H samples once each in a fresh random order
// with the weights
//
//	w = 1/((1 − h)·B),   h = H/N,
//
// the paper's learning-rate compensation (lr·N/(N−H)) written as loss
// weights: an epoch's total weight stays N/B, as with the full data set.
// Samples never scored are never hidden; before any score the plan is a
// plain shuffled epoch (nil Weights, as a [Shuffled] with the same seed).
//
// [Kakurenbo.Hidden] lists the samples hidden in the current epoch. The
// trainer must score them with a forward-only pass and Record their losses
// before EndEpoch: a hidden sample whose refreshed loss is above −ln τ is
// no longer confident and is trained on again next epoch (the paper's
// "move back"); one not refreshed keeps its old, low loss and stays
// hidden (see [Kakurenbo.Stale]).
//
// The paper also shrinks F as the learning rate decays; SetMaxHide changes
// F between epochs for a caller that wants that.
//
// A Kakurenbo is not safe for concurrent use.
type Kakurenbo struct {
	n     int
	cfg   KakurenboConfig
	seed  uint64
	ended int
	book  scoreBook

	rs      *stream
	rank    []rankEntry
	hidden  []int    // ascending dataset indices hidden in the last plan
	planned int      // epoch of the last plan (0: none)
	seen    []uint32 // by dataset index: epoch of its last Record
	stats   Stats
}

// NewKakurenbo returns the KAKURENBO order over n samples (1 ≤ n ≤
// math.MaxInt32), with no scores.
func NewKakurenbo(n int, cfg KakurenboConfig, seed uint64) (*Kakurenbo, error) {
	if err := checkLen(n); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Kakurenbo{n: n, cfg: cfg, seed: seed, book: newScoreBook(n), rs: newStream(), seen: make([]uint32, n)}, nil
}

// Config returns the order's configuration.
func (o *Kakurenbo) Config() KakurenboConfig { return o.cfg }

// SetMaxHide sets F for the plans that follow; f must be in [0, 1).
func (o *Kakurenbo) SetMaxHide(f float64) error {
	c := o.cfg
	c.MaxHide = f
	if err := c.Validate(); err != nil {
		return err
	}
	o.cfg = c
	return nil
}

// Score returns the recorded score of dataset index i, and whether one was
// recorded.
func (o *Kakurenbo) Score(i int) (float32, bool) { return o.book.scores[i], o.book.recorded[i] }

// Record stores scores[k] as the loss of dataset index indices[k], from a
// training step or from the forward-only pass over the hidden samples. It
// does not allocate and does not validate the scores (Plan does). If the
// slices differ in length or an index is outside [0, N) it records nothing
// and returns an error wrapping [ErrBadIndex].
func (o *Kakurenbo) Record(indices []int, scores []float32) error {
	if err := o.book.record(indices, scores); err != nil {
		return err
	}
	cur := uint32(o.ended + 1)
	for _, i := range indices {
		o.seen[i] = cur
	}
	return nil
}

// Hidden returns, ascending, the dataset indices hidden in the current
// epoch (since the last Plan); the caller owns the slice.
func (o *Kakurenbo) Hidden() []int { return slices.Clone(o.hidden) }

// Stale returns how many samples hidden in the current epoch have had no
// score recorded since it began. The trainer should have refreshed them all
// by EndEpoch; a stale one keeps its old loss and stays hidden.
func (o *Kakurenbo) Stale() int {
	cur := uint32(o.ended + 1)
	if o.planned != o.ended+1 {
		return 0
	}
	c := 0
	for _, i := range o.hidden {
		if o.seen[i] != cur {
			c++
		}
	}
	return c
}

// KeptSize returns N − H of the last plan (N before the first).
func (o *Kakurenbo) KeptSize() int { return o.n - len(o.hidden) }

// Stats describes the last plan: Kept = Drawn = Distinct = N − H; Transient
// when nothing was hidden; Unscored counts the samples without a score.
func (o *Kakurenbo) Stats() Stats { return o.stats }

// Plan returns the work of epoch, which must be the epoch after the last one
// passed to EndEpoch, and sets the hidden set. Called again before any
// Record, it returns the same plan.
func (o *Kakurenbo) Plan(epoch int) (Plan, error) {
	if err := checkNextEpoch(kindKakurenbo, "Plan", epoch, o.ended); err != nil {
		return Plan{}, err
	}
	if err := o.book.check(); err != nil {
		return Plan{}, fmt.Errorf("kakurenbo plan of epoch %d: %w", epoch, err)
	}
	o.hide(epoch)
	o.planned = epoch
	h := len(o.hidden)
	k := o.n - h
	idx := make([]int, k)
	permute(idx, o.rs.at(o.seed, purposeShuffle, epoch))
	scored := 0
	for _, r := range o.book.recorded {
		if r {
			scored++
		}
	}
	o.stats = Stats{Epoch: epoch, Kept: k, Drawn: k, Distinct: k, Unscored: o.n - scored, Transient: h == 0}
	if h == 0 {
		return Plan{Indices: idx}, nil
	}
	// Map positions to the visible dataset indices (ascending).
	visible := make([]int, 0, k)
	next := 0
	for i := range o.n {
		if next < h && o.hidden[next] == i {
			next++
			continue
		}
		visible = append(visible, i)
	}
	wt := float64(o.n) / (float64(k) * float64(o.cfg.BatchSize))
	w := make([]float64, k)
	for j, pos := range idx {
		idx[j] = visible[pos]
		w[j] = wt
	}
	return Plan{Indices: idx, Weights: w}, nil
}

// hide sets o.hidden to the min(⌊F·N⌋, |C|) lowest-loss confident samples.
func (o *Kakurenbo) hide(epoch int) {
	o.hidden = o.hidden[:0]
	limit := int(math.Floor(o.cfg.MaxHide * float64(o.n)))
	if limit == 0 {
		return
	}
	thr := o.cfg.LossThreshold()
	tie := o.rs.at(o.seed, purposeKakurenboTie, epoch).Uint64()
	o.rank = o.rank[:0]
	for i, v := range o.book.scores {
		if o.book.recorded[i] && float64(v) <= thr {
			o.rank = append(o.rank, rankEntry{score: float64(v), key: mix64(tie ^ uint64(i)), idx: i})
		}
	}
	if len(o.rank) > limit {
		slices.SortFunc(o.rank, func(x, y rankEntry) int {
			if c := cmp.Compare(x.score, y.score); c != 0 {
				return c
			}
			if c := cmp.Compare(x.key, y.key); c != 0 {
				return c
			}
			return cmp.Compare(x.idx, y.idx)
		})
		o.rank = o.rank[:limit]
	}
	for _, e := range o.rank {
		o.hidden = append(o.hidden, e.idx)
	}
	slices.Sort(o.hidden)
}

// EndEpoch closes epoch, which must be the epoch after the last one closed.
func (o *Kakurenbo) EndEpoch(epoch int) error {
	if err := checkNextEpoch(kindKakurenbo, "EndEpoch", epoch, o.ended); err != nil {
		return err
	}
	o.ended = epoch
	return nil
}

// State saves the order: N, seed, configuration, the last closed epoch and
// the losses. The hidden set is not saved: the next Plan recomputes it from
// the losses, so save at an epoch boundary, after the hidden samples'
// losses were refreshed.
func (o *Kakurenbo) State() ([]byte, error) {
	e := newSeededEncoder(kindKakurenbo, o.n, o.seed, 32+o.book.size())
	e.u64(uint64(o.cfg.BatchSize))
	e.f64(o.cfg.MaxHide)
	e.f64(o.cfg.Confidence)
	e.u64(uint64(o.ended))
	o.book.encode(e)
	return e.finish(), nil
}

// Restore resumes an order saved by State over the same N; the saved seed
// and configuration replace the receiver's. On error (wrapping
// [ErrCorruptState] or [ErrStateMismatch]) the receiver is unchanged.
func (o *Kakurenbo) Restore(data []byte) error {
	d, _, seed, err := openSeeded(data, kindKakurenbo, o.n)
	if err != nil {
		return err
	}
	var c KakurenboConfig
	c.BatchSize = d.count("BatchSize", math.MaxInt32)
	c.MaxHide = d.f64()
	c.Confidence = d.f64()
	ended := d.count("epoch", math.MaxInt32-1)
	d.check(c.Validate())
	raw, bits := o.book.decode(d)
	if err := d.close(); err != nil {
		return err
	}
	if err := o.book.commit(raw, bits); err != nil {
		return err
	}
	o.seed, o.cfg, o.ended, o.stats = seed, c, ended, Stats{}
	o.hidden, o.planned = o.hidden[:0], 0
	clear(o.seen)
	return nil
}
