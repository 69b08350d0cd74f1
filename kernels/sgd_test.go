package kernels_test

import (
	"math"
	"testing"

	"github.com/sgds/sgds/kernels"
	kt "github.com/sgds/sgds/kernels/kerneltest"
)

func TestSGDMomentum(t *testing.T) {
	kt.ForEachPath(t, func(t *testing.T) {
		r := kt.Rand(23)
		for _, n := range rowSizes {
			w := kt.Normal(r, n, 1)
			v := kt.Normal(r, n, 1)
			g := kt.Normal(r, n, 1)
			w0, v0 := append([]float32(nil), w...), append([]float32(nil), v...)
			const lr, mu = 0.01, 0.5
			kernels.SGDMomentum(w, v, g, lr, mu)
			for j := range w {
				vw := mu*float64(v0[j]) + float64(g[j])
				ww := float64(w0[j]) - lr*vw
				if math.Abs(float64(v[j])-vw) > 2e-7*(math.Abs(vw)+1) || math.Abs(float64(w[j])-ww) > 2e-7*(math.Abs(ww)+1) {
					t.Fatalf("n=%d [%d]: w %v v %v, want %v %v", n, j, w[j], v[j], ww, vw)
				}
			}
			// Splitting the slices gives bit-identical results.
			if n > 10 {
				w1, v1 := append([]float32(nil), w0...), append([]float32(nil), v0...)
				kernels.SGDMomentum(w1[:3], v1[:3], g[:3], lr, mu)
				kernels.SGDMomentum(w1[3:], v1[3:], g[3:], lr, mu)
				for j := range w {
					if w1[j] != w[j] || v1[j] != v[j] {
						t.Fatalf("n=%d: split update differs at %d", n, j)
					}
				}
			}
		}
	})
}

func TestSGDMomentumPanics(t *testing.T) {
	s := make([]float32, 10)
	kt.MustPanic(t, "SGDMomentum lengths", func() { kernels.SGDMomentum(s, s[:9], s, 0.1, 0.5) })
	kt.MustPanic(t, "SGDMomentum NaN lr", func() { kernels.SGDMomentum(s, s, s, float32(math.NaN()), 0.5) })
}

// TestSGDMomentumPortable checks that the portable path rounds after every
// operation (no fused multiply-add): the device's sgd_momentum computes the
// same, so the CPU and GPU backends update bit for bit alike.
func TestSGDMomentumPortable(t *testing.T) {
	defer kernels.DisableFastPath()()
	r := kt.Rand(8)
	for _, n := range kt.Sizes {
		w, v, g := kt.Normal(r, n, 1), kt.Normal(r, n, 1), kt.Normal(r, n, 1)
		w0, v0 := append([]float32(nil), w...), append([]float32(nil), v...)
		const lr, mu = float32(0.01), float32(0.5)
		kernels.SGDMomentum(w, v, g, lr, mu)
		for i := range w {
			vv := float32(mu*v0[i]) + g[i] // the conversions forbid fusing
			ww := w0[i] - float32(lr*vv)
			if v[i] != vv || w[i] != ww {
				t.Fatalf("n=%d [%d]: (w, v) = (%v, %v), want (%v, %v)", n, i, w[i], v[i], ww, vv)
			}
		}
	}
}
