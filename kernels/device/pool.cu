// pool.cu: 2×2 max-pool with stride 2 (floor: a last odd row or column is
// dropped), optionally followed by a ReLU, and its backward; the ReLU
// backward on its own.
// References: ref.MaxPool2, ref.MaxPool2Back (kernels/ref/pool.go),
// kernels.ReLUMask (kernels/rows.go).
//
// The pooling kernels come twice, with 64-bit and with 32-bit index
// arithmetic (the _i32 entries), as in conv.cu.
#include "common.cuh"

// maxpool2_fwd: in (B, C, H, W) -> out (B, C, H/2, W/2). For each window the
// first maximum in the order (0,0), (0,1), (1,0), (1,1) wins; argmax holds its
// index y*W + x within the H×W plane. With relu, out = max(out, 0) (the
// argmax is still the window's maximum).
template <typename I>
__device__ __forceinline__ void maxpool2_fwd_body(float* out, int* argmax, const float* in, I B, I C, I H, I W,
                                                  bool relu) {
    const I PH = H / 2, PW = W / 2;
    const I total = B * C * PH * PW;
    for (I e = (I)blockIdx.x * (I)blockDim.x + (I)threadIdx.x; e < total; e += (I)gridDim.x * (I)blockDim.x) {
        I px = e % PW, rest = e / PW;
        I py = rest % PH, plane = rest / PH;
        const float* p = in + (i64)plane * H * W;
        I y = 2 * py, x = 2 * px;
        I best = y * W + x;
        float v = p[best];
        I cand[3] = {y * W + x + 1, (y + 1) * W + x, (y + 1) * W + x + 1};
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
template <typename I>
__device__ __forceinline__ void maxpool2_bwd_body(float* din, const float* dout, const int* argmax, const float* out,
                                                  I B, I C, I H, I W, bool relu) {
    const I PH = H / 2, PW = W / 2, HW = H * W;
    const I total = B * C * HW;
    for (I e = (I)blockIdx.x * (I)blockDim.x + (I)threadIdx.x; e < total; e += (I)gridDim.x * (I)blockDim.x) {
        I pos = e % HW, plane = e / HW;
        I y = pos / W, x = pos % W;
        I py = y / 2, px = x / 2;
        float g = 0.0f;
        if (py < PH && px < PW) {
            I o = (plane * PH + py) * PW + px;
            if (argmax[o] == pos && (!relu || out[o] > 0.0f)) g = dout[o];
        }
        din[e] = g;
    }
}

extern "C" __global__ void maxpool2_fwd(float* out, int* argmax, const float* in, i64 B, i64 C, i64 H, i64 W,
                                        i64 relu) {
    maxpool2_fwd_body<i64>(out, argmax, in, B, C, H, W, relu != 0);
}
extern "C" __global__ void maxpool2_fwd_i32(float* out, int* argmax, const float* in, i64 B, i64 C, i64 H, i64 W,
                                            i64 relu) {
    maxpool2_fwd_body<int>(out, argmax, in, (int)B, (int)C, (int)H, (int)W, relu != 0);
}
extern "C" __global__ void maxpool2_bwd(float* din, const float* dout, const int* argmax, const float* out,
                                        i64 B, i64 C, i64 H, i64 W, i64 relu) {
    maxpool2_bwd_body<i64>(din, dout, argmax, out, B, C, H, W, relu != 0);
}
extern "C" __global__ void maxpool2_bwd_i32(float* din, const float* dout, const int* argmax, const float* out,
                                            i64 B, i64 C, i64 H, i64 W, i64 relu) {
    maxpool2_bwd_body<int>(din, dout, argmax, out, (int)B, (int)C, (int)H, (int)W, relu != 0);
}

// relu_bwd: dz[i] = h[i] > 0 ? dh[i] : 0, where h = max(z, 0) is the ReLU's
// output (h > 0 exactly where z > 0). dz may alias dh.
extern "C" __global__ void relu_bwd(float* dz, const float* dh, const float* h, i64 n) {
    for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < n; e += (i64)gridDim.x * blockDim.x)
        dz[e] = h[e] > 0.0f ? dh[e] : 0.0f;
}
