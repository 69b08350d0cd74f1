package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// Batch sizes every kernel is checked at: empty, one, around a warp, odd and large.
var testBatches = []int{0, 1, 31, 32, 33, 77, 1000}

const rtol = 1e-5

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// closeTo reports whether got is within rtol of want, with an absolute floor
// atol for values near zero (float32 denormals).
func closeTo(got float32, want, atol float64) bool {
	g := float64(got)
	if math.IsNaN(g) || math.IsInf(g, 0) {
		return false
	}
	return math.Abs(g-want) <= rtol*math.Abs(want)+atol
}

// checkClose compares got with want element by element and reports the first
// few mismatches.
func checkClose(t *testing.T, name string, got []float32, want []float64, atol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d", name, len(got), len(want))
	}
	bad := 0
	for i := range got {
		if !closeTo(got[i], want[i], atol) {
			if bad < 5 {
				t.Errorf("%s[%d] = %g, want %g (rel err %.3g)", name, i, got[i], want[i],
					math.Abs(float64(got[i])-want[i])/math.Abs(want[i]))
			}
			bad++
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d of %d elements mismatch", name, bad, len(got))
	}
}

func randNormal32(r *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

func nanSlice(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	return x
}

// startValues returns known non-zero starting values for accumulating outputs.
func startValues(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(1 + 9*r.Float64())
	}
	return x
}

// mustPanic fails the test unless f panics.
func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", name)
		}
	}()
	f()
}

func bname(kv ...any) string {
	s := ""
	for i := 0; i+1 < len(kv); i += 2 {
		if s != "" {
			s += "/"
		}
		s += fmt.Sprintf("%v=%v", kv[i], kv[i+1])
	}
	return s
}
