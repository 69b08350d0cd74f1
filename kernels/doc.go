// Package kernels holds the numerical kernels of sgds: the fused per-sample
// loss (log-softmax + negative log-likelihood with its gradient) and the
// per-sample gradient-norm reductions for dense and convolutional layers
// (METHOD.md §5).
//
// Every kernel has a plain-Go twin in this package, always compiled (no build
// tag). The loss and norm twins and the *_twin.go files accumulate in
// float64: they are the references the device kernels are tested against.
//
// The CPU production kernels of the native backend (engine/native) live here
// too: gemm.go, conv.go, rows.go, sgd.go, with a portable path
// (*_generic.go) and a SIMD path (*_simd.go, GOEXPERIMENT=simd on amd64)
// selected by fastpath.go. They accumulate in float32 for speed; their
// float64 references are in their tests.
//
// The device path (issue 7) lives beside them:
//
//   - *.cu: the CUDA C kernels (loss.cu, norms.cu, gemm.cu, conv.cu,
//     pool.cu, update.cu, data.cu; helpers in common.cuh). Every parameter
//     is a pointer or a 64-bit scalar, as gorgonia.org/cu passes 8 bytes per
//     parameter;
//   - ptx/*.ptx: the PTX that `make kernels` generates from them (nvcc -ptx
//     -arch=compute_80, no fast math), committed, checked against the
//     sources by `make check-ptx`, and embedded with go:embed;
//   - launch_cuda.go (//go:build cuda): Load and the typed launchers of
//     Lib, which check their arguments, return errors and enqueue the
//     kernels through package cuda;
//   - *_twin.go: the plain-Go twins of the kernels that have no CPU
//     counterpart above (the tiled GEMM with its epilogues, col2im, max-pool,
//     ReLU backward, the SGD-momentum update, the gather, row and column
//     sums), each documented by the loop it is equal to;
//   - device_cuda_test.go, timing_cuda_test.go: every kernel against its twin
//     on a GPU, and the kernel timings of the GPU check (bench/gpu);
//   - emu/ and emu_test.go (-tags sgdsemu): the kernels' CUDA C run on a CPU
//     emulator and compared with the twins (`make kernels-emu`), and
//     fake_kernels.go (-tags cuda,sgdsfake): the twins standing in for the
//     kernels, so that the launchers and the GPU backend are tested without a
//     GPU.
//
// The build tag is cuda. The gorgonia backend (engine/cpu) is excluded from
// cuda builds: gorgonia's own cuda-tagged files need cuDNN.
//
// Conventions: slices and sizes only, destination first, row-major layouts.
// Exported functions check their arguments and panic on programmer misuse
// (wrong slice lengths, negative sizes, labels out of range); callers validate
// data beforehand. Inputs and outputs are float32; the reference twins
// accumulate in float64. The functions keep no state between calls (work buffers come from
// the caller or a sync.Pool), so they may run concurrently on distinct
// outputs.
package kernels
