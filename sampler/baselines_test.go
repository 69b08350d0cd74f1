package sampler

import (
	"errors"
	"slices"
	"testing"
)

func TestRS2SubsetsAreDistinctFreshAndUniform(t *testing.T) {
	const n, epochs = 20, 4000
	o, err := NewRS2(n, 0.3, 7)
	if err != nil {
		t.Fatal(err)
	}
	if o.KeptSize() != 6 {
		t.Fatalf("K = %d, want round(0.3·20) = 6", o.KeptSize())
	}
	counts := make([]int, n)
	var prev []int
	same := 0
	for e := 1; e <= epochs; e++ {
		p, err := o.Plan(e)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Indices) != 6 || p.Weights != nil {
			t.Fatalf("epoch %d: %d indices, weights %v", e, len(p.Indices), p.Weights)
		}
		seen := map[int]bool{}
		for _, i := range p.Indices {
			if i < 0 || i >= n || seen[i] {
				t.Fatalf("epoch %d: index %d repeated or out of range in %v", e, i, p.Indices)
			}
			seen[i] = true
			counts[i]++
		}
		if prev != nil && slices.Equal(prev, p.Indices) {
			same++
		}
		prev = p.Indices
		if err := o.EndEpoch(e); err != nil {
			t.Fatal(err)
		}
	}
	if same > 2 {
		t.Errorf("%d epochs repeated the previous subset", same)
	}
	uniform := make([]float64, n)
	for i := range uniform {
		uniform[i] = 1.0 / n
	}
	if _, pv, err := chiSquare(counts, uniform); err != nil || pv < 1e-4 {
		t.Errorf("inclusion counts %v are not uniform (p = %g, %v)", counts, pv, err)
	}
	// The check can fail: a subset biased towards low indices is rejected.
	biased := append([]int(nil), counts...)
	biased[0] += epochs * 6 / n / 2
	if _, pv, _ := chiSquare(biased, uniform); pv > 1e-4 {
		t.Errorf("a biased count vector passed (p = %g)", pv)
	}
}

func TestWithReplacementDrawsUniformly(t *testing.T) {
	const n = 10
	o, err := NewWithReplacement(n, 3)
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, n)
	repeats := false
	for e := 1; e <= 3000; e++ {
		p, err := o.Plan(e)
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range p.Indices {
			counts[i]++
		}
		if o.Stats().Distinct < n {
			repeats = true
		}
	}
	if !repeats {
		t.Error("no epoch repeated a sample: not drawing with replacement")
	}
	uniform := make([]float64, n)
	for i := range uniform {
		uniform[i] = 1.0 / n
	}
	if _, pv, err := chiSquare(counts, uniform); err != nil || pv < 1e-4 {
		t.Errorf("counts %v are not uniform (p = %g, %v)", counts, pv, err)
	}
}

func TestBaselinesAreDeterministicAndResume(t *testing.T) {
	a, _ := NewRS2(1000, 0.25, 11)
	b, _ := NewRS2(1000, 0.25, 99)
	st, err := a.State()
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Restore(st); err != nil {
		t.Fatal(err)
	}
	pa, _ := a.Plan(5)
	pb, _ := b.Plan(5)
	if !slices.Equal(pa.Indices, pb.Indices) {
		t.Error("a restored RS2 draws another subset")
	}
	other, _ := NewRS2(1000, 0.5, 11)
	if err := other.Restore(st); !errors.Is(err, ErrStateMismatch) {
		t.Errorf("restore into another fraction: %v", err)
	}
	w1, _ := NewWithReplacement(500, 4)
	w2, _ := NewWithReplacement(500, 4)
	p1, _ := w1.Plan(2)
	p2, _ := w2.Plan(2)
	if !slices.Equal(p1.Indices, p2.Indices) {
		t.Error("same seed, different draws")
	}
	if st, _ := w1.State(); a.Restore(st) == nil {
		t.Error("an RS2 accepted a WithReplacement state")
	}
	for _, f := range []float64{0, -0.1, 1.01} {
		if _, err := NewRS2(10, f, 1); !errors.Is(err, ErrBadConfig) {
			t.Errorf("fraction %v: %v", f, err)
		}
	}
}
