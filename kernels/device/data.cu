// data.cu: batches from a device-resident data set, predictions, and a plain
// copy (the bandwidth yardstick of the kernel timings).
// References: ref.Gather, ref.ArgmaxRows (kernels/ref/data.go).
#include "common.cuh"

// gather_rows: for each of the B rows, k = idx[i]; when 0 <= k < N the row
// is sample k of the (N, P) data and labels[i] = data_labels[k], otherwise
// (padding, idx -1) the row is zeros and the label 0. The labels have their
// own loop, so that they are gathered also when P is 0 (the launch covers
// max(B*P, B) threads).
extern "C" __global__ void gather_rows(float* x, int* labels, const float* data, const int* data_labels,
                                       const int* idx, i64 B, i64 P, i64 N) {
    const i64 total = B * P;
    const i64 stride = (i64)gridDim.x * blockDim.x;
    const i64 t = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    for (i64 e = t; e < total; e += stride) {
        i64 i = e / P, p = e % P;
        i64 k = idx[i];
        x[e] = (k >= 0 && k < N) ? data[k * P + p] : 0.0f;
    }
    for (i64 i = t; i < B; i += stride) {
        i64 k = idx[i];
        labels[i] = (k >= 0 && k < N) ? data_labels[k] : 0;
    }
}

// argmax_rows: pred[i] = the index of the largest of the C values of row i,
// the lowest index among ties; NaN counts as -infinity. One warp per row.
extern "C" __global__ void argmax_rows(int* pred, const float* logits, i64 B, i64 C) {
    i64 row = global_warp();
    if (row >= B) return;
    int lane = lane_id();
    const float* x = logits + row * C;
    float best = -INFINITY;
    i64 bi = C;  // C: none seen yet
    for (i64 j = lane; j < C; j += WARP) {
        float v = x[j];
        if (v != v) v = -INFINITY;
        if (v > best || (v == best && j < bi)) { best = v; bi = j; }
    }
    for (int o = WARP / 2; o > 0; o >>= 1) {
        float v2 = __shfl_xor_sync(FULL_MASK, best, o);
        i64 i2 = __shfl_xor_sync(FULL_MASK, bi, o);
        if (v2 > best || (v2 == best && i2 < bi)) { best = v2; bi = i2; }
    }
    if (lane == 0) pred[row] = bi < C ? (int)bi : 0;
}

// copy_f32: dst[i] = src[i] for i < n, by float4 when both are 16-byte
// aligned.
extern "C" __global__ void copy_f32(float* dst, const float* src, i64 n) {
    i64 stride = (i64)gridDim.x * blockDim.x;
    i64 t = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (((((unsigned long long)dst) | ((unsigned long long)src)) & 15) == 0) {
        i64 n4 = n / 4;
        float4* d4 = reinterpret_cast<float4*>(dst);
        const float4* s4 = reinterpret_cast<const float4*>(src);
        for (i64 e = t; e < n4; e += stride) d4[e] = s4[e];
        for (i64 e = 4 * n4 + t; e < n; e += stride) dst[e] = src[e];
    } else {
        for (i64 e = t; e < n; e += stride) dst[e] = src[e];
    }
}
