package sampler

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
)

// ReaddScore says which score a re-added sample starts with.
type ReaddScore string

const (
	// ReaddLast keeps the sample's last recorded score (the published
	// method). Re-added samples were dropped for having low scores, so
	// they are rarely drawn again.
	ReaddLast ReaddScore = "last"
	// ReaddMean gives the sample the mean score of the kept samples that
	// survived the drop, so that it is drawn about as often as an average
	// kept sample until it is scored again.
	ReaddMean ReaddScore = "mean"
)

// ScheduleConfig holds the knobs of the SGD-S schedule (see the package
// documentation for the rules they enter).
type ScheduleConfig struct {
	// BatchSize B enters the unbiased weights 1/(B·K·p_i). Must be ≥ 1.
	BatchSize int `json:"batch_size"`
	// TransientEpochs is the number of uniform shuffled epochs before
	// the steady state. Must be ≥ 0; with 0 the first steady-state epoch
	// has no scores and draws uniformly.
	TransientEpochs int `json:"transient_epochs"`
	// DropFrac is the fraction of the kept set dropped (lowest scores
	// first) at the end of each steady-state epoch: round(DropFrac·K)
	// samples. In [0, 1).
	DropFrac float64 `json:"drop_frac"`
	// ReaddFrac is the fraction of the data set re-added from the samples
	// outside the kept set at the end of each steady-state epoch:
	// round(ReaddFrac·N) samples, or all of them if fewer. In [0, 1).
	ReaddFrac float64 `json:"readd_frac"`
	// KeptFloor: pruning never leaves fewer than max(1, round(KeptFloor·N))
	// kept samples. In [0, 1].
	KeptFloor float64 `json:"kept_floor"`
	// Mix is λ in p_i = (1 − λ)·s_i/Σs + λ/K. In [0, 1]; 1 is uniform
	// sampling with replacement from the kept set.
	Mix float64 `json:"mix"`
	// ReaddScore is the score a re-added sample starts with.
	ReaddScore ReaddScore `json:"readd_score"`
	// Unbiased makes plans carry the weights w_i = 1/(B·K·p_i); it is
	// Debias 1 and overrides Debias.
	Unbiased bool `json:"unbiased"`
	// Debias is β in [0, 1]: plans carry the weights
	// w_i = (K·p_i)^(−β) / (B·Σ_l p_l·(K·p_l)^(−β)), whose mean under the
	// draws is 1/B. β = 0 is the biased method (w = 1/B, no weights),
	// β = 1 the unbiased weights 1/(B·K·p_i); in between the gradient
	// leans towards high scores by the factor (K·p_i)^(1−β) instead of
	// K·p_i.
	Debias float64 `json:"debias"`
	// FinalFull is a: the last round(a·Epochs) epochs visit the full data
	// set, every sample once in a fresh shuffled order (recording scores),
	// and do not prune (annealing back to the full data, as InfoBatch
	// ends). In [0, 1]; 0 never anneals.
	FinalFull float64 `json:"final_full"`
	// MixRamp R eases the switch from the transient epochs to score-driven
	// draws: steady-state epoch j = 1 … R mixes with
	// λ_j = λ + (1 − λ)·(R + 1 − j)/(R + 1) instead of λ. Must be ≥ 0.
	MixRamp int `json:"mix_ramp"`
	// Systematic draws the K samples of a steady-state epoch by systematic
	// sampling instead of K independent draws: kept sample i is drawn
	// ⌊K·p_i⌋ or ⌈K·p_i⌉ times, K·p_i times on average (so the unbiased
	// weights stay unbiased), and the draws are then shuffled. Every
	// sample with K·p_i ≥ 1 is visited; the counts vary far less than
	// with independent draws.
	Systematic bool `json:"systematic"`
	// Epochs is E, the number of epochs the run plans; 0 (unknown) never
	// anneals. Must be ≥ 0.
	Epochs int `json:"epochs,omitempty"`
}

// beta returns the debiasing exponent β of the weights: 1 when Unbiased,
// else Debias.
func (c ScheduleConfig) beta() float64 {
	if c.Unbiased {
		return 1
	}
	return c.Debias
}

// mixAt returns the mixing weight λ of epoch (a steady-state epoch).
func (c ScheduleConfig) mixAt(epoch int) float64 {
	j := epoch - c.TransientEpochs
	if j < 1 || j > c.MixRamp {
		return c.Mix
	}
	return c.Mix + (1-c.Mix)*float64(c.MixRamp+1-j)/float64(c.MixRamp+1)
}

// firstFull returns the first annealing epoch, E − round(a·E) + 1, or 0
// when the schedule never anneals.
func (c ScheduleConfig) firstFull() int {
	full := int(math.Round(c.FinalFull * float64(c.Epochs)))
	if full == 0 {
		return 0
	}
	return c.Epochs - full + 1
}

// uniformEpoch reports whether epoch visits the full data set in a
// shuffled order: a transient or an annealing epoch.
func (c ScheduleConfig) uniformEpoch(epoch int) bool {
	f := c.firstFull()
	return epoch <= c.TransientEpochs || f > 0 && epoch >= f
}

// DefaultScheduleConfig returns the method's defaults: batch 64, one
// transient epoch, drop 10% of the kept set and re-add 1% of the data set
// per epoch, no floor, half of each draw uniform (λ = 0.5), systematic
// draws, re-added samples keep their last score, weights debiased with
// β = 0.75 (w ∝ (K·p)^(−0.75)), no annealing. The mixing, the systematic
// draws and β were chosen on validation data (docs/METHOD.md §3.1): the
// post's method (λ = 0, independent draws, biased) fell up to 11 points
// below uniform SGD on Fashion-MNIST, and the biased draws swung by 3
// points at momentum 0.9.
func DefaultScheduleConfig() ScheduleConfig {
	return ScheduleConfig{
		BatchSize:       64,
		TransientEpochs: 1,
		DropFrac:        0.10,
		ReaddFrac:       0.01,
		KeptFloor:       0,
		Mix:             0.5,
		ReaddScore:      ReaddLast,
		Unbiased:        false,
		Debias:          0.75,
		Systematic:      true,
	}
}

// Validate reports the first invalid field, wrapping [ErrBadConfig].
func (c ScheduleConfig) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrBadConfig}, args...)...)
	}
	switch {
	case c.BatchSize < 1:
		return bad("BatchSize is %d, want ≥ 1", c.BatchSize)
	case c.TransientEpochs < 0 || c.TransientEpochs > math.MaxInt32:
		return bad("TransientEpochs is %d, want 0 ≤ TransientEpochs ≤ %d", c.TransientEpochs, math.MaxInt32)
	case !(c.DropFrac >= 0 && c.DropFrac < 1):
		return bad("DropFrac is %v, want 0 ≤ DropFrac < 1", c.DropFrac)
	case !(c.ReaddFrac >= 0 && c.ReaddFrac < 1):
		return bad("ReaddFrac is %v, want 0 ≤ ReaddFrac < 1", c.ReaddFrac)
	case !(c.KeptFloor >= 0 && c.KeptFloor <= 1):
		return bad("KeptFloor is %v, want 0 ≤ KeptFloor ≤ 1", c.KeptFloor)
	case !(c.Mix >= 0 && c.Mix <= 1):
		return bad("Mix is %v, want 0 ≤ Mix ≤ 1", c.Mix)
	case !(c.Debias >= 0 && c.Debias <= 1):
		return bad("Debias is %v, want 0 ≤ Debias ≤ 1", c.Debias)
	case !(c.FinalFull >= 0 && c.FinalFull <= 1):
		return bad("FinalFull is %v, want 0 ≤ FinalFull ≤ 1", c.FinalFull)
	case c.MixRamp < 0 || c.MixRamp > math.MaxInt32:
		return bad("MixRamp is %d, want 0 ≤ MixRamp ≤ %d", c.MixRamp, math.MaxInt32)
	case c.Epochs < 0 || c.Epochs > math.MaxInt32:
		return bad("Epochs is %d, want 0 ≤ Epochs ≤ %d", c.Epochs, math.MaxInt32)
	case c.ReaddScore != ReaddLast && c.ReaddScore != ReaddMean:
		return bad("ReaddScore is %q, want %q or %q", c.ReaddScore, ReaddLast, ReaddMean)
	}
	return nil
}

// Schedule is the SGD-S order (docs/METHOD.md §3).
//
// Epochs 1 … T (T = TransientEpochs), and the last round(FinalFull·E)
// epochs of a run of E epochs (annealing), visit all N samples once in a
// fresh shuffled order (the same order as a [Shuffled] with the same seed)
// and do not prune. Each other epoch draws K = |kept| dataset indices with
// replacement (independently, or by systematic sampling when Systematic),
// index i ∈ kept with probability
//
//	p_i = (1 − λ)·s_i / Σ_{j∈kept} s_j + λ / K,
//
// (λ larger in the first MixRamp steady-state epochs, see
// [ScheduleConfig.MixRamp])
// (docs/METHOD.md writes λ/N; draws are over the kept set, so the uniform
// part is λ/K and the p_i sum to 1), and EndEpoch then drops the round(DropFrac·K) kept samples with the lowest
// scores (ties broken by a seeded random key; never below
// max(1, round(KeptFloor·N)) kept) and re-adds min(round(ReaddFrac·N), |out|)
// samples drawn uniformly without replacement from the set "out" of samples
// not kept after the drop.
//
// Scores are stored by dataset index. The score s_i of a kept sample is its
// latest recorded score; a kept sample that was never scored counts as the
// mean of the recorded scores over the kept set. If no kept sample has a
// recorded score, or all scores are zero, the plan draws uniformly from the
// kept set (Stats.Uniform). A recorded score that is NaN, infinite or
// negative makes Plan and EndEpoch fail with [ErrBadScore].
//
// With Debias β in (0, 1) the Weights are w_k ∝ (K·p_{i_k})^(−β), scaled so
// that E[w] = 1/B ([ScheduleConfig.Debias]).
//
// In unbiased mode the plan's Weights are w_k = 1/(B·K·p_{i_k}): E[w] = 1/B,
// and E[Σ_{k∈batch} w_k·L_{i_k}] = (1/K)·Σ_{i∈kept} L_i, the uniform batch
// cost over the kept set (for samples with p_i > 0, that is all of them when
// λ > 0). Weights are not renormalised per batch, which would bias them.
//
// A Schedule is not safe for concurrent use.
type Schedule struct {
	n     int
	cfg   ScheduleConfig
	seed  uint64
	ended int // last epoch closed by EndEpoch; the next epoch is ended+1

	scores   []float32 // by dataset index
	recorded []bool    // by dataset index: scores[i] was recorded
	kept     []int     // kept dataset indices, ascending

	// Scratch, reused across epochs.
	rs    *stream
	alias Alias
	eff   []float64 // effective scores over kept positions
	q     []float64 // unnormalised draw probabilities over kept positions
	stamp []uint32  // by dataset index: stamp[i] == gen marks i
	gen   uint32
	rank  []rankEntry
	pool  []int
	perm  []int // systematic draws' order of the kept positions
	stats Stats
}

// rankEntry orders kept samples for the drop.
type rankEntry struct {
	score float64
	key   uint64 // seeded random tie-breaker
	idx   int
}

// NewSchedule returns the SGD-S schedule over n samples (1 ≤ n ≤
// math.MaxInt32). The kept set starts as all n samples, with no scores.
func NewSchedule(n int, cfg ScheduleConfig, seed uint64) (*Schedule, error) {
	if err := checkLen(n); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Schedule{
		n:        n,
		cfg:      cfg,
		seed:     seed,
		scores:   make([]float32, n),
		recorded: make([]bool, n),
		kept:     make([]int, n),
		rs:       newStream(),
		stamp:    make([]uint32, n),
	}
	for i := range s.kept {
		s.kept[i] = i
	}
	return s, nil
}

// Config returns the schedule's configuration.
func (s *Schedule) Config() ScheduleConfig { return s.cfg }

// KeptSize returns K = |kept|, the number of draws of the next steady-state
// plan (N during and right after the transient epochs).
func (s *Schedule) KeptSize() int { return len(s.kept) }

// KeptIndices appends the kept dataset indices, ascending, to dst.
func (s *Schedule) KeptIndices(dst []int) []int { return append(dst, s.kept...) }

// Score returns the recorded score of dataset index i, and whether one was
// recorded.
func (s *Schedule) Score(i int) (float32, bool) { return s.scores[i], s.recorded[i] }

// Stats describes the last plan.
func (s *Schedule) Stats() Stats { return s.stats }

// Record stores scores[k] as the score of dataset index indices[k]. It does
// not allocate and does not validate the scores (Plan and EndEpoch do). If
// the slices differ in length or an index is outside [0, N) it records
// nothing and returns an error wrapping [ErrBadIndex].
func (s *Schedule) Record(indices []int, scores []float32) error {
	if err := checkRecord(s.n, indices, scores); err != nil {
		return err
	}
	for k, i := range indices {
		s.scores[i] = scores[k]
		s.recorded[i] = true
	}
	return nil
}

// checkNext reports an epoch that is not the one after the last closed one.
func (s *Schedule) checkNext(op string, epoch int) error {
	if err := checkEpoch(epoch); err != nil {
		return err
	}
	if epoch != s.ended+1 {
		return fmt.Errorf("%w: %s(%d), but the next epoch is %d", ErrEpoch, op, epoch, s.ended+1)
	}
	return nil
}

// checkScores reports the lowest dataset index with a bad recorded score.
func (s *Schedule) checkScores() error {
	for i, v := range s.scores {
		if s.recorded[i] && !(v >= 0 && v <= math.MaxFloat32) {
			return fmt.Errorf("%w: dataset index %d has score %v", ErrBadScore, i, v)
		}
	}
	return nil
}

// Plan returns the work of epoch, which must be the epoch after the last one
// passed to EndEpoch (Plan may be called again for the same epoch and then
// returns the same plan). Transient epochs return a permutation of all N
// samples and nil Weights; steady-state epochs return K draws with
// replacement and their Weights, set by default (Debias β = 0.75) and in
// unbiased mode, nil only with β = 0 (the biased variant).
func (s *Schedule) Plan(epoch int) (Plan, error) {
	if err := s.checkNext("Plan", epoch); err != nil {
		return Plan{}, err
	}
	if err := s.checkScores(); err != nil {
		return Plan{}, fmt.Errorf("plan of epoch %d: %w", epoch, err)
	}
	if s.cfg.uniformEpoch(epoch) {
		idx := make([]int, s.n)
		permute(idx, s.rs.at(s.seed, purposeShuffle, epoch))
		s.stats = uniformStats(epoch, s.n)
		return Plan{Indices: idx}, nil
	}

	k := len(s.kept)
	unscored := s.effectiveScores()
	sum := 0.0
	for _, v := range s.eff {
		sum += v
	}
	s.q = resize(s.q, k)
	uniform := !(sum > 0)
	if uniform {
		for j := range s.q {
			s.q[j] = 1
		}
	} else {
		lam := s.cfg.mixAt(epoch)
		a, b := (1-lam)/sum, lam/float64(k)
		for j, v := range s.eff {
			s.q[j] = a*v + b
		}
	}
	idx := make([]int, k)
	if s.cfg.Systematic {
		s.perm = systematicDraw(idx, s.q, s.perm, s.rs.at(s.seed, purposeDraw, epoch))
	} else {
		if err := s.alias.Reset(s.q); err != nil { // unreachable: scores were checked
			return Plan{}, fmt.Errorf("plan of epoch %d: %w", epoch, err)
		}
		s.alias.Fill(idx, s.rs.at(s.seed, purposeDraw, epoch))
	}
	w := s.weights(idx)
	gen := s.nextGen()
	distinct := 0
	for j, pos := range idx {
		i := s.kept[pos]
		idx[j] = i
		if s.stamp[i] != gen {
			s.stamp[i] = gen
			distinct++
		}
	}
	s.stats = Stats{Epoch: epoch, Kept: k, Drawn: k, Distinct: distinct, Unscored: unscored, Uniform: uniform}
	return Plan{Indices: idx, Weights: w}, nil
}

// EndEpoch closes epoch, which must be the epoch after the last one closed.
// After a steady-state epoch it drops and re-adds samples (see [Schedule]).
// On error nothing changes.
func (s *Schedule) EndEpoch(epoch int) error {
	if err := s.checkNext("EndEpoch", epoch); err != nil {
		return err
	}
	if err := s.checkScores(); err != nil {
		return fmt.Errorf("end of epoch %d: %w", epoch, err)
	}
	if !s.cfg.uniformEpoch(epoch) {
		s.prune(epoch)
	}
	s.ended = epoch
	return nil
}

// Counts of the prune rule, rounded to the nearest integer.

// dropCount returns how many of k kept samples the drop removes.
func (s *Schedule) dropCount(k int) int {
	floor := max(1, int(math.Round(s.cfg.KeptFloor*float64(s.n))))
	d := int(math.Round(s.cfg.DropFrac * float64(k)))
	return max(0, min(d, k-floor))
}

// readdCount returns how many samples the re-add brings back when out
// samples are outside the kept set.
func (s *Schedule) readdCount(out int) int {
	return min(int(math.Round(s.cfg.ReaddFrac*float64(s.n))), out)
}

// prune drops the lowest-scoring kept samples and re-adds dropped ones.
func (s *Schedule) prune(epoch int) {
	k := len(s.kept)
	d := s.dropCount(k)
	s.effectiveScores()

	// Rank the kept set by (score, random key); the first d go.
	tie := s.rs.at(s.seed, purposeTie, epoch).Uint64()
	s.rank = resize(s.rank, k)
	for j, i := range s.kept {
		s.rank[j] = rankEntry{score: s.eff[j], key: mix64(tie ^ uint64(i)), idx: i}
	}
	if d > 0 {
		slices.SortFunc(s.rank, func(x, y rankEntry) int {
			if c := cmp.Compare(x.score, y.score); c != 0 {
				return c
			}
			if c := cmp.Compare(x.key, y.key); c != 0 {
				return c
			}
			return cmp.Compare(x.idx, y.idx)
		})
	}
	survivors := s.rank[d:]

	// Survivors, and the mean of their scores for ReaddMean.
	gen := s.nextGen()
	sum, anyRecorded := 0.0, false
	s.kept = s.kept[:0]
	for _, e := range survivors {
		s.kept = append(s.kept, e.idx)
		s.stamp[e.idx] = gen
		sum += e.score
		anyRecorded = anyRecorded || s.recorded[e.idx]
	}

	// Re-add: a uniform sample without replacement of the samples outside
	// the kept set (partial Fisher–Yates over them in ascending order).
	s.pool = s.pool[:0]
	for i := range s.n {
		if s.stamp[i] != gen {
			s.pool = append(s.pool, i)
		}
	}
	r := s.readdCount(len(s.pool))
	rng := s.rs.at(s.seed, purposeReadd, epoch)
	for j := range r {
		m := j + int(rng.Uint64N(uint64(len(s.pool)-j)))
		s.pool[j], s.pool[m] = s.pool[m], s.pool[j]
	}
	readded := s.pool[:r]
	if s.cfg.ReaddScore == ReaddMean && anyRecorded && len(survivors) > 0 {
		mean := float32(sum / float64(len(survivors)))
		for _, i := range readded {
			s.scores[i] = mean
			s.recorded[i] = true
		}
	}
	s.kept = append(s.kept, readded...)
	slices.Sort(s.kept)
}

// effectiveScores sets s.eff[j] to the score of kept sample s.kept[j]: its
// recorded score, or the mean of the recorded scores over the kept set if
// it has none (0 if no kept sample has one). It returns the number of kept
// samples without a recorded score.
func (s *Schedule) effectiveScores() (unscored int) {
	s.eff = resize(s.eff, len(s.kept))
	sum, recorded := 0.0, 0
	for j, i := range s.kept {
		if s.recorded[i] {
			v := float64(s.scores[i])
			s.eff[j] = v
			sum += v
			recorded++
		}
	}
	unscored = len(s.kept) - recorded
	if unscored == 0 {
		return 0
	}
	mean := 0.0
	if recorded > 0 {
		mean = sum / float64(recorded)
	}
	for j, i := range s.kept {
		if !s.recorded[i] {
			s.eff[j] = mean
		}
	}
	return unscored
}

// nextGen returns a fresh stamp generation.
func (s *Schedule) nextGen() uint32 {
	s.gen++
	if s.gen == 0 {
		clear(s.stamp)
		s.gen = 1
	}
	return s.gen
}

// resize returns a slice of length n, reusing buf's memory if it can.
func resize[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// weights returns the plan's weights for the draws idx (kept positions):
// nil when β = 0, else w = (K·p)^(−β) / (B·Σ_l p_l·(K·p_l)^(−β)) with
// p = q/Σq, which is 1/(B·K·p) when β = 1 (the normaliser is then 1).
func (s *Schedule) weights(idx []int) []float64 {
	beta := s.cfg.beta()
	if beta == 0 {
		return nil
	}
	k := float64(len(s.q))
	qsum := 0.0
	for _, v := range s.q {
		qsum += v
	}
	w := make([]float64, len(idx))
	if beta == 1 {
		c := qsum / (float64(s.cfg.BatchSize) * k)
		for j, pos := range idx {
			w[j] = c / s.q[pos]
		}
		return w
	}
	// With r_l = K·p_l = K·q_l/Σq: Σ_l p_l·r_l^(−β) = Σ_l r_l^(1−β) / K.
	norm := 0.0
	for _, v := range s.q {
		norm += math.Pow(k*v/qsum, 1-beta)
	}
	c := k / (float64(s.cfg.BatchSize) * norm)
	for j, pos := range idx {
		w[j] = c * math.Pow(k*s.q[pos]/qsum, -beta)
	}
	return w
}

// State saves the schedule: N, seed, configuration, the last closed epoch,
// scores, which scores were recorded, and the kept set. The generators need
// no saving: each is derived from (seed, purpose, epoch). Save at an epoch
// boundary (after EndEpoch) for a resumed run to continue with the same
// draws.
func (s *Schedule) State() ([]byte, error) {
	e := newSeededEncoder(kindSchedule, s.n, s.seed, 80+4*s.n+(s.n+7)/8+4*len(s.kept))
	c := s.cfg
	e.u64(uint64(c.BatchSize))
	e.u64(uint64(c.TransientEpochs))
	e.f64(c.DropFrac)
	e.f64(c.ReaddFrac)
	e.f64(c.KeptFloor)
	e.f64(c.Mix)
	var flags byte
	if c.ReaddScore == ReaddMean {
		flags |= 1
	}
	if c.Unbiased {
		flags |= 2
	}
	if c.FinalFull != 0 {
		flags |= 4
	}
	if c.Systematic {
		flags |= 8
	}
	if c.MixRamp != 0 {
		flags |= 16
	}
	if c.Debias != 0 {
		flags |= 32
	}
	e.u8(flags)
	if c.FinalFull != 0 {
		e.f64(c.FinalFull)
	}
	if c.MixRamp != 0 {
		e.u64(uint64(c.MixRamp))
	}
	if c.Debias != 0 {
		e.f64(c.Debias)
	}
	e.u64(uint64(s.ended))
	for _, v := range s.scores {
		e.u32(math.Float32bits(v))
	}
	var bits byte
	for i, r := range s.recorded {
		if r {
			bits |= 1 << (i % 8)
		}
		if i%8 == 7 || i == s.n-1 {
			e.u8(bits)
			bits = 0
		}
	}
	e.u64(uint64(len(s.kept)))
	for _, i := range s.kept {
		e.u32(uint32(i))
	}
	return e.finish(), nil
}

// Restore resumes a schedule saved by State over the same N. The saved seed
// and configuration replace the receiver's. It returns an error wrapping
// [ErrCorruptState] or [ErrStateMismatch], leaving the receiver unchanged, if
// data is not a valid state of a Schedule over N samples.
func (s *Schedule) Restore(data []byte) error {
	d, n, seed, err := openSeeded(data, kindSchedule, s.n)
	if err != nil {
		return err
	}
	var c ScheduleConfig
	c.BatchSize = d.count("BatchSize", math.MaxInt32)
	c.TransientEpochs = d.count("TransientEpochs", math.MaxInt32)
	c.DropFrac = d.f64()
	c.ReaddFrac = d.f64()
	c.KeptFloor = d.f64()
	c.Mix = d.f64()
	flags := d.u8()
	c.ReaddScore = ReaddLast
	if flags&1 != 0 {
		c.ReaddScore = ReaddMean
	}
	c.Unbiased = flags&2 != 0
	if flags&4 != 0 {
		c.FinalFull = d.f64()
	}
	c.Systematic = flags&8 != 0
	if flags&16 != 0 {
		c.MixRamp = d.count("MixRamp", math.MaxInt32)
	}
	if flags&32 != 0 {
		c.Debias = d.f64()
	}
	// The run's planned length is the receiver's, not the saved one: a
	// resumed run may train for more epochs, and the annealing follows it.
	c.Epochs = s.cfg.Epochs
	ended := d.count("epoch", math.MaxInt32-1)
	if d.err == nil && flags > 63 {
		d.err = fmt.Errorf("%w: unknown flags %#x", ErrCorruptState, flags)
	}
	d.check(c.Validate())
	if d.err != nil {
		return d.err
	}
	raw := d.take(4 * n)
	bits := d.take((n + 7) / 8)
	k := d.count("kept size", n)
	keptRaw := d.take(4 * k)
	if err := d.close(); err != nil {
		return err
	}
	if k < 1 {
		return fmt.Errorf("%w: empty kept set", ErrCorruptState)
	}
	if n%8 != 0 && bits[len(bits)-1]>>(n%8) != 0 {
		return fmt.Errorf("%w: recorded flags beyond N", ErrCorruptState)
	}
	kept := make([]int, k)
	for j := range kept {
		i := int(binary.LittleEndian.Uint32(keptRaw[4*j:]))
		if i >= n || (j > 0 && i <= kept[j-1]) {
			return fmt.Errorf("%w: kept set not strictly ascending in [0, %d) at position %d (index %d)", ErrCorruptState, n, j, i)
		}
		kept[j] = i
	}

	// Valid: commit.
	for i := range s.scores {
		s.scores[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		s.recorded[i] = bits[i/8]>>(i%8)&1 != 0
	}
	s.kept = kept
	s.seed = seed
	s.cfg = c
	s.ended = ended
	s.stats = Stats{}
	return nil
}
