// conv.cu: unfolding for a valid (no padding), stride-1 convolution of B
// images of C channels and H×W pixels (NCHW), kernel KH×KW, OH = H-KH+1,
// OW = W-KW+1, T = OH*OW, K = C*KH*KW. Patches are (B, T, K) row-major with
// k = (c*KH + ky)*KW + kx.
// Twins: kernels.Im2Col (im2col.go), kernels.Col2ImTwin (col2im_twin.go).
#include "common.cuh"

// im2col: dst[(i*T + t)*K + k] = src[((i*C + c)*H + oy+ky)*W + ox+kx].
extern "C" __global__ void im2col(float* dst, const float* src, i64 B, i64 C, i64 H, i64 W, i64 KH, i64 KW) {
    const i64 OH = H - KH + 1, OW = W - KW + 1, T = OH * OW, KK = KH * KW, K = C * KK;
    const i64 total = B * T * K;
    for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (i64)gridDim.x * blockDim.x) {
        i64 k = e % K, rest = e / K;
        i64 t = rest % T, i = rest / T;
        i64 c = k / KK, r = k % KK;
        i64 ky = r / KW, kx = r % KW;
        i64 oy = t / OW, ox = t % OW;
        dst[e] = src[((i * C + c) * H + oy + ky) * W + ox + kx];
    }
}

// col2im: the adjoint of im2col. dst (B, C, H, W) is overwritten with, for
// every pixel, the sum of the patch entries that copied it:
//     dst[i,c,y,x] = sum over ky, kx with 0 <= y-ky < OH, 0 <= x-kx < OW of
//                    src[(i*T + (y-ky)*OW + (x-kx))*K + (c*KH + ky)*KW + kx]
extern "C" __global__ void col2im(float* dst, const float* src, i64 B, i64 C, i64 H, i64 W, i64 KH, i64 KW) {
    const i64 OH = H - KH + 1, OW = W - KW + 1, T = OH * OW, K = C * KH * KW;
    const i64 total = B * C * H * W;
    for (i64 e = (i64)blockIdx.x * blockDim.x + threadIdx.x; e < total; e += (i64)gridDim.x * blockDim.x) {
        i64 x = e % W, rest = e / W;
        i64 y = rest % H;
        rest /= H;
        i64 c = rest % C, i = rest / C;
        float acc = 0.0f;
        for (i64 ky = 0; ky < KH; ky++) {
            i64 oy = y - ky;
            if (oy < 0 || oy >= OH) continue;
            for (i64 kx = 0; kx < KW; kx++) {
                i64 ox = x - kx;
                if (ox < 0 || ox >= OW) continue;
                acc += src[(i * T + oy * OW + ox) * K + (c * KH + ky) * KW + kx];
            }
        }
        dst[e] = acc;
    }
}
