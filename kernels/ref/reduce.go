package ref

import (
	"math"

	"github.com/sgds/sgds/kernels/internal/check"
)

// RowSums is the reference of the device row_sums (norms.cu): one sum per
// row of an (R, N) row-major in, out[r] = Σ_j in[r*N+j], summed in float64
// and rounded once. out is overwritten; it panics on wrong lengths.
func RowSums(out, in []float32, R, N int) {
	const op = "ref.RowSums"
	check.Len(op, "out", out, R)
	check.Len(op, "in", in, check.Size(op, R, N))
	for r := range out {
		var s float64
		for _, v := range in[r*N : (r+1)*N] {
			s += float64(v)
		}
		out[r] = float32(s)
	}
}

// ColumnSums is the reference of the device column_sums (norms.cu): one sum
// per column of an (R, N) row-major in, out[j] = Σ_r in[r*N+j], summed in
// float64 and rounded once. It is the bias gradient of a dense layer
// (R = batch) and the batch sum of per-sample weight gradients. out is
// overwritten; it panics on wrong lengths.
func ColumnSums(out, in []float32, R, N int) {
	const op = "ref.ColumnSums"
	check.Len(op, "out", out, N)
	check.Len(op, "in", in, check.Size(op, R, N))
	for j := range out {
		var s float64
		for r := 0; r < R; r++ {
			s += float64(in[r*N+j])
		}
		out[j] = float32(s)
	}
}

// AddRowSumSq is the reference of the device add_row_sum_sq (norms.cu):
// sq[r] += Σ_j in[r*N+j]², the squares summed in float64 and the result
// rounded once. With in holding per-sample gradients (one sample per row)
// it adds their squared norms. It panics on wrong lengths.
func AddRowSumSq(sq, in []float32, R, N int) {
	const op = "ref.AddRowSumSq"
	check.Len(op, "sq", sq, R)
	check.Len(op, "in", in, check.Size(op, R, N))
	for r := range sq {
		s := float64(sq[r])
		for _, v := range in[r*N : (r+1)*N] {
			s += float64(v) * float64(v)
		}
		sq[r] = float32(s)
	}
}

// GradNormFinish is the reference of the device grad_norm_finish
// (norms.cu): out[i] = sqrt(sq[i]) / |weights[i]| in float64, rounded once
// (weights nil means 1). With a batch cost Σ w_i·L_i every output gradient
// row of sample i carries the factor w_i, so this turns the summed squares
// into ||∇θ L_i||. It panics on wrong lengths.
func GradNormFinish(out, sq, weights []float32) {
	const op = "ref.GradNormFinish"
	check.Len(op, "sq", sq, len(out))
	if weights != nil {
		check.Len(op, "weights", weights, len(out))
	}
	for i := range out {
		v := math.Sqrt(float64(sq[i]))
		if weights != nil {
			v /= math.Abs(float64(weights[i]))
		}
		out[i] = float32(v)
	}
}
