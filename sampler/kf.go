package sampler

import (
	"fmt"
	"math"
)

// KFConfig holds the knobs of [KF].
type KFConfig struct {
	// Presample is k: the caller scores k·B uniformly drawn candidates
	// per step. Must be ≥ 1.
	Presample int `json:"k"`
	// Threshold is τ_th: importance sampling is on while the moving
	// average of τ exceeds it. 0 means the paper's break-even value
	// (k·B + 3B)/(3B) = (k + 3)/3; otherwise it must be finite and > 0.
	Threshold float64 `json:"threshold"`
	// Momentum is a_τ of the moving average τ̄ ← a_τ·τ̄ + (1 − a_τ)·τ. In
	// [0, 1).
	Momentum float64 `json:"tau_momentum"`
}

// DefaultKFConfig returns the paper's defaults: k = 3, the break-even
// threshold (2 for k = 3), momentum 0.9.
func DefaultKFConfig() KFConfig { return KFConfig{Presample: 3, Threshold: 0, Momentum: 0.9} }

// Validate reports the first invalid field, wrapping [ErrBadConfig].
func (c KFConfig) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: kf "+format, append([]any{ErrBadConfig}, args...)...)
	}
	switch {
	case c.Presample < 1 || c.Presample > 1<<20:
		return bad("Presample is %d, want 1 ≤ Presample ≤ %d", c.Presample, 1<<20)
	case !(c.Threshold >= 0 && c.Threshold <= math.MaxFloat64):
		return bad("Threshold is %v, want 0 (automatic) or a finite value > 0", c.Threshold)
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return bad("Momentum is %v, want 0 ≤ Momentum < 1", c.Momentum)
	}
	return nil
}

// EffectiveThreshold returns τ_th: Threshold, or (k + 3)/3 when it is 0.
func (c KFConfig) EffectiveThreshold() float64 {
	if c.Threshold == 0 {
		return float64(c.Presample+3) / 3
	}
	return c.Threshold
}

// KF is the per-step importance sampler of "Not All Samples Are Created
// Equal: Deep Learning with Importance Sampling" (Katharopoulos & Fleuret,
// ICML 2018).
//
// Each step the caller draws n = k·B candidates uniformly, scores them with
// the upper bound g_i ≥ 0 on the norm of the per-sample gradient (the norm
// of the loss gradient with respect to the last layer's pre-activation
// output, from a forward pass), and calls Choose. With p_i = g_i/Σ_j g_j and
// u = 1/n, Choose computes the variance-reduction estimate
//
//	τ = (1 − Σ_i (p_i − u)² / Σ_i p_i²)^(−1/2) = sqrt(n·Σ_i p_i²) = sqrt(n·Σg²)/Σg,
//
// (τ = 1 for uniform scores and when Σg = 0, up to sqrt(n) when one
// candidate holds all the mass), updates the moving average
// τ̄ ← a_τ·τ̄ + (1 − a_τ)·τ (τ̄ starts at 0, as in the paper), and then:
//
//   - if τ̄ > τ_th and Σg > 0, it draws B positions with replacement with
//     probability p_i (an [Alias] table) and gives position i the weight
//     1/(B·n·p_i). Then E[w·L] = Σ_i p_i·L_i/(B·n·p_i) = (1/B)·(1/n)·Σ_i L_i
//     for each draw, so the expected batch cost Σ w·L is the uniform mean
//     over the candidates with g_i > 0 (a candidate with g_i = 0 has a zero
//     gradient bound and contributes nothing to the gradient);
//   - otherwise it takes positions 0 … B−1 (a uniform batch, since the
//     candidates were drawn uniformly) with weights 1/B.
//
// The draws of the t-th Choose (t = 0, 1, …) come from a PCG stream
// selected by (seed, t), so a restored KF repeats the saved one's draws.
//
// Unlike the paper's Algorithm 1, which decides with the average before the
// update and, while off, scores only the B trained samples, Choose always
// takes the k·B candidates' scores and decides after the update.
//
// A KF is not safe for concurrent use.
type KF struct {
	cfg   KFConfig
	seed  uint64
	calls uint64  // Choose calls so far: the stream of the next one
	avg   float64 // τ̄
	last  float64 // τ of the last Choose

	rs    *stream
	alias Alias
	q     []float64
}

// NewKF returns the sampler for cfg.
func NewKF(cfg KFConfig, seed uint64) (*KF, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &KF{cfg: cfg, seed: seed, rs: newStream()}, nil
}

// Config returns the sampler's configuration.
func (s *KF) Config() KFConfig { return s.cfg }

// Tau returns the moving average τ̄ (0 before the first Choose).
func (s *KF) Tau() float64 { return s.avg }

// LastTau returns τ of the last Choose's scores (0 before the first).
func (s *KF) LastTau() float64 { return s.last }

// On reports whether the moving average exceeds the threshold now.
func (s *KF) On() bool { return s.avg > s.cfg.EffectiveThreshold() }

// kfTau returns sqrt(n·Σg²)/Σg (1 when Σg = 0) and Σg.
func kfTau(g []float32) (tau, sum float64) {
	var s1, s2 kahan
	for _, v := range g {
		x := float64(v)
		s1.add(x)
		s2.add(x * x)
	}
	sum = s1.sum()
	if !(sum > 0) {
		return 1, 0
	}
	// Σp² ≥ 1/n exactly; clamp the rounding so that τ ≥ 1.
	return max(1, math.Sqrt(float64(len(g))*s2.sum())/sum), sum
}

// Choose picks the B candidates of a step from the n = len(scores) scored
// ones (see [KF]): it writes their positions in [0, n) to dstPos[:B] and
// their weights to dstW[:B], and reports whether importance sampling was
// on. It returns an error, changing nothing, wrapping [ErrBadConfig] if
// B < 1 or B > n, or [ErrBadScore] if a score is NaN, infinite or negative.
// It panics if dstPos or dstW is shorter than B. It does not allocate once
// it has seen the largest n.
func (s *KF) Choose(scores []float32, B int, dstPos []int, dstW []float64) (on bool, err error) {
	n := len(scores)
	if B < 1 || B > n {
		return false, fmt.Errorf("%w: kf batch %d from %d candidates, want 1 ≤ B ≤ n", ErrBadConfig, B, n)
	}
	if len(dstPos) < B || len(dstW) < B {
		panic(fmt.Sprintf("sampler: Choose of %d into %d positions and %d weights", B, len(dstPos), len(dstW)))
	}
	for i, v := range scores {
		if !(v >= 0 && v <= math.MaxFloat32) {
			return false, fmt.Errorf("%w: kf candidate %d has score %v", ErrBadScore, i, v)
		}
	}
	tau, sum := kfTau(scores)
	a := s.cfg.Momentum
	s.avg = a*s.avg + (1-a)*tau
	s.last = tau
	r := s.rs.at(s.seed, purposeKF, int(s.calls))
	s.calls++

	if !(s.On() && sum > 0) {
		for j := range B {
			dstPos[j] = j
			dstW[j] = 1 / float64(B)
		}
		return false, nil
	}
	s.q = resize(s.q, n)
	for i, v := range scores {
		s.q[i] = float64(v)
	}
	if err := s.alias.Reset(s.q); err != nil { // unreachable: scores were checked and Σg > 0
		return false, fmt.Errorf("kf: %w", err)
	}
	s.alias.Fill(dstPos[:B], r)
	// w = 1/(B·n·p) with p = g/Σg.
	c := sum / (float64(B) * float64(n))
	for j, i := range dstPos[:B] {
		dstW[j] = c / s.q[i]
	}
	return true, nil
}

// State saves the configuration, the seed, the number of Choose calls and
// the moving average.
func (s *KF) State() ([]byte, error) {
	e := newEncoder(kindKF, 56)
	e.u64(uint64(s.cfg.Presample))
	e.f64(s.cfg.Threshold)
	e.f64(s.cfg.Momentum)
	e.u64(s.seed)
	e.u64(s.calls)
	e.f64(s.avg)
	e.f64(s.last)
	return e.finish(), nil
}

// Restore resumes a sampler saved by State; the saved configuration and
// seed replace the receiver's. On error (wrapping [ErrCorruptState] or
// [ErrStateMismatch]) the receiver is unchanged.
func (s *KF) Restore(data []byte) error {
	d, err := openState(data, kindKF)
	if err != nil {
		return err
	}
	var c KFConfig
	c.Presample = d.count("Presample", 1<<20)
	c.Threshold = d.f64()
	c.Momentum = d.f64()
	seed := d.u64()
	calls := d.u64()
	avg, last := d.f64(), d.f64()
	if err := d.close(); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrCorruptState, err)
	}
	if !(avg >= 0 && avg <= math.MaxFloat64) || !(last >= 0 && last <= math.MaxFloat64) {
		return fmt.Errorf("%w: kf average τ %v, last τ %v", ErrCorruptState, avg, last)
	}
	s.cfg, s.seed, s.calls, s.avg, s.last = c, seed, calls, avg, last
	return nil
}
