// conv.cu: unfolding for a valid (no padding), stride-1 convolution of B
// images of C channels and H×W pixels (NCHW), kernel KH×KW, OH = H-KH+1,
// OW = W-KW+1, T = OH*OW, K = C*KH*KW. Patches are (B, T, K) row-major with
// k = (c*KH + ky)*KW + kx.
// References: kernels.Im2Col (kernels/im2col.go), ref.Col2Im
// (kernels/ref/conv.go).
//
// Each kernel comes twice: with 64-bit index arithmetic, and with 32-bit
// (the _i32 entry), which the launcher picks when every index fits (32-bit
// division and remainder are several times cheaper on the device).
#include "common.cuh"

// im2col: dst[(i*T + t)*K + k] = src[((i*C + c)*H + oy+ky)*W + ox+kx].
template <typename I>
__device__ __forceinline__ void im2col_body(float* dst, const float* src, I B, I C, I H, I W, I KH, I KW) {
    const I OH = H - KH + 1, OW = W - KW + 1, T = OH * OW, KK = KH * KW, K = C * KK;
    const I total = B * T * K;
    for (I e = (I)blockIdx.x * (I)blockDim.x + (I)threadIdx.x; e < total; e += (I)gridDim.x * (I)blockDim.x) {
        I k = e % K, rest = e / K;
        I t = rest % T, i = rest / T;
        I c = k / KK, r = k % KK;
        I ky = r / KW, kx = r % KW;
        I oy = t / OW, ox = t % OW;
        dst[e] = src[((i * C + c) * H + oy + ky) * W + ox + kx];
    }
}

// col2im: the adjoint of im2col. dst (B, C, H, W) is overwritten with, for
// every pixel, the sum of the patch entries that copied it:
//     dst[i,c,y,x] = sum over ky, kx with 0 <= y-ky < OH, 0 <= x-kx < OW of
//                    src[(i*T + (y-ky)*OW + (x-kx))*K + (c*KH + ky)*KW + kx]
template <typename I>
__device__ __forceinline__ void col2im_body(float* dst, const float* src, I B, I C, I H, I W, I KH, I KW) {
    const I OH = H - KH + 1, OW = W - KW + 1, T = OH * OW, K = C * KH * KW;
    const I total = B * C * H * W;
    for (I e = (I)blockIdx.x * (I)blockDim.x + (I)threadIdx.x; e < total; e += (I)gridDim.x * (I)blockDim.x) {
        I x = e % W, rest = e / W;
        I y = rest % H;
        rest /= H;
        I c = rest % C, i = rest / C;
        float acc = 0.0f;
        for (I ky = 0; ky < KH; ky++) {
            I oy = y - ky;
            if (oy < 0 || oy >= OH) continue;
            for (I kx = 0; kx < KW; kx++) {
                I ox = x - kx;
                if (ox < 0 || ox >= OW) continue;
                acc += src[(i * T + oy * OW + ox) * K + (c * KH + ky) * KW + kx];
            }
        }
        dst[e] = acc;
    }
}

#define CONV_ENTRIES(name)                                                                                   \
    extern "C" __global__ void name(float* dst, const float* src, i64 B, i64 C, i64 H, i64 W, i64 KH, i64 KW) { \
        name##_body<i64>(dst, src, B, C, H, W, KH, KW);                                                     \
    }                                                                                                        \
    extern "C" __global__ void name##_i32(float* dst, const float* src, i64 B, i64 C, i64 H, i64 W, i64 KH,     \
                                          i64 KW) {                                                          \
        name##_body<int>(dst, src, (int)B, (int)C, (int)H, (int)W, (int)KH, (int)KW);                       \
    }

CONV_ENTRIES(im2col)
CONV_ENTRIES(col2im)
