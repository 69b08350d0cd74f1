// Package kernels holds the CPU production kernels of sgds, which the cpu
// backend (engine/cpu) runs: the blocked GEMM (gemm.go), the fused
// convolution + max-pool + ReLU and its gradients (conv.go), the row
// kernels (rows.go: bias + ReLU, ReLU mask, row scaling, column sums), the
// SGD-momentum update (sgd.go), im2col (im2col.go), the fused per-sample
// loss (loss.go: log-softmax + negative log-likelihood with its gradient
// and norm) and the per-sample gradient-norm reductions for dense and
// convolutional layers (densenorm.go, convnorm.go; METHOD.md §5).
//
// The kernels of gemm.go, conv.go, rows.go and sgd.go have two paths,
// chosen at run time (fastpath.go): a portable one in plain Go
// (*_generic.go and the functions themselves, always compiled) and a
// vector one (*_simd.go, GOEXPERIMENT=simd on amd64, AVX2 and FMA, with
// 16-lane micro-kernels where the CPU has AVX-512). Paths lists the paths a
// binary runs and UsePath selects one; tests run every path through
// kerneltest.ForEachPath. They accumulate in float32 for speed; the loss
// and norm kernels accumulate in float64.
//
// Beside this package:
//
//   - kernels/ref: the float64 references, the oracles of every kernel on
//     the CPU and on the device;
//   - kernels/kerneltest: what every kernel test shares (sizes, random
//     inputs, poisoned outputs, the comparison, ForEachPath);
//   - kernels/device: the CUDA kernels (*.cu, embedded PTX), their Go
//     launchers over package cuda, their host implementations for the host
//     driver, and the CPU emulator of the CUDA C (emu/).
//
// Conventions: slices and sizes only, destination first, row-major layouts.
// Exported functions check their arguments and panic on programmer misuse
// (wrong slice lengths, negative sizes, labels out of range); callers validate
// data beforehand. Inputs and outputs are float32. The functions keep no
// state between calls (work buffers come from the caller or a sync.Pool),
// so they may run concurrently on distinct outputs.
package kernels
