package training

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Schedules are the learning-rate schedules a run can follow.
var Schedules = []string{"constant", "step", "cosine", "linear", "onecycle"}

// LRSchedule is a learning-rate schedule over a run's budget: the rate at
// position u ∈ [0, 1], the share of the budget spent so far (not of the
// epochs), is the peak rate times Factor(u). A method that trains on fewer
// samples per epoch thus still goes through its whole schedule.
type LRSchedule struct {
	// Kind is one of Schedules; "" is constant.
	Kind string `json:"kind"`
	// Warmup is the share of the budget over which the rate rises
	// linearly from 0 to the peak, in [0, 1); the schedule then spans the
	// rest.
	Warmup float64 `json:"warmup,omitempty"`
}

// Constant reports whether s keeps the peak rate throughout.
func (s LRSchedule) Constant() bool { return (s.Kind == "" || s.Kind == "constant") && s.Warmup == 0 }

// Validate reports an unknown kind or a warm-up outside [0, 1).
func (s LRSchedule) Validate() error {
	if s.Kind != "" && !slices.Contains(Schedules, s.Kind) {
		return fmt.Errorf("unknown learning-rate schedule %q (known: %s)", s.Kind, strings.Join(Schedules, ", "))
	}
	if !(s.Warmup >= 0 && s.Warmup < 1) {
		return fmt.Errorf("warm-up share %v, want one in [0, 1)", s.Warmup)
	}
	return nil
}

// onecyclePeak is where the one-cycle schedule peaks (without a warm-up),
// and onecycleStart the share of the peak it starts from.
const (
	onecyclePeak  = 0.3
	onecycleStart = 1.0 / 25
)

// Factor returns the rate at position u (clamped to [0, 1]) as a share of
// the peak. With w = Warmup and v = (u − w)/(1 − w) the position after it:
//
//	u < w      u/w                        (linear warm-up)
//	constant   1
//	step       1, then 0.1 from v ≥ 0.5, 0.01 from v ≥ 0.75
//	cosine     (1 + cos πv)/2             (to 0 at the end)
//	linear     1 − v                      (to 0 at the end: the budget-aware
//	                                       baseline of Li, Yumer & Ramanan)
//	onecycle   from 1/25 up to 1 at v = 0.3, then linearly to 0 (Smith's
//	           one-cycle; a warm-up, when set, replaces its rise)
func (s LRSchedule) Factor(u float64) float64 {
	u = math.Min(math.Max(u, 0), 1)
	if s.Warmup > 0 && u < s.Warmup {
		return u / s.Warmup
	}
	v := u
	if s.Warmup > 0 {
		v = (u - s.Warmup) / (1 - s.Warmup)
	}
	switch s.Kind {
	case "step":
		switch {
		case v >= 0.75:
			return 0.01
		case v >= 0.5:
			return 0.1
		}
		return 1
	case "cosine":
		return (1 + math.Cos(math.Pi*v)) / 2
	case "linear":
		return 1 - v
	case "onecycle":
		if s.Warmup == 0 && v < onecyclePeak {
			return onecycleStart + (1-onecycleStart)*v/onecyclePeak
		}
		if s.Warmup > 0 {
			return 1 - v
		}
		return (1 - v) / (1 - onecyclePeak)
	}
	return 1
}

// ForwardCost is the cost of a forward-only sample (Selective-Backprop's
// and KF's candidates, KAKURENBO's refresh) in budget units, where a
// sample trained on (forward and backward pass) costs 1. Measured with
// BenchmarkForward's forward/step ratio (engine/cpu, SIMD build, batch 64,
// 3 × 400 calls; bench/RESULTS.md): 0.44–0.49 for the MLP, 0.42–0.43 for
// the CNN. A constant, not a measurement at run time, so that a budget
// ends a run at the same step on every machine.
const ForwardCost = 0.45

// Spent is the budget, in units, of bwd samples trained on and fwd samples
// through a forward pass (fwd ≥ bwd: every trained sample was forwarded).
func Spent(bwd, fwd int64, forwardCost float64) float64 {
	return float64(bwd) + forwardCost*float64(max(fwd-bwd, 0))
}
