package sampler

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestSequential(t *testing.T) {
	for _, n := range []int{0, -5, math.MaxInt32 + 1} {
		if _, err := NewSequential(n); !errors.Is(err, ErrBadConfig) {
			t.Errorf("NewSequential(%d): %v", n, err)
		}
	}
	o, err := NewSequential(7)
	if err != nil {
		t.Fatal(err)
	}
	for e := 1; e <= 3; e++ {
		p := runEpoch(t, o, e, 3, func(i int) float32 { return float32(i) })
		if !slices.Equal(p.Indices, []int{0, 1, 2, 3, 4, 5, 6}) || p.Weights != nil {
			t.Fatalf("epoch %d: %+v", e, p)
		}
	}
	if st := o.Stats(); st != (Stats{Epoch: 3, Kept: 7, Drawn: 7, Distinct: 7, Transient: true}) || o.KeptSize() != 7 {
		t.Fatalf("stats %+v, kept %d", st, o.KeptSize())
	}
	if _, err := o.Plan(0); !errors.Is(err, ErrEpoch) {
		t.Fatalf("Plan(0): %v", err)
	}
	st, _ := o.State()
	if err := o.Restore(st); err != nil {
		t.Fatal(err)
	}
	other, _ := NewSequential(8)
	if err := other.Restore(st); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("Restore into another N: %v", err)
	}
	for l := range len(st) {
		if err := o.Restore(st[:l]); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("Restore of %d bytes: %v", l, err)
		}
	}
}

func TestShuffled(t *testing.T) {
	const n = 1000
	if _, err := NewShuffled(0, 1); !errors.Is(err, ErrBadConfig) {
		t.Fatalf("NewShuffled(0): %v", err)
	}
	o, err := NewShuffled(n, 42)
	if err != nil {
		t.Fatal(err)
	}
	var plans [][]int
	for e := 1; e <= 4; e++ {
		p := runEpoch(t, o, e, 32, func(i int) float32 { return 1 })
		if p.Weights != nil {
			t.Fatal("Shuffled returned weights")
		}
		sorted := slices.Sorted(slices.Values(p.Indices))
		for i, v := range sorted {
			if v != i {
				t.Fatalf("epoch %d is not a permutation of 0…%d", e, n-1)
			}
		}
		for _, q := range plans {
			if slices.Equal(q, p.Indices) {
				t.Fatalf("epoch %d repeats an earlier order", e)
			}
		}
		plans = append(plans, p.Indices)
	}
	// Same seed, same orders; the order of epoch e does not depend on
	// which epochs were planned before.
	o2, _ := NewShuffled(n, 42)
	p3, _ := o2.Plan(3)
	if !slices.Equal(p3.Indices, plans[2]) {
		t.Fatal("same seed and epoch, different order")
	}
	o3, _ := NewShuffled(n, 43)
	if p, _ := o3.Plan(1); slices.Equal(p.Indices, plans[0]) {
		t.Fatal("different seeds, same order")
	}
	// State carries the seed.
	st, _ := o.State()
	if err := o3.Restore(st); err != nil {
		t.Fatal(err)
	}
	if p, _ := o3.Plan(2); !slices.Equal(p.Indices, plans[1]) {
		t.Fatal("restored order differs")
	}
	for i := range len(st) {
		c := slices.Clone(st)
		c[i] ^= 0x10
		if err := o3.Restore(c); !errors.Is(err, ErrCorruptState) && !errors.Is(err, ErrStateMismatch) {
			t.Fatalf("Restore with byte %d flipped: %v", i, err)
		}
	}
	seq, _ := NewSequential(n)
	sst, _ := seq.State()
	if err := o3.Restore(sst); !errors.Is(err, ErrStateMismatch) {
		t.Fatalf("Restore of a Sequential state: %v", err)
	}
}

// TestShuffledUniform checks that the position of a sample in the shuffled
// order is uniform (χ² over 2000 epochs of n = 20; the 399 degrees of
// freedom of a plain goodness-of-fit test make it slightly lenient).
func TestShuffledUniform(t *testing.T) {
	const n, epochs = 20, 2000
	o, _ := NewShuffled(n, 9)
	counts := make([]int, n*n) // sample × position
	for e := 1; e <= epochs; e++ {
		p, err := o.Plan(e)
		if err != nil {
			t.Fatal(err)
		}
		for pos, i := range p.Indices {
			counts[i*n+pos]++
		}
	}
	probs := make([]float64, n*n)
	for i := range probs {
		probs[i] = 1. / (n * n)
	}
	stat, pv, err := chiSquare(counts, probs)
	if err != nil || pv < 1e-4 {
		t.Fatalf("positions not uniform: χ² = %.1f, p = %.3g, %v", stat, pv, err)
	}
}
