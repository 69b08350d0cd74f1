package kernels

import (
	"math"
	"testing"
)

func TestSGDMomentum(t *testing.T) {
	forEachPath(t, func(t *testing.T) {
		r := newRand(23)
		for _, n := range rowSizes {
			w := randNormal32(r, n, 1)
			v := randNormal32(r, n, 1)
			g := randNormal32(r, n, 1)
			w0, v0 := append([]float32(nil), w...), append([]float32(nil), v...)
			const lr, mu = 0.01, 0.5
			SGDMomentum(w, v, g, lr, mu)
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
				SGDMomentum(w1[:3], v1[:3], g[:3], lr, mu)
				SGDMomentum(w1[3:], v1[3:], g[3:], lr, mu)
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
	mustPanic(t, "SGDMomentum lengths", func() { SGDMomentum(s, s[:9], s, 0.1, 0.5) })
	mustPanic(t, "SGDMomentum NaN lr", func() { SGDMomentum(s, s, s, float32(math.NaN()), 0.5) })
}
