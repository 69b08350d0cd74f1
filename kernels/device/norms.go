package device

import "github.com/sgds/sgds/cuda"

// AddDenseGradNormSq runs dense_norm_sq (norms.cu), the device counterpart
// of kernels.AddDenseGradNormSq: sq[i] += ||a_i||²·||delta_i||²
// (+ ||delta_i||² with bias) for a (B, K) and delta (B, C).
func (l *Lib) AddDenseGradNormSq(s *cuda.Stream, sq, a, delta *cuda.Float32s, B, K, C int, bias bool) error {
	if err := check("AddDenseGradNormSq", []int{B, K, C}, req("sq", sq, B), req("a", a, B*K), req("delta", delta, B*C)); err != nil {
		return err
	}
	return l.launchRows(s, "dense_norm_sq", B, cuda.Ptr(sq), cuda.Ptr(a), cuda.Ptr(delta), cuda.Int(B), cuda.Int(K), cuda.Int(C), boolArg(bias))
}

// RowSums runs row_sums (norms.cu), whose reference is ref.RowSums: one sum
// per row of the (R, N) in, out[r] = Σ_j in[r*N+j].
func (l *Lib) RowSums(s *cuda.Stream, out, in *cuda.Float32s, R, N int) error {
	if err := check("RowSums", []int{R, N}, req("out", out, R), req("in", in, R*N)); err != nil {
		return err
	}
	return l.launchRows(s, "row_sums", R, cuda.Ptr(out), cuda.Ptr(in), cuda.Int(R), cuda.Int(N))
}

// AddRowSumSq runs add_row_sum_sq (norms.cu), whose reference is
// ref.AddRowSumSq: sq[r] += Σ_j in[r*N+j]².
func (l *Lib) AddRowSumSq(s *cuda.Stream, sq, in *cuda.Float32s, R, N int) error {
	if err := check("AddRowSumSq", []int{R, N}, req("sq", sq, R), req("in", in, R*N)); err != nil {
		return err
	}
	return l.launchRows(s, "add_row_sum_sq", R, cuda.Ptr(sq), cuda.Ptr(in), cuda.Int(R), cuda.Int(N))
}

// ColumnSums runs column_sums (norms.cu), whose reference is
// ref.ColumnSums: one sum per column of the (R, N) in,
// out[j] = Σ_r in[r*N+j], in a fixed order (deterministic).
func (l *Lib) ColumnSums(s *cuda.Stream, out, in *cuda.Float32s, R, N int) error {
	if err := check("ColumnSums", []int{R, N}, req("out", out, N), req("in", in, R*N)); err != nil {
		return err
	}
	f, err := l.fn("column_sums")
	if err != nil || N == 0 {
		return err
	}
	return f.Launch(cuda.Dim3{X: (N + 31) / 32}, cuda.Dim3{X: 32, Y: 8}, 0, s, cuda.Ptr(out), cuda.Ptr(in), cuda.Int(R), cuda.Int(N))
}

// GradNormFinish runs grad_norm_finish (norms.cu), whose reference is
// ref.GradNormFinish: out[i] = sqrt(sq[i]) / |w_i| for i < B (weights nil:
// w_i = 1).
func (l *Lib) GradNormFinish(s *cuda.Stream, out, sq, weights *cuda.Float32s, B int) error {
	if err := check("GradNormFinish", []int{B}, req("out", out, B), req("sq", sq, B), opt("weights", weights, B)); err != nil {
		return err
	}
	f, err := l.fn("grad_norm_finish")
	if err != nil || B == 0 {
		return err
	}
	return f.Launch(cuda.Dim3{X: (B + block - 1) / block}, cuda.Dim3{X: block}, 0, s, cuda.Ptr(out), cuda.Ptr(sq), ptrOf(weights), cuda.Int(B))
}

// AddConvGradNormSq adds, for each of the B samples, the squared norm of
// the sample's gradient of a conv layer to sq: the device counterpart of
// kernels.AddConvGradNormSq (same layouts: patches (B, T, K), delta
// (B, C, T)). It materialises the per-sample weight gradients
// G_i = delta_i·patches_i (C×K) into g (B·C·K elements) with a batched
// GEMM, adds Σ G_i², and with bias the squares of the per-channel sums of
// delta_i (kept in sums, B·C elements). The caller may reuse g: Σ_i G_i is
// the layer's weight gradient.
func (l *Lib) AddConvGradNormSq(s *cuda.Stream, sq, patches, delta *cuda.Float32s, B, T, K, C int, bias bool, g, sums *cuda.Float32s) error {
	sumsLen := B * C
	if !bias {
		sumsLen = 0
	}
	if err := check("AddConvGradNormSq", []int{B, T, K, C}, req("sq", sq, B), req("g", g, B*C*K), req("sums", sums, sumsLen)); err != nil {
		return err
	}
	if err := l.SgemmBatched(s, NN, B, g, delta, patches, C, K, T, C*T, T*K, C*K, EpiNone, nil, nil); err != nil {
		return err
	}
	if err := l.AddRowSumSq(s, sq, g, B, C*K); err != nil || !bias {
		return err
	}
	if err := l.RowSums(s, sums, delta, B*C, T); err != nil {
		return err
	}
	return l.AddRowSumSq(s, sq, sums, B, C)
}
