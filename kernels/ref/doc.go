// Package ref holds the float64 references of the kernels of sgds: the
// oracles that the CPU production kernels (package kernels) and the CUDA
// kernels (package kernels/device, on a GPU, on the host driver and on the
// CPU emulator) are tested against. Each function states the loop it is
// equal to, accumulates in float64 and favours plainness over speed.
//
//   - gemm.go: Sgemm, SgemmBatched (the device GEMM with its layouts Op and
//     epilogues Epilogue) and Gemm (the CPU kernels.Gemm);
//   - conv.go: Col2Im (the adjoint of kernels.Im2Col) and Conv;
//   - pool.go: MaxPool2 and MaxPool2Back (2×2 max-pool, optional ReLU);
//   - reduce.go: RowSums, ColumnSums, AddRowSumSq and GradNormFinish;
//   - data.go: Gather and ArgmaxRows;
//   - loss.go: SoftmaxNLL (log-softmax + NLL with its gradient and norm);
//   - norms.go: DenseGradNormSq and ConvGradNormSq (per-sample gradient
//     norms formed explicitly).
//
// Kernels that are exact (Im2Col) or whose CPU kernel already is the
// device's loop (ReLUMask, SGDMomentum on the portable path) have no
// reference here: their tests compare against the production kernel with
// the fast path off.
//
// The functions that write float32 outputs (every one but Gemm, Conv,
// SoftmaxNLL and the norms) round once per output; the host driver of
// package cuda runs them in place of the CUDA kernels. They panic on
// programmer misuse (negative sizes, wrong lengths), as package kernels
// does.
package ref
