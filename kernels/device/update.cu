// update.cu: the SGD-momentum update. Reference: kernels.SGDMomentum on its
// portable path (kernels/sgd.go).
//
// sgd_momentum: for every i < n, in float32 with every operation rounded
// (no fused multiply-add, so the result is bit-identical to the CPU's):
//     v[i] = mu*v[i] + g[i]
//     w[i] = w[i] - lr*v[i]
// lr and mu arrive as doubles (8-byte parameters) and are rounded to float
// once.
#include "common.cuh"

extern "C" __global__ void sgd_momentum(float* w, float* v, const float* g, i64 n, double lr, double mu) {
    const float lrf = (float)lr, muf = (float)mu;
    for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (i64)gridDim.x * blockDim.x) {
        float vv = __fadd_rn(__fmul_rn(muf, v[e]), g[e]);
        v[e] = vv;
        w[e] = __fsub_rn(w[e], __fmul_rn(lrf, vv));
    }
}
