// gemm.cu: tiled single-precision GEMM, batched, with fused epilogues.
// Reference: ref.SgemmBatched (kernels/ref/gemm.go).
//
// For every batch entry z (blockIdx.z), with A_z = A + z*sA, B_z = B + z*sB
// and C_z = C + z*sC (a stride of 0 shares one matrix across the batch):
//     NN: C_z (M×N) = A_z (M×K, row-major)      · B_z (K×N, row-major)
//     NT: C_z       = A_z (M×K)                 · B_z^T, B_z stored (N×K)
//     TN: C_z       = A_z^T, A_z stored (K×M)   · B_z (K×N)
// then the epilogue:
//     0 none
//     1 bias per column:        C[m,n] += bias[n]
//     2 bias per column + ReLU: C[m,n] = max(C[m,n] + bias[n], 0)
//     3 bias per row:           C[m,n] += bias[m]
//     4 ReLU mask:              C[m,n] = aux_z[m,n] > 0 ? C[m,n] : 0
//                               (aux_z = aux + z*sC: the ReLU backward of a
//                               layer whose output aux is)
// Tiles of BM×BN outputs per block of 256 threads (16×16), each thread
// computing TM×TN = (BM/16)×(BN/16) outputs at rows ty + i*16 and columns
// tx + j*16, over K-slices of 16 staged in shared memory. Five tiles are
// instantiated per layout, named sgemm_<layout>_<BM>x<BN>: the squares
// 16×16, 32×32 and 64×64 for general shapes, and 16×64 and 32×64 for the
// short, wide outputs of convolutions (M = a few output channels, N = the
// positions or the patch size), where a square tile would leave most of its
// rows idle and give each thread one output. The launcher picks the tile
// from the problem shape.
#include "common.cuh"

#define BK 16

template <int BM, int BN, bool TA, bool TB>
__device__ __forceinline__ void sgemm_body(float* __restrict__ Cm, const float* __restrict__ Am,
                                           const float* __restrict__ Bm, const float* __restrict__ bias,
                                           const float* __restrict__ aux, i64 M, i64 N, i64 K,
                                           i64 sA, i64 sB, i64 sC, i64 epi) {
    constexpr int TM = BM / 16, TN = BN / 16;
    __shared__ float As[BK][BM + 1];
    __shared__ float Bs[BK][BN + 1];
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int tid = ty * 16 + tx;
    const i64 z = blockIdx.z;
    const float* A = Am + z * sA;
    const float* Bp = Bm + z * sB;
    float* C = Cm + z * sC;
    const i64 m0 = (i64)blockIdx.y * BM, n0 = (i64)blockIdx.x * BN;

    float acc[TM][TN];
#pragma unroll
    for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < TN; j++) acc[i][j] = 0.0f;

    for (i64 k0 = 0; k0 < K; k0 += BK) {
        // A tile: BM×BK values, BM/16 per thread, coalesced along the
        // contiguous dimension of A's storage.
#pragma unroll
        for (int r = 0; r < BM / 16; r++) {
            int e = tid + r * 256;
            int mm, kk;
            if (TA) { mm = e % BM; kk = e / BM; } else { kk = e % BK; mm = e / BK; }
            i64 gm = m0 + mm, gk = k0 + kk;
            float v = 0.0f;
            if (gm < M && gk < K) v = TA ? A[gk * M + gm] : A[gm * K + gk];
            As[kk][mm] = v;
        }
#pragma unroll
        for (int r = 0; r < BN / 16; r++) {
            int e = tid + r * 256;
            int nn, kk;
            if (TB) { kk = e % BK; nn = e / BK; } else { nn = e % BN; kk = e / BN; }
            i64 gn = n0 + nn, gk = k0 + kk;
            float v = 0.0f;
            if (gn < N && gk < K) v = TB ? Bp[gn * K + gk] : Bp[gk * N + gn];
            Bs[kk][nn] = v;
        }
        __syncthreads();
#pragma unroll
        for (int k = 0; k < BK; k++) {
            float a[TM], b[TN];
#pragma unroll
            for (int i = 0; i < TM; i++) a[i] = As[k][ty + i * 16];
#pragma unroll
            for (int j = 0; j < TN; j++) b[j] = Bs[k][tx + j * 16];
#pragma unroll
            for (int i = 0; i < TM; i++)
#pragma unroll
                for (int j = 0; j < TN; j++) acc[i][j] = fmaf(a[i], b[j], acc[i][j]);
        }
        __syncthreads();
    }

#pragma unroll
    for (int i = 0; i < TM; i++) {
        i64 m = m0 + ty + i * 16;
        if (m >= M) continue;
#pragma unroll
        for (int j = 0; j < TN; j++) {
            i64 n = n0 + tx + j * 16;
            if (n >= N) continue;
            float v = acc[i][j];
            switch (epi) {
            case 1: v += bias[n]; break;
            case 2: v = relu_f(v + bias[n]); break;
            case 3: v += bias[m]; break;
            case 4: v = aux[z * sC + m * N + n] > 0.0f ? v : 0.0f; break;
            default: break;
            }
            C[m * N + n] = v;
        }
    }
}

#define SGEMM_ENTRY(layout, BM, BN, TA, TB)                                                              \
    extern "C" __global__ void __launch_bounds__(256)                                                    \
        sgemm_##layout##_##BM##x##BN(float* C, const float* A, const float* B, const float* bias,       \
                                     const float* aux, i64 M, i64 N, i64 K, i64 sA, i64 sB, i64 sC,     \
                                     i64 epi) {                                                          \
        sgemm_body<BM, BN, TA, TB>(C, A, B, bias, aux, M, N, K, sA, sB, sC, epi);                      \
    }

#define SGEMM_TILES(layout, TA, TB)         \
    SGEMM_ENTRY(layout, 16, 16, TA, TB)     \
    SGEMM_ENTRY(layout, 32, 32, TA, TB)     \
    SGEMM_ENTRY(layout, 64, 64, TA, TB)     \
    SGEMM_ENTRY(layout, 16, 64, TA, TB)     \
    SGEMM_ENTRY(layout, 32, 64, TA, TB)

SGEMM_TILES(nn, false, false)
SGEMM_TILES(nt, false, true)
SGEMM_TILES(tn, true, false)
