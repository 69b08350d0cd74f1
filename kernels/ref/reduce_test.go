package ref_test

import (
	"math"
	"testing"

	kt "github.com/sgds/sgds/kernels/kerneltest"
	"github.com/sgds/sgds/kernels/ref"
)

func TestReductions(t *testing.T) {
	r := kt.Rand(12)
	for _, N := range []int{0, 1, 31, 32, 33, 250, 5000} {
		for _, R := range kt.Sizes {
			if R*N > 2_000_000 {
				continue
			}
			in := kt.Normal(r, R*N, 1)
			rows, cols := kt.Poison(R), kt.Poison(N)
			ref.RowSums(rows, in, R, N)
			ref.ColumnSums(cols, in, R, N)
			sq := kt.Start(r, R)
			sq0 := append([]float32(nil), sq...)
			ref.AddRowSumSq(sq, in, R, N)
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
			kt.Check(t, kt.Name("rows R", R, "N", N), rows, wr, kt.Tol{Abs: 1e-9, Rel: 1e-5})
			kt.Check(t, kt.Name("cols R", R, "N", N), cols, wc, kt.Tol{Abs: 1e-9, Rel: 1e-5})
			kt.Check(t, kt.Name("sumsq R", R, "N", N), sq, ws, kt.Tol{Abs: 0, Rel: 1e-5})
		}
	}
	sq := []float32{4, 9, 0, 2}
	w := []float32{0.5, -3, 1, 0.25}
	out := kt.Poison(4)
	ref.GradNormFinish(out, sq, w)
	want := []float64{4, 1, 0, math.Sqrt(2) * 4}
	kt.Check(t, "finish", out, want, kt.Tol{Abs: 0, Rel: 1e-5})
	ref.GradNormFinish(out, sq, nil)
	kt.Check(t, "finish unit", out, []float64{2, 3, 0, math.Sqrt(2)}, kt.Tol{Abs: 0, Rel: 1e-5})
	kt.MustPanic(t, "finish lengths", func() { ref.GradNormFinish(out, sq[:3], nil) })
	kt.MustPanic(t, "cols lengths", func() { ref.ColumnSums(make([]float32, 2), make([]float32, 5), 2, 3) })
}
