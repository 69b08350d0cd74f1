// Package gpu is the CUDA backend of sgds, registered as "cuda": the whole
// training step runs on the device on the custom kernels of package
// kernels (tiled GEMM with fused bias and ReLU, im2col/col2im, max-pool,
// the fused log-softmax + NLL loss, the per-sample gradient-norm
// reductions and the SGD-momentum update), bound through package cuda. It
// links libcuda alone: no cuBLAS, cuDNN or CUDA runtime.
//
// Per step only the batch moves to the device (or, after BindTrain, only
// its indices and weights: the training set then lives on the device and a
// gather kernel builds the batch) and only the per-sample scores come back
// (B floats each for the losses, the last-layer norms and, on request, the
// gradient norms) for the host-side sampler, whose alias draws stay on the
// host. Evaluation sets are uploaded once and kept for the Net's life.
//
// Everything but this comment is behind the cuda build tag; without it the
// package is empty and
// engine.LookupBackend("cuda") reports engine.ErrNotCompiled.
package gpu
