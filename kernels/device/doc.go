// Package device holds the CUDA kernels of sgds and their Go launchers: the
// fused per-sample loss, the per-sample gradient-norm reductions, the
// tiled GEMM with fused epilogues, im2col/col2im, max-pool, the
// SGD-momentum update and the data-set gather. It is pure Go over package
// cuda and needs no build tag: with the CUDA driver (-tags cuda) the
// kernels run on the GPU, and on the host driver (cuda.UseHost) the
// implementations in host.go run each kernel's reference instead, so that
// every launcher is tested in a plain go test.
//
// Per .cu file one .go file holds its launchers (methods of Lib, which Load
// makes from a context): loss.go, norms.go, gemm.go, conv.go, pool.go,
// update.go and data.go; lib.go has Load and the argument checks.
//
//   - *.cu and common.cuh: the CUDA C. Every parameter is a pointer or a
//     64-bit scalar, as gorgonia.org/cu passes 8 bytes per parameter;
//   - ptx/*.ptx: the PTX that `make kernels` generates from them (nvcc -ptx
//     -arch=compute_80, no fast math), committed, checked against the
//     sources by `make check-ptx`, and embedded with go:embed;
//   - host.go: the kernels' host implementations (package kernels/ref and
//     the CPU kernels of package kernels) for the host driver;
//   - emu/: a CPU emulator of the CUDA C (fakecuda.h: threads as fibers,
//     barriers, warp shuffles) and emu_main.cpp, which runs every kernel at
//     edge sizes; TestEmulatedKernels builds it with g++ and compares its
//     outputs with the references.
//
// The tests run on the host driver unless the test binary gets -driver
// cuda (the default when it is built with -tags cuda, which only starts on
// a machine with an NVIDIA GPU); the benchmarks time every kernel, with
// CUDA events on a device.
package device
