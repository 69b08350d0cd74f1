package kernels

import (
	"math"
	"testing"
)

func TestReLUBackTwin(t *testing.T) {
	r := newRand(7)
	for _, n := range testBatches {
		dh, h := randNormal32(r, n, 1), randNormal32(r, n, 1)
		if n > 3 {
			h[1], h[2] = 0, float32(math.Copysign(0, -1))
		}
		dz := nanSlice(n)
		ReLUBackTwin(dz, dh, h)
		for i := range dz {
			want := float32(0)
			if h[i] > 0 {
				want = dh[i]
			}
			if dz[i] != want {
				t.Fatalf("n=%d [%d]: %v, want %v", n, i, dz[i], want)
			}
		}
		ReLUBackTwin(dh, dh, h) // in place
		for i := range dz {
			if dh[i] != dz[i] {
				t.Fatalf("in place [%d]: %v, want %v", i, dh[i], dz[i])
			}
		}
	}
	mustPanic(t, "lengths", func() { ReLUBackTwin(make([]float32, 2), make([]float32, 2), make([]float32, 1)) })
}

func TestSGDMomentumTwin(t *testing.T) {
	r := newRand(8)
	for _, n := range testBatches {
		w, v, g := randNormal32(r, n, 1), randNormal32(r, n, 1), randNormal32(r, n, 1)
		w0, v0 := append([]float32(nil), w...), append([]float32(nil), v...)
		const lr, mu = float32(0.01), float32(0.5)
		SGDMomentumTwin(w, v, g, lr, mu)
		for i := range w {
			// The CPU backend's loop, statement by statement.
			vv := v0[i]
			vv = mu*vv + g[i]
			ww := w0[i]
			ww -= lr * vv
			if v[i] != vv || w[i] != ww {
				t.Fatalf("n=%d [%d]: (w, v) = (%v, %v), want (%v, %v)", n, i, w[i], v[i], ww, vv)
			}
		}
	}
	mustPanic(t, "lengths", func() { SGDMomentumTwin(make([]float32, 2), make([]float32, 2), make([]float32, 3), 1, 0) })
}

func TestGatherTwin(t *testing.T) {
	r := newRand(9)
	for _, P := range []int{1, 33, 784} {
		N := 50
		data := randNormal32(r, N*P, 1)
		dl := make([]int32, N)
		for i := range dl {
			dl[i] = int32(r.IntN(10))
		}
		for _, B := range testBatches {
			idx := make([]int32, B)
			for i := range idx {
				idx[i] = int32(r.IntN(N+2)) - 1 // -1 and N are padding
			}
			x, lab := nanSlice(B*P), make([]int32, B)
			for i := range lab {
				lab[i] = -9
			}
			GatherTwin(x, lab, data, dl, idx, P)
			for i, k := range idx {
				for p := 0; p < P; p++ {
					want := float32(0)
					if k >= 0 && int(k) < N {
						want = data[int(k)*P+p]
					}
					if x[i*P+p] != want {
						t.Fatalf("P=%d B=%d row %d: x[%d] = %v, want %v", P, B, i, p, x[i*P+p], want)
					}
				}
				wl := int32(0)
				if k >= 0 && int(k) < N {
					wl = dl[k]
				}
				if lab[i] != wl {
					t.Fatalf("label %d = %d, want %d", i, lab[i], wl)
				}
			}
		}
	}
	mustPanic(t, "lengths", func() {
		GatherTwin(make([]float32, 3), make([]int32, 1), make([]float32, 4), make([]int32, 2), []int32{0}, 2)
	})
}

func TestArgmaxRowsTwin(t *testing.T) {
	r := newRand(10)
	for _, C := range []int{1, 2, 10, 33, 1000} {
		for _, B := range testBatches {
			x := randNormal32(r, B*C, 1)
			for i := 0; i < B && C > 3; i += 3 {
				x[i*C+2] = x[i*C] // a tie when x[i*C] is the maximum
				x[i*C+1] = float32(math.NaN())
			}
			pred := make([]int32, B)
			for i := range pred {
				pred[i] = -1
			}
			ArgmaxRowsTwin(pred, x, B, C)
			for i := 0; i < B; i++ {
				best := 0
				for j := 1; j < C; j++ {
					v, bv := x[i*C+j], x[i*C+best]
					if bv != bv || (v == v && v > bv) {
						best = j
					}
				}
				if x[i*C+best] != x[i*C+best] {
					best = 0
				}
				if int(pred[i]) != best {
					t.Fatalf("C=%d B=%d row %d: %d, want %d", C, B, i, pred[i], best)
				}
			}
		}
	}
	all := []float32{float32(math.NaN()), float32(math.NaN())}
	p := []int32{5}
	ArgmaxRowsTwin(p, all, 1, 2)
	if p[0] != 0 {
		t.Errorf("all NaN: %d", p[0])
	}
}

func TestReduceTwins(t *testing.T) {
	r := newRand(12)
	for _, N := range []int{0, 1, 31, 32, 33, 250, 5000} {
		for _, R := range testBatches {
			if R*N > 2_000_000 {
				continue
			}
			in := randNormal32(r, R*N, 1)
			rows, cols := nanSlice(R), nanSlice(N)
			SumRowsTwin(rows, in, R, N)
			SumColsTwin(cols, in, R, N)
			sq := startValues(r, R)
			sq0 := append([]float32(nil), sq...)
			AddSumSqRowsTwin(sq, in, R, N)
			wr, wc, ws := make([]float64, R), make([]float64, N), make([]float64, R)
			for i := 0; i < R; i++ {
				ws[i] = float64(sq0[i])
				for j := 0; j < N; j++ {
					v := float64(in[i*N+j])
					wr[i] += v
					wc[j] += v
					ws[i] += v * v
				}
			}
			checkClose(t, bname("rows R", R, "N", N), rows, wr, 1e-9)
			checkClose(t, bname("cols R", R, "N", N), cols, wc, 1e-9)
			checkClose(t, bname("sumsq R", R, "N", N), sq, ws, 0)
		}
	}
	sq := []float32{4, 9, 0, 2}
	w := []float32{0.5, -3, 1, 0.25}
	out := nanSlice(4)
	GradNormFinishTwin(out, sq, w)
	want := []float64{4, 1, 0, math.Sqrt(2) * 4}
	checkClose(t, "finish", out, want, 0)
	GradNormFinishTwin(out, sq, nil)
	checkClose(t, "finish unit", out, []float64{2, 3, 0, math.Sqrt(2)}, 0)
	mustPanic(t, "finish lengths", func() { GradNormFinishTwin(out, sq[:3], nil) })
	mustPanic(t, "cols lengths", func() { SumColsTwin(make([]float32, 2), make([]float32, 5), 2, 3) })
}
