// norms.cu: per-sample gradient-norm reductions and the row/column sums that
// the backward pass shares with them. Sums accumulate in double.
//
// References: ref.DenseGradNormSq (kernels/ref/norms.go); ref.RowSums,
// ColumnSums, AddRowSumSq, GradNormFinish (kernels/ref/reduce.go). The conv
// layer's per-sample norm is composed by its launcher (AddConvGradNormSq in
// norms.go): G_i = delta_i a_i by a batched GEMM, then add_row_sum_sq over G
// and over the bias sums.
#include "common.cuh"

// dense_norm_sq: sq[i] += ||a_i||^2 * ||delta_i||^2 (+ ||delta_i||^2 when
// bias), a is (B, K), delta is (B, C). One warp per row.
extern "C" __global__ void dense_norm_sq(float* sq, const float* a, const float* delta,
                                         i64 B, i64 K, i64 C, i64 bias) {
    i64 row = global_warp();
    if (row >= B) return;
    int lane = lane_id();
    double aa = 0, dd = 0;
    for (i64 k = lane; k < K; k += WARP) {
        double v = a[row * K + k];
        aa += v * v;
    }
    for (i64 c = lane; c < C; c += WARP) {
        double v = delta[row * C + c];
        dd += v * v;
    }
    aa = warp_sum_d(aa);
    dd = warp_sum_d(dd);
    if (lane == 0) {
        double v = aa * dd;
        if (bias) v += dd;
        sq[row] = (float)((double)sq[row] + v);
    }
}

// row_sums: out[r] = sum_j in[r*N + j] for R rows. One warp per row.
extern "C" __global__ void row_sums(float* out, const float* in, i64 R, i64 N) {
    i64 row = global_warp();
    if (row >= R) return;
    int lane = lane_id();
    double acc = 0;
    for (i64 j = lane; j < N; j += WARP) acc += in[row * N + j];
    acc = warp_sum_d(acc);
    if (lane == 0) out[row] = (float)acc;
}

// add_row_sum_sq: sq[r] += sum_j in[r*N + j]^2 for R rows. One warp per row.
extern "C" __global__ void add_row_sum_sq(float* sq, const float* in, i64 R, i64 N) {
    i64 row = global_warp();
    if (row >= R) return;
    int lane = lane_id();
    double acc = 0;
    for (i64 j = lane; j < N; j += WARP) {
        double v = in[row * N + j];
        acc += v * v;
    }
    acc = warp_sum_d(acc);
    if (lane == 0) sq[row] = (float)((double)sq[row] + acc);
}

// column_sums: out[j] = sum_r in[r*N + j] for R rows of N columns. Blocks of
// 32×8 threads own 32 columns; each of the 8 thread rows sums every 8th row
// (coalesced reads along a row), then the 8 partial sums are added in a
// fixed order, so the result does not depend on scheduling.
extern "C" __global__ void column_sums(float* out, const float* in, i64 R, i64 N) {
    __shared__ double part[8][WARP + 1];
    int tx = threadIdx.x, ty = threadIdx.y;
    i64 j = (i64)blockIdx.x * WARP + tx;
    double acc = 0;
    if (j < N)
        for (i64 r = ty; r < R; r += 8) acc += in[r * N + j];
    part[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && j < N) {
        double t = 0;
        for (int k = 0; k < 8; k++) t += part[k][tx];
        out[j] = (float)t;
    }
}

// grad_norm_finish: out[i] = sqrt(sq[i]) / |w_i| (w = 1 when weights is
// null): the cost Σ w_i L_i scales row i of every output gradient by w_i.
extern "C" __global__ void grad_norm_finish(float* out, const float* sq, const float* weights, i64 B) {
    i64 i = (i64)blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= B) return;
    double v = sqrt((double)sq[i]);
    if (weights) v /= fabs((double)weights[i]);
    out[i] = (float)v;
}
