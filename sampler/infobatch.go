package sampler

import (
	"encoding/binary"
	"fmt"
	"math"
)

var _ full = (*InfoBatch)(nil)

// InfoBatchConfig holds the knobs of [InfoBatch]. Its JSON form holds the
// knobs a user sets (r, anneal); BatchSize and Epochs come from the run.
type InfoBatchConfig struct {
	// BatchSize B enters the weights 1/B and 1/((1−r)·B). Must be ≥ 1.
	BatchSize int `json:"-"`
	// Prune is r, the probability with which a sample whose score is
	// below the mean is skipped in a pruning epoch. In [0, 1).
	Prune float64 `json:"r"`
	// Epochs is E, the number of epochs the run plans. Must be ≥ 1.
	Epochs int `json:"-"`
	// Anneal is δ: epochs after round(δ·E) use the full data set. In
	// [0, 1].
	Anneal float64 `json:"anneal"`
}

// DefaultInfoBatchConfig returns the paper's defaults for a run of epochs
// epochs: batch 64, r = 0.5, δ = 0.875 (full data in the last 12.5% of
// the epochs).
func DefaultInfoBatchConfig(epochs int) InfoBatchConfig {
	return InfoBatchConfig{BatchSize: 64, Prune: 0.5, Epochs: epochs, Anneal: 0.875}
}

// Validate reports the first invalid field, wrapping [ErrBadConfig].
func (c InfoBatchConfig) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: infobatch "+format, append([]any{ErrBadConfig}, args...)...)
	}
	switch {
	case c.BatchSize < 1 || c.BatchSize > math.MaxInt32:
		return bad("BatchSize is %d, want 1 ≤ BatchSize ≤ %d", c.BatchSize, math.MaxInt32)
	case !(c.Prune >= 0 && c.Prune < 1):
		return bad("Prune is %v, want 0 ≤ Prune < 1", c.Prune)
	case c.Epochs < 1 || c.Epochs > math.MaxInt32:
		return bad("Epochs is %d, want 1 ≤ Epochs ≤ %d", c.Epochs, math.MaxInt32)
	case !(c.Anneal >= 0 && c.Anneal <= 1):
		return bad("Anneal is %v, want 0 ≤ Anneal ≤ 1", c.Anneal)
	}
	return nil
}

// lastPruned returns round(δ·E), the last epoch that may prune.
func (c InfoBatchConfig) lastPruned() int {
	return int(math.Round(c.Anneal * float64(c.Epochs)))
}

// InfoBatch is the order of "InfoBatch: Lossless Training Speed Up by
// Unbiased Dynamic Data Pruning" (Qin et al., ICLR 2024): soft random
// pruning of the well-learned samples with an unbiased rescaling of the
// kept ones, and annealing back to the full data set at the end.
//
// Epoch e uses the full data set (every sample once, in a fresh seeded
// shuffled order, nil Weights: 1/B each) when e > round(δ·E) or when no
// score has been recorded yet. Otherwise, with s_i the latest recorded
// score of sample i and
//
//	m = (1/|S|)·Σ_{i∈S} s_i,   S = the samples with a recorded score,
//
// each i ∈ S with s_i < m is skipped with probability r (an independent
// coin per sample and epoch), and the plan visits the kept samples once
// each in a fresh random order with the weights
//
//	w_i = 1/((1−r)·B)   if i ∈ S and s_i < m,
//	w_i = 1/B           otherwise (above the mean, or never scored).
//
// A below-mean sample is kept with probability 1−r, so
// E[Σ_{i kept} w_i·L_i] = (1/B)·Σ_i L_i: the expected cost of an epoch, and
// hence the expected gradient, equals that of the full data set. Skipped
// samples keep their last score until they are visited again.
//
// The coins of epoch e come from a PCG stream selected by (seed, e), one
// uniform per dataset index in ascending order, so whether sample i is
// skipped depends only on the seed, the epoch, s_i and m. Scores are kept
// by dataset index; a recorded score that is NaN, infinite or negative
// makes Plan fail with [ErrBadScore].
//
// An InfoBatch is not safe for concurrent use.
type InfoBatch struct {
	n     int
	cfg   InfoBatchConfig
	seed  uint64
	ended int // last epoch closed by EndEpoch
	book  scoreBook

	rs    *stream
	kept  []int
	stats Stats
}

// NewInfoBatch returns the InfoBatch order over n samples (1 ≤ n ≤
// math.MaxInt32), with no scores.
func NewInfoBatch(n int, cfg InfoBatchConfig, seed uint64) (*InfoBatch, error) {
	if err := checkLen(n); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &InfoBatch{n: n, cfg: cfg, seed: seed, book: newScoreBook(n), rs: newStream()}, nil
}

// Config returns the order's configuration.
func (o *InfoBatch) Config() InfoBatchConfig { return o.cfg }

// Score returns the recorded score of dataset index i, and whether one was
// recorded.
func (o *InfoBatch) Score(i int) (float32, bool) { return o.book.scores[i], o.book.recorded[i] }

// Record stores scores[k] as the score of dataset index indices[k]. It does
// not allocate and does not validate the scores (Plan does). If the slices
// differ in length or an index is outside [0, N) it records nothing and
// returns an error wrapping [ErrBadIndex].
func (o *InfoBatch) Record(indices []int, scores []float32) error {
	return o.book.record(indices, scores)
}

// KeptSize returns N: every plan draws from the whole data set (the number
// a pruning plan keeps is random; see Stats).
func (o *InfoBatch) KeptSize() int { return o.n }

// Stats describes the last plan. Kept, Drawn and Distinct are all the
// number of samples the plan visits; Transient marks a full-data epoch,
// Uniform a pruning epoch that had no score to prune by, Unscored the
// visited samples without a score.
func (o *InfoBatch) Stats() Stats { return o.stats }

// Plan returns the work of epoch, which must be the epoch after the last one
// passed to EndEpoch. Called again before any Record, it returns the same
// plan.
func (o *InfoBatch) Plan(epoch int) (Plan, error) {
	if err := checkNextEpoch(kindInfoBatch, "Plan", epoch, o.ended); err != nil {
		return Plan{}, err
	}
	if err := o.book.check(); err != nil {
		return Plan{}, fmt.Errorf("infobatch plan of epoch %d: %w", epoch, err)
	}
	m, scored := o.book.mean()
	if epoch > o.cfg.lastPruned() || scored == 0 {
		idx := make([]int, o.n)
		permute(idx, o.rs.at(o.seed, purposeShuffle, epoch))
		o.stats = uniformStats(epoch, o.n)
		o.stats.Uniform = epoch <= o.cfg.lastPruned()
		o.stats.Unscored = o.n - scored
		return Plan{Indices: idx}, nil
	}

	r := o.cfg.Prune
	coins := o.rs.at(o.seed, purposeInfoBatch, epoch)
	o.kept = o.kept[:0]
	for i := range o.n {
		u := coins.Float64() // one per index, whatever its score
		if o.book.recorded[i] && float64(o.book.scores[i]) < m && u < r {
			continue
		}
		o.kept = append(o.kept, i)
	}
	k := len(o.kept)
	idx := make([]int, k)
	permute(idx, o.rs.at(o.seed, purposeShuffle, epoch))
	b := float64(o.cfg.BatchSize)
	wLow, wHigh := 1/((1-r)*b), 1/b
	w := make([]float64, k)
	for j, pos := range idx {
		i := o.kept[pos]
		idx[j] = i
		if o.book.recorded[i] && float64(o.book.scores[i]) < m {
			w[j] = wLow
		} else {
			w[j] = wHigh
		}
	}
	o.stats = Stats{Epoch: epoch, Kept: k, Drawn: k, Distinct: k, Unscored: o.n - scored}
	return Plan{Indices: idx, Weights: w}, nil
}

// EndEpoch closes epoch, which must be the epoch after the last one closed.
func (o *InfoBatch) EndEpoch(epoch int) error {
	if err := checkNextEpoch(kindInfoBatch, "EndEpoch", epoch, o.ended); err != nil {
		return err
	}
	o.ended = epoch
	return nil
}

// State saves the order: N, seed, configuration, the last closed epoch and
// the scores. Save at an epoch boundary for a resumed run to continue with
// the same plans.
func (o *InfoBatch) State() ([]byte, error) {
	e := newSeededEncoder(kindInfoBatch, o.n, o.seed, 40+o.book.size())
	e.u64(uint64(o.cfg.BatchSize))
	e.f64(o.cfg.Prune)
	e.u64(uint64(o.cfg.Epochs))
	e.f64(o.cfg.Anneal)
	e.u64(uint64(o.ended))
	o.book.encode(e)
	return e.finish(), nil
}

// Restore resumes an order saved by State over the same N; the saved seed
// and configuration replace the receiver's, but for Epochs, the run's
// planned length, which stays the receiver's (a resumed run may be longer).
// On error (wrapping [ErrCorruptState] or [ErrStateMismatch]) the receiver
// is unchanged.
func (o *InfoBatch) Restore(data []byte) error {
	d, _, seed, err := openSeeded(data, kindInfoBatch, o.n)
	if err != nil {
		return err
	}
	var c InfoBatchConfig
	c.BatchSize = d.count("BatchSize", math.MaxInt32)
	c.Prune = d.f64()
	c.Epochs = d.count("Epochs", math.MaxInt32)
	c.Anneal = d.f64()
	ended := d.count("epoch", math.MaxInt32-1)
	d.check(c.Validate())
	raw, bits := o.book.decode(d)
	if err := d.close(); err != nil {
		return err
	}
	if err := o.book.commit(raw, bits); err != nil {
		return err
	}
	// The run's planned length is the receiver's, not the saved one: a
	// resumed run may train for more epochs, and the annealing follows it.
	c.Epochs = o.cfg.Epochs
	o.seed, o.cfg, o.ended, o.stats = seed, c, ended, Stats{}
	return nil
}

// checkNextEpoch reports an epoch that is not the one after the last closed
// one.
func checkNextEpoch(kind byte, op string, epoch, ended int) error {
	if err := checkEpoch(epoch); err != nil {
		return err
	}
	if epoch != ended+1 {
		return fmt.Errorf("%w: %s.%s(%d), but the next epoch is %d", ErrEpoch, kindName(kind), op, epoch, ended+1)
	}
	return nil
}

// scoreBook holds the latest score of every dataset index, for the orders
// that rank samples by loss (InfoBatch, Kakurenbo).
type scoreBook struct {
	scores   []float32 // by dataset index
	recorded []bool    // by dataset index: scores[i] was recorded
}

func newScoreBook(n int) scoreBook {
	return scoreBook{scores: make([]float32, n), recorded: make([]bool, n)}
}

// record stores scores[k] as the score of dataset index indices[k].
func (b *scoreBook) record(indices []int, scores []float32) error {
	if err := checkRecord(len(b.scores), indices, scores); err != nil {
		return err
	}
	for k, i := range indices {
		b.scores[i] = scores[k]
		b.recorded[i] = true
	}
	return nil
}

// check reports the lowest dataset index with a bad recorded score.
func (b *scoreBook) check() error {
	for i, v := range b.scores {
		if b.recorded[i] && !(v >= 0 && v <= math.MaxFloat32) {
			return fmt.Errorf("%w: dataset index %d has score %v", ErrBadScore, i, v)
		}
	}
	return nil
}

// mean returns the mean of the recorded scores (at most their maximum, so
// that rounding never puts every sample below it) and how many there are.
func (b *scoreBook) mean() (m float64, scored int) {
	var k kahan
	hi := 0.0
	for i, v := range b.scores {
		if b.recorded[i] {
			k.add(float64(v))
			hi = max(hi, float64(v))
			scored++
		}
	}
	if scored == 0 {
		return 0, 0
	}
	return min(k.sum()/float64(scored), hi), scored
}

// size is the number of bytes encode appends.
func (b *scoreBook) size() int { return 4*len(b.scores) + (len(b.scores)+7)/8 }

// encode appends the scores, then the recorded flags as a bit set.
func (b *scoreBook) encode(e *encoder) {
	for _, v := range b.scores {
		e.u32(math.Float32bits(v))
	}
	var bits byte
	for i, r := range b.recorded {
		if r {
			bits |= 1 << (i % 8)
		}
		if i%8 == 7 || i == len(b.recorded)-1 {
			e.u8(bits)
			bits = 0
		}
	}
}

// decode reads what encode wrote, for a book of the receiver's size.
func (b *scoreBook) decode(d *decoder) (raw, bits []byte) {
	n := len(b.scores)
	return d.take(4 * n), d.take((n + 7) / 8)
}

// commit replaces the book with decoded contents, or reports flags set
// beyond N.
func (b *scoreBook) commit(raw, bits []byte) error {
	n := len(b.scores)
	if n%8 != 0 && bits[len(bits)-1]>>(n%8) != 0 {
		return fmt.Errorf("%w: recorded flags beyond N", ErrCorruptState)
	}
	for i := range b.scores {
		b.scores[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		b.recorded[i] = bits[i/8]>>(i%8)&1 != 0
	}
	return nil
}
