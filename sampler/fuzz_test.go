package sampler

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// FuzzNewAlias checks that any weights either fail with ErrBadWeights, when
// and only when they are bad, or give a valid table.
func FuzzNewAlias(f *testing.F) {
	seed := func(w ...float64) []byte {
		b := make([]byte, 0, 8*len(w))
		for _, v := range w {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	f.Add(seed())
	f.Add(seed(0))
	f.Add(seed(1))
	f.Add(seed(1, 2, 3))
	f.Add(seed(0, 0, 5e-324))
	f.Add(seed(1e-300, 1e300, 1))
	f.Add(seed(math.MaxFloat64, math.MaxFloat64, math.MaxFloat64))
	f.Add(seed(1, math.NaN()))
	f.Add(seed(1, math.Inf(1)))
	f.Add(seed(-1, 1))
	f.Add(seed(1e6, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1e-6))
	f.Fuzz(func(t *testing.T, data []byte) {
		w := make([]float64, len(data)/8)
		for i := range w {
			w[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
		}
		bad := len(w) == 0
		zero := true
		for _, v := range w {
			if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				bad = true
			}
			if v != 0 {
				zero = false
			}
		}
		bad = bad || zero
		a, err := NewAlias(w)
		if bad {
			if !errors.Is(err, ErrBadWeights) {
				t.Fatalf("NewAlias(%v) = %v, want ErrBadWeights", w, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("NewAlias(%v): %v", w, err)
		}
		checkTable(t, a, w)
		r := newRand(uint64(len(w)))
		for range 64 {
			i := a.Draw(r)
			if i < 0 || i >= len(w) {
				t.Fatalf("Draw = %d outside [0, %d)", i, len(w))
			}
			if w[i] == 0 {
				t.Fatalf("Draw = %d, whose weight is 0", i)
			}
		}
		// Rebuilding in place gives the same table.
		before := a.Probs(nil)
		if err := a.Reset(w); err != nil {
			t.Fatal(err)
		}
		for i, p := range a.Probs(nil) {
			if p != before[i] {
				t.Fatalf("Reset changed p[%d]: %g → %g", i, before[i], p)
			}
		}
	})
}
