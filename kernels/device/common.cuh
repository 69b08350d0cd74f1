// common.cuh: helpers shared by the sgds kernels (included, not compiled on
// its own).
//
// Conventions of every kernel in this folder:
//   - extern "C" entry points, so that the driver finds them by name;
//   - every parameter is a pointer or a 64-bit scalar (long long, double):
//     gorgonia.org/cu copies each kernel parameter as 8 bytes;
//   - sizes are long long and index arithmetic is 64-bit;
//   - a null pointer marks an optional input or output as absent;
//   - no fast math: expf/logf/log1pf are the accurate versions.
#pragma once

#define WARP 32
#define FULL_MASK 0xffffffffu

typedef long long i64;

__device__ __forceinline__ float warp_sum_f(float v) {
    for (int o = WARP / 2; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ double warp_sum_d(double v) {
    for (int o = WARP / 2; o > 0; o >>= 1) v += __shfl_xor_sync(FULL_MASK, v, o);
    return v;
}

__device__ __forceinline__ float relu_f(float x) { return x > 0.0f ? x : 0.0f; }

// global warp index and lane of the calling thread (1-D grid of 1-D blocks)
__device__ __forceinline__ i64 global_warp() {
    return ((i64)blockIdx.x * blockDim.x + threadIdx.x) / WARP;
}
__device__ __forceinline__ int lane_id() { return threadIdx.x & (WARP - 1); }
