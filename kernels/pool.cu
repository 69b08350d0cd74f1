// pool.cu: 2×2 max-pool with stride 2 (floor: a last odd row or column is
// dropped), optionally followed by a ReLU, and its backward; the ReLU
// backward on its own.
// Twins: kernels.MaxPool2Twin, MaxPool2BackTwin (pool_twin.go),
// ReLUBackTwin (relu_twin.go).
#include "common.cuh"

// maxpool2_fwd: in (B, C, H, W) -> out (B, C, H/2, W/2). For each window the
// first maximum in the order (0,0), (0,1), (1,0), (1,1) wins; argmax holds its
// index y*W + x within the H×W plane. With relu, out = max(out, 0) (the
// argmax is still the window's maximum).
extern "C" __global__ void maxpool2_fwd(float* out, int* argmax, const float* in, i64 B, i64 C, i64 H, i64 W,
                                        i64 relu) {
    const i64 PH = H / 2, PW = W / 2;
    const i64 total = B * C * PH * PW;
    for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (i64)gridDim.x * blockDim.x) {
        i64 px = e % PW, rest = e / PW;
        i64 py = rest % PH, plane = rest / PH;
        const float* p = in + plane * H * W;
        i64 y = 2 * py, x = 2 * px;
        i64 best = y * W + x;
        float v = p[best];
        i64 cand[3] = {y * W + x + 1, (y + 1) * W + x, (y + 1) * W + x + 1};
#pragma unroll
        for (int k = 0; k < 3; k++) {
            float u = p[cand[k]];
            if (u > v) { v = u; best = cand[k]; }
        }
        out[e] = relu ? relu_f(v) : v;
        argmax[e] = (int)best;
    }
}

// maxpool2_bwd: din (B, C, H, W) is overwritten: the pixel that won its
// window gets the window's output gradient (times the ReLU's derivative
// [out > 0] when relu), every other pixel 0.
extern "C" __global__ void maxpool2_bwd(float* din, const float* dout, const int* argmax, const float* out,
                                        i64 B, i64 C, i64 H, i64 W, i64 relu) {
    const i64 PH = H / 2, PW = W / 2;
    const i64 total = B * C * H * W;
    for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (i64)gridDim.x * blockDim.x) {
        i64 pos = e % (H * W), plane = e / (H * W);
        i64 y = pos / W, x = pos % W;
        i64 py = y / 2, px = x / 2;
        float g = 0.0f;
        if (py < PH && px < PW) {
            i64 o = (plane * PH + py) * PW + px;
            if (argmax[o] == pos && (!relu || out[o] > 0.0f)) g = dout[o];
        }
        din[e] = g;
    }
}

// relu_bwd: dz[i] = h[i] > 0 ? dh[i] : 0, where h = max(z, 0) is the ReLU's
// output (h > 0 exactly where z > 0). dz may alias dh.
extern "C" __global__ void relu_bwd(float* dz, const float* dh, const float* h, i64 n) {
    for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (i64)gridDim.x * blockDim.x)
        dz[e] = h[e] > 0.0f ? dh[e] : 0.0f;
}
