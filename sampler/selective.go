package sampler

import (
	"fmt"
	"math"
	"slices"
)

// Defaults of [NewSelectiveBackprop] (the paper's sweep of β is 1…3).
const (
	DefaultSelectiveBackpropBeta   = 2.0
	DefaultSelectiveBackpropWindow = 1024
)

// SelectiveBackpropConfig holds the knobs of [SelectiveBackprop].
type SelectiveBackpropConfig struct {
	// Beta is β of P(select) = CDF(L)^β: finite and ≥ 0 (0 selects every
	// candidate).
	Beta float64 `json:"beta"`
	// Window is W, the number of recent losses the CDF is taken over, in
	// [1, 2^24].
	Window int `json:"window"`
}

// DefaultSelectiveBackpropConfig returns β = 2 (the middle of the paper's
// sweep) over a window of 1024 losses.
func DefaultSelectiveBackpropConfig() SelectiveBackpropConfig {
	return SelectiveBackpropConfig{Beta: DefaultSelectiveBackpropBeta, Window: DefaultSelectiveBackpropWindow}
}

// SelectiveBackprop is the per-batch selector of "Accelerating Deep
// Learning by Focusing on the Biggest Losers" (Jiang et al., 2019): every
// candidate goes through a forward pass, and only the selected ones through
// the backward pass.
//
// For each candidate loss L, in order, Select first adds L to the history
// of the last W recorded losses (evicting the oldest when W are held), then
// selects the candidate with probability
//
//	P(L) = CDF(L)^β,   CDF(L) = |{h ∈ history : h ≤ L}| / |history|,
//
// so the loss at the top of the history is always selected, and with β = 0
// every candidate is. Selection is biased by design (the paper trains on
// the selected samples with the plain mean loss); it does not reweight.
//
// The coins of the t-th call to Select (t = 0, 1, …) come from a PCG stream
// selected by (seed, t), one uniform per candidate, so a selector restored
// from State makes the same choices as the one saved. The history is a ring
// (insertion order, for eviction) beside a sorted copy (for the CDF, a
// binary search); an insertion costs O(W).
//
// A SelectiveBackprop is not safe for concurrent use.
type SelectiveBackprop struct {
	beta   float64
	window int
	seed   uint64
	calls  uint64 // Select calls so far: the stream of the next one

	ring   []float32 // the history in insertion order, from head (oldest) when full
	head   int
	sorted []float32 // the history, ascending
	rs     *stream
}

// NewSelectiveBackprop returns a selector with exponent beta (finite, ≥ 0)
// over a history of window losses (1 ≤ window ≤ 2^24).
func NewSelectiveBackprop(beta float64, window int, seed uint64) (*SelectiveBackprop, error) {
	if err := checkSelective(beta, window); err != nil {
		return nil, err
	}
	return &SelectiveBackprop{
		beta: beta, window: window, seed: seed,
		ring:   make([]float32, 0, window),
		sorted: make([]float32, 0, window),
		rs:     newStream(),
	}, nil
}

// Validate reports an invalid field, wrapping [ErrBadConfig].
func (c SelectiveBackpropConfig) Validate() error { return checkSelective(c.Beta, c.Window) }

func checkSelective(beta float64, window int) error {
	if !(beta >= 0 && beta <= math.MaxFloat64) {
		return fmt.Errorf("%w: selective-backprop beta %v, want finite β ≥ 0", ErrBadConfig, beta)
	}
	if window < 1 || window > 1<<24 {
		return fmt.Errorf("%w: selective-backprop window %d, want 1 ≤ window ≤ %d", ErrBadConfig, window, 1<<24)
	}
	return nil
}

// Beta returns β.
func (s *SelectiveBackprop) Beta() float64 { return s.beta }

// Window returns W.
func (s *SelectiveBackprop) Window() int { return s.window }

// Len returns the number of losses in the history (at most W).
func (s *SelectiveBackprop) Len() int { return len(s.sorted) }

// Select sets dst[k] to whether candidate k, with loss losses[k], is to be
// backpropagated, adding each loss to the history before its CDF is taken
// (see [SelectiveBackprop]), and returns the number selected. It returns an
// error wrapping [ErrBadScore], changing nothing, if a loss is NaN,
// infinite or negative. It panics if dst is shorter than losses. It does
// not allocate.
func (s *SelectiveBackprop) Select(losses []float32, dst []bool) (int, error) {
	if len(dst) < len(losses) {
		panic(fmt.Sprintf("sampler: Select of %d losses into %d flags", len(losses), len(dst)))
	}
	for k, v := range losses {
		if !(v >= 0 && v <= math.MaxFloat32) {
			return 0, fmt.Errorf("%w: selective-backprop candidate %d has loss %v", ErrBadScore, k, v)
		}
	}
	r := s.rs.at(s.seed, purposeSelective, int(s.calls))
	s.calls++
	sel := 0
	for k, v := range losses {
		s.push(v)
		p := math.Pow(s.cdf(v), s.beta)
		dst[k] = r.Float64() < p
		if dst[k] {
			sel++
		}
	}
	return sel, nil
}

// cdf returns the fraction of the history at most v (1 on an empty history).
func (s *SelectiveBackprop) cdf(v float32) float64 {
	if len(s.sorted) == 0 {
		return 1
	}
	le, _ := slices.BinarySearchFunc(s.sorted, v, func(h, v float32) int {
		if h <= v {
			return -1
		}
		return 1
	})
	return float64(le) / float64(len(s.sorted))
}

// push adds v to the history, evicting the oldest loss when it is full.
func (s *SelectiveBackprop) push(v float32) {
	if len(s.ring) < s.window {
		s.ring = append(s.ring, v)
	} else {
		old := s.ring[s.head]
		s.ring[s.head] = v
		s.head = (s.head + 1) % s.window
		j, _ := slices.BinarySearch(s.sorted, old)
		s.sorted = slices.Delete(s.sorted, j, j+1)
	}
	j, _ := slices.BinarySearch(s.sorted, v)
	s.sorted = slices.Insert(s.sorted, j, v)
}

// State saves β, W, the seed, the number of Select calls and the history
// (oldest first).
func (s *SelectiveBackprop) State() ([]byte, error) {
	e := newEncoder(kindSelective, 40+4*len(s.ring))
	e.f64(s.beta)
	e.u64(uint64(s.window))
	e.u64(s.seed)
	e.u64(s.calls)
	e.u64(uint64(len(s.ring)))
	for j := range s.ring {
		e.u32(math.Float32bits(s.ring[(s.head+j)%len(s.ring)]))
	}
	return e.finish(), nil
}

// Restore resumes a selector saved by State; the saved β, W and seed replace
// the receiver's. On error (wrapping [ErrCorruptState] or
// [ErrStateMismatch]) the receiver is unchanged.
func (s *SelectiveBackprop) Restore(data []byte) error {
	d, err := openState(data, kindSelective)
	if err != nil {
		return err
	}
	beta := d.f64()
	window := d.count("window", 1<<24)
	seed := d.u64()
	calls := d.count("calls", math.MaxInt)
	h := d.count("history length", window)
	if d.err == nil {
		if err := checkSelective(beta, window); err != nil {
			d.err = fmt.Errorf("%w: %w", ErrCorruptState, err)
		}
	}
	if d.err == nil && 4*h > len(d.b) {
		d.err = fmt.Errorf("%w: truncated history (%d losses, %d bytes left)", ErrCorruptState, h, len(d.b))
	}
	var hist []float32
	if d.err == nil {
		hist = make([]float32, h)
		for j := range hist {
			v := math.Float32frombits(d.u32())
			if !(v >= 0 && v <= math.MaxFloat32) {
				d.err = fmt.Errorf("%w: history loss %d is %v", ErrCorruptState, j, v)
				break
			}
			hist[j] = v
		}
	}
	if err := d.close(); err != nil {
		return err
	}
	s.beta, s.window, s.seed, s.calls = beta, window, seed, uint64(calls)
	s.ring = append(make([]float32, 0, window), hist...)
	s.head = 0
	s.sorted = append(make([]float32, 0, window), hist...)
	slices.Sort(s.sorted)
	return nil
}
