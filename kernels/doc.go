// Package kernels holds the numerical kernels of sgds: the fused per-sample
// loss (log-softmax + negative log-likelihood with its gradient) and the
// per-sample gradient-norm reductions for dense and convolutional layers
// (METHOD.md §5).
//
// Every kernel has a plain-Go twin in this package, always compiled (no build
// tag), accumulating in float64. The twins are the references the device
// kernels are tested against, and a native CPU backend may call them directly.
//
// Later this folder also holds, per kernel:
//
//   - op.cu: the CUDA C source;
//   - the PTX generated from it (kept in the repository, embedded with go:embed);
//   - op_cuda.go (//go:build cuda): the typed launcher that runs it through
//     package cuda;
//
// beside op.go (API and documentation, stating the loop the function equals)
// and the plain-Go reference. Tests and benchmarks carry no build tag and
// exercise whichever paths are built.
//
// Conventions: slices and sizes only, destination first, row-major layouts.
// Exported functions check their arguments and panic on programmer misuse
// (wrong slice lengths, negative sizes, labels out of range); callers validate
// data beforehand. Inputs are float32, accumulation is float64, outputs are
// float32. The functions keep no state between calls (work buffers come from
// the caller or a sync.Pool), so they may run concurrently on distinct
// outputs.
package kernels
