package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Helpers shared by the device tests (-tags cuda), the timing test and
// the emulator check (-tags sgdsemu).

// devErrStat is the worst relative error of a comparison.
type devErrStat struct {
	maxRel float64
	bad    int
}

// compare checks |got−want| ≤ atol + rtol·|want| (scale, when not nil,
// replaces |want| by scale[i], the magnitude of the terms summed), reports
// the first mismatches and returns the largest |got−want| / max(|want| or
// scale, 1e-30).
func devCompare(t testing.TB, name string, got, want []float32, scale []float64, rtol, atol float64) devErrStat {
	t.Helper()
	var st devErrStat
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", name, len(got), len(want))
	}
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		mag := math.Abs(w)
		if scale != nil {
			mag = scale[i]
		}
		d := math.Abs(g - w)
		if g != g && w != w {
			d = 0
		}
		if d > atol+rtol*mag || (g != g) != (w != w) {
			if st.bad < 5 {
				t.Errorf("%s[%d] = %g, want %g (|diff| %.3g, magnitude %.3g)", name, i, g, w, d, mag)
			}
			st.bad++
		}
		if r := d / math.Max(mag, 1e-30); r > st.maxRel && d > atol {
			st.maxRel = r
		}
	}
	if st.bad > 0 {
		t.Errorf("%s: %d of %d values outside tolerance", name, st.bad, len(got))
	}
	return st
}

func devEqualInts(t testing.TB, name string, got, want []int32) {
	t.Helper()
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s[%d] = %d, want %d", name, i, got[i], want[i])
		}
	}
}

func devRandLabels(r *rand.Rand, n, C int) []int32 {
	l := make([]int32, n)
	for i := range l {
		l[i] = int32(r.IntN(C))
	}
	return l
}

func devAbs32(x []float32) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(math.Abs(float64(v)))
	}
	return out
}

func devTo64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// gemmScale returns Σ_k |a||b| (+|bias|) per output, the magnitude the
// GEMM's rounding error is relative to.
func devGemmScale(op SgemmOp, batch int, a, b []float32, M, N, K, sA, sB, sC int, epi SgemmEpilogue, bias []float32) []float64 {
	c := make([]float32, max(0, (batch-1)*sC+M*N))
	var ab []float32
	e := SgemmEpiNone
	switch epi {
	case SgemmEpiBiasCol, SgemmEpiBiasColReLU:
		ab, e = devAbs32(bias), SgemmEpiBiasCol
	case SgemmEpiBiasRow:
		ab, e = devAbs32(bias), SgemmEpiBiasRow
	}
	SgemmBatchedTwin(op, batch, c, devAbs32(a), devAbs32(b), M, N, K, sA, sB, sC, e, ab, nil)
	return devTo64(c)
}
