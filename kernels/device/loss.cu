// loss.cu: the fused per-sample loss. References: kernels.SoftmaxNLL
// (kernels/loss.go, the CPU kernel) and ref.SoftmaxNLL (kernels/ref/loss.go).
//
// softmax_nll: for each row i of the (B, C) logits, with y = labels[i],
// p = softmax(x_i) and w = weights ? weights[i] : 1,
//     loss[i]      = -log p[y]
//     dlogits[i,j] = w * (p[j] - [j == y])      (when dlogits is not null)
//     lastnorm[i]  = ||p - onehot(y)||          (when lastnorm is not null)
// One warp per row. Pass 1 computes, online, the row maximum m over all j
// and s = sum_{j != y} e_j, q = sum_{j != y} e_j^2 with e_j = exp(x_j - m);
// leaving the label out makes 1 - p[y] = s/S exact (no cancellation), as the
// CPU kernel does. Pass 2 (only with dlogits) writes the gradient row.
#include "common.cuh"

// acc_push folds x into the running (m, s, q); include is false for the
// label's own logit, which moves the maximum but is not summed.
__device__ __forceinline__ void acc_push(float& m, float& s, float& q, float x, bool include) {
    if (x > m) {
        float r = expf(m - x);  // m = -inf gives r = 0
        s *= r;
        q *= r * r;
        m = x;
    }
    if (include) {
        float e = expf(x - m);
        s += e;
        q += e * e;
    }
}

// acc_merge folds (m2, s2, q2) into (m, s, q).
__device__ __forceinline__ void acc_merge(float& m, float& s, float& q, float m2, float s2, float q2) {
    float mm = fmaxf(m, m2);
    if (mm == -INFINITY) return;  // both empty
    float r1 = expf(m - mm), r2 = expf(m2 - mm);
    s = s * r1 + s2 * r2;
    q = q * r1 * r1 + q2 * r2 * r2;
    m = mm;
}

extern "C" __global__ void softmax_nll(float* loss, float* dlogits, float* lastnorm,
                                       const float* logits, const int* labels, const float* weights,
                                       i64 B, i64 C) {
    i64 row = global_warp();
    if (row >= B) return;
    int lane = lane_id();
    const float* x = logits + row * C;
    int y = labels[row];
    if (y < 0 || (i64)y >= C) {  // the launcher checks labels; never silently wrong
        if (lane == 0) {
            loss[row] = __int_as_float(0x7fc00000);
            if (lastnorm) lastnorm[row] = __int_as_float(0x7fc00000);
        }
        if (dlogits)
            for (i64 j = lane; j < C; j += WARP) dlogits[row * C + j] = __int_as_float(0x7fc00000);
        return;
    }
    float m = -INFINITY, s = 0.0f, q = 0.0f;
    bool vec = (C % 4 == 0) && ((((unsigned long long)x) & 15) == 0);
    if (vec) {
        const float4* x4 = reinterpret_cast<const float4*>(x);
        i64 C4 = C / 4;
#pragma unroll 4
        for (i64 j = lane; j < C4; j += WARP) {
            float4 v = x4[j];
            i64 b = 4 * j;
            acc_push(m, s, q, v.x, b != y);
            acc_push(m, s, q, v.y, b + 1 != y);
            acc_push(m, s, q, v.z, b + 2 != y);
            acc_push(m, s, q, v.w, b + 3 != y);
        }
    } else {
        for (i64 j = lane; j < C; j += WARP) acc_push(m, s, q, x[j], j != y);
    }
    for (int o = WARP / 2; o > 0; o >>= 1) {
        float m2 = __shfl_xor_sync(FULL_MASK, m, o);
        float s2 = __shfl_xor_sync(FULL_MASK, s, o);
        float q2 = __shfl_xor_sync(FULL_MASK, q, o);
        acc_merge(m, s, q, m2, s2, q2);
    }
    float d = x[y] - m;  // <= 0
    float ey = expf(d);
    float S = s + ey;    // >= 1: the maximum's own term is exp(0)
    if (lane == 0) {
        // -log p[y] = log(S / e_y) = log1p(s / e_y), exact for small losses;
        // far below the maximum, log(S) - d has no cancellation either.
        loss[row] = d > -60.0f ? log1pf(s / ey) : logf(S) - d;
        if (lastnorm) lastnorm[row] = sqrtf(s * s + q) / S;
    }
    if (!dlogits) return;
    float w = weights ? weights[row] : 1.0f;
    float scale = w / S;
    float* dl = dlogits + row * C;
    if (vec && ((((unsigned long long)dl) & 15) == 0)) {
        const float4* x4 = reinterpret_cast<const float4*>(x);
        float4* d4 = reinterpret_cast<float4*>(dl);
        i64 C4 = C / 4;
#pragma unroll 4
        for (i64 j = lane; j < C4; j += WARP) {
            float4 v = x4[j];
            float4 o;
            o.x = expf(v.x - m) * scale;
            o.y = expf(v.y - m) * scale;
            o.z = expf(v.z - m) * scale;
            o.w = expf(v.w - m) * scale;
            i64 b = 4 * j;
            if (b == y) o.x = -s * scale;
            if (b + 1 == y) o.y = -s * scale;
            if (b + 2 == y) o.z = -s * scale;
            if (b + 3 == y) o.w = -s * scale;
            d4[j] = o;
        }
    } else {
        for (i64 j = lane; j < C; j += WARP) dl[j] = j == y ? -s * scale : expf(x[j] - m) * scale;
    }
}
