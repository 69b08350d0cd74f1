// Package gpu is the CUDA backend of sgds, registered as "cuda" in every
// build: the whole training step runs on the device on the kernels of
// package kernels/device (tiled GEMM with fused bias and ReLU,
// im2col/col2im, max-pool, the fused log-softmax + NLL loss, the per-sample
// gradient-norm reductions and the SGD-momentum update), through package
// cuda. It links libcuda alone: no cuBLAS, cuDNN or CUDA runtime.
//
// It needs no build tag: a build without the cuda tag registers it too,
// and its Available (engine.Availability) then reports cuda.ErrNotCompiled,
// so that --device cuda fails with a clear message and --device auto
// falls back to cpu. The driver is the build's own (the CUDA driver with the
// cuda tag, none without) unless SGDS_CUDA_DRIVER names one (host, cuda or
// auto) or a test selected one (cuda.UseHost, cudatest). On the host
// driver of package cuda it runs every kernel on
// its reference in host memory: the tests of this package run the shared
// engine suite that way in a plain go test, and bench/gpu/run.sh --host
// rehearses the GPU check.
//
// Per step only the batch moves to the device, through page-locked host
// buffers (or, after BindTrain, only its indices and weights: the training
// set then lives on the device and a gather kernel builds the batch), and
// only the per-sample scores come back (B floats each for the losses, the
// last-layer norms and, on request, the gradient norms) for the host-side
// sampler. Data sets are uploaded once per process and shared by every Net
// that uses them (sets.go).
//
// Files: backend.go (the backend, the device and the driver choice),
// net.go (the Net and its lifetime), buffers.go (per-layer and per-batch
// buffers), data.go (data sets and batch loading), forward.go, backward.go,
// step.go (Step, Forward, Gradients, GradNorms, Score), evaluate.go and
// params.go.
package gpu
