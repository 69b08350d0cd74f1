package kernels

import "math"

// SumRowsTwin is the plain-Go twin of the device sum_rows (norms.cu): for
// an (R, N) row-major in, out[r] = Σ_j in[r*N+j], summed in float64 and
// rounded once. out is overwritten; it panics on wrong lengths.
func SumRowsTwin(out, in []float32, R, N int) {
	const op = "SumRowsTwin"
	checkLen(op, "out", out, R)
	checkLen(op, "in", in, prod(op, R, N))
	for r := 0; r < R; r++ {
		var s float64
		for _, v := range in[r*N : (r+1)*N] {
			s += float64(v)
		}
		out[r] = float32(s)
	}
}

// SumColsTwin is the plain-Go twin of the device sum_cols (norms.cu): for
// an (R, N) row-major in, out[j] = Σ_r in[r*N+j], summed in float64 and
// rounded once. It is the bias gradient of a dense layer (R = batch) and
// the batch sum of per-sample weight gradients. out is overwritten; it
// panics on wrong lengths.
func SumColsTwin(out, in []float32, R, N int) {
	const op = "SumColsTwin"
	checkLen(op, "out", out, N)
	checkLen(op, "in", in, prod(op, R, N))
	for j := 0; j < N; j++ {
		var s float64
		for r := 0; r < R; r++ {
			s += float64(in[r*N+j])
		}
		out[j] = float32(s)
	}
}

// AddSumSqRowsTwin is the plain-Go twin of the device add_sum_sq_rows
// (norms.cu): sq[r] += Σ_j in[r*N+j]², the squares summed in float64 and
// the result rounded once. With in holding per-sample gradients (one
// sample per row) it adds their squared norms. It panics on wrong lengths.
func AddSumSqRowsTwin(sq, in []float32, R, N int) {
	const op = "AddSumSqRowsTwin"
	checkLen(op, "sq", sq, R)
	checkLen(op, "in", in, prod(op, R, N))
	for r := 0; r < R; r++ {
		s := float64(sq[r])
		for _, v := range in[r*N : (r+1)*N] {
			s += float64(v) * float64(v)
		}
		sq[r] = float32(s)
	}
}

// GradNormFinishTwin is the plain-Go twin of the device grad_norm_finish
// (norms.cu): out[i] = sqrt(sq[i]) / |weights[i]| in float64, rounded once
// (weights nil means 1). With a batch cost Σ w_i·L_i every output gradient
// row of sample i carries the factor w_i, so this turns the summed squares
// into ||∇θ L_i||. It panics on wrong lengths.
func GradNormFinishTwin(out, sq, weights []float32) {
	const op = "GradNormFinishTwin"
	checkLen(op, "sq", sq, len(out))
	if weights != nil {
		checkLen(op, "weights", weights, len(out))
	}
	for i := range out {
		v := math.Sqrt(float64(sq[i]))
		if weights != nil {
			v /= math.Abs(float64(weights[i]))
		}
		out[i] = float32(v)
	}
}
